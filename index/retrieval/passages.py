"""What the retrievers index: the chunks of one ingested version, read from the DuckDB store.

    from index.retrieval.passages import load_chunks, resolve_version
    chunks = load_chunks(db_path, resolve_version(db_path, None))   # the latest version

The text a backend indexes is the heading path followed by the chunk text (:func:`index_text`): the
headings carry most of the vocabulary a question shares with its section.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fda.errors import StoreError, UnknownVersionError
from fda.types import Passage
from index.ingest.store import open_store

# Bump when index_text changes: every index keys on it.
TEXT_FORMAT = "heading-path+text:v1"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    section_id: str
    url: str
    heading_path: tuple[str, ...]
    text: str
    version: str
    kind: str

    def passage(self, score: float) -> Passage:
        return Passage(
            chunk_id=self.chunk_id,
            url=self.url,
            heading_path=list(self.heading_path),
            text=self.text,
            version=self.version,
            score=score,
            kind=self.kind,
        )


def index_text(chunk: Chunk) -> str:
    """Heading path, then the chunk: ``"CORS > Use CORSMiddleware\\n<text>"``."""
    return " > ".join(chunk.heading_path) + "\n" + chunk.text


def versions(db_path: Path) -> tuple[list[str], str | None]:
    """Ingested versions (sorted) and the one flagged latest."""
    with open_store(db_path, read_only=True) as con:
        rows = con.execute("SELECT version, is_latest FROM corpus_manifest ORDER BY version").fetchall()
    latest = next((v for v, is_latest in rows if is_latest), None)
    return [v for v, _ in rows], latest


def resolve_version(db_path: Path, version: str | None) -> str:
    """``None`` means the latest ingested version; an unknown one raises :class:`UnknownVersionError`."""
    known, latest = versions(db_path)
    if not known:
        raise StoreError(f"no versions ingested in {db_path}")
    if version is None:
        return latest or known[-1]
    if version not in known:
        raise UnknownVersionError(f"version {version!r} was not ingested (have: {', '.join(known)})")
    return version


def load_chunks(db_path: Path, version: str) -> list[Chunk]:
    """All chunks of a version in a stable order (URL, chunk ordinal)."""
    with open_store(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT chunk_id, section_id, url, heading_path, text, version, kind FROM chunks "
            "WHERE version = ? ORDER BY url, ordinal, chunk_id",
            [version],
        ).fetchall()
    return [Chunk(r[0], r[1], r[2], tuple(r[3] or ()), r[4], r[5], r[6]) for r in rows]


def chunks_hash(chunks: Sequence[Chunk], digits: int = 16) -> str:
    """Content hash of what gets indexed (ids and index text); ``digits=64`` gives the whole sha256."""
    h = hashlib.sha256(TEXT_FORMAT.encode())
    for c in chunks:
        h.update(c.chunk_id.encode())
        h.update(index_text(c).encode())
    return h.hexdigest()[:digits]
