"""Questions generated from sections (index/section_questions.py): cleaning, resuming, the store query."""

from __future__ import annotations

import json
from pathlib import Path

import dspy
import pytest

from index.passages import resolve_version
from index.section_questions import (
    QUESTIONS_FILE,
    DocSection,
    clean_questions,
    generate,
    load_questions,
    load_sections,
    write_manifest,
)
from signatures.section_questions import SEED_EXAMPLES, SectionQuestions, seed_demos
from tests.index.test_retrievers import tiny_store  # noqa: F401  (fixture)

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


def test_the_cli_writes_questions_and_a_manifest_with_a_fake_lm(
    tiny_store: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import contextlib

    from typer.testing import CliRunner

    from fda.cli import app
    from fda.lm import factory

    answers = [{"questions": '["How do I use this section of the docs?", "What does it explain?"]'}] * 50
    monkeypatch.setattr(factory, "runtime_from_settings", lambda *a, **k: contextlib.nullcontext())
    monkeypatch.setattr(factory, "make_lm", lambda *a, **k: dspy.utils.DummyLM(answers))
    monkeypatch.setenv("FDA_STATE_DIR", str(tiny_store.parent))
    out = tmp_path / "questions"
    result = CliRunner().invoke(app, ["gen-questions", "--model", "openai/fake", "--out", str(out), "--limit", "2"])
    assert result.exit_code == 0, result.output
    rows = load_questions(out / QUESTIONS_FILE)
    assert len(rows) == 2 and all(
        qs == ["How do I use this section of the docs?", "What does it explain?"] for qs in rows.values()
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "openai/fake" and manifest["last_run"]["asked"] == 2 and manifest["prompt_sha"]
