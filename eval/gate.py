"""Regression gate: compare a run's retrieval and citation metrics with a committed baseline.

    fda eval baseline --update     # writes eval/baselines/retrieval-bm25-dev.json (commit it)
    fda eval gate                  # exit 1 when a gated metric dropped beyond noise

A metric fails when, over the questions both runs share, its mean dropped by more than ``tolerance``
AND (with ``paired_ci``) the paired bootstrap 95% interval of the per-question change lies entirely
below zero, i.e. the drop is larger than the slack we allow and larger than question-sampling noise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.results import QuestionResult
from eval.scoring import CITATION_METRICS, LOWER_IS_BETTER
from eval.stats import paired_bootstrap_ci
from fda.errors import EvalError

GATED_METRICS: tuple[str, ...] = (
    "recall_at_5_section",
    "recall_at_10_section",
    "mrr_at_10_section",
    "ndcg_at_10_section",
    "recall_at_5_page",
    "recall_at_10_page",
    "mrr_at_10_page",
    *CITATION_METRICS,
)
PerQuestion = Mapping[str, Mapping[str, float | None]]  # metric -> question id -> value


@dataclass(frozen=True)
class GateRow:
    metric: str
    baseline: float | None
    current: float | None
    n: int
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    failed: bool = False
    reason: str = ""


@dataclass
class GateReport:
    rows: list[GateRow]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(r.failed for r in self.rows)


def per_question(
    results: Sequence[QuestionResult], metrics: Sequence[str] = GATED_METRICS
) -> dict[str, dict[str, float | None]]:
    """metric -> question id -> value, rounded like the committed file so equal runs compare equal."""
    return {name: {r.question_id: _round(r.metrics.get(name)) for r in results} for name in metrics}


def make_baseline(results: Sequence[QuestionResult], meta: Mapping[str, Any]) -> dict[str, Any]:
    """The committed baseline: run identity, means, and per-question values (for paired comparison)."""
    kept = {m: vals for m, vals in per_question(results).items() if any(v is not None for v in vals.values())}
    means = {m: _round(_mean(list(vals.values()))) for m, vals in kept.items()}
    keys = ("program", "backend", "split", "gold_version", "gold_hash", "corpus_hash", "run_id")
    return {**{k: meta.get(k) for k in keys}, "metrics": means, "per_question": kept}


def _mean(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def compare(
    current: PerQuestion,
    baseline: PerQuestion,
    *,
    tolerance: float,
    paired_ci: bool = True,
    n_samples: int = 1000,
    seed: int = 0,
) -> GateReport:
    """Gate every metric the baseline has, over the question ids both sides share."""
    rows: list[GateRow] = []
    for metric, base_vals in baseline.items():
        cur_vals = current.get(metric, {})
        shared = sorted(q for q in base_vals if q in cur_vals)
        cur = [cur_vals[q] for q in shared]
        base = [base_vals[q] for q in shared]
        if _mean(list(base_vals.values())) is None:
            continue  # the metric applied to no baseline question
        cur_mean, base_mean = _mean(cur), _mean(base)
        if cur_mean is None or base_mean is None:
            base_all = _mean(list(base_vals.values()))
            rows.append(GateRow(metric, base_all, None, 0, failed=True, reason="missing in this run"))
            continue
        ci = paired_bootstrap_ci(cur, base, n_samples=n_samples, seed=seed)
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        delta = ci.mean if ci.mean is not None else cur_mean - base_mean
        drop = -sign * delta
        beyond_noise = not paired_ci or (
            ci.low is not None and ci.high is not None and (ci.high < 0 if sign > 0 else ci.low > 0)
        )
        failed = drop > tolerance and beyond_noise
        reason = (
            f"dropped {drop:.3f} > tolerance {tolerance:.3f}" + (" and beyond the paired 95% CI" if paired_ci else "")
            if failed
            else ""
        )
        rows.append(GateRow(metric, base_mean, cur_mean, ci.n, delta, ci.low, ci.high, failed, reason))
    return GateReport(rows)


def baseline_path(folder: Path, program: str, backend: str, split: str) -> Path:
    return folder / f"{program}-{backend}-{split}.json"


def read_baseline(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise EvalError(f"no baseline at {path}", hint="Write one with `fda eval baseline --update` and commit it.")
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise EvalError(f"{path}: not valid JSON: {err}", hint="Rewrite it with `fda eval baseline --update`.") from err
    if not isinstance(data.get("per_question"), dict):
        raise EvalError(f"{path}: no per_question values", hint="Rewrite it with `fda eval baseline --update`.")
    return data


def write_baseline(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def identity_notes(baseline: Mapping[str, Any], meta: Mapping[str, Any]) -> list[str]:
    """What differs between the baseline's run and this one (gold set, corpus): shown with the verdict."""
    notes = []
    for key in ("gold_hash", "corpus_hash", "backend", "split"):
        if baseline.get(key) and meta.get(key) and baseline[key] != meta[key]:
            notes.append(f"{key} differs: baseline {baseline[key]}, this run {meta[key]}")
    return notes


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
