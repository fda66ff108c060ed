"""Backend ``hybrid``: reciprocal rank fusion of BM25, dense and ColBERT lists (the first default; ``fused`` in
index/retrieval/fused.py now scores better, docs/retrieval.md)."""

from __future__ import annotations

from collections.abc import Sequence

from fda.types import Passage
from index.retrieval.base import Retriever, check_query
from index.retrieval.rank_fusion import rrf, union


class RRFRetriever:
    """Reciprocal rank fusion of each retriever's top ``depth``."""

    def __init__(
        self,
        retrievers: Sequence[Retriever],
        weights: Sequence[float] | None = None,
        rrf_k: float = 60.0,
        depth: int = 50,
        name: str = "hybrid",
    ) -> None:
        self.retrievers = list(retrievers)
        self.weights = list(weights) if weights is not None else None
        self.rrf_k = rrf_k
        self.depth = depth
        self.name = name

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        q = check_query(query)
        lists = [r.search(q, self.depth, version) for r in self.retrievers]
        by_id = {p.chunk_id: p for p in reversed(union(lists))}
        fused = rrf([[p.chunk_id for p in passages] for passages in lists], k=self.rrf_k, weights=self.weights)
        return [by_id[cid].model_copy(update={"score": score}) for cid, score in fused[:k]]
