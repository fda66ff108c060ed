"""The judge-reliability study of docs/research/: how the embedded judge's verdicts differ from the labels, and
whether the difference leans on answer length or on a fact's position in the list it checks.

    python -m experiments.research judge

From committed files only (no LM call): the labels of data/labels/ (two independent passes over each answer)
and the judge verdicts stored in the labelled runs' eval/results/<run>.jsonl. Automatic verdicts (a declined
answer counted wrong without a judge call) are left out, as in ``fda eval agreement``.

- **Agreement**: ``fda eval agreement``'s kappa table, judge vs each labeller and labeller vs labeller.
- **Length bias**: answer score from the verdict (correct 1, partly 0.5, wrong 0), judge minus the labellers'
  mean, by answer-length tercile; a judge that rewards length shows a rising difference.
- **Position bias**: share of facts judged *stated*, by the fact's position in the row's list (the judge checks
  facts one call each, in list order), judge vs labellers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SCORE = {"correct": 1.0, "partly": 0.5, "wrong": 0.0}


def labelled_rows(labels: Sequence[Any], answers: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per labelled answer with a non-automatic judge verdict: the answer's length, the judge's
    verdict and fact checks, and every labeller's."""
    by_key: dict[tuple[str, str], list[Any]] = {}
    for lab in labels:
        by_key.setdefault((lab.run_id, lab.question_id), []).append(lab)
    out: list[dict[str, Any]] = []
    for key, labs in sorted(by_key.items()):
        row = answers.get(key)
        judge = (row or {}).get("judge") or {}
        if not row or not judge.get("verdict") or judge.get("automatic"):
            continue
        out.append(
            {
                "run_id": key[0],
                "question_id": key[1],
                "chars": len(row.get("answer") or ""),
                "judge": judge["verdict"],
                "judge_facts": list(judge.get("facts") or []),
                "labels": {lab.labeller: lab.answer_label for lab in labs},
                "label_facts": {lab.labeller: list(lab.facts or []) for lab in labs},
            }
        )
    return out


def length_bias(rows: Sequence[dict[str, Any]], bins: int = 3) -> list[dict[str, Any]]:
    """Per answer-length bin (equal counts): n, chars range, judge score, labellers' score, difference."""
    if not rows:
        return []
    order = sorted(rows, key=lambda r: r["chars"])
    out = []
    for part in np.array_split(np.arange(len(order)), bins):
        sel = [order[i] for i in part]
        if not sel:
            continue
        judge = float(np.mean([SCORE[r["judge"]] for r in sel]))
        label = float(np.mean([np.mean([SCORE[v] for v in r["labels"].values()]) for r in sel]))
        out.append(
            {
                "chars": f"{sel[0]['chars']}-{sel[-1]['chars']}",
                "n": len(sel),
                "judge score": judge,
                "labellers' score": label,
                "judge - labellers": judge - label,
            }
        )
    return out


def length_correlation(rows: Sequence[dict[str, Any]]) -> dict[str, float] | None:
    """Spearman correlation of answer length with (judge score - labellers' mean score), and its p-value."""
    if len(rows) < 3:
        return None
    from scipy.stats import spearmanr

    diff = [SCORE[r["judge"]] - float(np.mean([SCORE[v] for v in r["labels"].values()])) for r in rows]
    got = spearmanr([r["chars"] for r in rows], diff)
    rho, p = float(got.statistic), float(got.pvalue)
    return None if np.isnan(rho) else {"rho": rho, "p": p}


def position_bias(rows: Sequence[dict[str, Any]], last: int = 3) -> list[dict[str, Any]]:
    """Per fact position (1, 2, ``last`` and later): share judged stated by the judge and by the labellers."""
    cells: dict[int, dict[str, list[float]]] = {}
    for r in rows:
        for i, verdict in enumerate(r["judge_facts"]):
            pos = min(i + 1, last)
            cell = cells.setdefault(pos, {"judge": [], "labels": []})
            labs = [f[i] for f in r["label_facts"].values() if i < len(f)]
            if not labs:
                continue
            cell["judge"].append(float(verdict == "stated"))
            cell["labels"].append(float(np.mean([v == "stated" for v in labs])))
    out = []
    for pos in sorted(cells):
        c = cells[pos]
        if not c["judge"]:
            continue
        out.append(
            {
                "position": f"{pos}+" if pos == last else str(pos),
                "facts": len(c["judge"]),
                "judge: stated": float(np.mean(c["judge"])),
                "labellers: stated": float(np.mean(c["labels"])),
            }
        )
    return out
