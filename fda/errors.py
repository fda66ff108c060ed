"""Typed errors. Library code raises these (``raise X(...) from err``); only ``api/`` maps them to HTTP."""

from __future__ import annotations


class FDAError(Exception):
    """Base class. ``hint`` says what the user can do about it."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg}\n  -> {self.hint}" if self.hint else msg


class ConfigError(FDAError):
    """Settings that cannot work (bad value, placeholder secret, missing path)."""


class CorpusError(FDAError):
    """The corpus source is missing, unreadable, or not a FastAPI docs tree."""

    hint = "Point --source (or FDA_CORPUS__SOURCES) at a FastAPI checkout, a release tarball, or a *.jsonl dump."


class StoreError(FDAError):
    """The DuckDB store is missing, locked, or corrupted."""

    hint = "Run `fda ingest` (or `make ingest`) to (re)build the store."


class GoldSetError(FDAError):
    """A gold row is malformed, duplicated, or points at a section that does not exist."""


class IndexMissingError(FDAError):
    """A retrieval index has not been built or is corrupted."""

    hint = "Run `fda index` (or `make index`) to build it."


class UnknownVersionError(FDAError):
    """A FastAPI docs version that was not ingested."""

    hint = "See `fda corpus stats` for the ingested versions."


class InvalidQuestionError(FDAError):
    """An empty, too long, or otherwise unusable question."""
