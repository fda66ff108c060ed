"""Two degenerate programs made from a real run: one that never declines, one that always declines.

    never, always = degenerate_runs(rows, results)       # lists of QuestionResult, rescored

A metric that does not put both clearly below the real program cannot tell a trustworthy assistant from a
trivial one (v1's refusal accuracy gave the never-declining program 0.884). tests/eval/test_degenerate.py
holds the v2 headline metrics to that on the committed rag run.

- **never declines**: the run's answers, every one flagged as answered (a declined answer's text stays,
  so it states no fact: the judge's facts become "absent", the verdict "wrong").
- **always declines**: "I can't answer that from the FastAPI docs." for every question, no citations.
Both are rescored with eval/scoring.py; no LM is called.
"""

from __future__ import annotations

from collections.abc import Sequence

from eval.gold import GoldQuestion
from eval.judge import JudgeResult, declined_verdict
from eval.results import QuestionResult
from eval.scoring import score_question

DECLINE_TEXT = "I can't answer that from the FastAPI docs."


def _rescore(gold: GoldQuestion, result: QuestionResult, judge: JudgeResult | None) -> QuestionResult:
    out = result.output
    metrics = score_question(gold, out, answers=True, latency_s=result.latency_s, judge=judge)
    return result.model_copy(update={"judge": judge, "metrics": metrics})


def never_declining(gold: GoldQuestion, result: QuestionResult) -> QuestionResult:
    out = result.output.model_copy(update={"refused": False, "cannot_answer": False})
    judge = result.judge
    if result.output.declined:  # its text declines, so it states nothing the key asks for
        judge = declined_verdict(gold)
    return _rescore(gold, result.model_copy(update={"output": out}), judge)


def always_declining(gold: GoldQuestion, result: QuestionResult) -> QuestionResult:
    out = result.output.model_copy(
        update={
            "answer": DECLINE_TEXT,
            "citations": [],
            "cannot_answer": True,
            "refused": False,
            "invalid_citations": 0,
        }
    )
    return _rescore(gold, result.model_copy(update={"output": out}), declined_verdict(gold))


def degenerate_runs(
    rows: Sequence[GoldQuestion], results: Sequence[QuestionResult]
) -> tuple[list[QuestionResult], list[QuestionResult]]:
    """(never-declining, always-declining) versions of ``results``; rows without a result are skipped."""
    by_id = {r.id: r for r in rows}
    kept = [r for r in results if r.question_id in by_id and r.error is None]
    return (
        [never_declining(by_id[r.question_id], r) for r in kept],
        [always_declining(by_id[r.question_id], r) for r in kept],
    )


def decline_balanced_accuracy(results: Sequence[QuestionResult]) -> float | None:
    """Mean of refusal recall and (1 - over-refusal): 0.5 for any program that always or never declines."""
    recall = [v for r in results if (v := r.metrics.get("refusal_recall")) is not None]
    over = [v for r in results if (v := r.metrics.get("over_refusal")) is not None]
    if not recall or not over:
        return None
    return (sum(recall) / len(recall) + 1 - sum(over) / len(over)) / 2
