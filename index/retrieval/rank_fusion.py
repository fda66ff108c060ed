"""Rank fusion, result folding and the union of passage lists: pure functions, with table tests (tests/index/retrieval/test_rank_fusion.py).

Reciprocal rank fusion (Cormack et al., 2009): ``score(d) = sum_i w_i / (k + rank_i(d))`` with ranks
from 1; documents missing from a list get nothing from it. ``k = 60`` is the usual constant: it keeps a
single first place from outweighing broad agreement lower down.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

from fda.types import Passage

T = TypeVar("T", bound=Hashable)


def rrf(
    rankings: Sequence[Sequence[T]], k: float = 60.0, weights: Sequence[float] | None = None
) -> list[tuple[T, float]]:
    """Fuse ranked lists (best first) into one list of ``(id, score)``, best first.

    Ties keep the order of first appearance (list by list, rank by rank), so the result is deterministic.
    A repeated id inside one list counts at its best rank only.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[T, float] = {}
    first_seen: dict[T, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            first_seen.setdefault(item, len(first_seen))
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def fold(keys: Sequence[T], limit: int | None = None) -> list[int]:
    """Positions of the first occurrence of each key, in order, at most ``limit`` of them.

    Used to keep the best chunk of each section (key = section URL) so ``k`` results cover ``k`` sections.
    """
    seen: set[T] = set()
    out: list[int] = []
    for i, key in enumerate(keys):
        if key in seen:
            continue
        seen.add(key)
        out.append(i)
        if limit is not None and len(out) >= limit:
            break
    return out


def union(lists: Sequence[Sequence[Passage]]) -> list[Passage]:
    """Every passage once, in the order first seen across ``lists``."""
    flat = [p for passages in lists for p in passages]
    return [flat[i] for i in fold([p.chunk_id for p in flat])]
