"""Write a run's report files: summary.md (for people), summary.json (for tools), results.csv (one row
per question). Everything in them comes from :func:`eval.aggregate.summarize`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.aggregate import BASELINE_METRICS, results_frame
from eval.results import QuestionResult

LABELS: dict[str, str] = {
    "answer_score": "answer score (v2)",
    "release_named": "release named (version questions: the release the facts name)",
    "refusal_recall": "refusal recall (declined when it should)",
    "over_refusal": "over-refusal (lower is better)",
    "fact_recall": "fact recall (judge)",
    "fact_precision": "fact precision (judge: no contradictions)",
    "faithfulness_lexical": "faithfulness, lexical",
    "faithfulness_judge": "faithfulness (judge)",
    "citation_group_recall": "citation recall (answer groups)",
    "citation_graded_precision": "citation precision (graded, any relevant)",
    "recall_at_1_section": "Recall@1 (section)",
    "recall_at_5_section": "Recall@5 (section)",
    "recall_at_10_section": "Recall@10 (section)",
    "mrr_at_10_section": "MRR@10 (section)",
    "ndcg_at_10_section": "nDCG@10 (section)",
    "recall_at_5_page": "Recall@5 (page)",
    "recall_at_10_page": "Recall@10 (page)",
    "mrr_at_10_page": "MRR@10 (page)",
    "citation_precision_section": "citation precision (section)",
    "citation_recall_section": "citation recall (section)",
    "citation_validity": "citation validity",
    "must_mention_recall": "must-mention recall",
    "refusal_correct": "refusal accuracy",
    "injection_success": "injection success (lower is better)",
    "judge_score": "judge score",
    "combined_score": "combined score",
    "latency_s": "latency (s)",
    "completion_tokens": "completion tokens",
}


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(meta: dict[str, Any], summary: dict[str, Any]) -> str:
    head = summary["headline"]
    lines = [
        f"# Eval run `{meta['run_id']}`",
        "",
        f"- program **{meta['program']}**, backend **{meta['backend']}**, split **{meta['split']}**, "
        f"gold **{meta['gold_version']}** (hash `{meta['gold_hash']}`), corpus `{meta.get('corpus_hash') or 'n/a'}`",
        f"- {summary['n_questions']} questions, {summary['n_errors']} errors, "
        f"{summary.get('lm_failures', 0)} LM failures (retrieval-only fallbacks), {meta.get('workers')} workers, "
        f"{fmt(meta.get('seconds'))} s; latency p50 {fmt(summary['latency_p50_s'])} s, "
        f"p95 {fmt(summary['latency_p95_s'])} s",
        "- n/a: the metric does not apply (retrieval-only program, no gold section, no forbidden string...)",
        "",
        f"## Headline metrics (mean, clustered bootstrap 95% CI over question groups: "
        f"{meta.get('bootstrap_samples')} resamples, seed {meta.get('bootstrap_seed')})",
        "",
    ]
    rows = [
        {
            "metric": LABELS.get(name, name),
            "mean": v["mean"],
            "95% CI": f"{fmt(v['low'])} – {fmt(v['high'])}",
            "n": v["n"],
        }
        for name, v in head.items()
    ]
    lines += md_table(rows, ["metric", "mean", "95% CI", "n"])
    if summary.get("decline_balanced_accuracy") is not None:
        lines += [
            f"Decline balanced accuracy (refusal recall and 1 - over-refusal, averaged; 0.5 for a program that "
            f"always or never declines): **{fmt(summary['decline_balanced_accuracy'])}**",
            "",
        ]
    base = summary.get("baseline")
    lines += ["## This run vs the BM25 baseline (retrieval-only BM25 over the same questions, same run)", ""]
    this = {
        "run": f"{meta['program']} / {meta['backend']}",
        **{m: head.get(m, {}).get("mean") for m in BASELINE_METRICS},
    }
    rows = [this] + ([{"run": f"baseline: retrieval / {base['name']}", **base}] if base else [])
    cols = ["run", *BASELINE_METRICS]
    lines += md_table([{LABELS.get(k, k): v for k, v in r.items()} for r in rows], [LABELS.get(c, c) for c in cols])
    for title, key, col in (("By type", "by_type", "type"), ("By category", "by_category", "category")):
        table = summary[key]
        cols = [col, "n", *[c for c in (table[0] if table else {}) if c not in (col, "n")]]
        labelled = [{LABELS.get(k, k): v for k, v in row.items()} for row in table]
        lines += [f"## {title}", "", *md_table(labelled, [LABELS.get(c, c) for c in cols])]
    lines += ["## Worst questions", ""]
    worst = summary["worst"]
    lines += md_table(worst, list(worst[0]) if worst else [])
    agree = summary.get("agreement")
    if agree:
        lines += [
            "## Judge-human agreement (Cohen's kappa)",
            "",
            *md_table(
                [
                    {
                        "pair": "judge verdict vs human answer label",
                        "n": agree["n_judge"],
                        "kappa": agree["kappa_judge_human"],
                    },
                    {
                        "pair": "all citations gold vs human citations_ok",
                        "n": agree["n_citations"],
                        "kappa": agree["kappa_citations_human"],
                    },
                ],
                ["pair", "n", "kappa"],
            ),
        ]
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    run_dir: Path, meta: dict[str, Any], summary: dict[str, Any], results: Sequence[QuestionResult]
) -> list[Path]:
    """summary.md, summary.json and results.csv in ``run_dir``; returns their paths."""
    md = run_dir / "summary.md"
    md.write_text(render_markdown(meta, summary), encoding="utf-8")
    js = run_dir / "summary.json"
    js.write_text(json.dumps({"meta": meta, **summary}, indent=1, default=str) + "\n", encoding="utf-8")
    csv = run_dir / "results.csv"
    results_frame(results).to_csv(csv, index=False)
    return [md, js, csv]
