"""Query log and feedback, lossless across threads, worker processes and API replicas.

Requests never write the store directly (DuckDB allows one writer per file; PostgreSQL may be far away or
down). Each process appends JSON lines to its own spool file (``O_APPEND``; feedback is fsynced before the
response); a flusher, serialised across processes on one machine by ``flock``, moves complete lines into the
store and records the byte offset it consumed in the same transaction (exactly once: ids are primary keys,
offsets and rows commit together). The store is ``logs.duckdb`` (embedded default) or PostgreSQL
(``api.log_store=postgres``, api/logstore.py), which several replicas share: there each file's transaction
also holds an advisory lock on the file, so two flushers never consume one file at once, flock or not.
Fully consumed files of dead processes are removed. A store that cannot be reached leaves the lines in the
spool for the next flush.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import duckdb

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS query_log (
    id VARCHAR PRIMARY KEY, ts TIMESTAMP, trace_id VARCHAR, question VARCHAR, version VARCHAR,
    program VARCHAR, program_version VARCHAR, answer VARCHAR, citations JSON, cannot_answer BOOLEAN,
    refused BOOLEAN, fallback BOOLEAN, invalid_citations INTEGER, cached BOOLEAN, latency_ms DOUBLE,
    timings JSON, usage JSON, error VARCHAR);
CREATE TABLE IF NOT EXISTS feedback (
    id VARCHAR PRIMARY KEY, ts TIMESTAMP, trace_id VARCHAR, rating VARCHAR, comment VARCHAR);
CREATE TABLE IF NOT EXISTS spool_offsets (file VARCHAR PRIMARY KEY, byte_offset BIGINT);
"""
KINDS = {"query": "query_log", "feedback": "feedback"}
COLUMNS = {
    "query_log": [
        "id",
        "ts",
        "trace_id",
        "question",
        "version",
        "program",
        "program_version",
        "answer",
        "citations",
        "cannot_answer",
        "refused",
        "fallback",
        "invalid_citations",
        "cached",
        "latency_ms",
        "timings",
        "usage",
        "error",
    ],
    "feedback": ["id", "ts", "trace_id", "rating", "comment"],
}
JSON_COLUMNS = {"citations", "timings", "usage"}
BATCH_BYTES = 8 << 20  # one transaction moves at most this much of a file: a long backlog is not read at once

Rows = dict[str, list[tuple[Any, ...]]]
Take = Callable[[int], tuple[int, Rows]]  # from a byte offset: (offset after the complete lines, their rows)


class LogSession(Protocol):
    """One flush's connection to the store. ``consume`` and ``forget`` are each one transaction."""

    def offsets(self) -> dict[str, int]:
        """Consumed byte offset per spool file name."""
        ...

    def consume(self, file: str, take: Take) -> tuple[int, int]:
        """Lock ``file``, read its stored offset, ``take`` from there, insert the rows (repeated ids ignored) and
        store the new offset, all in one transaction; returns (new offset, records moved)."""
        ...

    def forget(self, file: str, offset: int, remove: Callable[[], None]) -> None:
        """Under the file's lock: if its stored offset is still ``offset``, ``remove`` it and drop its row."""
        ...


class LogStore(Protocol):
    """Where flushed lines go: DuckDB (``DuckDBStore``) or PostgreSQL (api/logstore.py)."""

    def session(self) -> AbstractContextManager[LogSession]: ...


class Spool:
    """This process's append-only spool file."""

    def __init__(self, spool_dir: Path) -> None:
        spool_dir.mkdir(parents=True, exist_ok=True)
        self.path = spool_dir / f"spool-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()

    def append(self, kind: str, record: dict[str, Any], durable: bool = False) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        rid = record.get("id") or uuid.uuid4().hex
        line = (
            json.dumps(
                {"kind": kind, **record, "id": rid, "ts": record.get("ts") or time.time()},
                ensure_ascii=False,
                default=str,
            )
            + "\n"
        )
        with self._lock:
            os.write(self._fd, line.encode("utf-8"))  # one write() call per line: never interleaved
            if durable:
                os.fsync(self._fd)
        return str(rid)

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


@contextmanager
def _flush_lock(spool_dir: Path) -> Iterator[None]:
    with open(spool_dir / ".flush.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _owner(path: Path) -> tuple[str, int] | None:
    """(host, pid) from ``spool-<host>-<pid>-<8 hex>.jsonl``; the host may itself hold dashes (containers)."""
    head, _, rest = path.stem.partition("-")
    parts = rest.rsplit("-", 2)
    if head != "spool" or len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def _pid_alive(path: Path) -> bool:
    owner = _owner(path)
    if owner is None:
        return False
    host, pid = owner
    if host != socket.gethostname():
        return True  # another machine's file: never ours to delete
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def _rows(lines: list[bytes]) -> Rows:
    out: Rows = {t: [] for t in COLUMNS}
    for raw in lines:
        try:
            rec = json.loads(raw)
            table = KINDS[rec.pop("kind")]
        except (json.JSONDecodeError, KeyError) as err:
            log.error("dropping an unreadable spool line (%s): %r", err, raw[:200])
            continue
        rec["ts"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(rec["ts"])))
        out[table].append(tuple(json.dumps(rec.get(c)) if c in JSON_COLUMNS else rec.get(c) for c in COLUMNS[table]))
    return out


def _taker(path: Path) -> Take:
    def take(start: int) -> tuple[int, Rows]:
        try:
            with path.open("rb") as fh:
                fh.seek(start)
                chunk = fh.read(BATCH_BYTES)
                if len(chunk) == BATCH_BYTES and b"\n" not in chunk:
                    chunk += fh.readline()  # one line longer than a batch: take it whole
        except FileNotFoundError:  # removed by another flusher since it was listed
            return start, {}
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next flush
        return start + end, _rows(chunk[:end].splitlines()) if end else {}

    return take


class DuckDBStore:
    """``logs.duckdb``: one connection per flush, so readers (the UI) can open the file between flushes."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    @contextmanager
    def session(self) -> Iterator[LogSession]:
        con = duckdb.connect(str(self.db_path))
        try:
            con.execute(SCHEMA)
            yield _DuckDBSession(con)
        finally:
            con.close()


class _DuckDBSession:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def offsets(self) -> dict[str, int]:
        return {str(f): int(o) for f, o in self.con.execute("SELECT file, byte_offset FROM spool_offsets").fetchall()}

    def _offset(self, file: str) -> int:
        rows = self.con.execute("SELECT byte_offset FROM spool_offsets WHERE file = ?", [file]).fetchall()
        return int(rows[0][0]) if rows else 0

    def consume(self, file: str, take: Take) -> tuple[int, int]:
        written = 0
        self.con.execute("BEGIN TRANSACTION")  # the flock is the lock: one writer per DuckDB file anyway
        try:
            start = self._offset(file)
            end, rows = take(start)
            if end > start:
                for table, values in rows.items():
                    if values:
                        self._insert(table, values)
                        written += len(values)
                self.con.execute("INSERT OR REPLACE INTO spool_offsets VALUES (?, ?)", [file, end])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return end, written

    def forget(self, file: str, offset: int, remove: Callable[[], None]) -> None:
        if self._offset(file) == offset:
            remove()
            self.con.execute("DELETE FROM spool_offsets WHERE file = ?", [file])

    def _insert(self, table: str, values: list[tuple[Any, ...]]) -> None:
        """One bulk ``INSERT OR IGNORE`` from a DataFrame: ``executemany`` took ~3 ms a row, slower than a loaded
        server logs answers, so the spool (and the flusher's memory) grew without bound (docs/benchmarks.md)."""
        import pandas as pd

        frame = pd.DataFrame(values, columns=COLUMNS[table], dtype=object)
        self.con.register("spool_batch", frame)
        try:
            self.con.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM spool_batch")
        finally:
            self.con.unregister("spool_batch")


def flush_spool(spool_dir: Path, store: Path | LogStore) -> int:
    """Move complete spooled lines into ``store`` (a path: that DuckDB file); returns how many records moved.

    Raises what the store raises (api.logstore.LogStoreError for PostgreSQL): the lines stay in the spool."""
    if not spool_dir.is_dir():
        return 0
    if isinstance(store, Path):
        store = DuckDBStore(store)
    written = 0
    with _flush_lock(spool_dir), store.session() as session:
        offsets = session.offsets()
        for path in sorted(spool_dir.glob("spool-*.jsonl")):
            size = _size(path)
            if size < 0:
                continue
            offset = offsets.get(path.name, 0)
            if size > offset:  # new bytes (the stored offset is read again under the file's lock)
                take = _taker(path)
                while True:
                    before = offset
                    offset, moved = session.consume(path.name, take)
                    written += moved
                    if offset <= before or offset >= size:  # caught up with the listing, or a partial line
                        break
            if offset == size and not _pid_alive(path) and offset == _size(path):  # dead: no more lines after this
                session.forget(path.name, offset, partial(path.unlink, missing_ok=True))
    return written
