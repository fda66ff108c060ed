"""BM25 over heading path + chunk text (``bm25s`` + PyStemmer): the baseline and the hybrid's candidate source.

    fda index --backend bm25 && fda search "enable CORS" --backend bm25

Tokens: lower-cased words, English stop words removed, Snowball-stemmed; identifiers also contribute
their parts (``allow_origins`` -> ``allow_origins allow origins``, ``CORSMiddleware`` -> ``cors middleware``)
so a question that spells an API in words still meets the code.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from fda.errors import IndexMissingError
from fda.types import Passage
from index.retrieval.base import check_query
from index.retrieval.layout import load_chunk_file, pick_version, read_manifest, save_chunks
from index.retrieval.passages import Chunk, index_text

log = logging.getLogger(__name__)

NAME = "bm25"
TOKENIZER_VERSION = "words+identifier-parts+snowball:v1"
_WORD = re.compile(r"\w+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Words and identifier parts, lower-cased, stop words dropped, stemmed."""
    out: list[str] = []
    stop = _stopwords()
    for raw in _WORD.findall(text):
        parts = (
            [p for piece in raw.split("_") for p in _CAMEL.findall(piece)] if not raw.islower() or "_" in raw else []
        )
        for tok in [raw, *parts] if len(parts) > 1 else [raw]:
            low = tok.lower()
            if len(low) > 1 and low not in stop:
                out.append(low)
    return list(_stemmer().stemWords(out))


def spec(corpus_hash: str, k1: float = 1.2, b: float = 0.75) -> dict[str, Any]:
    from index.retrieval.passages import TEXT_FORMAT

    return {
        "backend": NAME,
        "corpus": corpus_hash,
        "text": TEXT_FORMAT,
        "tokenizer": TOKENIZER_VERSION,
        "k1": k1,
        "b": b,
    }


def build_version(folder: Path, chunks: list[Chunk], k1: float = 1.2, b: float = 0.75) -> None:
    """Index one version's chunks into ``folder``."""
    import bm25s

    corpus_tokens = [tokenize(index_text(c)) for c in chunks]
    model = bm25s.BM25(k1=k1, b=b)
    model.index(corpus_tokens, show_progress=False)
    model.save(str(folder), show_progress=False)
    save_chunks(folder, chunks)


class BM25Retriever:
    """Loads every version's BM25 index from an index folder built by ``fda index``."""

    name = NAME

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest = read_manifest(folder, NAME)
        self._loaded: dict[str, tuple[Any, list[Chunk]]] = {}

    def _load(self, version: str) -> tuple[Any, list[Chunk]]:
        if version not in self._loaded:
            import bm25s

            sub = self.folder / version
            chunks = load_chunk_file(sub, NAME)
            try:
                model = bm25s.BM25.load(str(sub), show_progress=False)
            except (OSError, ValueError, KeyError) as err:
                raise IndexMissingError(
                    f"the bm25 index at {sub} is unreadable: {err}",
                    hint=f"Delete {self.folder} and run `fda index --backend bm25`.",
                ) from err
            self._loaded[version] = (model, chunks)
        return self._loaded[version]

    def scores(self, query: str, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]:
        """BM25 score of every chunk of the version (row order of its ``chunks.jsonl``)."""
        model, chunks = self._load(pick_version(self.manifest, version))
        vocab = model.vocab_dict
        ids = [vocab[t] for t in tokenize(query) if t in vocab]
        if not ids:
            return np.zeros(len(chunks), dtype=np.float32), chunks
        return np.asarray(model.get_scores(ids), dtype=np.float32), chunks

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        q = check_query(query)
        scores, chunks = self.scores(q, version)
        top = top_k(scores, k)
        return [chunks[i].passage(float(scores[i])) for i in top if scores[i] > 0]


def top_k(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k best scores, best first (ties: lower index first, so results are stable)."""
    if k <= 0 or scores.size == 0:
        return []
    k = min(k, scores.size)
    part = np.argpartition(-scores, k - 1)[:k]
    return sorted(part.tolist(), key=lambda i: (-scores[i], i))
