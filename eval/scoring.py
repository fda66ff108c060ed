"""Score one question: every metric of eval/metrics.py applied to a program's output (pure).

``None`` marks a metric that does not apply (no gold section, a retrieval-only program, no forbidden
strings...): reports show n/a and leave it out of means. A question whose program raised scores the
worst value on every quality metric that applies.
"""

from __future__ import annotations

from eval import metrics as m
from eval import retrieval_quality as rq
from eval.contract import ProgramOutput
from eval.gold import GoldQuestion
from eval.judge import JudgeResult

RETRIEVAL_METRICS: tuple[str, ...] = tuple(rq.EVAL_NAMES.values())  # eval/retrieval_quality.py's, renamed
CITATION_METRICS: tuple[str, ...] = (
    "citation_precision_section",
    "citation_recall_section",
    "citation_precision_page",
    "citation_recall_page",
    "citation_validity",
)
ANSWER_METRICS: tuple[str, ...] = (
    *CITATION_METRICS,
    "must_mention_recall",
    "refusal_correct",
    "declined",
    "injection_success",
    "fallback",
    "judge_score",
    "combined_score",
)
COST_METRICS: tuple[str, ...] = ("latency_s", "prompt_tokens", "completion_tokens", "lm_calls")
ALL_METRICS: tuple[str, ...] = (*RETRIEVAL_METRICS, *ANSWER_METRICS, *COST_METRICS)
# Lower is better for these; every other metric is higher-is-better.
LOWER_IS_BETTER: frozenset[str] = frozenset({"injection_success", "fallback", "declined", *COST_METRICS})


def retrieval_scores(gold: GoldQuestion, ranked_urls: list[str]) -> dict[str, float | None]:
    """eval/retrieval_quality.py's definition (the benches' too), under the eval's metric names."""
    if not rq.applies(gold):
        return dict.fromkeys(RETRIEVAL_METRICS)
    scores = rq.score_row(rq.gold_for(gold.gold_sections, ranked_urls), ranked_urls)
    return {rq.EVAL_NAMES[name]: value for name, value in scores.items() if name in rq.EVAL_NAMES}


def answer_scores(gold: GoldQuestion, out: ProgramOutput, judge: JudgeResult | None) -> dict[str, float | None]:
    cited = [c.url for c in out.citations]
    cites_apply = bool(gold.gold_sections) and not gold.expect_refusal
    scores: dict[str, float | None] = {
        "citation_precision_section": m.citation_precision(gold.gold_sections, cited, "section")
        if cites_apply
        else None,
        "citation_recall_section": m.citation_recall(gold.gold_sections, cited, "section") if cites_apply else None,
        "citation_precision_page": m.citation_precision(gold.gold_sections, cited, "page") if cites_apply else None,
        "citation_recall_page": m.citation_recall(gold.gold_sections, cited, "page") if cites_apply else None,
        "citation_validity": m.citation_validity(
            [c.chunk_id for c in out.citations], [p.chunk_id for p in out.passages], out.invalid_citations
        ),
        "must_mention_recall": m.must_mention_recall(gold.must_mention, out.answer),
        "refusal_correct": m.refusal_correct(gold.expect_refusal, out.declined),
        "declined": 1.0 if out.declined else 0.0,
        "injection_success": m.injection_success(gold.forbidden, out.answer),
        "fallback": 1.0 if out.fallback else 0.0,
        "judge_score": judge.score if judge else None,
    }
    scores["combined_score"] = m.combined_score(
        m.citation_correctness(gold.gold_sections, cited) if cites_apply else None,
        scores["must_mention_recall"],
        scores["refusal_correct"],
        scores["injection_success"],
    )
    return scores


def cost_scores(latency_s: float, out: ProgramOutput) -> dict[str, float | None]:
    usage = out.usage or {}
    return {
        "latency_s": latency_s,
        **{key: float(usage[key]) if key in usage else None for key in COST_METRICS[1:]},
    }


def score_question(
    gold: GoldQuestion,
    out: ProgramOutput,
    *,
    answers: bool,
    latency_s: float = 0.0,
    judge: JudgeResult | None = None,
    failed: bool = False,
) -> dict[str, float | None]:
    """All metrics of one question; answer metrics are ``None`` when the program gives no answers."""
    scores = retrieval_scores(gold, [p.url for p in out.passages])
    scores.update(answer_scores(gold, out, judge) if answers else dict.fromkeys(ANSWER_METRICS))
    scores.update(cost_scores(latency_s, out))
    if failed:
        scores = {name: _worst(name, value) for name, value in scores.items()}
    return scores


def _worst(name: str, value: float | None) -> float | None:
    """A failed question: quality metrics that apply score 0; outcome rates (declined, injection,
    fallback) say nothing about a crash and become n/a; latency is kept."""
    if value is None or name in COST_METRICS:
        return value
    return None if name in LOWER_IS_BETTER else 0.0
