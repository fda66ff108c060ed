"""Older docs versions without a dense or colbert index are searched with BM25.

By default (``retrieval.neural_versions = "latest"``) only BM25 covers every ingested version, so a
first ``make run`` does not spend many minutes encoding old versions. A backend asked about a version
its index lacks raises :class:`~fda.errors.UnknownVersionError`; this wrapper then answers with the
fallback (BM25) when that one has the version, and logs it once per version. A version nobody
ingested still raises, with the fallback's list of known versions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fda.errors import UnknownVersionError
from fda.types import Passage
from index.retriever import Retriever

log = logging.getLogger(__name__)


class VersionFallback:
    """``inner`` for the versions its index covers; ``fallback()`` (opened on first need) for the others."""

    def __init__(self, inner: Retriever, fallback: Callable[[], Retriever]) -> None:
        self.inner = inner
        self.name = inner.name
        self._fallback_factory = fallback
        self._fallback: Retriever | None = None
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def _get_fallback(self) -> Retriever:
        with self._lock:
            if self._fallback is None:
                self._fallback = self._fallback_factory()
            return self._fallback

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        try:
            return self.inner.search(query, k, version)
        except UnknownVersionError:
            if version is None:
                raise
            fallback = self._get_fallback()
            passages = fallback.search(query, k, version)  # not ingested at all: raises with the known versions
            if version not in self._warned:
                self._warned.add(version)
                log.warning(
                    "the %s index does not cover docs version %s: searching it with %s. "
                    "`FDA_RETRIEVAL__NEURAL_VERSIONS=all fda index` builds the missing versions.",
                    self.name,
                    version,
                    fallback.name,
                )
            return passages
