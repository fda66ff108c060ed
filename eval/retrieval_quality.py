"""Retrieval quality: the one definition every retrieval number uses (``fda bench retrieval-quality``, the
retrieval metrics of ``fda eval``, the tuning and lever benches, README and docs).

    fda bench retrieval-quality                       # bm25, dense, colbert, hybrid, rerank, fused; dev + test
    fda bench retrieval-quality -b bm25 -b hybrid --split test --json

A row counts when it has gold sections and does not expect a refusal (:func:`applies`). Its gold list is
the gold sections in the docs version the ranked list comes from (:func:`gold_for`: the version of the
GitHub permalinks ``.../blob/<tag>/...``, or the published site for the latest), or all of them when none
is in that version. The benches search each row in the version its gold lives in (:func:`targets`: its
``fastapi_version`` when that was ingested and cited, else the older version its permalinks name, else the
latest); ``fda eval --versions target`` asks the same. Metrics are eval/metrics.py at page and section
level (chunks of one section or page collapse to their best rank): ``R@k`` is the share of a row's gold
items in the top k, ``Hit@k`` is 1 when any is. The ``(ceiling)`` row (:func:`ceiling`) is the gold list
itself: R@1 of a row with two gold pages is at most 0.5.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd

from eval.gold import GoldQuestion
from eval.metrics import graded_ndcg_at_k, group_recall_at_k, hit_at_k, mrr_at_k, ndcg_at_k, recall_at_k
from index.retrieval.base import Retriever

_TAG = re.compile(r"github\.com/[^/]+/[^/]+/blob/([^/]+)/")
DEPTH = 50


@dataclass(frozen=True)
class Target:
    question: GoldQuestion
    version: str
    gold: tuple[str, ...]

    @property
    def graded(self) -> Graded | None:
        return graded_for(self.question, self.gold)


@dataclass(frozen=True)
class Graded:
    """A v2 row's relevance in the searched version: its any-of answer groups and every section's grade."""

    groups: tuple[tuple[str, ...], ...]
    relevance: dict[str, int]


def graded_for(row: GoldQuestion, gold: Sequence[str]) -> Graded | None:
    """v2 rows (``gold_groups``): the answer groups that have a member in ``gold`` (the searched version's
    gold list), restricted to it, and the grades of every section. ``None`` for v1 rows: they keep the
    flat definition (R@k over gold sections, binary nDCG), so v1 numbers do not move."""
    if not row.gold_groups:
        return None
    keep = set(gold)
    groups = tuple(tuple(u for u in g if u in keep) for g in row.answer_groups())
    return Graded(tuple(g for g in groups if g) or tuple(tuple(g) for g in row.answer_groups()), row.relevance())


def tag_of(url: str) -> str | None:
    """The docs version a URL belongs to: a GitHub permalink's tag, ``None`` for the published (latest) site."""
    m = _TAG.search(url)
    return m.group(1) if m else None


def version_of(url: str, latest: str) -> str:
    return tag_of(url) or latest


def applies(row: GoldQuestion) -> bool:
    """Retrieval is scored on rows with gold sections that do not expect a refusal."""
    return bool(row.gold_sections) and not row.expect_refusal


def gold_for(gold_sections: Sequence[str], ranked: Sequence[str]) -> tuple[str, ...]:
    """The gold sections in the version the ranked list comes from; all of them when none is (or nothing ranked)."""
    if not ranked:
        return tuple(gold_sections)
    searched = tag_of(ranked[0])
    return tuple(u for u in gold_sections if tag_of(u) == searched) or tuple(gold_sections)


def search_version(row: GoldQuestion, known: Sequence[str], latest: str) -> str:
    """The docs version the row's gold lives in: its ``fastapi_version`` when ingested and cited, else the older
    ingested version its permalinks name, else the latest."""
    tags = [version_of(u, latest) for u in row.gold_sections]
    older = [t for t in tags if t != latest and t in known]
    if row.fastapi_version in known and row.fastapi_version in tags:
        return row.fastapi_version
    return older[0] if older else latest


def targets(rows: Sequence[GoldQuestion], known: Sequence[str], latest: str) -> list[Target]:
    """The scored rows, each with the version the benches search it in and its gold list in that version."""
    out: list[Target] = []
    for row in rows:
        if not applies(row):
            continue
        version = search_version(row, known, latest)
        gold = tuple(u for u in row.gold_sections if version_of(u, latest) == version)
        out.append(Target(row, version, gold or tuple(row.gold_sections)))
    return out


def split_targets(db_path: Path, splits: Sequence[str], gold: str = "v1") -> dict[str, list[Target]]:
    """Each gold split's scored rows for the ingested store at ``db_path`` (its versions decide where to search)."""
    from eval.gold import Split, load_gold
    from index.retrieval.passages import versions

    known, latest = versions(db_path)
    return {sp: targets(load_gold(gold, split=cast("Split", sp)), known, latest or known[-1]) for sp in splits}


def score_row(gold: Sequence[str], ranked: Sequence[str], graded: Graded | None = None) -> dict[str, float]:
    """Every retrieval metric of one row, named as the benches print them (``"section R@5"``). With
    ``graded`` (v2 rows) R@k is the share of answer groups with a member in the top k and nDCG uses the
    grades (2 answers it, 1 related); Hit@k and MRR@10 are over the grade-2 sections either way."""
    m: dict[str, float] = {}
    for level in ("page", "section"):
        for k in (1, 5, 10):
            m[f"{level} R@{k}"] = (
                group_recall_at_k(graded.groups, ranked, k, level) if graded else recall_at_k(gold, ranked, k, level)
            )
            m[f"{level} Hit@{k}"] = hit_at_k(gold, ranked, k, level)
        m[f"{level} MRR@10"] = mrr_at_k(gold, ranked, 10, level)
        m[f"{level} nDCG@10"] = (
            graded_ndcg_at_k(graded.relevance, ranked, 10, level) if graded else ndcg_at_k(gold, ranked, 10, level)
        )
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
                scores.append(score_row(t.gold, [p.url for p in passages], t.graded))
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
        per_row = [score_row(t.gold, [*t.gold], t.graded) for t in items]
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


# ``fda eval``'s names for the same numbers (eval/scoring.py; reports, baselines, MLflow)
EVAL_NAMES: dict[str, str] = {
    f"{level} {bench}": f"{name}_{level}"
    for level in ("section", "page")
    for bench, name in (
        ("R@1", "recall_at_1"),
        ("R@5", "recall_at_5"),
        ("R@10", "recall_at_10"),
        ("MRR@10", "mrr_at_10"),
        ("nDCG@10", "ndcg_at_10"),
    )
}
