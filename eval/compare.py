"""Two committed runs of the same questions, metric by metric: each run's mean and the paired difference
with a bootstrap interval clustered by question group (near-duplicates move together).

    rows = compare_runs(load_run("RUN_B"), load_run("RUN_A"))     # B - A
    fda eval compare RUN_A RUN_B
    fda eval compare RUN_A1+RUN_A2 RUN_B1+RUN_B2                  # subsets of one condition, run apart

What a promotion is confirmed with (docs/evaluation.md): a candidate against its baseline on dev-confirm, then
once on the sealed test, each through its own committed run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.contract import ProgramOutput
from eval.results_export import RESULTS_DIR
from eval.stats import clustered_bootstrap_ci
from fda.errors import EvalError

HEADLINE = (
    "answer_score",
    "refusal_recall",
    "over_refusal",
    "citation_group_recall",
    "citation_graded_precision",
    "faithfulness_lexical",
    "must_mention_recall",
    "injection_success",
    "unsupported_removed",
    "latency_s",
    "completion_tokens",  # what the LM wrote (0 for a question declined before it): latency without the box's speed
    # retrieval runs (`fda eval --program retrieval`): the answer metrics above are n/a there
    "recall_at_5_section",
    "mrr_at_10_section",
    "ndcg_at_10_section",
    "recall_at_5_page",
)


@dataclass(frozen=True)
class Paired:
    metric: str
    a: float | None
    b: float | None
    diff: float | None  # mean of (b - a) over the questions where both apply
    low: float | None
    high: float | None
    n: int


def load_run(run_id: str, folder: Path = RESULTS_DIR) -> list[dict[str, Any]]:
    path = folder / f"{run_id}.jsonl"
    if not path.is_file():
        raise EvalError(f"no committed run {run_id} in {folder}", hint="Export it first: `fda eval export RUN_ID`.")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise EvalError(
                f"{path} line {n} is not JSON ({err.msg})",
                hint=f"Restore it with `git checkout -- {path.name}` or export the run again: `fda eval export {run_id}`.",
            ) from None
        if not isinstance(row, dict) or "question_id" not in row:
            raise EvalError(f"{path} line {n} is not a result row (no question_id)", hint="Export the run again.")
        rows.append(row)
    return rows


def run_ids(spec: str) -> list[str]:
    """The run ids of ``spec``: one id, or several of the same condition joined with '+' (subsets run apart, with
    ``--limit`` and different seeds, or on different days)."""
    ids = [part.strip() for part in spec.split("+") if part.strip()]
    if not ids:
        raise EvalError(f"no run id in {spec!r}", hint="Name a committed run, or several joined with '+'.")
    return ids


def join_runs(runs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of several runs of one condition as one run: a question answered in more than one keeps the row of
    the last run listed that has it (so two sides joined in the same order pair rows made on the same day)."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        for row in run:
            rows.pop(row["question_id"], None)
            rows[row["question_id"]] = row
    return list(rows.values())


def lm_failures(rows: Sequence[dict[str, Any]]) -> set[str]:
    """Ids of the rows answered retrieval-only because the LM call failed (timeout under load, server down):
    they measure the LM server, not the program (eval/runner.py asks them again once, alone)."""
    return {
        r["question_id"]
        for r in rows
        if ProgramOutput(fallback=bool(r.get("fallback")), reason=str(r.get("reason") or "")).lm_failed
    }


def without(rows: Sequence[dict[str, Any]], ids: set[str]) -> list[dict[str, Any]]:
    return [r for r in rows if r["question_id"] not in ids]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compare_runs(
    b: Sequence[dict[str, Any]], a: Sequence[dict[str, Any]], metrics: Sequence[str] = HEADLINE, seed: int = 0
) -> list[Paired]:
    """B against A over the questions both answered (matched by question id)."""
    by_id = {r["question_id"]: r for r in a}
    pairs = [(r, by_id[r["question_id"]]) for r in b if r["question_id"] in by_id]
    if not pairs:
        raise EvalError("the two runs share no question", hint="Compare runs of the same gold split.")
    out = []
    for metric in metrics:
        va = [pa["metrics"].get(metric) for _, pa in pairs]
        vb = [pb["metrics"].get(metric) for pb, _ in pairs]
        both = [(x, y, pb.get("group") or pb["question_id"]) for (pb, _), x, y in zip(pairs, vb, va, strict=True)]
        both = [(x, y, g) for x, y, g in both if x is not None and y is not None]
        ci = clustered_bootstrap_ci([x - y for x, y, _ in both], [g for *_, g in both], seed=seed)
        out.append(
            Paired(
                metric=metric,
                a=_mean([v for v in va if v is not None]),
                b=_mean([v for v in vb if v is not None]),
                diff=ci.mean,
                low=ci.low,
                high=ci.high,
                n=ci.n,
            )
        )
    return out


LABELLED = ("answer_score", "fact_recall", "fact_precision")


def with_label_scores(run_id: str, rows: Sequence[dict[str, Any]], gold_version: str = "v2") -> list[dict[str, Any]]:
    """``rows`` with ``answer_score``, ``fact_recall`` and ``fact_precision`` rescored from the labellers' fact
    verdicts (data/labels/; the mean over the passes that labelled each answer) instead of the run's own.
    A declined answer keeps its automatic score; an answered question no pass labelled is left out."""
    from eval.agreement import load_label_files, scored_with_label
    from eval.gold import load_all_rows

    gold = {g.id: g for g in load_all_rows(gold_version)}
    labels: dict[str, list[Any]] = {}
    for lab in load_label_files():
        if lab.run_id == run_id:
            labels.setdefault(lab.question_id, []).append(lab)
    out = []
    for row in rows:
        qid = row["question_id"]
        if qid not in gold:
            continue
        if row.get("declined") and qid not in labels:
            out.append(row)
            continue
        scored = [scored_with_label(gold[qid], row, lab) for lab in labels.get(qid, [])]
        if not scored:
            continue
        metrics = dict(row["metrics"])
        for name in LABELLED:
            values = [float(v) for s in scored if (v := s.get(name)) is not None]
            metrics[name] = sum(values) / len(values) if values else None
        out.append({**row, "metrics": metrics})
    return out
