"""Combinations of backends, all behind the same ``Retriever`` protocol.

- :class:`RRFRetriever` (backend ``hybrid``): reciprocal rank fusion of BM25, dense and ColBERT lists
  (the first default; ``fused`` in index/fused.py now scores better, docs/retrieval.md).
- :class:`RerankRetriever` (backend ``rerank``): candidates from cheap retrievers (BM25's top 50, and
  optionally dense's), re-scored by ColBERT MaxSim. Quality close to a full ColBERT search over the
  candidates at a fraction of the cost, and BM25 keeps exact identifiers (``allow_origins``) in play.
- :class:`SectionFolding`: keeps the best chunk per section, so ``k`` results cover ``k`` sections.
- :class:`ReleaseNotesLast`: release-note chunks (half the sections of the latest docs) go after the docs
  unless the question is about versions, releases or changes; they otherwise crowd out how-to answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from fda.types import Passage
from index.fusion import fold, rrf
from index.retriever import Retriever, check_query


class Rescorer(Protocol):
    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]: ...


def _union(lists: Sequence[Sequence[Passage]]) -> list[Passage]:
    seen: set[str] = set()
    out: list[Passage] = []
    for passages in lists:
        for p in passages:
            if p.chunk_id not in seen:
                seen.add(p.chunk_id)
                out.append(p)
    return out


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
        pool = _union([r.search(q, self.depth, version) for r in self.candidates])
        if not pool:
            return []
        scores = self.scorer.rescore(q, [p.chunk_id for p in pool], version)
        order = sorted(
            (i for i, p in enumerate(pool) if p.chunk_id in scores), key=lambda i: (-scores[pool[i].chunk_id], i)
        )
        return [pool[i].model_copy(update={"score": scores[pool[i].chunk_id]}) for i in order[:k]]


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
        by_id = {p.chunk_id: p for p in reversed(_union(lists))}
        fused = rrf([[p.chunk_id for p in passages] for passages in lists], k=self.rrf_k, weights=self.weights)
        return [by_id[cid].model_copy(update={"score": score}) for cid, score in fused[:k]]


class SectionFolding:
    """Asks the inner retriever for ``depth_factor * k`` chunks and keeps the best one per section."""

    def __init__(self, inner: Retriever, depth_factor: int = 3) -> None:
        self.inner = inner
        self.depth_factor = depth_factor
        self.name = inner.name

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        passages = self.inner.search(query, k * self.depth_factor, version)
        return [passages[i] for i in fold([p.url for p in passages], limit=k)]


VERSION_QUESTION = re.compile(
    r"\b\d+\.\d+|\bversions?\b|\breleas|\bchangelog|\bchange ?log|\bdeprecat|\bupgrad|\bintroduc|\bsince\b"
    r"|\bnewer\b|\bolder\b|\bstill\b|\bcurrent\b|\blatest\b|\brecent|\bmigrat|\bbreaking\b|\bwhat changed\b|\badded in\b|\bremoved\b",
    re.IGNORECASE,
)


def asks_about_versions(query: str) -> bool:
    return bool(VERSION_QUESTION.search(query))


def release_notes_after(passages: list[Passage]) -> list[Passage]:
    """Docs passages first, release-note passages after them, each group in its own order."""
    return [p for p in passages if p.kind != "release"] + [p for p in passages if p.kind == "release"]


class ReleaseNotesLast:
    """Release-note chunks after every docs chunk, unless the query asks about versions or changes."""

    def __init__(self, inner: Retriever, min_depth: int = 50) -> None:
        self.inner = inner
        self.min_depth = min_depth
        self.name = inner.name

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        if asks_about_versions(query):
            return self.inner.search(query, k, version)
        passages = self.inner.search(query, max(2 * k, self.min_depth), version)
        return release_notes_after(passages)[:k]
