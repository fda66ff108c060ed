"""A retriever that optimizers share instead of copying.

DSPy optimizers deep-copy the program (student, teacher, candidates); a program holds its retriever, and
a deep copy of an index (BM25 arrays, ColBERT tensors, DuckDB handles) wastes memory or fails. Wrapped,
every copy searches the one loaded index.
"""

from __future__ import annotations

from typing import Any

from fda.types import Passage
from index.retrieval.base import Retriever


class SharedRetriever:
    def __init__(self, inner: Retriever) -> None:
        self.inner = inner
        self.name = inner.name

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        return self.inner.search(query, k=k, version=version)

    def __copy__(self) -> SharedRetriever:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedRetriever:
        return self


def shared(retriever: Retriever) -> Retriever:
    return retriever if isinstance(retriever, SharedRetriever) else SharedRetriever(retriever)
