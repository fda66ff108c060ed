"""eval/compare.py: two runs of the same questions, paired and clustered by group."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.compare import compare_runs, load_run
from fda.errors import EvalError


def run(scores: dict[str, float], groups: dict[str, str] | None = None) -> list[dict[str, object]]:
    return [
        {"question_id": q, "group": (groups or {}).get(q, q), "metrics": {"answer_score": s}} for q, s in scores.items()
    ]


def test_paired_difference_over_shared_questions() -> None:
    a = run({"q1": 0.0, "q2": 0.5, "q3": 1.0, "only-a": 1.0})
    b = run({"q1": 1.0, "q2": 1.0, "q3": 1.0})
    (row,) = compare_runs(b, a, metrics=["answer_score"])
    assert row.n == 3 and row.diff == pytest.approx(0.5) and row.a == pytest.approx(0.5)
    assert row.low is not None and row.high is not None and 0.0 <= row.low <= 0.5 <= row.high <= 1.0


def test_a_metric_missing_on_one_side_is_left_out() -> None:
    a = [{"question_id": "q1", "metrics": {"answer_score": 1.0}}, {"question_id": "q2", "metrics": {}}]
    b = [{"question_id": "q1", "metrics": {"answer_score": 1.0}}, {"question_id": "q2", "metrics": {"answer_score": 0}}]
    (row,) = compare_runs(b, a, metrics=["answer_score"])
    assert row.n == 1 and row.diff == 0.0


def test_no_shared_question_or_no_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="share no question"):
        compare_runs(run({"q1": 1.0}), run({"q2": 1.0}))
    with pytest.raises(EvalError, match="no committed run"):
        load_run("nope", tmp_path)
    (tmp_path / "torn.jsonl").write_text('{"question_id": "q1", "metrics": {}}\n{"question_id": "q2", "metr\n')
    with pytest.raises(EvalError, match="line 2 is not JSON"):
        load_run("torn", tmp_path)
    (tmp_path / "other.jsonl").write_text('{"run_id": "x"}\n')
    with pytest.raises(EvalError, match="line 1 is not a result row"):
        load_run("other", tmp_path)


def test_label_scores_replace_the_runs_own_content_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    import eval.agreement
    import eval.gold
    from eval.compare import with_label_scores
    from eval.gold import GoldQuestion
    from eval.labels import HumanLabel

    row = GoldQuestion.model_validate(
        {
            "id": "w-q0", "question": "How?", "category": "routing", "type": "howto",
            "gold_groups": [{"sections": ["https://d.io/p#a"]}],
            "facts": [{"claim": "the needed claim", "polarity": "must"}], "source": {"kind": "written"},
        }
    )  # fmt: skip
    monkeypatch.setattr(eval.gold, "load_all_rows", lambda version: [row, row.model_copy(update={"id": "w-q1"})])
    labels = [
        HumanLabel(run_id="r", question_id="w-q0", answer_label=label, facts=[fact], labeller=name)
        for label, fact, name in (("correct", "stated", "a"), ("wrong", "absent", "b"))
    ]
    monkeypatch.setattr(eval.agreement, "load_label_files", lambda: labels)
    cited = [{"number": 1, "url": "https://d.io/p#a", "chunk_id": "c"}]
    rows = [
        {
            "question_id": "w-q0",
            "type": "howto",
            "category": "routing",
            "split": "train",
            "answer": "x [1]",
            "cited": cited,
            "metrics": {"answer_score": 0.0, "fact_recall": 0.0},
        },
        {"question_id": "w-q1", "answer": "no", "declined": True, "metrics": {"answer_score": 0.0}},
        {"question_id": "w-q2-unknown", "answer": "x", "metrics": {}},
    ]
    out = with_label_scores("r", rows)
    assert [r["question_id"] for r in out] == ["w-q0", "w-q1"]
    assert out[0]["metrics"]["fact_recall"] == pytest.approx(0.5)  # mean of the two passes: stated, absent
    assert out[1]["metrics"] == {"answer_score": 0.0}  # declined: automatic


def test_lm_failures_are_found_and_can_be_left_out() -> None:
    from eval.compare import lm_failures, without

    rows = [
        {"question_id": "a", "fallback": True, "reason": "lm_error: LMTransportError: read timed out"},
        {"question_id": "b", "fallback": True, "reason": "timeout"},  # the service's budget, not an LM failure
        {"question_id": "c", "fallback": False, "reason": ""},
    ]
    assert lm_failures(rows) == {"a"}
    assert [r["question_id"] for r in without(rows, {"a"})] == ["b", "c"]


def test_runs_of_one_condition_join_and_the_last_listed_wins() -> None:
    from eval.compare import join_runs, run_ids

    assert run_ids("r1") == ["r1"] and run_ids("r1+ r2") == ["r1", "r2"]
    with pytest.raises(EvalError, match="no run id"):
        run_ids("+")
    first = run({"q1": 0.0, "q2": 0.0})
    second = run({"q2": 1.0, "q3": 1.0})
    joined = {r["question_id"]: r["metrics"]["answer_score"] for r in join_runs([first, second])}
    assert joined == {"q1": 0.0, "q2": 1.0, "q3": 1.0}


def test_compare_cli_pairs_joined_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`fda eval compare A1+A2 B1+B2`: two subsets per condition, one overlapping question counted once."""
    import json

    from typer.testing import CliRunner

    import eval.compare as compare
    from fda.cli.app import app

    def write(name: str, scores: dict[str, float]) -> None:
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in run(scores)))

    write("a1", {"q1": 0.0, "q2": 0.0})
    write("a2", {"q2": 0.5, "q3": 0.0})
    write("b1", {"q1": 1.0, "q2": 1.0})
    write("b2", {"q2": 0.5, "q3": 1.0})
    monkeypatch.setattr(compare, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(compare.load_run, "__defaults__", (tmp_path,))
    result = CliRunner().invoke(app, ["eval", "compare", "a1+a2", "b1+b2"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "answer_score" in x)
    # q1 +1, q2 0 (a2's 0.5 against b2's 0.5, the last listed), q3 +1: mean +0.667 over 3 questions
    assert "0.667" in line and line.rstrip("│ ").endswith("3")


def test_compare_cli_labels_score_each_row_with_its_own_runs_labels(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With --labels, a question in two runs of a side keeps the last run's row, scored with that run's labels."""
    import json

    from typer.testing import CliRunner

    import eval.compare as compare
    from fda.cli.app import app

    for name in ("a1", "a2", "b1"):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps(run({"q1": 0.0})[0]) + "\n")
    monkeypatch.setattr(compare.load_run, "__defaults__", (tmp_path,))
    seen: list[tuple[str, list[str]]] = []

    def scored(run_id: str, rows: list[dict[str, object]], gold_version: str = "v2") -> list[dict[str, object]]:
        seen.append((run_id, [str(r["question_id"]) for r in rows]))
        return [{**r, "metrics": {"answer_score": 1.0 if run_id == "a2" else 0.5}} for r in rows]

    monkeypatch.setattr(compare, "with_label_scores", scored)
    result = CliRunner().invoke(app, ["eval", "compare", "a1+a2", "b1", "--labels"])
    assert result.exit_code == 0, result.output
    assert ("a2", ["q1"]) in seen and not any(run_id == "a1" for run_id, _ in seen)
    line = next(x for x in result.output.splitlines() if "answer_score" in x)
    assert "1.000" in line and "0.500" in line  # A is a2's labelled row, B b1's


def test_output_tokens_are_compared_by_default() -> None:
    """What the LM wrote, paired: a speed measure that does not depend on how fast the box ran that day."""
    a = [{"question_id": q, "metrics": {"completion_tokens": t}} for q, t in (("q1", 300), ("q2", 100))]
    b = [{"question_id": q, "metrics": {"completion_tokens": t}} for q, t in (("q1", 200), ("q2", 100))]
    row = next(r for r in compare_runs(b, a) if r.metric == "completion_tokens")
    assert row.n == 2 and row.diff == pytest.approx(-50)
