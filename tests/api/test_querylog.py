"""The spool + flusher design loses nothing with several writer processes and concurrent flushers."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import duckdb
import pytest

from api.querylog import Spool, flush_spool


def _writer(spool_dir: str, db: str, n: int, tag: str) -> None:
    spool = Spool(Path(spool_dir))
    for i in range(n):
        spool.append("query", {"trace_id": f"{tag}-{i}", "question": f"q{i}", "citations": ["u#a"]})
        if i % 50 == 0:
            flush_spool(Path(spool_dir), Path(db))  # writers flush too, racing each other
    spool.close()


def test_many_processes_exactly_once(tmp_path: Path) -> None:
    spool_dir, db = tmp_path / "spool", tmp_path / "logs.duckdb"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(spool_dir), str(db), 200, f"p{k}")) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    flush_spool(spool_dir, db)
    con = duckdb.connect(str(db), read_only=True)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT trace_id) FROM query_log").fetchone()
    con.close()
    assert n == distinct == 600
    assert list(spool_dir.glob("spool-*.jsonl")) == []  # dead writers' files consumed and removed


def test_partial_line_waits_and_live_file_is_kept(tmp_path: Path) -> None:
    spool_dir, db = tmp_path / "spool", tmp_path / "logs.duckdb"
    spool = Spool(spool_dir)
    spool.append("feedback", {"trace_id": "t1", "rating": "up", "comment": ""}, durable=True)
    os.write(os.open(spool.path, os.O_WRONLY | os.O_APPEND), b'{"kind": "feedback", "trace_id": "t2"')  # mid-write
    assert flush_spool(spool_dir, db) == 1
    assert spool.path.exists()  # this process is alive: its file stays
    with spool.path.open("ab") as fh:
        fh.write(b', "rating": "down", "comment": "", "id": "x2", "ts": 1.0}\n')
    assert flush_spool(spool_dir, db) == 1
    assert flush_spool(spool_dir, db) == 0  # nothing twice
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(r[0] for r in con.execute("SELECT trace_id FROM feedback").fetchall()) == ["t1", "t2"]
    con.close()
    spool.close()


def test_unknown_kind_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown record kind"):
        Spool(tmp_path).append("nonsense", {})


def test_bulk_insert_keeps_types_nulls_and_ignores_repeats(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    base = {"question": "q", "version": "0.141.1", "cached": False, "citations": ["u#a"], "usage": {"lm_calls": 1}}
    spool.append("query", {**base, "id": "a", "error": None, "latency_ms": 12, "invalid_citations": None})
    spool.append("query", {**base, "id": "b", "error": "LMTimeoutError", "latency_ms": 3.5, "invalid_citations": 2})
    spool.append("query", {**base, "id": "a", "error": None, "latency_ms": 99})  # a repeat of id a: ignored
    spool.append("feedback", {"id": "f", "trace_id": "t", "rating": "up", "comment": None})
    spool.close()
    assert flush_spool(tmp_path / "spool", tmp_path / "logs.duckdb") == 4
    con = duckdb.connect(str(tmp_path / "logs.duckdb"))
    rows = con.execute(
        "SELECT id, error, latency_ms, invalid_citations, citations->>0, usage->>'lm_calls', typeof(ts) "
        "FROM query_log ORDER BY id"
    ).fetchall()
    assert rows == [
        ("a", None, 12.0, None, "u#a", "1", "TIMESTAMP"),
        ("b", "LMTimeoutError", 3.5, 2, "u#a", "1", "TIMESTAMP"),
    ]
    assert con.execute("SELECT id, comment FROM feedback").fetchall() == [("f", None)]
