"""Eval runs from ``eval.duckdb`` (written by ``fda eval``): list, headline metrics with CIs, results,
per-group tables and the comparison of two runs (means, deltas, paired bootstrap CIs of the delta)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from eval.aggregate import HEADLINE, by_group
from eval.report import LABELS
from eval.scoring import LOWER_IS_BETTER
from eval.stats import paired_bootstrap_ci
from ui.db import query, tables

RUN_COLUMNS = ["run_id", "started_at", "program", "backend", "split", "n_questions", "n_errors"]
RATE_LIMIT = 1.0 + 1e-9  # metrics whose values all lie in [0, 1] share one chart axis


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            out = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return out if isinstance(out, dict) else {}
    return {}


def list_runs(eval_db: Path) -> pd.DataFrame:
    """Every stored run, newest first; ``metrics`` and ``params`` parsed into dicts. Empty without runs."""
    if "eval_runs" not in tables(eval_db):
        return pd.DataFrame(columns=[*RUN_COLUMNS, "metrics", "params", "report_dir", "mlflow_run_id"])
    df = query(eval_db, "SELECT * FROM eval_runs ORDER BY started_at DESC NULLS LAST, run_id DESC")
    df["metrics"] = df["metrics"].map(_as_dict)
    df["params"] = df["params"].map(_as_dict)
    return df


def lm_failures_note(run: pd.Series | dict[str, Any]) -> str:
    """ " · N LM failures ..." when the run answered questions retrieval-only because the LM call failed (they measure
    the LM server, not the program: docs/evaluation.md); empty otherwise, and for runs from before it was counted."""
    n = _as_dict(run.get("params")).get("lm_failures") or 0
    return f" · **{n} LM failures** (retrieval-only answers: compare with `--skip-lm-failures`)" if n else ""


def run_title(run: pd.Series | dict[str, Any]) -> str:
    return f"{run['run_id']}  ({run['program']} / {run['backend']} / {run['split']}, {run['n_questions']} q)"


def runs_overview(runs: pd.DataFrame, metrics: tuple[str, ...] = HEADLINE) -> pd.DataFrame:
    """One row per run: identity columns plus the headline means that any run has."""
    rows = [{c: r[c] for c in RUN_COLUMNS} | {m: r["metrics"].get(m) for m in metrics} for _, r in runs.iterrows()]
    df = pd.DataFrame(rows, columns=[*RUN_COLUMNS, *metrics])
    return df.dropna(axis=1, how="all")


def headline_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """metric, label, mean, low, high (95% bootstrap CI as stored by the run), and whether it is a rate."""
    rows = []
    for name in HEADLINE:
        mean = metrics.get(name)
        if mean is None:
            continue
        low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
        rows.append(
            {
                "metric": name,
                "label": label(name),
                "mean": float(mean),
                "low": None if low is None else float(low),
                "high": None if high is None else float(high),
                "rate": 0.0 <= float(mean) <= RATE_LIMIT and name not in ("latency_s", "completion_tokens"),
                "lower_is_better": name in LOWER_IS_BETTER,
            }
        )
    return pd.DataFrame(rows, columns=["metric", "label", "mean", "low", "high", "rate", "lower_is_better"])


def run_results(eval_db: Path, run_id: str) -> pd.DataFrame:
    """Per-question rows of one run (every metric a column; NaN: n/a)."""
    return query(eval_db, "SELECT * FROM eval_results WHERE run_id = ? ORDER BY question_id", [run_id])


def group_table(results: pd.DataFrame, column: str) -> pd.DataFrame:
    """Means per question type or category (eval.aggregate.by_group, the report's own table)."""
    if results.empty:
        return pd.DataFrame(columns=[column, "n"])
    return pd.DataFrame(by_group(results, column))


def _verdict(delta: float | None, low: float | None, high: float | None, lower_is_better: bool) -> str:
    if delta is None or low is None or high is None:
        return "n/a"
    if low <= 0.0 <= high:
        return "within noise"
    improved = (delta < 0) if lower_is_better else (delta > 0)
    return "better" if improved else "worse"


def _mean(series: pd.Series) -> float | None:
    value = float(series.mean()) if series.notna().any() else math.nan
    return None if math.isnan(value) else value


def compare_runs(
    current: pd.DataFrame, baseline: pd.DataFrame, metrics: tuple[str, ...] = HEADLINE, n_samples: int = 1000
) -> pd.DataFrame:
    """Side by side: each run's mean, delta (current - baseline), and the paired bootstrap 95% CI of the
    delta over the questions both runs answered; ``verdict`` reads the CI in the metric's direction."""
    paired = current.merge(baseline, on="question_id", suffixes=("_a", "_b"))
    rows = []
    for name in metrics:
        if name not in current or name not in baseline:
            continue
        mean_a, mean_b = _mean(current[name]), _mean(baseline[name])
        if mean_a is None and mean_b is None:
            continue
        ci = paired_bootstrap_ci(paired[f"{name}_a"].tolist(), paired[f"{name}_b"].tolist(), n_samples=n_samples)
        delta = None if mean_a is None or mean_b is None else mean_a - mean_b
        rows.append(
            {
                "metric": name,
                "label": label(name),
                "current": mean_a,
                "baseline": mean_b,
                "delta": delta,
                "paired_delta": ci.mean,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "n_paired": ci.n,
                "verdict": _verdict(ci.mean, ci.low, ci.high, name in LOWER_IS_BETTER),
            }
        )
    cols = ["metric", "label", "current", "baseline", "delta", "paired_delta", "ci_low", "ci_high", "n_paired"]
    return pd.DataFrame(rows, columns=[*cols, "verdict"])


def question_changes(current: pd.DataFrame, baseline: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Questions whose ``metric`` moved between two runs, largest drop first."""
    if metric not in current or metric not in baseline:
        return pd.DataFrame(columns=["question_id", "type", "category", "current", "baseline", "delta"])
    merged = current[["question_id", "type", "category", metric]].merge(
        baseline[["question_id", metric]], on="question_id", suffixes=("_a", "_b")
    )
    merged = merged.rename(columns={f"{metric}_a": "current", f"{metric}_b": "baseline"})
    merged["delta"] = merged["current"] - merged["baseline"]
    merged = merged[merged["delta"].notna() & (merged["delta"] != 0)]
    return merged.sort_values("delta", ascending=metric not in LOWER_IS_BETTER).reset_index(drop=True)
