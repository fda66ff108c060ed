"""Questions generated from sections (index/questions/generate.py): cleaning, resuming, the store query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dspy
import pytest

from fda.errors import ConfigError, LMError
from index.questions.generate import (
    MANIFEST_FILE,
    QUESTIONS_FILE,
    DocSection,
    check_provenance,
    clean_questions,
    generate,
    load_questions,
    load_sections,
    repair_tail,
    start_fresh,
    write_manifest,
)
from index.retrieval.passages import resolve_version
from signatures.section_questions import SEED_EXAMPLES, SectionQuestions, seed_demos
from tests.index.retrieval.test_retrievers import tiny_store  # noqa: F401  (fixture)

SECTIONS = [DocSection(f"https://x.test/p/#s{i}", ("P", f"S{i}"), f"text {i} " * 20) for i in range(4)]


def test_clean_questions_strips_markers_and_drops_repeats_copies_and_junk() -> None:
    raw = [
        "1. How do I X?",
        "- how do i x?",
        "  ",
        42,
        "Copied?",
        "ok",
        "Q" * 300,
        '"What is Y?"',
        "Why is Z slow?",
        "W?",
    ]
    assert clean_questions(raw, banned=["copied?"]) == ["How do I X?", "What is Y?", "Why is Z slow?"]


def test_generate_appends_resumes_and_keeps_going_past_a_failure(tmp_path: Path) -> None:
    asked: list[str] = []

    def ask(section: DocSection) -> list[str]:
        asked.append(section.url)
        if section.url.endswith("s2") and asked.count(section.url) == 1:
            raise TimeoutError("LM timed out")
        return [f"How do I use {section.heading_path[-1]}?", f"What is {section.heading_path[-1]}?"]

    first = generate(SECTIONS, ask, tmp_path, limit=3)
    assert first == {"sections": 4, "already": 0, "asked": 3, "failed": 1, "empty": 0}
    assert sorted(load_questions(tmp_path / QUESTIONS_FILE)) == [SECTIONS[0].url, SECTIONS[1].url]
    second = generate(SECTIONS, ask, tmp_path, workers=2)
    assert second["already"] == 2 and second["asked"] == 2 and second["failed"] == 0
    got = load_questions(tmp_path / QUESTIONS_FILE)
    assert got[SECTIONS[2].url] == ["How do I use S2?", "What is S2?"] and len(got) == 4
    assert asked.count(SECTIONS[0].url) == 1  # never asked twice


def test_a_truncated_last_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / QUESTIONS_FILE
    path.write_text(json.dumps({"url": "u1", "questions": ["q?"]}) + '\n{"url": "u2", "quest')
    assert load_questions(path) == {"u1": ["q?"]}
    assert load_questions(tmp_path / "missing.jsonl") == {}


def _ok(section: DocSection) -> list[str]:
    return [f"How do I use {section.heading_path[-1]}?"]


def test_resuming_after_a_half_written_last_line_loses_no_row(tmp_path: Path) -> None:
    path = tmp_path / QUESTIONS_FILE
    path.write_text(json.dumps({"url": SECTIONS[0].url, "questions": ["q0?"]}) + '\n{"url": "' + SECTIONS[1].url)
    counts = generate(SECTIONS, _ok, tmp_path)
    assert counts["already"] == 1 and counts["asked"] == 3
    rows = load_questions(path)
    assert sorted(rows) == sorted(s.url for s in SECTIONS) and rows[SECTIONS[0].url] == ["q0?"]
    assert all(json.loads(line) for line in path.read_text().splitlines())  # no merged or broken line left


def test_a_complete_last_row_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / QUESTIONS_FILE
    path.write_text(json.dumps({"url": SECTIONS[0].url, "questions": ["q0?"]}))
    repair_tail(path)
    assert path.read_text().endswith("\n")
    generate(SECTIONS[:2], _ok, tmp_path)
    assert load_questions(path) == {SECTIONS[0].url: ["q0?"], SECTIONS[1].url: ["How do I use S1?"]}


def test_a_dead_lm_stops_the_run_and_keeps_what_was_written(tmp_path: Path) -> None:
    sections = [DocSection(f"https://x.test/p/#d{i}", ("P", f"D{i}"), "text") for i in range(30)]

    def ask(section: DocSection) -> list[str]:
        if int(section.url.rsplit("d", 1)[1]) >= 2:
            raise ConnectionError("connection refused")
        return _ok(section)

    with pytest.raises(LMError, match="in a row") as err:
        generate(sections, ask, tmp_path, max_failures_in_a_row=5)
    assert "rerun" in err.value.hint
    assert sorted(load_questions(tmp_path / QUESTIONS_FILE)) == [sections[0].url, sections[1].url]


def test_resuming_with_another_model_is_refused_and_fresh_moves_the_old_rows_aside(tmp_path: Path) -> None:
    generate(SECTIONS[:2], _ok, tmp_path)
    write_manifest(tmp_path, {"model": "local:a", "prompt_sha": "p1", "corpus_hash": "c1"})
    check_provenance(tmp_path, {"model": "local:a", "prompt_sha": "p1", "corpus_hash": "c1"})  # same: resumes
    with pytest.raises(ConfigError, match="local:a' -> 'local:b") as err:
        check_provenance(tmp_path, {"model": "local:b", "prompt_sha": "p1", "corpus_hash": "c1"})
    assert "--fresh" in err.value.hint
    start_fresh(tmp_path)
    assert not (tmp_path / QUESTIONS_FILE).exists() and not (tmp_path / MANIFEST_FILE).exists()
    assert len(load_questions(tmp_path / (QUESTIONS_FILE + ".bak"))) == 2
    check_provenance(tmp_path, {"model": "local:b"})  # nothing left to mix with


def test_manifest_counts_what_is_on_disk(tmp_path: Path) -> None:
    generate(SECTIONS[:2], lambda s: ["Is this a question?"], tmp_path)
    manifest = json.loads(write_manifest(tmp_path, {"model": "fake"}).read_text())
    assert manifest["n_sections"] == 2 and manifest["n_questions"] == 2 and manifest["model"] == "fake"
    assert len(manifest["questions_sha256"]) == 64


def test_prompt_cuts_long_sections_at_a_word() -> None:
    prompt = DocSection("u", ("Page", "Sec"), "word " * 500).prompt(limit=50)
    assert prompt.startswith("Page > Sec\n\n") and prompt.endswith(" ...") and len(prompt) < 80


def test_load_sections_reads_docs_sections_of_a_version(tiny_store: Path) -> None:  # noqa: F811
    sections = load_sections(tiny_store, resolve_version(tiny_store, None), min_chars=1)
    assert sections and len({s.url for s in sections}) == len(sections)
    assert all("#" in s.url and s.heading_path for s in sections)


def test_the_signature_runs_with_its_demos_under_a_fake_lm() -> None:
    lm = dspy.utils.DummyLM([{"questions": '["How do I enable CORS?", "How do I allow my frontend?"]'}])
    predict = dspy.Predict(SectionQuestions)
    predict.demos = seed_demos()
    with dspy.context(lm=lm):
        out = predict(section=SECTIONS[0].prompt())
    assert out.questions == ["How do I enable CORS?", "How do I allow my frontend?"]
    assert all(len(qs) == 3 for _, qs in SEED_EXAMPLES)


@pytest.mark.parametrize("bad", [[], ["", "  "]])
def test_no_usable_question_is_counted_as_empty(tmp_path: Path, bad: list[str]) -> None:
    counts = generate(SECTIONS[:1], lambda s: bad, tmp_path)
    assert counts["empty"] == 1 and load_questions(tmp_path / QUESTIONS_FILE) == {SECTIONS[0].url: []}


class GenQuestions:
    """``fda gen-questions --out <tmp>/questions`` over the tiny store, the LM replaced by ``use(lm)``."""

    def __init__(self, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.out = out
        self.monkeypatch = monkeypatch

    def use(self, lm: object) -> None:
        from fda.lm import factory

        self.monkeypatch.setattr(factory, "make_lm", lambda *a, **k: lm)

    def answering(self, questions: list[str]) -> None:
        self.use(dspy.utils.DummyLM([{"questions": json.dumps(questions)}] * 200))

    def run(self, model: str, *extra: str) -> Any:
        from typer.testing import CliRunner

        from fda.cli.app import app

        return CliRunner().invoke(app, ["gen-questions", "--model", model, "--out", str(self.out), *extra])

    def rows(self) -> dict[str, list[str]]:
        return load_questions(self.out / QUESTIONS_FILE)

    def manifest(self) -> dict[str, Any]:
        return dict(json.loads((self.out / MANIFEST_FILE).read_text()))


@pytest.fixture
def gen_cli(tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GenQuestions:  # noqa: F811
    import contextlib

    from fda.lm import factory

    monkeypatch.setattr(factory, "runtime_from_settings", lambda *a, **k: contextlib.nullcontext())
    monkeypatch.setenv("FDA_STATE_DIR", str(tiny_store.parent))
    return GenQuestions(tmp_path / "questions", monkeypatch)


def test_the_cli_writes_questions_and_a_manifest_with_a_fake_lm(gen_cli: GenQuestions) -> None:
    gen_cli.answering(["How do I use this section of the docs?", "What does it explain?"])
    result = gen_cli.run("openai/fake", "--limit", "2")
    assert result.exit_code == 0, result.output
    rows = gen_cli.rows()
    assert len(rows) == 2 and all(
        qs == ["How do I use this section of the docs?", "What does it explain?"] for qs in rows.values()
    )
    manifest = gen_cli.manifest()
    assert manifest["model"] == "openai/fake" and manifest["last_run"]["asked"] == 2 and manifest["prompt_sha"]


def test_the_cli_refuses_to_mix_models_and_exits_non_zero_when_sections_failed(gen_cli: GenQuestions) -> None:
    gen_cli.answering(["How do I use this section of the docs?"])
    assert gen_cli.run("openai/a", "--limit", "1").exit_code == 0
    mixed = gen_cli.run("openai/b")
    assert mixed.exit_code != 0 and "--fresh" in mixed.output and len(gen_cli.rows()) == 1

    class DeadLM(dspy.utils.DummyLM):
        def forward(self, *a: object, **k: object) -> object:
            raise ConnectionError("the LM server is down")

    gen_cli.use(DeadLM([]))
    failed = gen_cli.run("openai/a", "--limit", "1")
    assert failed.exit_code != 0, failed.output
    assert "the LM server is down" in failed.output and "rerun the same command" in failed.output
    assert len(gen_cli.rows()) == 1  # the earlier row is still there


def test_the_cli_keeps_every_run_in_the_manifest_and_a_finished_folder_is_left_alone(gen_cli: GenQuestions) -> None:
    gen_cli.answering(["How do I use this section of the docs?"])
    assert gen_cli.run("openai/a", "--limit", "1").exit_code == 0
    assert gen_cli.run("openai/a").exit_code == 0
    manifest = gen_cli.manifest()
    assert [r["asked"] for r in manifest["runs"]] == [1, manifest["sections_in_version"] - 1]
    assert manifest["status"] == "complete" and manifest["last_run"]["already"] == 1
    before = (gen_cli.out / MANIFEST_FILE).read_bytes()
    again = gen_cli.run("openai/a")
    assert again.exit_code == 0 and "nothing to ask" in again.output
    assert (gen_cli.out / MANIFEST_FILE).read_bytes() == before
