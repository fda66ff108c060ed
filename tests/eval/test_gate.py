from pathlib import Path

import pytest

from eval.gate import (
    GATED_METRICS,
    baseline_path,
    compare,
    identity_notes,
    make_baseline,
    per_question,
    read_baseline,
    write_baseline,
)
from eval.results import QuestionResult
from fda.errors import EvalError

IDS = [f"q{i:02d}" for i in range(40)]


def _vals(ones: int, n: int = 40) -> dict[str, float | None]:
    return {q: (1.0 if i < ones else 0.0) for i, q in enumerate(IDS[:n])}


@pytest.mark.parametrize(
    ("current_ones", "tolerance", "paired_ci", "failed"),
    [
        (30, 0.02, True, False),  # unchanged
        (34, 0.02, True, False),  # better
        (29, 0.02, True, False),  # one question worse: within tolerance (0.025 > 0.02) but not beyond noise
        (29, 0.02, False, True),  # ...and without the CI check the tolerance alone fails it
        (29, 0.05, False, False),  # a wider tolerance absorbs it
        (20, 0.02, True, True),  # ten questions lost: beyond tolerance and beyond noise
    ],
)
def test_gate_decision(current_ones: int, tolerance: float, paired_ci: bool, failed: bool) -> None:
    # the same questions: the first `ones` succeed, so a drop is always the same questions failing
    report = compare(
        {"mrr_at_10_section": _vals(current_ones)},
        {"mrr_at_10_section": _vals(30)},
        tolerance=tolerance,
        paired_ci=paired_ci,
        n_samples=500,
    )
    (row,) = report.rows
    assert row.failed is failed
    assert report.passed is (not failed)
    assert row.baseline == pytest.approx(0.75) and row.n == 40
    if failed:
        assert "dropped" in row.reason


def test_gate_compares_only_shared_questions_and_fails_a_missing_metric() -> None:
    base = {"recall_at_5_section": _vals(40), "citation_validity": _vals(40)}
    current = {"recall_at_5_section": {q: 1.0 for q in IDS[:20]}}  # half the questions, no citations at all
    report = compare(current, base, tolerance=0.02)
    rows = {r.metric: r for r in report.rows}
    assert not rows["recall_at_5_section"].failed and rows["recall_at_5_section"].n == 20
    assert rows["citation_validity"].failed and rows["citation_validity"].reason == "missing in this run"


def test_gate_skips_metrics_the_baseline_lacks() -> None:
    report = compare({"recall_at_5_section": _vals(10)}, {"recall_at_5_section": {q: None for q in IDS}}, tolerance=0.0)
    assert report.rows == [] and report.passed


def _result(qid: str, **metrics: float | None) -> QuestionResult:
    return QuestionResult(question_id=qid, type="howto", category="routing", split="dev", metrics=metrics)


def test_baseline_round_trip(tmp_path: Path) -> None:
    results = [_result("a", recall_at_5_section=1.0), _result("b", recall_at_5_section=0.0)]
    data = make_baseline(results, {"program": "retrieval", "backend": "bm25", "split": "dev", "gold_hash": "g"})
    assert data["metrics"] == {"recall_at_5_section": 0.5}  # metrics that apply to no question are left out
    assert set(per_question(results)) == set(GATED_METRICS)
    path = write_baseline(baseline_path(tmp_path, "retrieval", "bm25", "dev"), data)
    assert path.name == "retrieval-bm25-dev.json"
    again = read_baseline(path)
    assert again["per_question"]["recall_at_5_section"] == {"a": 1.0, "b": 0.0}
    report = compare(per_question(results), again["per_question"], tolerance=0.02)
    assert report.passed


def test_read_baseline_errors(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="no baseline"):
        read_baseline(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EvalError, match="not valid JSON"):
        read_baseline(bad)


def test_identity_notes() -> None:
    notes = identity_notes({"gold_hash": "a", "backend": "bm25"}, {"gold_hash": "b", "backend": "bm25"})
    assert notes == ["gold_hash differs: baseline a, this run b"]
