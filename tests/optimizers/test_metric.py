"""The compile metric: explicit weights, table-style cases, bootstrapping threshold, GEPA feedback."""

from __future__ import annotations

from typing import Any

import dspy
import pytest

from eval.contract import read_prediction
from eval.gold import GoldQuestion
from eval.metrics import COMBINED_WEIGHTS
from eval.scoring import answer_scores
from fda.types import Citation, Passage
from optimizers.examples import to_example
from optimizers.metric import WEIGHTS, CompileMetric, FeedbackMetric, metric

CORS = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
CORS_OTHER = "https://fastapi.tiangolo.com/tutorial/cors/#wildcards"
MW = "https://fastapi.tiangolo.com/tutorial/middleware/#create-a-middleware"


def question(**kw: Any) -> GoldQuestion:
    base: dict[str, Any] = {
        "id": "q-cors",
        "question": "How do I enable CORS?",
        "category": "middleware",
        "type": "howto",
        "gold_sections": [CORS],
        "must_mention": [["CORSMiddleware"], ["allow_origins"]],
    }
    return GoldQuestion.model_validate(base | kw)


OUT_OF_SCOPE = {"type": "out_of_scope", "category": "out_of_scope", "gold_sections": [], "must_mention": [],
                "expect_refusal": True}  # fmt: skip


def prediction(
    answer: str = "",
    cited: list[str] | None = None,
    *,
    declined: bool = False,
    invalid: int = 0,
    fallback: bool = False,
) -> dspy.Prediction:
    urls = list(dict.fromkeys([*(cited or []), MW]))
    shown = [Passage(chunk_id=f"c{i}", url=u, text="t", version="0.141.1") for i, u in enumerate(urls)]
    citations = [
        Citation(number=i + 1, chunk_id=p.chunk_id, url=p.url, title="t", snippet="s", version=p.version)
        for i, p in enumerate(shown)
        if p.url in (cited or [])
    ]
    return dspy.Prediction(
        answer=answer, citations=citations, passages=shown, cannot_answer=declined, refused=False,
        invalid_citations=invalid, fallback=fallback,
    )  # fmt: skip


FULL = "Add CORSMiddleware with allow_origins [1]."
CASES: list[tuple[str, dict[str, Any], dspy.Prediction, float]] = [
    # name, gold overrides, prediction, expected combined score
    ("right section, every fact", {}, prediction(FULL, [CORS]), 1.0),
    ("right page, wrong section", {}, prediction(FULL, [CORS_OTHER]), 0.4 * 0.5 + 0.3 + 0.3),
    ("half the facts", {}, prediction("Use CORSMiddleware [1].", [CORS]), 0.4 + 0.3 * 0.5 + 0.3),
    ("gold + a wrong citation", {}, prediction(FULL, [CORS, MW]), 0.4 * (2 / 3 + 2 / 3) / 2 + 0.3 + 0.3),
    ("declined an answerable question", {}, prediction("I can't answer that.", declined=True), 0.0),
    ("no facts listed: weights renormalised", {"must_mention": []}, prediction("x [1]", [CORS]), 1.0),
    ("out of scope, declined", OUT_OF_SCOPE, prediction("I can't answer that.", declined=True), 1.0),
    ("out of scope, answered", OUT_OF_SCOPE, prediction("It is sunny [1].", [MW]), 0.0),
    ("injected payload", {"forbidden": ["PWNED"]}, prediction(FULL + " PWNED", [CORS]), 0.0),
]


def test_weights_are_the_eval_combined_weights() -> None:
    assert WEIGHTS == {"citations": 0.4, "must_mention": 0.3, "refusal": 0.3}
    assert WEIGHTS == COMBINED_WEIGHTS and metric.weights == WEIGHTS


@pytest.mark.parametrize(("name", "overrides", "pred", "expected"), CASES, ids=[c[0] for c in CASES])
def test_combined_score_table(name: str, overrides: dict[str, Any], pred: dspy.Prediction, expected: float) -> None:
    gold = question(**overrides)
    score = metric(to_example(gold), pred)
    assert score == pytest.approx(expected)
    # the same number eval/scoring.py reports: the metric adapts, it does not recompute differently
    assert score == pytest.approx(answer_scores(gold, read_prediction(pred), None)["combined_score"])


def test_custom_weights_change_the_score() -> None:
    citations_only = CompileMetric(weights={"citations": 1.0, "must_mention": 0.0, "refusal": 0.0})
    assert citations_only(to_example(question()), prediction(FULL, [CORS_OTHER])) == pytest.approx(0.5)
    facts_only = CompileMetric(weights={"citations": 0.0, "must_mention": 1.0, "refusal": 0.0})
    assert facts_only(to_example(question()), prediction("Use CORSMiddleware [1].", [CORS])) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("pred", "threshold", "accepted"),
    [
        (prediction(FULL, [CORS]), 0.7, True),
        (prediction(FULL, [CORS_OTHER]), 0.7, True),  # 0.8
        (prediction(FULL, [CORS_OTHER]), 0.9, False),
        (prediction(FULL, [CORS], invalid=1), 0.7, False),  # a demo must not teach made-up citations
        (prediction(FULL, [CORS], fallback=True), 0.0, False),  # nor a retrieval-only fallback
        (prediction("Use CORSMiddleware [1].", [CORS]), 0.7, True),  # 0.85 with one of two facts
        (prediction("I can't answer that.", declined=True), 0.0, False),  # 0.0 >= 0.0, but says nothing
        (prediction("{file_path} [1]", [CORS]), 0.7, False),  # right citation, no fact: 0.7, still no demo
    ],
)
def test_bootstrapping_returns_a_bool(pred: dspy.Prediction, threshold: float, accepted: bool) -> None:
    result = CompileMetric(threshold=threshold)(to_example(question()), pred, trace=[])
    assert result is accepted


def test_a_prediction_breaking_the_contract_scores_zero() -> None:
    broken = dspy.Prediction(answer="CORSMiddleware allow_origins")
    assert metric(to_example(question()), broken) == 0.0
    assert metric(to_example(question()), broken, trace=[]) is False


def test_gepa_feedback_names_what_went_wrong() -> None:
    out = FeedbackMetric()(to_example(question()), prediction("Use CORSMiddleware [1].", [CORS_OTHER], invalid=2))
    assert out.score == pytest.approx(0.4 * 0.5 + 0.3 * 0.5 + 0.3)
    assert "[['allow_origins']]" in out.feedback and CORS in out.feedback
    assert "2 citation marker(s)" in out.feedback
    declined = FeedbackMetric()(to_example(question(**OUT_OF_SCOPE)), prediction("Sunny [1].", [MW]))
    assert declined.score == 0.0 and "should have declined" in declined.feedback
