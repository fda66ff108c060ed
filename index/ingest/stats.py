"""``fda corpus stats``: what is in the store, per version and section type."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from index.ingest.store import open_store


def corpus_stats(db_path: Path) -> dict[str, pd.DataFrame]:
    with open_store(db_path, read_only=True) as con:
        versions = con.execute(
            """SELECT m.version, m.is_latest AS latest, m.n_documents AS docs, m.n_skipped AS skipped,
                      m.n_sections AS sections, m.n_chunks AS chunks, m.n_releases AS releases,
                      m.n_includes AS includes, m.n_include_problems AS include_problems,
                      m.n_undecodable AS undecodable, m.chunk_policy, substr(m.content_hash, 1, 12) AS content_hash
               FROM corpus_manifest m ORDER BY m.version"""
        ).fetchdf()
        by_type = con.execute(
            """SELECT s.version, s.kind, s.area, count(DISTINCT s.section_id) AS sections,
                      count(c.chunk_id) AS chunks, coalesce(sum(c.n_tokens), 0)::BIGINT AS tokens,
                      coalesce(max(c.n_tokens), 0) AS max_chunk_tokens
               FROM sections s LEFT JOIN chunks c USING (section_id)
               GROUP BY ALL ORDER BY s.version, s.kind, s.area"""
        ).fetchdf()
        tokens = con.execute(
            """SELECT version, count(*) AS chunks, quantile_cont(n_tokens, 0.5) AS p50_tokens,
                      quantile_cont(n_tokens, 0.95) AS p95_tokens, max(n_tokens) AS max_tokens
               FROM chunks GROUP BY version ORDER BY version"""
        ).fetchdf()
        issues = con.execute(
            "SELECT version, kind, count(*) AS n FROM ingest_issues GROUP BY ALL ORDER BY version, kind"
        ).fetchdf()
    return {"versions": versions, "by_type": by_type, "tokens": tokens, "issues": issues}
