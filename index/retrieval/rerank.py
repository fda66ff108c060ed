"""Backend ``rerank``: candidates from cheap retrievers (BM25's top 50, and optionally dense's), re-scored by
ColBERT MaxSim. Quality close to a full ColBERT search over the candidates at a fraction of the cost, and BM25
keeps exact identifiers (``allow_origins``) in play."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fda.types import Passage
from index.retrieval.base import Retriever, check_query
from index.retrieval.rank_fusion import union


class Rescorer(Protocol):
    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]: ...


class RerankRetriever:
    """Union of each candidate retriever's top ``depth``, ordered by the scorer (ties: candidate order)."""

    def __init__(
        self, candidates: Sequence[Retriever], scorer: Rescorer, depth: int = 50, name: str = "rerank"
    ) -> None:
        self.candidates = list(candidates)
        self.scorer = scorer
        self.depth = depth
        self.name = name

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        q = check_query(query)
        pool = union([r.search(q, self.depth, version) for r in self.candidates])
        if not pool:
            return []
        scores = self.scorer.rescore(q, [p.chunk_id for p in pool], version)
        order = sorted(
            (i for i, p in enumerate(pool) if p.chunk_id in scores), key=lambda i: (-scores[pool[i].chunk_id], i)
        )
        return [pool[i].model_copy(update={"score": scores[pool[i].chunk_id]}) for i in order[:k]]
