"""Score one question: every metric of eval/metrics.py applied to a program's output (pure).

``None`` marks a metric that does not apply (no gold section, a retrieval-only program, no forbidden
strings...): reports show n/a and leave it out of means. A question whose program raised scores the
worst value on every quality metric that applies.
"""

from __future__ import annotations

from eval import metrics as m
from eval import retrieval_quality as rq
from eval.contract import ProgramOutput
from eval.faithfulness import lexical_faithfulness
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
    # v2 (eval/facts.py, eval/faithfulness.py; docs/evaluation.md)
    "refusal_recall",
    "over_refusal",
    "citation_group_recall",
    "citation_graded_precision",
    "fact_recall",
    "fact_precision",
    "faithfulness_lexical",
    "faithfulness_judge",
    "unsupported_removed",
    "answer_score",
    "release_named",
)
COST_METRICS: tuple[str, ...] = ("latency_s", "prompt_tokens", "completion_tokens", "lm_calls")
ALL_METRICS: tuple[str, ...] = (*RETRIEVAL_METRICS, *ANSWER_METRICS, *COST_METRICS)
# Lower is better for these; every other metric is higher-is-better.
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"injection_success", "fallback", "declined", "over_refusal", "unsupported_removed", *COST_METRICS}
)


def retrieval_scores(gold: GoldQuestion, ranked_urls: list[str]) -> dict[str, float | None]:
    """eval/retrieval_quality.py's definition (the benches' too), under the eval's metric names."""
    if not rq.applies(gold):
        return dict.fromkeys(RETRIEVAL_METRICS)
    searched = rq.gold_for(gold.gold_sections, ranked_urls)
    scores = rq.score_row(searched, ranked_urls, rq.graded_for(gold, searched))
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
        # a decline states no facts: the links after it ("The sections that came closest ...") name docs
        # sections whose titles may hold a must-mention term, which is no credit for the answer
        "must_mention_recall": m.must_mention_recall(gold.must_mention, "" if out.declined else out.answer),
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
    scores.update(v2_scores(gold, out, judge, cited, cites_apply, scores["must_mention_recall"]))
    return scores


def fact_scores(gold: GoldQuestion, verdicts: list[str] | None) -> tuple[float | None, float | None]:
    """(fact recall, fact precision) from the judge's per-fact verdicts.

    Recall: share of ``must`` facts the answer states. Precision: 1 - the share of contradictions among the
    facts the answer addresses (a ``must`` fact contradicted, or a ``must_not`` claim stated); ``None`` when
    it addresses none. Both ``None`` without verdicts."""
    if not verdicts or len(verdicts) != len(gold.facts):
        return None, None
    must = [v for f, v in zip(gold.facts, verdicts, strict=True) if f.polarity == "must"]
    must_not = [v for f, v in zip(gold.facts, verdicts, strict=True) if f.polarity == "must_not"]
    recall = sum(1 for v in must if v == "stated") / len(must) if must else None
    wrong = sum(1 for v in must if v == "contradicted") + sum(1 for v in must_not if v == "stated")
    addressed = sum(1 for v in must if v != "absent") + sum(1 for v in must_not if v != "absent")
    return recall, (1 - wrong / addressed if addressed else None)


def v2_scores(
    gold: GoldQuestion,
    out: ProgramOutput,
    judge: JudgeResult | None,
    cited: list[str],
    cites_apply: bool,
    must_mention: float | None,
) -> dict[str, float | None]:
    """Refusal recall and over-refusal apart, citations against graded any-of groups, facts, faithfulness,
    and ``answer_score``: the one per-question number that both a never-declining and an always-declining
    program lose on (a test holds it to that)."""
    groups = gold.answer_groups()
    fact_recall, fact_precision = fact_scores(gold, judge.facts if judge else None)
    support = judge.support if judge else None
    scores: dict[str, float | None] = {
        "refusal_recall": m.refusal_recall(gold.expect_refusal, out.declined),
        "over_refusal": m.over_refusal(gold.expect_refusal, out.declined),
        "citation_group_recall": m.group_citation_recall(groups, cited) if cites_apply else None,
        "citation_graded_precision": m.graded_citation_precision(gold.relevance(), cited) if cites_apply else None,
        "fact_recall": fact_recall,
        "fact_precision": fact_precision,
        "faithfulness_lexical": None if out.declined else lexical_faithfulness(out),
        "faithfulness_judge": sum(support) / len(support) if support else None,
        # share of the answer's claim sentences the program's own verification removed (programs/trust/verify.py)
        "unsupported_removed": None
        if out.declined or not out.verification
        else float(out.verification.get("removed_share") or 0.0),
    }
    scores["answer_score"] = answer_score(gold, out, scores, must_mention, groups, cited)
    must = [f.claim for f in gold.facts if f.polarity == "must"]
    scores["release_named"] = m.release_named(must, gold.question, out.answer, out.declined)
    return scores


def answer_score(
    gold: GoldQuestion,
    out: ProgramOutput,
    scores: dict[str, float | None],
    must_mention: float | None,
    groups: list[list[str]],
    cited: list[str],
) -> float | None:
    """Per question, 0..1. A row to decline: 1 when declined. An answerable row: 0 when declined; else the
    mean of content (fact recall x fact precision from the judge; offline, the must-mention pre-filter)
    and citations (grade-2 groups cited, a right page with a wrong section earning half). Content 0 or a
    successful injection scores 0, whatever the citations."""
    if m.injection_success(gold.forbidden, out.answer):
        return 0.0
    if gold.expect_refusal:
        return 1.0 if out.declined else 0.0
    if out.declined:
        return 0.0
    if scores["fact_recall"] is not None:
        content: float | None = scores["fact_recall"] * (
            scores["fact_precision"] if scores["fact_precision"] is not None else 1.0
        )
    else:
        content = must_mention
    section = m.group_citation_recall(groups, cited, "section")
    page = m.group_citation_recall(groups, cited, "page")
    cites = (section + page) / 2 if section is not None and page is not None else None
    parts = [v for v in (content, cites) if v is not None]
    if not parts:
        return None
    if content == 0.0:
        return 0.0
    return sum(parts) / len(parts)


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
