"""The ``questions`` signal of ``fused``: how close the query is to a question generated for the chunk's section.

    qv = QuestionVectors(encoder, load_questions(path), cache_dir, model_key)
    qv.scores(query_vector, chunks, pool)   # best cosine per pooled chunk; NaN where its section has none

The questions (index/questions/generate.py, made once by ``fda gen-questions`` and committed) are in users'
words ("My frontend is blocked by CORS, how do I allow it?"), which the docs' own text often is not:
matching a question against questions is the doc2query idea, done with the dense encoder. Questions are
keyed by section URL#anchor; they are written for the latest version, whose URLs the site serves (older
versions' chunks link to GitHub blobs, so the signal is silent there). Encoded once (a few thousand short
texts, seconds) and cached under ``cache_dir``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from index.retrieval.passages import Chunk
from index.retrieval.vector_cache import TextEncoder, encode_cached

log = logging.getLogger(__name__)

QUESTIONS_FILE = "questions.jsonl"  # in data/retriever/<questions_artifact>/, written by index/questions/


def load_questions(path: Path) -> dict[str, list[str]]:
    """``{section URL#anchor: [questions]}`` from a questions.jsonl; a truncated last line is skipped."""
    out: dict[str, list[str]] = {}
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
                out[str(row["url"])] = [str(q) for q in row["questions"]]
            except (json.JSONDecodeError, KeyError, TypeError):
                log.warning("%s line %d is not a questions row; skipped (an interrupted write?)", path, n)
    return out


class QuestionVectors:
    def __init__(
        self,
        encoder: TextEncoder,
        questions: Mapping[str, Sequence[str]],
        cache_dir: Path | None = None,
        model_key: str = "",
    ) -> None:
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.model_key = model_key
        self._urls = sorted(u for u, qs in questions.items() if qs)
        self._texts = [q for u in self._urls for q in questions[u]]
        self._rows: dict[str, list[int]] = {}
        n = 0
        for u in self._urls:
            self._rows[u] = list(range(n, n + len(questions[u])))
            n += len(questions[u])
        self._width = max((len(r) for r in self._rows.values()), default=0)
        self._vectors: np.ndarray | None = None
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._texts)

    def vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                self._vectors = encode_cached(self.encoder, self._texts, self.cache_dir, "questions", self.model_key)
            return self._vectors

    def rows(self, chunks: Sequence[Chunk]) -> np.ndarray:
        """``(len(chunks), width)`` row numbers into :meth:`vectors` per chunk, -1 padded; once per version."""
        memo_key = f"{chunks[0].version}:{len(chunks)}" if chunks else ""
        with self._lock:
            if memo_key not in self._memo:
                table = np.full((len(chunks), max(self._width, 1)), -1, dtype=np.int64)
                for i, c in enumerate(chunks):
                    got = self._rows.get(c.url, ())
                    table[i, : len(got)] = got
                self._memo[memo_key] = table
            return self._memo[memo_key]

    def scores(self, query_vector: np.ndarray, chunks: Sequence[Chunk], pool: Sequence[int]) -> np.ndarray:
        """Best cosine of the query with the questions of each pooled chunk's section; NaN where there are none."""
        if not self._texts or not len(pool):
            return np.full(len(pool), np.nan)
        sims = np.append(self.vectors() @ query_vector, -np.inf).astype(np.float64)
        best = sims[self.rows(chunks)[list(pool)]].max(axis=1)  # -1 picks the appended -inf
        best[np.isneginf(best)] = np.nan
        return best


def fill_missing(values: np.ndarray) -> np.ndarray:
    """NaN (a section without questions) -> the pool's lowest score, as ColBERT treats a chunk it lacks;
    all NaN -> zeros (z-scoring then makes the signal silent)."""
    x = np.asarray(values, dtype=np.float64).copy()
    present = ~np.isnan(x)
    if not present.any():
        return np.zeros_like(x)
    x[~present] = x[present].min()
    return x
