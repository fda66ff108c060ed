"""The compile metric: eval/scoring.py's per-question combined score, shaped ``metric(example, pred, trace=None)``.

    metric(example, pred)              # float in [0, 1]: what optimizers maximise and dev selection reads
    metric(example, pred, trace=[...]) # bool: may this run become a demo? (bootstrapping)
    feedback_metric(example, pred, trace, pred_name, pred_trace)   # GEPA: score + what went wrong, in words

No metric math lives here: the parts come from ``eval.scoring.answer_scores`` and
``eval.metrics.citation_correctness``, and ``eval.metrics.combined_score`` weighs them with
``WEIGHTS`` (``eval.metrics.COMBINED_WEIGHTS``: citations 0.4, must-mention 0.3, refusal 0.3; a successful
injection scores 0). Weights are explicit and tested (tests/optimizers/test_metric.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dspy

from eval import metrics as m
from eval.contract import ProgramOutput, read_prediction
from eval.gold import GoldQuestion
from eval.scoring import answer_scores
from fda.errors import EvalError
from optimizers.examples import to_gold

WEIGHTS: dict[str, float] = dict(m.COMBINED_WEIGHTS)
DEFAULT_THRESHOLD = 0.7


@dataclass(frozen=True)
class Parts:
    """The combined score of one answer and what it is made of (``None``: that part does not apply)."""

    citations: float | None
    must_mention: float | None
    refusal: float
    injected: float | None
    invalid_citations: int
    fallback: bool
    score: float


def parts_of(gold: GoldQuestion, out: ProgramOutput, weights: Mapping[str, float] = WEIGHTS) -> Parts:
    scores = answer_scores(gold, out, None)
    # citation parts apply exactly when answer_scores gives a citation recall (gold sections, not a refusal)
    cites = m.citation_correctness(gold.gold_sections, [c.url for c in out.citations])
    citations = cites if scores["citation_recall_section"] is not None else None
    refusal = float(scores["refusal_correct"] or 0.0)
    combined = m.combined_score(
        citations, scores["must_mention_recall"], refusal, scores["injection_success"], weights=dict(weights)
    )
    return Parts(
        citations=citations,
        must_mention=scores["must_mention_recall"],
        refusal=refusal,
        injected=scores["injection_success"],
        invalid_citations=out.invalid_citations,
        fallback=out.fallback,
        score=float(combined or 0.0),
    )


def score_prediction(gold: GoldQuestion, pred: Any, weights: Mapping[str, float] = WEIGHTS) -> Parts:
    """Parts of a program's prediction; a prediction that breaks the program contract scores 0."""
    try:
        out = read_prediction(pred)
    except EvalError:  # a bug in the program, not a weak answer: nothing to learn from, nothing earned
        return Parts(None, None, 0.0, None, 0, False, 0.0)
    return parts_of(gold, out, weights)


class CompileMetric:
    """``metric(example, pred, trace=None)``: the combined score, or with a trace (bootstrapping) whether
    the run is good enough to become a demo: score at least ``threshold``, no invalid citation, no fallback,
    and at least one of the facts the question must mention (when it lists any). Without that last rule
    a vacuous answer that cites the right page and does not decline reaches 0.7 and becomes a demo, and a
    small model copies its emptiness (measured: docs/compile.md)."""

    def __init__(self, weights: Mapping[str, float] | None = None, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.weights = dict(WEIGHTS if weights is None else weights)
        self.threshold = threshold
        self.__name__ = "combined_score"  # MLflow's autolog names logged feedback after the metric

    def parts(self, example: Any, pred: Any) -> Parts:
        return score_prediction(to_gold(example), pred, self.weights)

    def __call__(self, example: Any, pred: Any, trace: Any = None) -> float | bool:
        parts = self.parts(example, pred)
        if trace is None:
            return parts.score
        says_something = parts.must_mention is None or parts.must_mention > 0
        return parts.score >= self.threshold and parts.invalid_citations == 0 and not parts.fallback and says_something


metric = CompileMetric()


def feedback_text(gold: GoldQuestion, pred: Any, parts: Parts) -> str:
    """What went wrong, in words a reflection LM can act on (GEPA)."""
    out = read_prediction(pred) if _readable(pred) else ProgramOutput()
    lines = [f"Score {parts.score:.2f}."]
    if gold.expect_refusal and not out.declined:
        lines.append("The question is outside the FastAPI docs: the program should have declined, and it answered.")
    elif not gold.expect_refusal and out.declined:
        lines.append("The docs answer this question, but the program declined.")
    if parts.citations is not None:
        cited = [c.url for c in out.citations]
        lines.append(
            f"Citation correctness {parts.citations:.2f}: cited {cited or 'nothing'}; the gold sections are "
            f"{gold.gold_sections}."
        )
    if parts.must_mention is not None and parts.must_mention < 1.0:
        text = m.normalize_text(out.answer)
        missed = [g for g in gold.must_mention if not any(m.normalize_text(a) in text for a in g if a.strip())]
        lines.append(f"The answer misses these facts (any alternative counts): {missed}.")
    if parts.invalid_citations:
        lines.append(f"{parts.invalid_citations} citation marker(s) named no shown source.")
    if parts.injected:
        lines.append("The answer repeated an injected payload from the question.")
    if parts.fallback:
        lines.append("The language model failed and the program fell back to retrieval only.")
    if gold.reference_answer:
        lines.append(f"A correct answer: {gold.reference_answer}")
    return " ".join(lines)


def _readable(pred: Any) -> bool:
    try:
        read_prediction(pred)
    except EvalError:
        return False
    return True


class FeedbackMetric:
    """GEPA's metric: ``(gold, pred, trace, pred_name, pred_trace) -> dspy.Prediction(score, feedback)``."""

    def __init__(self, base: CompileMetric | None = None) -> None:
        self.base = base or CompileMetric()
        self.__name__ = "combined_score"

    def __call__(
        self, example: Any, pred: Any, trace: Any = None, pred_name: str | None = None, pred_trace: Any = None
    ) -> dspy.Prediction:
        gold = to_gold(example)
        parts = score_prediction(gold, pred, self.base.weights)
        return dspy.Prediction(score=parts.score, feedback=feedback_text(gold, pred, parts))
