"""Query log and feedback, lossless across threads and worker processes.

DuckDB allows one writer per file, so requests never write it directly. Each process appends JSON
lines to its own spool file (``O_APPEND``; feedback is fsynced before the response); a flusher,
serialised across processes by ``flock``, moves complete lines into ``logs.duckdb`` and records the
byte offset it consumed in the same transaction (exactly once: ids are primary keys, offsets and
rows commit together). Fully consumed files of dead processes are removed.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def _pid_alive(path: Path) -> bool:
    parts = path.stem.split("-")
    try:
        host, pid = parts[1], int(parts[2])
    except (IndexError, ValueError):
        return False
    if host != socket.gethostname():
        return True  # another machine's file: never ours to delete
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rows(lines: list[bytes]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
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


def _insert(con: duckdb.DuckDBPyConnection, table: str, values: list[tuple[Any, ...]]) -> None:
    """One bulk ``INSERT OR IGNORE`` from a DataFrame: ``executemany`` took ~3 ms a row, slower than a loaded
    server logs answers, so the spool (and the flusher's memory) grew without bound (docs/benchmarks.md)."""
    import pandas as pd

    frame = pd.DataFrame(values, columns=COLUMNS[table], dtype=object)
    con.register("spool_batch", frame)
    try:
        con.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM spool_batch")
    finally:
        con.unregister("spool_batch")


def flush_spool(spool_dir: Path, db_path: Path) -> int:
    """Move complete spooled lines into DuckDB; returns how many records were written."""
    if not spool_dir.is_dir():
        return 0
    written = 0
    with _flush_lock(spool_dir):
        con = duckdb.connect(str(db_path))
        try:
            con.execute(SCHEMA)
            offsets = dict(con.execute("SELECT file, byte_offset FROM spool_offsets").fetchall())
            for path in sorted(spool_dir.glob("spool-*.jsonl")):
                start = int(offsets.get(path.name, 0))
                with path.open("rb") as fh:
                    fh.seek(start)
                    chunk = fh.read()
                end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next flush
                if end > 0:
                    rows = _rows(chunk[:end].splitlines())
                    con.execute("BEGIN TRANSACTION")
                    try:
                        for table, values in rows.items():
                            if values:
                                _insert(con, table, values)
                                written += len(values)
                        con.execute("INSERT OR REPLACE INTO spool_offsets VALUES (?, ?)", [path.name, start + end])
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                if start + end == path.stat().st_size and not _pid_alive(path):
                    path.unlink()
                    con.execute("DELETE FROM spool_offsets WHERE file = ?", [path.name])
        finally:
            con.close()
    return written
