"""Chunk lookup for ``GET /v1/sources/{chunk_id}``: the cited text and its whole section."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from index.ingest.store import connect


class ChunkLookup:
    """One read-only connection; a cursor per call (DuckDB connections are not shared across threads)."""

    def __init__(self, db_path: Path) -> None:
        self._con = connect(db_path, read_only=True)
        self._lock = threading.Lock()

    def get(self, chunk_id: str) -> dict[str, Any] | None:
        with self._lock:
            cur = self._con.cursor()
        try:
            row = cur.execute(
                """SELECT c.chunk_id, c.url, c.heading_path, c.version, c.text, s.text
                   FROM chunks c JOIN sections s USING (section_id) WHERE c.chunk_id = ?""",
                [chunk_id],
            ).fetchone()
        finally:
            cur.close()
        if row is None:
            return None
        keys = ("chunk_id", "url", "heading_path", "version", "text", "section_text")
        return dict(zip(keys, row, strict=True))

    def versions(self) -> list[tuple[str, bool]]:
        with self._lock:
            cur = self._con.cursor()
        try:
            return [
                (v, bool(latest))
                for v, latest in cur.execute(
                    "SELECT version, is_latest FROM corpus_manifest ORDER BY version"
                ).fetchall()
            ]
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()
