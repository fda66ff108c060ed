"""``fda bench retrieval-tune``: the ``fused`` weights chosen on the gold train split, checked on dev.

    fda bench retrieval-tune                       # grid on train, the best few and the default checked on dev
    fda bench retrieval-tune --tune dev --check train

Each question's candidates and raw signals are computed once (:meth:`index.retrieval.fused.FusedRetriever.pool`); every
weight setting then only re-ranks them (:func:`index.retrieval.fused.rank`), so a grid of a few thousand settings takes
seconds. The service's wrappers that change a ranking are applied as in the service (release notes after the
docs unless the question asks about versions); section folding does not change these metrics (they collapse
a section's chunks to its best rank). Only rows searched in the latest docs are used: the neural indexes
cover the latest version by default and older rows fall back to BM25 whatever the weights.

The objective is the mean of the three targets of the retrieval issue: page R@1, page R@5, section R@5.
Test is never used to choose (``fda bench retrieval-quality`` reports it once a choice is made).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from eval.retrieval_quality import DEPTH, Target, score_row
from fda.types import Passage
from index.retrieval.fused import FusedRetriever, Pool, rank
from index.retrieval.wrappers import asks_about_versions, release_notes_after

OBJECTIVE = ("page R@1", "page R@5", "section R@5")
SHOWN = ("page R@1", "page Hit@1", "page R@5", "section R@5", "section R@10", "section nDCG@10")


@dataclass(frozen=True)
class Setting:
    weights: tuple[float, ...]  # bm25, dense, colbert, headings, questions (index.retrieval.fused.SIGNALS)
    page_weight: float

    def label(self) -> str:
        w = ", ".join(f"{x:g}" for x in self.weights)
        return f"[{w}] page {self.page_weight:g}"


@dataclass(frozen=True)
class Collected:
    target: Target
    pool: Pool
    versions_asked: bool


def collect(fused: FusedRetriever, items: Iterable[Target], latest: str) -> list[Collected]:
    """Candidates and signals of every row searched in the latest docs."""
    return [
        Collected(t, fused.pool(t.question.question, t.version), asks_about_versions(t.question.question))
        for t in items
        if t.version == latest
    ]


def ranked(row: Collected, setting: Setting) -> list[Passage]:
    passages = rank(row.pool, setting.weights, setting.page_weight)[:DEPTH]
    return passages if row.versions_asked else release_notes_after(passages)


def score(rows: Sequence[Collected], setting: Setting) -> dict[str, float]:
    """Mean metrics of ``setting`` over ``rows`` plus ``objective``."""
    per_row = [score_row(r.target.gold, [p.url for p in ranked(r, setting)]) for r in rows]
    means = pd.DataFrame(per_row).mean().to_dict() if per_row else {}
    means["objective"] = sum(means.get(k, 0.0) for k in OBJECTIVE) / len(OBJECTIVE)
    return means


def grid(
    bm25: Sequence[float] = (0.0, 0.5, 1.0, 1.5),
    dense: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
    colbert: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
    headings: Sequence[float] = (0.0, 0.25, 0.5, 1.0),
    page: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
    questions: Sequence[float] = (0.0, 0.5, 1.0, 1.5),
) -> list[Setting]:
    """Every combination but all-zero weights (8,000 - 5 = 7,995 settings with the defaults)."""
    return [
        Setting((b, d, c, h, q), p)
        for b, d, c, h, q, p in itertools.product(bm25, dense, colbert, headings, questions, page)
        if b or d or c or h or q
    ]


def tune(rows: Sequence[Collected], settings: Sequence[Setting]) -> pd.DataFrame:
    """One row per setting, best objective first (ties: the smaller total weight, then the grid order)."""
    records = [{"setting": s.label(), **score(rows, s), "_setting": s} for s in settings]
    df = pd.DataFrame(records)
    df["_size"] = [sum(s.weights) + s.page_weight for s in df["_setting"]]
    df["_order"] = range(len(df))
    return df.sort_values(["objective", "_size", "_order"], ascending=[False, True, True]).reset_index(drop=True)
