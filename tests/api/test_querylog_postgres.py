"""The query log and feedback in a real PostgreSQL (api.log_store=postgres): several writer processes, flushers
racing with and without the flock, a writer killed mid-way, the server down and back, bad credentials.

PostgreSQL is Debian's package (`/usr/lib/postgresql/<v>/bin`): a throwaway cluster in a temp folder, owned by
`nobody` when we run as root (postgres refuses root), on a free 127.0.0.1 port with password auth; stopped and
removed after the session. Skipped, saying why, where the binaries are missing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import querylog
from api.logstore import LogStoreError, PostgresStore, open_log_store
from api.querylog import COLUMNS, DuckDBStore, Spool, flush_spool
from fda.errors import ConfigError
from fda.settings import Settings

PASSWORD = "s3cret-Pw-" + uuid.uuid4().hex[:6]
N_QUERIES = 2000
FEEDBACK_EVERY = 10  # + 200 feedback rows per writer


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """initdb + pg_ctl in a temp folder; as root, run as `nobody`."""

    def __init__(self, bindir: Path) -> None:
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="fda-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            os.chown(pwfile, nobody.pw_uid, nobody.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--no-sync", f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=trust",
        )  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=50 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a throwaway cluster
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def dsn(self, dbname: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{dbname}"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql (Debian package)")
    cluster = PgCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped: a test that failed mid-way
            cluster.stop()
        cluster.remove()


@pytest.fixture
def dsn(pg_cluster: PgCluster) -> str:
    """A fresh database per test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_cluster.dsn(name)


def _select(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def _writer(spool_dir: str, dsn: str, n: int, tag: str, use_flock: bool, out: str) -> None:
    """One writer process as an API replica runs: requests append to its Spool while its flusher thread moves
    lines (every 20 ms) into PostgreSQL; writes how many records its flusher moved to ``out``."""
    if not use_flock:
        querylog._flush_lock = lambda _dir: contextlib.nullcontext()  # type: ignore[assignment,return-value]
    store = PostgresStore(dsn)
    spool = Spool(Path(spool_dir))
    moved = 0
    stop = threading.Event()

    def flush_forever() -> None:
        nonlocal moved
        while not stop.wait(0.02):
            moved += flush_spool(Path(spool_dir), store)

    flusher = threading.Thread(target=flush_forever)
    flusher.start()
    for i in range(n):
        spool.append(
            "query",
            {"id": f"{tag}-q{i}", "trace_id": f"{tag}-t{i}", "question": f"q{i}", "citations": ["u#a"],
             "cached": False, "latency_ms": i / 2, "usage": {"lm_calls": 1}},
        )  # fmt: skip
        if i % FEEDBACK_EVERY == 0:
            spool.append("feedback", {"id": f"{tag}-f{i}", "trace_id": f"{tag}-t{i}", "rating": "up"}, durable=True)
            time.sleep(0.001)  # requests spread over time, so flushes land between them
    stop.set()
    flusher.join()
    spool.close()
    Path(out).write_text(str(moved))


def _ids(dsn: str) -> tuple[list[str], list[str]]:
    queries = [r[0] for r in _select(dsn, "SELECT id FROM query_log")]
    feedback = [r[0] for r in _select(dsn, "SELECT id FROM feedback")]
    return queries, feedback


def _expected(tag: str, n: int) -> tuple[set[str], set[str]]:
    return {f"{tag}-q{i}" for i in range(n)}, {f"{tag}-f{i}" for i in range(0, n, FEEDBACK_EVERY)}


@pytest.mark.parametrize("use_flock", [True, False], ids=["flock", "advisory-lock-only"])
def test_three_writer_processes_exactly_once(dsn: str, tmp_path: Path, use_flock: bool) -> None:
    """Three processes share one spool folder (one machine) and race their flushers into one PostgreSQL; without
    the flock every flusher tries every file, and only the per-file advisory lock keeps them apart: the records
    the flushers report moving add up to exactly what was written (no line consumed twice), every id once."""
    spool_dir = tmp_path / "spool"
    ctx = mp.get_context("spawn")
    outs = [tmp_path / f"moved-{k}" for k in range(3)]
    procs = [
        ctx.Process(target=_writer, args=(str(spool_dir), dsn, N_QUERIES, f"p{k}", use_flock, str(outs[k])))
        for k in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    by_flusher = [int(o.read_text()) for o in outs] + [flush_spool(spool_dir, PostgresStore(dsn))]
    moved = sum(by_flusher)
    queries, feedback = _ids(dsn)
    want_q, want_f = set(), set()
    for k in range(3):
        q, f = _expected(f"p{k}", N_QUERIES)
        want_q |= q
        want_f |= f
    assert len(queries) == len(set(queries)) == 3 * N_QUERIES and set(queries) == want_q
    assert len(feedback) == len(set(feedback)) == 3 * N_QUERIES // FEEDBACK_EVERY and set(feedback) == want_f
    assert moved == len(want_q) + len(want_f)  # each line consumed by exactly one flusher
    assert list(spool_dir.glob("spool-*.jsonl")) == []  # dead writers' files consumed and removed
    assert _select(dsn, "SELECT count(*) FROM spool_offsets") == [(0,)]


def test_killed_writer_is_flushed_by_a_survivor(dsn: str, tmp_path: Path) -> None:
    """SIGKILL one of three writers mid-way (its flusher may be inside a transaction): the survivors' flushers
    move what it had spooled; nothing lost, nothing twice."""
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    ctx = mp.get_context("spawn")
    outs = [tmp_path / f"moved-{k}" for k in range(3)]
    procs = [
        ctx.Process(target=_writer, args=(str(spool_dir), dsn, N_QUERIES, f"p{k}", True, str(outs[k])))
        for k in range(3)
    ]
    for p in procs:
        p.start()
    victim = procs[0]
    deadline = time.monotonic() + 60
    link = None
    while link is None and time.monotonic() < deadline:  # a hard link keeps the victim's lines once it is removed
        for found in spool_dir.glob(f"spool-*-{victim.pid}-*.jsonl"):
            link = evidence / found.name
            os.link(found, link)
        time.sleep(0.005)
    assert link is not None
    while link.read_bytes().count(b"\n") < N_QUERIES // 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    victim.kill()  # SIGKILL
    victim.join(timeout=30)
    assert victim.exitcode == -signal.SIGKILL
    spooled = link.read_bytes()
    for p in procs[1:]:
        p.join(timeout=120)
        assert p.exitcode == 0
    flush_spool(spool_dir, PostgresStore(dsn))  # the survivors may have finished before the victim was reaped
    lines = spooled[: spooled.rfind(b"\n") + 1].splitlines()
    victim_q = {r["id"] for r in map(json.loads, lines) if r["kind"] == "query"}
    victim_f = {r["id"] for r in map(json.loads, lines) if r["kind"] == "feedback"}
    assert N_QUERIES // 3 <= len(victim_q) < N_QUERIES  # killed mid-way
    queries, feedback = _ids(dsn)
    want_q, want_f = victim_q, victim_f
    for tag in ("p1", "p2"):
        q, f = _expected(tag, N_QUERIES)
        want_q, want_f = want_q | q, want_f | f
    assert len(queries) == len(set(queries)) and set(queries) == want_q
    assert len(feedback) == len(set(feedback)) and set(feedback) == want_f
    assert list(spool_dir.glob("spool-*.jsonl")) == []


def test_lines_spooled_while_postgres_is_down_arrive_once_it_is_back(
    pg_cluster: PgCluster, dsn: str, tmp_path: Path
) -> None:
    store = PostgresStore(dsn)
    spool = Spool(tmp_path / "spool")
    spool.append("query", {"id": "before", "question": "q"})
    assert flush_spool(tmp_path / "spool", store) == 1
    pg_cluster.stop()
    try:
        spool.append("query", {"id": "during", "question": "q"})
        spool.append("feedback", {"id": "fb", "trace_id": "t", "rating": "down"}, durable=True)
        with pytest.raises(LogStoreError) as err:
            flush_spool(tmp_path / "spool", store)
        text = str(err.value)
        assert "FDA_API__LOG_STORE_DSN" in text and "unreachable" in text
        assert PASSWORD not in text and dsn not in text
        assert spool.path.read_bytes().count(b"\n") == 3  # the spool keeps every line
    finally:
        pg_cluster.start()
    spool.append("query", {"id": "after", "question": "q"})
    assert flush_spool(tmp_path / "spool", store) == 3
    assert flush_spool(tmp_path / "spool", store) == 0  # nothing twice
    assert sorted(_ids(dsn)[0]) == ["after", "before", "during"] and _ids(dsn)[1] == ["fb"]
    spool.close()


@pytest.mark.parametrize(
    ("make_dsn", "says"),
    [
        (lambda c: c.dsn(password="wrong-" + PASSWORD), "password authentication failed"),
        (lambda c: f"postgresql://postgres:{PASSWORD}@127.0.0.1:{_free_port()}/postgres", "unreachable"),
        (lambda c: f"host=127.0.0.1 port={c.port} password={PASSWORD} = broken", "not a valid libpq"),
        (lambda c: f"postgresql://postgres:{PASSWORD}%zz@127.0.0.1/postgres", "not a valid libpq"),
    ],
    ids=["auth", "no-server", "bad-dsn", "bad-uri"],
)
def test_bad_credentials_and_dsns_say_which_setting_and_never_the_secret(
    pg_cluster: PgCluster, tmp_path: Path, make_dsn: Any, says: str
) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append("feedback", {"id": "kept", "trace_id": "t", "rating": "up"}, durable=True)
    with pytest.raises(LogStoreError) as err:
        flush_spool(tmp_path / "spool", PostgresStore(make_dsn(pg_cluster)))
    text = str(err.value)
    assert says in text and "FDA_API__LOG_STORE_DSN" in text
    assert PASSWORD not in text and err.value.__cause__ is None and err.value.__suppress_context__
    assert spool.path.read_bytes().count(b"\n") == 1
    spool.close()


def test_types_nulls_repeats_and_nul_characters(dsn: str, tmp_path: Path) -> None:
    """The same tables as logs.duckdb; PostgreSQL's text holds no NUL, so a hostile comment cannot wedge the
    flusher on a line it could never insert."""
    spool = Spool(tmp_path / "spool")
    base = {"question": "q", "version": "0.141.1", "cached": False, "citations": ["u#a"], "usage": {"lm_calls": 1}}
    spool.append("query", {**base, "id": "a", "error": None, "latency_ms": 12, "invalid_citations": None})
    spool.append("query", {**base, "id": "b", "error": "LMTimeoutError", "latency_ms": 3.5, "invalid_citations": 2})
    spool.append("query", {**base, "id": "a", "error": None, "latency_ms": 99})  # a repeat of id a: ignored
    spool.append("query", {**base, "id": "c", "question": "nul\x00here", "timings": {"k\x00": ["v\x00"]}})
    spool.append("feedback", {"id": "f", "trace_id": "t", "rating": "up", "comment": None})
    spool.append("feedback", {"id": "g", "trace_id": "t", "rating": "down", "comment": "bad\x00"})
    spool.close()
    assert flush_spool(tmp_path / "spool", PostgresStore(dsn)) == 6
    rows = _select(
        dsn,
        "SELECT id, error, latency_ms, invalid_citations, citations->>0, usage->>'lm_calls', "
        "pg_typeof(ts)::text, cached FROM query_log WHERE id IN ('a', 'b') ORDER BY id",
    )
    assert rows == [
        ("a", None, 12.0, None, "u#a", "1", "timestamp without time zone", False),
        ("b", "LMTimeoutError", 3.5, 2, "u#a", "1", "timestamp without time zone", False),
    ]
    assert _select(dsn, "SELECT question, timings FROM query_log WHERE id = 'c'") == [
        ("nul\ufffdhere", {"k\ufffd": ["v\ufffd"]})
    ]
    assert _select(dsn, "SELECT id, comment FROM feedback ORDER BY id") == [("f", None), ("g", "bad\ufffd")]
    for table, cols in COLUMNS.items():  # the DuckDB store's columns, in order
        got = _select(
            dsn,
            f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
        assert [c for (c,) in got] == cols


def test_store_from_settings(dsn: str, tmp_path: Path) -> None:
    assert isinstance(open_log_store(Settings(state_dir=tmp_path), tmp_path / "l.duckdb"), DuckDBStore)
    with pytest.raises(ConfigError, match="needs a connection string") as err:
        open_log_store(Settings(state_dir=tmp_path, api={"log_store": "postgres"}), tmp_path / "l.duckdb")  # type: ignore[arg-type]
    assert "FDA_API__LOG_STORE_DSN" in str(err.value)
    settings = Settings(state_dir=tmp_path, api={"log_store": "postgres", "log_store_dsn": dsn})  # type: ignore[arg-type]
    store = open_log_store(settings, tmp_path / "l.duckdb")
    assert isinstance(store, PostgresStore) and PASSWORD not in repr(store)


def test_the_app_flushes_into_postgres_and_survives_it_being_down(
    pg_cluster: PgCluster, dsn: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real app (fake programs) with FDA_API__LOG_STORE=postgres: its flusher moves asks and feedback; with the
    server unreachable, requests still answer, the error names the setting and never the password."""
    import psycopg
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import make_services

    def settings_for(url: str) -> Settings:
        api = {"log_store": "postgres", "log_store_dsn": url, "log_flush_s": 0.05, "request_timeout_s": 5}
        return Settings(state_dir=tmp_path, api=api)  # type: ignore[arg-type]

    with TestClient(create_app(settings_for(dsn), lambda s: make_services(s, tmp_path))) as client:
        r = client.post("/v1/ask", json={"question": "How do I enable CORS?"})
        assert r.status_code == 200
        assert client.post("/v1/feedback", json={"trace_id": r.json()["trace_id"], "rating": "up"}).status_code == 201
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.05)
            with contextlib.suppress(psycopg.errors.UndefinedTable):  # before the first flush
                if _select(dsn, "SELECT count(*) FROM feedback") == [(1,)]:
                    break
    assert _select(dsn, "SELECT count(*) FROM query_log") == [(1,)]
    assert not (tmp_path / "logs.duckdb").exists()

    down = pg_cluster.dsn(password="wrong-" + PASSWORD)
    app = create_app(settings_for(down), lambda s: make_services(s, tmp_path))
    with caplog.at_level(logging.ERROR, logger="api.main"), TestClient(app) as client:
        assert client.post("/v1/feedback", json={"trace_id": "t", "rating": "down"}).status_code == 201
        time.sleep(0.3)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "FDA_API__LOG_STORE_DSN" in logged and "password authentication failed" in logged
    assert PASSWORD not in logged
    spooled = b"".join(f.read_bytes() for f in (tmp_path / "spool").glob("spool-*.jsonl"))
    assert spooled.count(b'"rating": "down"') == 1  # kept in the spool
    flush_spool(tmp_path / "spool", PostgresStore(dsn))
    assert _select(dsn, "SELECT rating FROM feedback ORDER BY rating") == [("down",), ("up",)]


def test_container_hostnames_with_dashes_keep_live_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Container replicas are named like `fda-api--rev1-7d9f-x2`: the spool file's owner is read from the right, so
    this live process's file is kept (it was taken for a dead one's and removed under its writer)."""
    monkeypatch.setattr(socket, "gethostname", lambda: "fda-api--rev1-7d9f-x2")
    spool = Spool(tmp_path / "spool")
    spool.append("query", {"id": "a"})
    assert querylog._owner(spool.path) == ("fda-api--rev1-7d9f-x2", os.getpid())
    assert flush_spool(tmp_path / "spool", tmp_path / "logs.duckdb") == 1
    assert spool.path.exists()
    spool.append("query", {"id": "b"})
    assert flush_spool(tmp_path / "spool", tmp_path / "logs.duckdb") == 1
    spool.close()


def _serve(state_dir: str, port: int) -> None:
    """One API replica: the real app and its flusher (fake programs, no index or LM), under uvicorn."""
    import uvicorn

    from api.main import create_app
    from tests.api.conftest import make_services

    settings = Settings(state_dir=Path(state_dir))  # FDA_API__LOG_STORE, _DSN and _LOG_FLUSH_S from the env
    uvicorn.run(create_app(settings, lambda s: make_services(s, Path(state_dir))), port=port, log_level="warning")


class Replica:
    def __init__(self, state_dir: Path, dsn: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FDA_API__LOG_STORE": "postgres",
            "FDA_API__LOG_STORE_DSN": dsn,
            "FDA_API__LOG_FLUSH_S": "0.1",
            "FDA_TRACING__ENABLED": "false",
        }
        code = f"from tests.api.test_querylog_postgres import _serve; _serve({str(state_dir)!r}, {self.port})"
        root = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=root)

    def wait_ready(self, timeout_s: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "replica exited during start-up"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("replica not ready")


@pytest.mark.slow
def test_three_api_replicas_under_load_one_killed(dsn: str, tmp_path: Path) -> None:
    """Three real API processes (uvicorn, the app's own flusher every 0.1 s) on three state folders, as three
    containers, answer asks and take feedback into one PostgreSQL; replica C is SIGKILLed under load and
    restarted on its folder (a container with a persistent volume), which moves what C had spooled. Every
    acknowledged request's row is there exactly once; A, B and C' stop gracefully (their last flush)."""
    replicas = {name: Replica(tmp_path / name, dsn) for name in ("A", "B", "C")}
    try:
        for r in replicas.values():
            r.wait_ready()
        _load_kill_restart(replicas, dsn, tmp_path)
    finally:
        for r in replicas.values():
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()


def _load_kill_restart(replicas: dict[str, Replica], dsn: str, tmp_path: Path) -> None:
    import httpx

    acked_asks: dict[str, list[str]] = {name: [] for name in replicas}
    acked_feedback: dict[str, list[str]] = {name: [] for name in replicas}
    n = 400

    def load(name: str) -> None:
        with httpx.Client(base_url=replicas[name].url, timeout=10) as client:
            for i in range(n):
                try:
                    r = client.post("/v1/ask", json={"question": f"How do I enable CORS? {name}{i}"})
                    assert r.status_code == 200, r.text
                    acked_asks[name].append(r.json()["trace_id"])
                    f = client.post("/v1/feedback", json={"trace_id": r.json()["trace_id"], "rating": "up"})
                    assert f.status_code == 201, f.text
                    acked_feedback[name].append(f.json()["id"])
                except httpx.TransportError:
                    assert name == "C"  # the killed one
                    return

    threads = [threading.Thread(target=load, args=(name,)) for name in replicas]
    for t in threads:
        t.start()
    while len(acked_feedback["C"]) < n // 3:
        time.sleep(0.01)
    replicas["C"].proc.kill()
    replicas["C"].proc.wait(timeout=30)
    for t in threads:
        t.join(timeout=300)
    assert 0 < len(acked_feedback["C"]) < n
    replicas["C'"] = restarted = Replica(tmp_path / "C", dsn)
    restarted.wait_ready()
    for r in (replicas["A"], replicas["B"], restarted):
        r.proc.send_signal(signal.SIGTERM)
        assert r.proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after its shutdown
    logged = [t for (t,) in _select(dsn, "SELECT trace_id FROM query_log")]
    stored = [i for (i,) in _select(dsn, "SELECT id FROM feedback")]
    assert len(logged) == len(set(logged)) and len(stored) == len(set(stored))  # nothing twice
    want_asks = {t for ts in acked_asks.values() for t in ts}
    want_feedback = {i for ids in acked_feedback.values() for i in ids}
    assert want_asks <= set(logged) and want_feedback <= set(stored)  # nothing acknowledged lost
    assert len(set(logged) - want_asks) <= 1 and len(set(stored) - want_feedback) <= 1  # C's last, unanswered
    left = {p.name: p.stat().st_size for p in tmp_path.glob("*/spool/spool-*.jsonl")}
    offsets = dict(_select(dsn, "SELECT file, byte_offset FROM spool_offsets"))
    assert not any(f"-{replicas['C'].proc.pid}-" in name for name in left)  # the killed one's: moved and removed
    assert len(left) == 3 and all(
        offsets.get(name, 0) == size for name, size in left.items()
    )  # A, B, C' own: all moved


@pytest.mark.parametrize("store", ["duckdb", "postgres"])
def test_a_backlog_moves_in_bounded_batches(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """After an outage the backlog is moved a batch (querylog.BATCH_BYTES) per transaction, not read whole; a line
    longer than a batch still goes."""
    monkeypatch.setattr(querylog, "BATCH_BYTES", 300)
    target: Any = tmp_path / "logs.duckdb" if store == "duckdb" else PostgresStore(request.getfixturevalue("dsn"))
    spool = Spool(tmp_path / "spool")
    for i in range(40):
        spool.append("query", {"id": f"q{i}", "question": "x" * (1000 if i == 7 else 10)})
    assert flush_spool(tmp_path / "spool", target) == 40
    assert flush_spool(tmp_path / "spool", target) == 0
    spool.close()


def test_a_user_with_row_rights_only_can_flush(pg_cluster: PgCluster, dsn: str, tmp_path: Path) -> None:
    """The tables made once by their owner, the service's user may have no CREATE on the schema (PostgreSQL 15's
    default for `public`): flushes still go."""
    import psycopg

    spool = Spool(tmp_path / "spool")
    spool.append("query", {"id": "by-owner"})
    flush_spool(tmp_path / "spool", PostgresStore(dsn))
    role = f"w_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        conn.execute(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    restricted = dsn.replace("postgres:", f"{role}:", 1)
    spool.append("query", {"id": "by-writer"})
    assert flush_spool(tmp_path / "spool", PostgresStore(restricted)) == 1
    assert sorted(_ids(dsn)[0]) == ["by-owner", "by-writer"]
    spool.close()


def test_a_file_locked_by_another_flusher_waits_then_gives_up_and_retries(dsn: str, tmp_path: Path) -> None:
    """The per-file advisory lock as another flusher (another machine) holds it: this flush waits for it, past
    lock_timeout gives up with the lines kept, and the next flush after the release moves them once."""
    import psycopg

    spool = Spool(tmp_path / "spool")
    spool.append("query", {"id": "a"})
    flush_spool(tmp_path / "spool", PostgresStore(dsn))  # the tables
    spool.append("query", {"id": "b"})
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtextextended('fda.spool:' || %s, 0))", [spool.path.name])
        t0 = time.monotonic()
        with pytest.raises(LogStoreError, match="LockNotAvailable"):
            flush_spool(tmp_path / "spool", PostgresStore(dsn, lock_timeout_s=0.5))
        assert time.monotonic() - t0 >= 0.5
    assert flush_spool(tmp_path / "spool", PostgresStore(dsn)) == 1  # the lock went with the other session
    assert sorted(_ids(dsn)[0]) == ["a", "b"]
    spool.close()
