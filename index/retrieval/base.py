"""The retrieval protocol: every backend returns ``list[Passage]`` best first, or raises a typed error.

    retriever = open_retriever("bm25", settings)      # index/retrieval/factory.py
    retriever.search("How do I enable CORS?", k=5, version=None)   # None = latest ingested

This module holds the protocol and the query check every backend shares, nothing else.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from fda.errors import InvalidQuestionError
from fda.text import clean_text, has_lone_surrogate
from fda.types import Passage

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000


@runtime_checkable
class Retriever(Protocol):
    name: str

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        """Top ``k`` passages for ``query`` in one docs version (``None``: the latest)."""
        ...


def check_query(query: str, max_chars: int = MAX_QUERY_CHARS) -> str:
    """Clean (fda.text.clean_text) and strip; refuse empty or invalid Unicode; cut very long queries and log it."""
    if has_lone_surrogate(query):
        raise InvalidQuestionError(
            "the query is not valid Unicode (it holds a lone surrogate)", hint="Send UTF-8 text."
        )
    q = clean_text(query).strip()
    if not q:
        raise InvalidQuestionError("the query is empty", hint="Ask a question, e.g. 'How do I enable CORS?'.")
    if len(q) > max_chars:
        log.warning("query of %d characters cut to the first %d", len(q), max_chars)
        q = q[:max_chars]
    return q
