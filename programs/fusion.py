"""Reciprocal rank fusion of several ranked passage lists (one per search query or version)."""

from __future__ import annotations

from collections.abc import Sequence

from fda.types import Passage

RRF_K = 60


def rrf(lists: Sequence[Sequence[Passage]], k: int = RRF_K, limit: int | None = None) -> list[Passage]:
    """Fused by ``sum 1/(k + rank)``; the score becomes the fused score; ties keep first-seen order."""
    scores: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranked in lists:
        for rank, p in enumerate(ranked, start=1):
            scores[p.chunk_id] = scores.get(p.chunk_id, 0.0) + 1.0 / (k + rank)
            first.setdefault(p.chunk_id, p)
    order = sorted(first, key=lambda cid: -scores[cid])
    fused = [first[cid].model_copy(update={"score": scores[cid]}) for cid in order]
    return fused[:limit] if limit is not None else fused
