"""Read-only DuckDB access for the UI: one short connection per query, retried while a writer holds the file.

DuckDB allows one writer per file and, across processes, no reader beside it. The UI therefore never keeps
a connection open (an eval run, the API's log flusher or an ingest can take the lock between two queries),
and retries briefly when it meets the lock. Inside this process a lock serialises connections, so a label
write never meets a read-only connection to the same file (DuckDB refuses mixed configurations).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from fda.errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
PROCESS_LOCK = threading.RLock()
RETRIES = 6
WAIT_S = 0.25


def is_lock_error(err: Exception) -> bool:
    text = str(err).lower()
    return "lock" in text or "different configuration" in text


def with_retries(action: Callable[[], T], what: str, retries: int = RETRIES, wait_s: float = WAIT_S) -> T:
    """Run ``action`` (which opens DuckDB) under the process lock, retrying while another process writes."""
    for attempt in range(retries + 1):
        try:
            with PROCESS_LOCK:
                return action()
        except (duckdb.IOException, duckdb.ConnectionException) as err:
            if not is_lock_error(err) or attempt == retries:
                busy = is_lock_error(err)
                raise StoreError(
                    f"{what} is {'locked by another process' if busy else 'unreadable'}: {str(err).splitlines()[0]}",
                    hint="An eval run, the API's log flusher or an ingest is writing it: reload the page in a moment."
                    if busy
                    else f"Check the file, or rebuild it ({what}).",
                ) from err
            log.debug("%s busy (attempt %d): %s", what, attempt + 1, err)
            time.sleep(wait_s * (attempt + 1))
    raise AssertionError("unreachable")


def query(
    path: Path, sql: str, params: Sequence[Any] | None = None, *, retries: int = RETRIES, wait_s: float = WAIT_S
) -> pd.DataFrame:
    """Rows of one read-only query; ``StoreError`` when the file is missing, locked for long, or broken."""
    if not path.is_file():
        raise StoreError(f"no DuckDB file at {path}")

    def run() -> pd.DataFrame:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute(sql, list(params or [])).fetchdf()
        finally:
            con.close()

    try:
        return with_retries(run, str(path), retries, wait_s)
    except duckdb.Error as err:  # lock and I/O errors became StoreError above; this is the query itself
        raise StoreError(f"query on {path} failed: {str(err).splitlines()[0]}") from err


def tables(path: Path) -> set[str]:
    """Names of the tables in the file (empty when it does not exist yet)."""
    if not path.is_file():
        return set()
    return set(query(path, "SELECT table_name FROM information_schema.tables")["table_name"])


def stamp(path: Path) -> float:
    """Latest modification time of the file and its WAL (0 when missing): part of cache keys, so a new
    run or label shows up on the next rerun."""
    times = [p.stat().st_mtime for p in (path, path.with_name(path.name + ".wal")) if p.exists()]
    return max(times, default=0.0)
