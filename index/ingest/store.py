"""The DuckDB store: documents, sections, chunks, releases, manifest (and later logs and eval results).

One writer per file (DuckDB's rule): the ingester writes in one transaction; readers open read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fda.errors import StoreError

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS corpus_manifest (
    version VARCHAR PRIMARY KEY, origin VARCHAR, content_hash VARCHAR, parser_version VARCHAR,
    chunk_policy VARCHAR, is_latest BOOLEAN, n_files INTEGER, n_documents INTEGER, n_skipped INTEGER,
    n_sections INTEGER, n_chunks INTEGER, n_releases INTEGER, n_includes INTEGER,
    n_include_problems INTEGER, n_undecodable INTEGER, ingested_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS documents (
    doc_id VARCHAR PRIMARY KEY, version VARCHAR, path VARCHAR, url VARCHAR, title VARCHAR,
    area VARCHAR, n_sections INTEGER, skipped VARCHAR);
CREATE TABLE IF NOT EXISTS sections (
    section_id VARCHAR PRIMARY KEY, doc_id VARCHAR, version VARCHAR, path VARCHAR, url VARCHAR,
    anchor VARCHAR, ordinal INTEGER, level INTEGER, title VARCHAR, heading_path VARCHAR[],
    kind VARCHAR, area VARCHAR, text VARCHAR, code VARCHAR, n_code_blocks INTEGER,
    release VARCHAR, release_date DATE);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id VARCHAR PRIMARY KEY, section_id VARCHAR, version VARCHAR, url VARCHAR, anchor VARCHAR,
    ordinal INTEGER, heading_path VARCHAR[], kind VARCHAR, text VARCHAR, n_tokens INTEGER);
CREATE TABLE IF NOT EXISTS releases (
    version VARCHAR, release VARCHAR, release_date DATE, url VARCHAR, anchor VARCHAR, text VARCHAR,
    n_items INTEGER, PRIMARY KEY (version, release));
CREATE TABLE IF NOT EXISTS ingest_issues (version VARCHAR, path VARCHAR, kind VARCHAR, detail VARCHAR);
"""
CORPUS_TABLES = ("chunks", "sections", "documents", "releases", "ingest_issues", "corpus_manifest")


def connect(db_path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not db_path.is_file():
        raise StoreError(f"no store at {db_path}")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as err:
        msg = str(err)
        if "lock" in msg.lower():
            raise StoreError(
                f"{db_path} is locked by another process ({msg.splitlines()[0]})",
                hint="Stop the other writer (a running ingest or server) and try again.",
            ) from err
        raise StoreError(
            f"cannot open {db_path}: {msg.splitlines()[0]}",
            hint=f"The file looks corrupted: delete {db_path} and run `fda ingest`.",
        ) from err
    except duckdb.Error as err:
        raise StoreError(
            f"cannot open {db_path}: {err}", hint=f"The file looks corrupted: delete {db_path} and run `fda ingest`."
        ) from err
    if not read_only:
        con.execute(SCHEMA)
    return con


@contextmanager
def open_store(db_path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(db_path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def replace_versions(con: duckdb.DuckDBPyConnection, versions: list[str], frames: dict[str, pd.DataFrame]) -> None:
    """Delete the given versions and insert the new rows, all in one transaction (all or nothing)."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in CORPUS_TABLES:
            con.execute(f"DELETE FROM {table} WHERE version IN (SELECT unnest(?))", [versions])
        for table in reversed(CORPUS_TABLES):
            df = frames.get(table)
            if df is None or df.empty:
                continue
            con.register("_incoming", df)
            cols = ", ".join(df.columns)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming")
            con.unregister("_incoming")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def manifest(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    rows = con.execute("SELECT * FROM corpus_manifest ORDER BY version").fetchdf()
    return {r["version"]: r for r in rows.to_dict("records")}


def latest_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The version the manifest marks latest; None in a store with no manifest row for it."""
    row = con.execute("SELECT version FROM corpus_manifest WHERE is_latest").fetchone()
    return str(row[0]) if row else None


def ingested_versions(db_path: Path) -> list[str]:
    with open_store(db_path, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT version FROM corpus_manifest").fetchall()]
