"""Wrappers the service puts around any backend (index/retrieval/factory.py), each behind the same protocol:

- :class:`VersionFallback`: older docs versions without a dense or colbert index are searched with BM25.
- :class:`ReleaseNotesLast`: release-note chunks (half the sections of the latest docs) go after the docs
  unless the question is about versions, releases or changes; they otherwise crowd out how-to answers.
- :class:`SectionFolding`: keeps the best chunk per section, so ``k`` results cover ``k`` sections.

Version fallback:

``fda index`` builds the dense and colbert indexes for the latest version only unless
``retrieval.neural_versions = "all"``, so a first ``make run`` does not spend many minutes encoding old
versions; with the default ``"background"`` ``fda serve`` adds the older ones in a background process
(api/wiring.py: ``versions_build``). Until then, a backend asked about a version its index lacks raises
:class:`~fda.errors.UnknownVersionError`; this wrapper then answers with the fallback (BM25) when that
one has the version, and logs it once per version. A version nobody ingested still raises, with the
fallback's list of known versions.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from fda.errors import UnknownVersionError
from fda.types import Passage
from index.retrieval.base import Retriever
from index.retrieval.rank_fusion import fold

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
