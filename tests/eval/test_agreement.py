"""Judge validation numbers from label files and committed answers (eval/agreement.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.agreement import agreement_table, check_labels, committed_answers
from eval.labels import HumanLabel, answer_sha
from fda.errors import EvalError


def write_run(tmp_path: Path, judge: list[tuple[str, bool]]) -> Path:
    rows = [
        {"question_id": f"q{i}", "answer": f"answer {i}", "judge": {"verdict": v, "automatic": auto}}
        for i, (v, auto) in enumerate(judge)
    ]
    (tmp_path / "run1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def label(i: int, verdict: str, who: str, text: str | None = None) -> HumanLabel:
    return HumanLabel(
        run_id="run1", question_id=f"q{i}", answer_label=verdict, labeller=who,  # type: ignore[arg-type]
        answer_sha=answer_sha(text if text is not None else f"answer {i}"),
    )  # fmt: skip


def test_kappa_per_pair_and_class_and_automatic_verdicts_left_out(tmp_path: Path) -> None:
    judge = [("correct", False), ("wrong", False), ("partly", False), ("wrong", True), ("correct", False)]
    answers = committed_answers(["run1"], write_run(tmp_path, judge))
    a = ["correct", "wrong", "partly", "wrong", "correct"]
    b = ["correct", "wrong", "wrong", "wrong", "correct"]
    labels = [label(i, v, "ann-a") for i, v in enumerate(a)] + [label(i, v, "ann-b") for i, v in enumerate(b)]
    check_labels(labels, answers)
    table = {(x.pair, x.cls): x for x in agreement_table(labels, answers)}
    assert table[("ann-a vs ann-b", "all")].n == 5
    assert table[("ann-a vs ann-b", "all")].observed == pytest.approx(0.8)
    assert table[("ann-a vs ann-b", "correct")].kappa == pytest.approx(1.0)
    judge_a = table[("judge vs ann-a", "all")]
    assert judge_a.n == 4 and judge_a.kappa == pytest.approx(1.0)  # q3's automatic 'wrong' is not counted
    assert table[("judge vs ann-b", "all")].observed == pytest.approx(0.75)


def test_passes_over_different_answers_are_not_paired(tmp_path: Path) -> None:
    answers = committed_answers(["run1"], write_run(tmp_path, [("correct", False)] * 4))
    labels = [label(i, "correct", "ann-a") for i in (0, 1)] + [label(i, "wrong", "ann-c") for i in (2, 3)]
    pairs = {x.pair for x in agreement_table(labels, answers)}
    assert pairs == {"judge vs ann-a", "judge vs ann-c"}  # no "ann-a vs ann-c" row with n = 0


def test_labels_must_match_a_committed_answer(tmp_path: Path) -> None:
    answers = committed_answers(["run1"], write_run(tmp_path, [("correct", False)]))
    with pytest.raises(EvalError, match="different answer text"):
        check_labels([label(0, "correct", "ann-a", text="another answer")], answers)
    with pytest.raises(EvalError, match="no such committed answer"):
        check_labels([label(7, "correct", "ann-a")], answers)
    with pytest.raises(EvalError, match="not committed"):
        committed_answers(["run404"], tmp_path)


def test_fact_verdict_agreement(tmp_path: Path) -> None:
    from eval.agreement import fact_agreement_table

    rows = [
        {"question_id": "q0", "answer": "answer 0", "judge": {"verdict": "correct", "facts": ["stated", "absent"]}},
        {
            "question_id": "q1",
            "answer": "answer 1",
            "judge": {"verdict": "wrong", "automatic": True, "facts": ["absent"]},
        },
    ]
    (tmp_path / "run1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    answers = committed_answers(["run1"], tmp_path)
    labels = [
        label(0, "correct", "ann-a").model_copy(update={"facts": ["stated", "absent"]}),
        label(1, "wrong", "ann-a").model_copy(update={"facts": ["absent"]}),
        label(0, "correct", "ann-b").model_copy(update={"facts": ["stated", "contradicted"]}),
    ]
    table = {(x.pair, x.cls): x for x in fact_agreement_table(labels, answers)}
    assert table[("facts: ann-a vs ann-b", "all")].n == 2 and table[("facts: ann-a vs ann-b", "all")].observed == 0.5
    assert table[("facts: judge vs ann-a", "all")].n == 2  # q1's automatic verdicts left out
    assert table[("facts: judge vs ann-a", "all")].observed == 1.0


def test_label_scored_means_rescore_with_each_labellers_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import eval.gold
    from eval.agreement import label_scored_means
    from eval.gold import GoldQuestion

    row = GoldQuestion.model_validate(
        {
            "id": "w-q0", "question": "How?", "category": "routing", "type": "howto",
            "gold_groups": [{"sections": ["https://d.io/p#a"]}],
            "facts": [{"claim": "the needed claim", "polarity": "must"}], "source": {"kind": "written"},
        }
    )  # fmt: skip
    monkeypatch.setattr(eval.gold, "load_all_rows", lambda version: [row])
    cited = [{"number": 1, "url": "https://d.io/p#a", "chunk_id": "c"}]
    committed = {
        "question_id": "w-q0", "type": "howto", "category": "routing", "split": "train",
        "answer": "answer 0", "cited": cited, "metrics": {"answer_score": 1.0},
    }  # fmt: skip
    (tmp_path / "run1.jsonl").write_text(json.dumps(committed) + "\n")
    answers = committed_answers(["run1"], tmp_path)
    labels = [
        label(0, "correct", "ann-a").model_copy(update={"question_id": "w-q0", "facts": ["stated"]}),
        label(0, "wrong", "ann-b").model_copy(update={"question_id": "w-q0", "facts": ["absent"]}),
    ]
    (record,) = label_scored_means(labels, answers)
    assert (record["judge"], record["ann-a"], record["ann-b"], record["n"]) == (1.0, 1.0, 0.0, 1)

    declined = {**committed, "question_id": "w-q1", "answer": "I can't answer that.", "declined": True, "cited": []}
    declined["metrics"] = {"answer_score": 0.0}  # an answerable row declined: 0 whatever the facts
    monkeypatch.setattr(eval.gold, "load_all_rows", lambda version: [row, row.model_copy(update={"id": "w-q1"})])
    (tmp_path / "run1.jsonl").write_text(json.dumps(committed) + "\n" + json.dumps(declined) + "\n")
    (record,) = label_scored_means(labels, committed_answers(["run1"], tmp_path))  # w-q1 unlabelled: automatic
    assert (record["judge"], record["ann-a"], record["ann-b"], record["n"]) == (0.5, 0.5, 0.0, 2)
