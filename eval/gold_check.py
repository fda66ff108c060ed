"""Gold sections must exist in the ingested corpus (URL#anchor of a stored section)."""

from __future__ import annotations

from pathlib import Path

from eval.gold import GoldQuestion
from index.ingest.store import open_store


def known_urls(db_path: Path) -> set[str]:
    with open_store(db_path, read_only=True) as con:
        rows = con.execute("SELECT url FROM sections UNION SELECT url FROM releases").fetchall()
    return {r[0] for r in rows}


def missing_sections(rows: list[GoldQuestion], db_path: Path) -> list[tuple[str, str]]:
    urls = known_urls(db_path)
    return [(r.id, u) for r in rows for u in r.gold_sections if u not in urls]
