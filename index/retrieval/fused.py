"""Backend ``fused``: BM25 and dense candidates, re-scored by a weighted sum of z-scored signals, then a
page boost. Measured best on the gold dev split (docs/retrieval.md, Quality), so it is the default.

    fda search "How do I enable CORS?" --backend fused

1. The query loses its URLs (:func:`index.retrieval.score_fusion.strip_urls`).
2. Candidates: the union of BM25's and dense's top ``depth`` chunks (full score vectors, no ANN).
3. Five signals per candidate, each z-scored over the pool: BM25, dense cosine, ColBERT MaxSim
   (``rescore``, as in ``rerank``), the cosine of the query with the chunk's heading path alone
   ("Page > Section", :class:`HeadingVectors`): a heading names what a section is *for*, which the body's
   code and prose often do not say; and the best cosine of the query with the questions generated for
   the chunk's section (index/retrieval/question_vectors.py): users' words, which the docs' text often is not.
4. Each chunk gets ``page_weight`` times the best score of its page added (:func:`page_boost`): once the
   page is clear its sibling sections come up, where most section-level misses were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from fda.errors import ConfigError
from fda.tracing import annotate, span
from fda.types import Passage
from index.retrieval.base import check_query
from index.retrieval.bm25 import top_k
from index.retrieval.dense import Encoder
from index.retrieval.passages import Chunk
from index.retrieval.question_vectors import QuestionVectors, fill_missing
from index.retrieval.score_fusion import page_boost, strip_urls, weighted_sum
from index.retrieval.vector_cache import encode_cached

log = logging.getLogger(__name__)

SIGNALS = ("bm25", "dense", "colbert", "headings", "questions")


class FullScorer(Protocol):
    """BM25 or dense: a score for every chunk of a version."""

    def scores(self, query: str, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]: ...


class VectorScorer(Protocol):
    def encode_query(self, query: str) -> np.ndarray: ...

    def scores_for_vector(
        self, query_vector: np.ndarray, version: str | None = None
    ) -> tuple[np.ndarray, list[Chunk]]: ...


class Rescorer(Protocol):
    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]: ...


def heading_text(chunk: Chunk) -> str:
    return " > ".join(chunk.heading_path)


class HeadingVectors:
    """Sentence vectors of each chunk's heading path, one per distinct heading, encoded on a version's first
    use (about 1,800 headings for the latest docs, a few seconds) and cached as ``.npy`` under ``cache_dir``,
    named by ``model_key`` and the headings, so a changed corpus or model encodes again."""

    def __init__(self, encoder: Encoder, cache_dir: Path | None = None, model_key: str = "") -> None:
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.model_key = model_key
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def matrix(self, chunks: Sequence[Chunk]) -> np.ndarray:
        """One row per chunk of a version (its heading's vector); computed once per version."""
        memo_key = f"{chunks[0].version}:{len(chunks)}" if chunks else ""
        with self._lock:
            if memo_key not in self._memo:
                headings = [heading_text(c) for c in chunks]
                distinct = sorted(set(headings))
                vectors = encode_cached(self.encoder, distinct, self.cache_dir, "headings", self.model_key)
                row = {h: i for i, h in enumerate(distinct)}
                self._memo[memo_key] = vectors[[row[h] for h in headings]] if headings else vectors
            return self._memo[memo_key]


class FusedRetriever:
    """Weighted z-score fusion of bm25, dense, ColBERT MaxSim and heading similarity over one candidate pool."""

    def __init__(
        self,
        bm25: FullScorer,
        dense: VectorScorer,
        colbert: Rescorer | None = None,
        headings: HeadingVectors | None = None,
        weights: Sequence[float] = (1.0, 1.0, 1.0, 0.5, 0.0),
        page_weight: float = 1.0,
        depth: int = 50,
        clean_query: bool = True,
        name: str = "fused",
        questions: QuestionVectors | None = None,
    ) -> None:
        weights = list(weights)
        if len(weights) == len(SIGNALS) - 1:  # settings written before the questions signal: it stays off
            weights.append(0.0)
        if len(weights) != len(SIGNALS) or not any(weights) or min(weights) < 0:
            raise ConfigError(
                f"fused needs {len(SIGNALS)} non-negative weights ({', '.join(SIGNALS)}), not all zero; got {list(weights)}",
                hint="Set FDA_RETRIEVAL__FUSED_WEIGHTS='[1, 1, 1, 0.5, 0]' (the default; or leave it unset).",
            )
        if weights[2] and colbert is None:
            raise ConfigError("fused has a colbert weight but no colbert scorer", hint="Set its weight to 0.")
        if weights[3] and headings is None:
            raise ConfigError("fused has a headings weight but no heading vectors", hint="Set its weight to 0.")
        if weights[4] and questions is None:
            raise ConfigError("fused has a questions weight but no generated questions", hint="Set its weight to 0.")
        self.bm25 = bm25
        self.dense = dense
        self.colbert = colbert
        self.headings = headings
        self.questions = questions
        self.weights = weights
        self.page_weight = page_weight
        self.depth = depth
        self.clean_query = clean_query
        self.name = name

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        weights = self.weights  # one snapshot per search: attach_colbert may swap the list meanwhile
        pool = self.pool(query, version, weights)
        if k <= 0:
            return []
        return rank(pool, weights, self.page_weight)[:k]

    def attach_colbert(self, colbert: Rescorer, weight: float) -> None:
        """Turn the ColBERT signal on: ``fda serve`` starts on the other signals while the colbert index builds
        in the background (index/retrieval/background.py), then attaches it here. Safe while searches run:
        each search reads the weights once, and the scorer is in place before its weight is."""
        if weight <= 0:
            raise ConfigError(f"attach_colbert needs a positive weight, got {weight}")
        self.colbert = colbert
        weights = list(self.weights)
        weights[2] = weight
        self.weights = weights

    def pool(self, query: str, version: str | None = None, weights: Sequence[float] | None = None) -> Pool:
        """The candidates of ``query`` and their raw signals (what :func:`rank` fuses); a signal whose weight in
        ``weights`` (default: the retriever's) is 0 is not computed and stays 0."""
        weights = self.weights if weights is None else weights
        q = check_query(query)
        if self.clean_query:
            q = strip_urls(q)
        with span("retrieve.dense"):
            query_vector = self.dense.encode_query(q)
            dense_scores, chunks = self.dense.scores_for_vector(query_vector, version)
        with span("retrieve.bm25"):
            bm25_scores = _aligned(*self.bm25.scores(q, version), chunks)
        bm25_top = [i for i in top_k(bm25_scores, self.depth) if bm25_scores[i] > 0]
        ids = sorted(set(bm25_top) | set(top_k(dense_scores, self.depth)))
        picked = [chunks[i] for i in ids]
        annotate(candidates=len(ids), colbert=bool(weights[2]))
        if not ids:
            return Pool(picked, np.zeros((0, len(SIGNALS))))
        colbert = np.zeros(len(ids))
        if weights[2]:
            with span("retrieve.colbert", candidates=len(ids)):
                colbert = self._colbert(q, picked, version)
        headings = np.zeros(len(ids))
        if weights[3]:
            with span("retrieve.headings"):
                headings = self._headings(query_vector, chunks, ids)
        signals = np.column_stack(
            [
                bm25_scores[ids],
                dense_scores[ids],
                colbert,
                headings,
                self._questions(query_vector, chunks, ids) if weights[4] else np.zeros(len(ids)),
            ]
        ).astype(np.float64)
        return Pool(picked, signals)

    def _colbert(self, query: str, picked: list[Chunk], version: str | None) -> np.ndarray:
        if self.colbert is None:
            return np.zeros(len(picked))
        got = self.colbert.rescore(query, [c.chunk_id for c in picked], version)
        floor = min(got.values()) if got else 0.0  # a chunk the index lacks scores as the worst candidate
        return np.array([got.get(c.chunk_id, floor) for c in picked], dtype=np.float64)

    def _headings(self, query_vector: np.ndarray, chunks: list[Chunk], pool: list[int]) -> np.ndarray:
        if self.headings is None:
            return np.zeros(len(pool))
        return np.asarray(self.headings.matrix(chunks)[pool] @ query_vector, dtype=np.float64)

    def _questions(self, query_vector: np.ndarray, chunks: list[Chunk], pool: list[int]) -> np.ndarray:
        if self.questions is None:
            return np.zeros(len(pool))
        return fill_missing(self.questions.scores(query_vector, chunks, pool))


class Pool:
    """One query's candidates (chunk order = their row order in the version's index) and a column per signal
    (:data:`SIGNALS`), raw: :func:`rank` z-scores them."""

    def __init__(self, chunks: list[Chunk], signals: np.ndarray) -> None:
        self.chunks = chunks
        self.signals = signals
        self.pages = [c.url.split("#", 1)[0] for c in chunks]


def rank(pool: Pool, weights: Sequence[float], page_weight: float) -> list[Passage]:
    """Every candidate, best first: the weighted sum of z-scored signals plus ``page_weight`` x the best
    score of its page (ties: index order)."""
    if not pool.chunks:
        return []
    columns = [pool.signals[:, j] for j in range(pool.signals.shape[1])]
    fused = page_boost(weighted_sum(columns, weights), pool.pages, page_weight)
    order = sorted(range(len(pool.chunks)), key=lambda j: (-fused[j], j))
    return [pool.chunks[j].passage(float(fused[j])) for j in order]


def _aligned(scores: np.ndarray, own: list[Chunk], target: list[Chunk]) -> np.ndarray:
    """``scores`` (rows of ``own``) re-ordered to the rows of ``target``; chunks ``own`` lacks score 0."""
    if len(own) == len(target) and all(a.chunk_id == b.chunk_id for a, b in zip(own, target, strict=True)):
        return scores
    row = {c.chunk_id: i for i, c in enumerate(own)}
    return np.array([scores[row[c.chunk_id]] if c.chunk_id in row else 0.0 for c in target], dtype=scores.dtype)
