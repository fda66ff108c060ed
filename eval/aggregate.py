"""Turn per-question results into a run summary: headline means with bootstrap CIs, per-type and
per-category tables, the baseline row, the worst questions, judge-human agreement (pure, pandas)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from eval.degenerate import decline_balanced_accuracy
from eval.labels import answer_sha
from eval.results import QuestionResult, flat_row
from eval.scoring import ALL_METRICS, RETRIEVAL_METRICS
from eval.stats import clustered_bootstrap_ci, cohen_kappa

HEADLINE: tuple[str, ...] = (
    "answer_score",
    "refusal_recall",
    "over_refusal",
    "fact_recall",
    "fact_precision",
    "faithfulness_lexical",
    "faithfulness_judge",
    "citation_group_recall",
    "citation_graded_precision",
    "release_named",
    "recall_at_5_section",
    "recall_at_10_section",
    "mrr_at_10_section",
    "ndcg_at_10_section",
    "recall_at_5_page",
    "citation_precision_section",
    "citation_recall_section",
    "citation_validity",
    "must_mention_recall",
    "refusal_correct",
    "injection_success",
    "judge_score",
    "combined_score",
    "latency_s",
    "completion_tokens",
)
GROUP_METRICS: tuple[str, ...] = (
    "answer_score",
    "refusal_recall",
    "over_refusal",
    "fact_recall",
    "faithfulness_lexical",
    "citation_group_recall",
    "recall_at_5_section",
    "recall_at_5_page",
    "must_mention_recall",
    "injection_success",
    "judge_score",
    "combined_score",
    "latency_s",
)
BASELINE_METRICS: tuple[str, ...] = tuple(m for m in HEADLINE if m in RETRIEVAL_METRICS)
WORST_N = 10


def results_frame(results: Sequence[QuestionResult]) -> pd.DataFrame:
    """One row per question, every metric a column (NaN = n/a)."""
    df = pd.DataFrame([flat_row(r) for r in results])
    for name in ALL_METRICS:
        df[name] = pd.to_numeric(df[name], errors="coerce") if name in df else math.nan
    return df


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def headline(df: pd.DataFrame, n_samples: int, seed: int) -> dict[str, dict[str, Any]]:
    """Mean, 95% bootstrap CI and n for each headline metric that applies to at least one question; the
    bootstrap resamples question groups (near-duplicates move together), so correlated rows do not narrow it."""
    out: dict[str, dict[str, Any]] = {}
    clusters = (df["group"] if "group" in df else df["question_id"]).fillna(df["question_id"]).tolist()
    for name in HEADLINE:
        ci = clustered_bootstrap_ci(df[name].tolist(), clusters, n_samples=n_samples, seed=seed)
        if ci.n:
            out[name] = {"mean": ci.mean, "low": ci.low, "high": ci.high, "n": ci.n}
    return out


def means(df: pd.DataFrame, metrics: Sequence[str] = ALL_METRICS) -> dict[str, float | None]:
    return {name: _clean(float(df[name].mean())) for name in metrics if df[name].notna().any()}


def by_group(df: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    cols = [m for m in GROUP_METRICS if df[m].notna().any()]
    table = df.groupby(column, sort=True)[cols].mean()
    table.insert(0, "n", df.groupby(column, sort=True).size())
    return [
        {column: key, **{k: int(v) if k == "n" else _clean(v) for k, v in row.items()}} for key, row in table.iterrows()
    ]


def worst(
    df: pd.DataFrame, answers: bool, gold_first: Mapping[str, str] | None = None, n: int = WORST_N
) -> list[dict[str, Any]]:
    """Lowest combined score (answer programs) or section MRR@10 (retrieval only); errors first.
    ``gold_first`` (question id -> first gold section) puts what should have come first beside what did."""
    key = "combined_score" if answers else "mrr_at_10_section"
    cand = df[df[key].notna() | df["error"].notna()].copy()
    cand["_err"] = cand["error"].notna()
    cand = cand.sort_values(["_err", key, "recall_at_10_page"], ascending=[False, True, True], na_position="first")
    cand["gold_section"] = cand["question_id"].map(dict(gold_first or {}))
    cols = ["question_id", "type", "category", key, "recall_at_10_page", "top_passage", "gold_section"]
    if answers:
        cols.insert(4, "judge_verdict")
    if cand["_err"].any():
        cols.append("error")
    return [{c: _clean(v) for c, v in row.items()} for row in cand[cols].head(n).to_dict("records")]


def agreement(results: Sequence[QuestionResult], labels: pd.DataFrame | None) -> dict[str, Any] | None:
    """Cohen's kappa of judge vs human answer labels (verdicts the judge reached without an LM call, such as
    a declined answer counted wrong, left out: they would inflate agreement), and of the automatic citation
    check (every cited section is gold) vs the human ``citations_ok``, over labelled answers of this run."""
    if labels is None or labels.empty:
        return None
    by_key = {(r["question_id"], r["answer_sha"]): r for r in labels.to_dict("records")}
    judge_pairs: list[tuple[str, str]] = []
    cite_pairs: list[tuple[str, str]] = []
    for res in results:
        lab = by_key.get((res.question_id, answer_sha(res.output.answer)))
        if lab is None:
            continue
        if res.judge is not None and res.judge.verdict and not res.judge.automatic and lab.get("answer_label"):
            judge_pairs.append((res.judge.verdict, str(lab["answer_label"])))
        precision = res.metrics.get("citation_precision_section")
        if precision is not None and lab.get("citations_ok") is not None:
            cite_pairs.append(("yes" if precision == 1.0 else "no", "yes" if lab["citations_ok"] else "no"))
    if not judge_pairs and not cite_pairs:
        return None
    return {
        "n_judge": len(judge_pairs),
        "kappa_judge_human": cohen_kappa([a for a, _ in judge_pairs], [b for _, b in judge_pairs]),
        "n_citations": len(cite_pairs),
        "kappa_citations_human": cohen_kappa([a for a, _ in cite_pairs], [b for _, b in cite_pairs]),
    }


def summarize(
    results: Sequence[QuestionResult],
    *,
    answers: bool,
    n_samples: int = 1000,
    seed: int = 0,
    baseline: Sequence[QuestionResult] | None = None,
    baseline_name: str = "bm25",
    labels: pd.DataFrame | None = None,
    gold_first: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    df = results_frame(results)
    summary: dict[str, Any] = {
        "n_questions": len(df),
        "n_errors": int(df["error"].notna().sum()),
        # retrieval-only answers because the LM call failed: they measure the LM server, not the program
        "lm_failures": sum(1 for r in results if r.output.lm_failed),
        "n_judge_errors": sum(1 for r in results if r.judge_error),
        "answers": answers,
        "headline": headline(df, n_samples, seed),
        "means": means(df),
        "by_type": by_group(df, "type"),
        "by_category": by_group(df, "category"),
        "worst": worst(df, answers, gold_first),
        "latency_p50_s": _clean(float(df["latency_s"].quantile(0.5))),
        "latency_p95_s": _clean(float(df["latency_s"].quantile(0.95))),
        "agreement": agreement(results, labels),
        "decline_balanced_accuracy": decline_balanced_accuracy(results) if answers else None,
        "baseline": None,
    }
    if baseline:
        bdf = results_frame(baseline)
        summary["baseline"] = {"name": baseline_name, "n_questions": len(bdf), **means(bdf, BASELINE_METRICS)}
    return summary
