"""Reciprocal rank fusion of several ranked passage lists (one per search query or version).

The fusion math lives in index/retrieval/rank_fusion.py; this adapts it to passages (by chunk id, fused score).
"""

from __future__ import annotations

from collections.abc import Sequence

from fda.types import Passage
from index.retrieval.rank_fusion import rrf as rrf_ids

RRF_K = 60


def rrf(lists: Sequence[Sequence[Passage]], k: int = RRF_K, limit: int | None = None) -> list[Passage]:
    """Fused by ``sum 1/(k + rank)``; the score becomes the fused score; ties keep first-seen order."""
    first: dict[str, Passage] = {}
    for ranked in lists:
        for p in ranked:
            first.setdefault(p.chunk_id, p)
    fused = [
        first[cid].model_copy(update={"score": score})
        for cid, score in rrf_ids([[p.chunk_id for p in ranked] for ranked in lists], k=k)
    ]
    return fused[:limit] if limit is not None else fused


def balanced(lists: Sequence[Sequence[Passage]], versions: Sequence[str | None], k: int) -> list[Passage]:
    """The ``k`` best passages of the fused ``lists``, each of ``versions`` guaranteed its best one (a question
    about 0.68 and the latest sees both versions' docs), then the rest in fused order."""
    fused = rrf(lists, limit=None)
    if len(versions) < 2:
        return fused[:k]
    picked: list[Passage] = []
    for v in versions:
        best = next((p for p in fused if p.version == v), None)
        if best is not None and best not in picked:
            picked.append(best)
    for p in fused:
        if len(picked) >= k:
            break
        if p not in picked:
            picked.append(p)
    return picked
