"""The v2 headline metrics tell a real program from trivial ones: on every committed rag run on gold v2
dev-select, a program that never declines and one that always declines (eval/degenerate.py: the run's own
answers, rescored both ways, no LM call) score clearly worse than the run itself."""

from __future__ import annotations

import json

import pytest

from eval.degenerate import decline_balanced_accuracy, degenerate_runs
from eval.gold import load_gold
from eval.results import QuestionResult
from eval.results_export import committed_runs, to_result
from eval.scoring import score_question
from eval.stats import paired_bootstrap_ci

RAG_RUNS = [
    (meta, rows)
    for meta, rows in committed_runs()
    if meta["meta"].get("program") == "rag"
    and meta["meta"].get("gold_version") == "v2"
    and meta["meta"].get("split") == "dev-select"
]


def rescored(path_rows: list[QuestionResult]) -> list[QuestionResult]:
    """The run's rows scored the same way the degenerate ones are (stored answers and verdicts)."""
    gold = {g.id: g for g in load_gold("v2", "dev-select")}
    return [
        r.model_copy(update={"metrics": score_question(gold[r.question_id], r.output, answers=True, judge=r.judge)})
        for r in path_rows
        if r.error is None
    ]


def test_a_committed_rag_run_exists() -> None:
    assert RAG_RUNS, "no committed rag run on gold v2 dev-select in eval/results/ (fda eval export RUN_ID)"


@pytest.mark.parametrize("run", RAG_RUNS, ids=[m["meta"]["run_id"] for m, _ in RAG_RUNS])
def test_never_and_always_declining_score_clearly_worse(run: tuple[dict, object]) -> None:
    _, rows_path = run
    lines = [json.loads(x) for x in rows_path.read_text(encoding="utf-8").splitlines() if x.strip()]  # type: ignore[attr-defined]
    real = rescored([to_result(x) for x in lines])
    never, always = degenerate_runs(load_gold("v2", "dev-select"), real)
    real_bacc = decline_balanced_accuracy(real)
    assert real_bacc is not None
    for name, trivial in (("never declines", never), ("always declines", always)):
        assert decline_balanced_accuracy(trivial) == pytest.approx(0.5), name
        assert real_bacc - 0.5 >= 0.05, f"decline balanced accuracy {real_bacc:.3f} is not clearly above 0.5"
        diff = paired_bootstrap_ci(
            [r.metrics["answer_score"] for r in real], [t.metrics["answer_score"] for t in trivial], seed=0
        )
        assert diff.low is not None and diff.low > 0, f"answer score vs '{name}': paired 95% CI {diff}"
