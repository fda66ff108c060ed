"""Distilled targets (issue #25): the teacher program's answer becomes the target only where the metric passes it
and it cites the very sources the prompt shows; everything else falls back to the reference answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fda.errors import FinetuneError
from optimizers.finetune.dataset import build_dataset
from optimizers.finetune.pipeline import teacher_answers
from optimizers.finetune.records import Prompt
from optimizers.finetune.targets import Shown, Skip, Target, TeacherAnswer, distilled_target, mixed_target
from tests.optimizers.finetune.conftest import BG, CORS, MW, SHOWN, row

GOOD = TeacherAnswer(
    answer='Add `CORSMiddleware` with `allow_origins=["http://localhost:3000"]` [1].',
    cited=((1, CORS),),  # the served answer's own numbering; the prompt shows CORS as [2]
    declined=False,
    must_mention=1.0,
    citation_precision=1.0,
)


def test_a_passing_teacher_answer_is_the_target_with_its_own_markers() -> None:
    target = distilled_target(row("How do I enable CORS?"), SHOWN, GOOD)
    assert isinstance(target, Target) and target.kind == "answer"
    out = json.loads(target.completion)
    assert list(out) == ["cited", "answer", "cannot_answer"]
    assert out["cited"] == [2] and out["cannot_answer"] is False
    assert out["answer"] == "Add `CORSMiddleware` with `allow_origins=['http://localhost:3000']` [2]."


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"declined": True}, "the teacher declined or failed"),
        ({"failed": True}, "the teacher declined or failed"),
        ({"must_mention": 0.4}, "the teacher stated under half the required facts"),
        ({"must_mention": None}, "the teacher stated under half the required facts"),
        ({"citation_precision": 0.0}, "the teacher cited sections that do not hold the answer"),
        ({"cited": ((2, BG),)}, "the teacher saw other sources"),  # a section this prompt does not show
        ({"cited": ((2, MW),)}, "a marker of the teacher's answer cites nothing"),  # its [1] is none of its citations
        ({"answer": "See (link removed: not in the cited docs) [1]."}, "the teacher's answer had a link removed"),
        ({"answer": "Add CORSMiddleware."}, "the teacher's answer carries no marker"),
    ],
)
def test_a_teacher_answer_below_the_bars_is_not_distilled(change: dict[str, object], reason: str) -> None:
    teacher = TeacherAnswer(**{**GOOD.__dict__, **change})
    assert distilled_target(row("How do I enable CORS?"), SHOWN, teacher) == Skip(reason)


def test_the_served_answers_own_numbering_is_mapped_back_to_the_prompts_through_the_urls() -> None:
    # the served answer numbers its citations in the order it cites them: its [1] is the prompt's [2] (CORS), its [2]
    # the prompt's [1] (Middleware); a list index inside code is not a marker
    teacher = TeacherAnswer(
        answer="Add `CORSMiddleware` [1]. Or write a middleware [2]:\n```python\norigins = ['a'][0]  # [1]\n``` `x[1]`",
        cited=((1, CORS), (2, MW)),
        declined=False,
        must_mention=0.5,
        citation_precision=0.5,
    )
    target = distilled_target(row("How do I enable CORS?"), SHOWN, teacher)
    assert isinstance(target, Target)
    out = json.loads(target.completion)
    assert out["cited"] == [2, 1]
    assert out["answer"].startswith("Add `CORSMiddleware` [2]. Or write a middleware [1]:")
    assert "['a'][0]  # [1]" in out["answer"] and "`x[1]`" in out["answer"]


def test_a_section_shown_twice_is_ambiguous_and_not_distilled() -> None:
    twice = (*SHOWN, Shown(3, CORS, "[3] CORS > Use CORSMiddleware\nThe arguments."))
    assert distilled_target(row("How do I enable CORS?"), twice, GOOD) == Skip("the teacher saw other sources")


def test_declines_keep_the_gold_rows_reason_and_rejected_answers_fall_back_to_the_reference() -> None:
    unanswerable = row("gRPC?", type="unanswerable", expect_refusal=True, gold_sections=[],
                       reference_answer="The docs don't mention gRPC.")  # fmt: skip
    target, source = mixed_target(unanswerable, SHOWN, GOOD)
    assert isinstance(target, Target) and target.kind == "decline" and source.startswith("reference")
    weak = TeacherAnswer(**{**GOOD.__dict__, "must_mention": 0.0})
    target, source = mixed_target(row("How do I enable CORS?"), SHOWN, weak)
    assert isinstance(target, Target) and "allow_origins" in target.completion and "localhost" not in target.completion
    assert source == "reference (the teacher stated under half the required facts)"
    assert mixed_target(row("How do I enable CORS?"), SHOWN, GOOD)[1] == "teacher"


def test_the_manifest_counts_where_each_target_came_from() -> None:
    rows = [row("How do I enable CORS?", id="ft-a"), row("CORS again?", id="ft-b")]
    prompt = Prompt([{"role": "user", "content": "q"}], SHOWN)
    examples, manifest = build_dataset(rows, lambda r: prompt, name="t", teacher={"ft-a": GOOD})
    assert [json.loads(e.completion)["answer"].endswith("[2].") for e in examples] == [True, True]
    assert manifest["targets"] == {
        "teacher": 1,
        "reference (the teacher run has no answer for it)": 1,
    }
    _, plain = build_dataset(rows, lambda r: prompt, name="t")
    assert "targets" not in plain


def export(tmp_path: Path, run: str, program: str, split: str, rows: list[dict[str, object]]) -> None:
    (tmp_path / f"{run}.meta.json").write_text(json.dumps({"meta": {"program": program, "split": split}}))
    (tmp_path / f"{run}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_teacher_answers_read_an_exported_rag_run_of_the_same_split(tmp_path: Path) -> None:
    record = {"question_id": "q1", "answer": "Use it [1].", "declined": False, "error": None, "fallback": False,
              "cited": [{"number": 1, "url": MW, "chunk_id": "c"}],
              "metrics": {"must_mention_recall": 0.5, "citation_graded_precision": 1.0}}  # fmt: skip
    export(tmp_path, "r1", "rag", "train", [record])
    answers = teacher_answers("r1", "train", results=tmp_path)
    assert answers == {
        "q1": TeacherAnswer("Use it [1].", ((1, MW),), declined=False, must_mention=0.5, citation_precision=1.0)
    }
    export(tmp_path, "r2", "multihop", "train", [record])
    with pytest.raises(FinetuneError, match="multihop on train"):
        teacher_answers("r2", "train", results=tmp_path)
    with pytest.raises(FinetuneError, match="needs the rag program on dev-select"):
        teacher_answers("r1", "dev-select", results=tmp_path)
    with pytest.raises(FinetuneError, match="no exported eval run"):
        teacher_answers("missing", "train", results=tmp_path)
    export(tmp_path, "r3", "rag", "train", [{"answer": "no id"}])
    with pytest.raises(FinetuneError, match=r"r3.jsonl:1 is not an eval row"):
        teacher_answers("r3", "train", results=tmp_path)


def test_the_cli_names_a_missing_teacher_run_and_how_to_make_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path / "state"))
    out = CliRunner().invoke(app, ["finetune", "data", "--name", "t", "--distil-from", "no-such-run"])
    assert out.exit_code == 2
    assert "no exported eval run 'no-such-run'" in out.output and "fda eval export no-such-run" in out.output
