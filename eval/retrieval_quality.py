"""``fda bench retrieval-quality``: every backend side by side on the gold dev and test splits.

    fda bench retrieval-quality                       # bm25, dense, colbert, hybrid, rerank, fused; dev + test
    fda bench retrieval-quality -b bm25 -b hybrid --split test --json

Rows without gold sections or expecting a refusal are skipped. A row is searched in the docs version its
gold sections live in: the version of its GitHub permalinks (``.../blob/<tag>/...``) or its
``fastapi_version`` when that was ingested, else the latest; gold sections of other versions are then
left out of that row's gold list (a search runs in one version). Metrics are eval/metrics.py at page and
section level over the top 50 chunks (chunks of one section or page collapse to their best rank):
``R@k`` is the share of a row's gold items in the top k, ``Hit@k`` is 1 when any is. The ``(ceiling)``
row (:func:`ceiling`) is the gold list itself: R@1 of a row with two gold pages is at most 0.5.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from eval.gold import GoldQuestion
from eval.metrics import hit_at_k, mrr_at_k, ndcg_at_k, recall_at_k
from index.retrieval.base import Retriever

_TAG = re.compile(r"github\.com/[^/]+/[^/]+/blob/([^/]+)/")
DEPTH = 50


@dataclass(frozen=True)
class Target:
    question: GoldQuestion
    version: str
    gold: tuple[str, ...]


def version_of(url: str, latest: str) -> str:
    m = _TAG.search(url)
    return m.group(1) if m else latest


def targets(rows: Sequence[GoldQuestion], known: Sequence[str], latest: str) -> list[Target]:
    out: list[Target] = []
    for row in rows:
        if not row.gold_sections or row.expect_refusal:
            continue
        tags = [version_of(u, latest) for u in row.gold_sections]
        older = [t for t in tags if t != latest and t in known]
        if row.fastapi_version in known and row.fastapi_version in tags:
            version = row.fastapi_version
        elif older:
            version = older[0]
        else:
            version = latest
        gold = tuple(u for u, t in zip(row.gold_sections, tags, strict=True) if t == version)
        out.append(Target(row, version, gold or tuple(row.gold_sections)))
    return out


def score_row(gold: Sequence[str], ranked: Sequence[str]) -> dict[str, float]:
    m: dict[str, float] = {}
    for level in ("page", "section"):
        for k in (1, 5, 10):
            m[f"{level} R@{k}"] = recall_at_k(gold, ranked, k, level)
            m[f"{level} Hit@{k}"] = hit_at_k(gold, ranked, k, level)
        m[f"{level} MRR@10"] = mrr_at_k(gold, ranked, 10, level)
        m[f"{level} nDCG@10"] = ndcg_at_k(gold, ranked, 10, level)
    return m


def evaluate(
    retrievers: Mapping[str, Retriever],
    split_targets: Mapping[str, Sequence[Target]],
    per_row: list[dict[str, object]] | None = None,
) -> pd.DataFrame:
    """One row per (backend, split): mean of each metric, the row count and mean search time. ``per_row``,
    when given, receives every question's scores (backend, split, id, type and the metrics) for breakdowns."""
    records: list[dict[str, object]] = []
    for name, retriever in retrievers.items():
        for split, items in split_targets.items():
            scores: list[dict[str, float]] = []
            seconds = 0.0
            for t in items:
                start = time.perf_counter()
                passages = retriever.search(t.question.question, k=DEPTH, version=t.version)
                seconds += time.perf_counter() - start
                scores.append(score_row(t.gold, [p.url for p in passages]))
                if per_row is not None:
                    qtype = getattr(t.question.type, "value", str(t.question.type))
                    per_row.append({"backend": name, "split": split, "id": t.question.id, "type": qtype, **scores[-1]})
            means = pd.DataFrame(scores).mean().round(3).to_dict() if scores else {}
            records.append(
                {
                    "backend": name,
                    "split": split,
                    "n": len(items),
                    **means,
                    "ms/query": 1000 * seconds / max(1, len(items)),
                }
            )
    return pd.DataFrame(records)


def by_type(per_row: Sequence[Mapping[str, object]], split: str, metrics: Sequence[str]) -> pd.DataFrame:
    """One row per question type of ``split`` (with its count), one column per backend: the means of
    ``metrics`` joined by " / " (e.g. "0.90 / 0.85" for page Hit@1 / section R@5)."""
    df = pd.DataFrame([r for r in per_row if r["split"] == split])
    if df.empty:
        return pd.DataFrame()
    means = df.groupby(["type", "backend"], sort=False)[list(metrics)].mean()
    table = means.apply(lambda r: " / ".join(f"{v:.2f}" for v in r), axis=1).unstack("backend")
    backends = list(dict.fromkeys(df["backend"]))
    counts = df[df["backend"] == backends[0]].groupby("type").size()
    table = table[backends]
    table.insert(0, "n", counts.reindex(table.index).astype(int))
    return table.reset_index()


CEILING = "(ceiling)"


def ceiling(split_targets: Mapping[str, Sequence[Target]]) -> pd.DataFrame:
    """The best any backend can score: each row's gold list ranked first, in its own order.

    Recall@1 cannot reach 1 for a row with several gold pages or sections (one slot, several gold items),
    which caps the mean page R@1 well below 1 on this gold set: read R@1 against this row, or Hit@1.
    """
    records: list[dict[str, object]] = []
    for split, items in split_targets.items():
        per_row = [score_row(t.gold, [*t.gold]) for t in items]
        means = pd.DataFrame(per_row).mean().round(3).to_dict() if per_row else {}
        records.append({"backend": CEILING, "split": split, "n": len(items), **means, "ms/query": 0.0})
    return pd.DataFrame(records)


HEADLINE = [
    "page R@1",
    "page R@5",
    "page R@10",
    "page MRR@10",
    "page nDCG@10",
    "section R@1",
    "section R@5",
    "section R@10",
    "section MRR@10",
    "section nDCG@10",
    "page Hit@1",
    "page Hit@5",
    "section Hit@5",
]
