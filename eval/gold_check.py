"""Gold sections against the ingested corpus: every one must exist (a stored section) and, in v2, be
retrievable (have at least one chunk: release-notes version headings followed directly by a sub-heading
have no text and so no chunk; cite the sub-section instead)."""

from __future__ import annotations

from pathlib import Path

from eval.gold import GoldQuestion
from index.ingest.store import open_store


def known_urls(db_path: Path) -> set[str]:
    with open_store(db_path, read_only=True) as con:
        rows = con.execute("SELECT url FROM sections UNION SELECT url FROM releases").fetchall()
    return {r[0] for r in rows}


def chunked_urls(db_path: Path) -> set[str]:
    with open_store(db_path, read_only=True) as con:
        rows = con.execute("SELECT DISTINCT url FROM chunks").fetchall()
    return {r[0] for r in rows}


def all_sections(row: GoldQuestion) -> list[str]:
    """Every section a row names: its gold sections and, in v2, the grade-1 groups too."""
    urls = list(row.gold_sections)
    for group in row.gold_groups:
        urls += [u for u in group.sections if u not in urls]
    return urls


def missing_sections(rows: list[GoldQuestion], db_path: Path) -> list[tuple[str, str]]:
    urls = known_urls(db_path)
    return [(r.id, u) for r in rows for u in all_sections(r) if u not in urls]


def unretrievable_sections(rows: list[GoldQuestion], db_path: Path) -> list[tuple[str, str]]:
    """(row id, url) of sections that exist but have no chunk, so no retriever can return them."""
    urls, chunked = known_urls(db_path), chunked_urls(db_path)
    return [(r.id, u) for r in rows for u in all_sections(r) if u in urls and u not in chunked]
