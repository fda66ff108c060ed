"""What the study's retrieval parts share: per-method means over all rows and the real-user subset, with the
paired difference to a reference method and its 95% interval from a bootstrap clustered by question group."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

SHOWN = ("page Hit@1", "page R@1", "page R@5", "section R@5", "section nDCG@10")
PAIRED = ("page Hit@1", "section R@5")


def paired_table(
    scores: Mapping[str, Sequence[Mapping[str, float]]],
    clusters: Sequence[str],
    user: Sequence[bool],
    reference: str,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """``scores[method][i]``: row i's metrics (rows aligned across methods). One record per method and subset
    (``all``, ``user``): n, the means of :data:`SHOWN`, and ``"<metric> vs <reference>"`` as (mean, low, high)."""
    from eval.stats import clustered_bootstrap_ci

    ref = scores[reference]
    out: list[dict[str, Any]] = []
    for name, rows in scores.items():
        for subset, keep in (("all", [True] * len(rows)), ("user", list(user))):
            idx = [i for i, k in enumerate(keep) if k]
            rec: dict[str, Any] = {"method": name, "subset": subset, "n": len(idx)}
            for k in SHOWN:
                rec[k] = float(np.mean([rows[i][k] for i in idx])) if idx else None
            for k in PAIRED:
                ci = clustered_bootstrap_ci(
                    [rows[i][k] - ref[i][k] for i in idx], [clusters[i] for i in idx], seed=seed
                )
                rec[f"{k} vs {reference}"] = (ci.mean, ci.low, ci.high)
            out.append(rec)
    return out


def is_user(row: Any) -> bool:
    source = getattr(row, "source", None)
    return bool(source and source.kind == "user")


def scored_methods(
    rows: Sequence[Any],
    ranked: Mapping[str, Sequence[Sequence[Any]]],
    reference: str,
    extra: Callable[[str, Any], dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each method's ranked lists (``ranked[method][i]``: passages for retrieval target ``rows[i]``) scored with
    the retrieval metrics: the :func:`paired_table` against ``reference`` and one record per method and question
    (its :data:`SHOWN` metrics, plus ``extra(method, row)`` when given)."""
    from eval.retrieval_quality import score_row

    scores = {
        m: [score_row(t.gold, [p.url for p in ps], t.graded) for t, ps in zip(rows, lists, strict=True)]
        for m, lists in ranked.items()
    }
    clusters = [t.question.group or t.question.id for t in rows]
    table = paired_table(scores, clusters, [is_user(t.question) for t in rows], reference)
    per_q = [
        {
            "method": m,
            "id": t.question.id,
            "user": is_user(t.question),
            **{k: round(v, 4) for k, v in sc.items() if k in SHOWN},
            **(extra(m, t) if extra else {}),
        }
        for m in scores
        for t, sc in zip(rows, scores[m], strict=True)
    ]
    return table, per_q
