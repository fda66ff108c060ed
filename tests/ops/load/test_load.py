"""The load test's pure parts and its runner (ops/load*.py), against fakes and in-process apps; no timing asserts."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ops.load.runner import run_closed_loop
from ops.load.server import ServerStartError, free_port, sample_rss, wait_ready
from ops.load.stats import Sample, error_kinds, memory_trend, slope, summarize
from ops.load.suite import AiohttpClient, AskTally, LoadConfig, alternate, ask_send, run_load, search_send


def test_summarize_percentiles_rps_and_errors() -> None:
    samples = [Sample(0.0, ms / 1000, 200) for ms in range(1, 101)]  # 1..100 ms
    samples += [Sample(0.0, 0.5, 503), Sample(0.0, 0.2, 0, "ClientOSError")]
    s = summarize("search", 50, samples, wall_s=2.0)
    assert s.requests == 102 and s.errors == 2
    assert s.error_rate == pytest.approx(2 / 102)
    assert s.rps == pytest.approx(51.0)
    assert s.p50_ms == pytest.approx(51.0)  # nearest rank over 102 values
    assert s.p99_ms == pytest.approx(200.0)
    assert s.max_ms == pytest.approx(500.0)
    assert error_kinds(samples) == {"503": 1, "ClientOSError": 1}


def test_summarize_nothing() -> None:
    s = summarize("x", 1, [], wall_s=0.0)
    assert s.requests == 0 and s.error_rate == 0.0
    assert s.p95_ms != s.p95_ms  # NaN


def test_slope_and_memory_trend() -> None:
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(1, 5)]) == 0.0 and slope([(1, 5), (1, 7)]) == 0.0
    flat_after_warmup = [(0.0, 100.0), (10.0, 180.0)] + [(float(t), 200.0) for t in range(20, 101, 10)]
    trend = memory_trend(flat_after_warmup)
    assert trend.start_mb == 100 and trend.end_mb == 200 and trend.max_mb == 200
    assert trend.slope_mb_per_min == pytest.approx(0.0)  # the warm-up climb is not growth
    growing = [(float(t), 100.0 + t) for t in range(0, 101, 10)]  # 1 MB/s
    assert memory_trend(growing).slope_mb_per_min == pytest.approx(60.0)
    assert memory_trend([]).samples == 0


def test_closed_loop_budget_concurrency_and_failures() -> None:
    seen: list[int] = []
    in_flight = peak = 0

    async def send(i: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        seen.append(i)
        if i % 10 == 3:
            raise ConnectionError("boom")
        return 503 if i % 10 == 7 else 200

    samples, wall = asyncio.run(run_closed_loop(send, users=5, max_requests=40))
    assert sorted(seen) == list(range(40))  # every request once, none past the budget
    assert len(samples) == 40 and peak <= 5 and peak > 1
    assert sum(s.status == 0 and s.error == "ConnectionError" for s in samples) == 4
    assert sum(s.status == 503 for s in samples) == 4
    assert wall >= max(s.start_s for s in samples)


def test_closed_loop_stops_at_the_deadline_and_cancels_stragglers() -> None:
    async def slow(i: int) -> int:
        await asyncio.sleep(0.01 if i < 3 else 60)
        return 200

    samples, _ = asyncio.run(run_closed_loop(slow, users=1, duration_s=1.0, grace_s=0.1))
    assert [s.status for s in samples] == [200, 200, 200]  # the 60 s request was cancelled, not counted


def test_closed_loop_needs_a_bound() -> None:
    async def send(i: int) -> int:
        return 200

    with pytest.raises(ValueError):
        asyncio.run(run_closed_loop(send, users=1))
    with pytest.raises(ValueError):
        asyncio.run(run_closed_loop(send, users=0, max_requests=1))


def _fake_app() -> FastAPI:
    """A stand-in service: search echoes its query; ask answers from a cache after the first time,
    and falls back (no LM) for questions containing 'fallback'."""
    app = FastAPI()
    seen: set[str] = set()
    app.state.queries = []

    @app.get("/v1/search")
    async def search(q: str, k: int = 10, backend: str | None = None) -> dict[str, Any]:
        app.state.queries.append((q, k, backend))
        return {"query": q, "results": []}

    @app.post("/v1/ask")
    async def ask(body: dict[str, Any]) -> dict[str, Any]:
        question = body["question"]
        cached = question in seen
        seen.add(question)
        return {"answer": "a", "cached": cached, "fallback": "fallback" in question}

    return app


class AsgiClient:
    """The load test's HttpClient over httpx's in-process ASGI transport."""

    def __init__(self, app: FastAPI) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    async def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        resp = await self.client.get(path, params=params)
        return resp.status_code, resp.content

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        resp = await self.client.post(path, json=body)
        return resp.status_code, resp.content


def test_search_queries_are_unique_unless_cached() -> None:
    app = _fake_app()
    client = AsgiClient(app)

    async def go() -> None:
        unique = search_send(client, ["cors", "files"], k=5, backend="bm25")
        repeated = search_send(client, ["cors", "files"], unique=False)
        for i in range(4):
            assert await unique(i) == 200
        for i in range(4):
            await repeated(i)

    asyncio.run(go())
    qs = app.state.queries
    assert len({q for q, _, _ in qs[:4]}) == 4 and qs[0][0].startswith("cors ") and qs[0][1:] == (5, "bm25")
    assert [q for q, _, _ in qs[4:]] == ["cors", "files", "cors", "files"] and qs[4][2] is None


def test_ask_tally_and_alternate() -> None:
    client = AsgiClient(_fake_app())
    tally = AskTally()
    calls: list[str] = []

    async def a(i: int) -> int:
        calls.append(f"a{i}")
        return 200

    async def b(i: int) -> int:
        calls.append(f"b{i}")
        return 200

    async def go() -> None:
        send = ask_send(client, ["q1", "q2 fallback", "q1"], tally, cycle=False)
        for i in range(3):
            await send(i)
        both = alternate(a, b)
        for i in range(4):
            await both(i)

    asyncio.run(go())
    assert tally.answered == ["q1"] and tally.fallbacks == 1 and tally.cached == 1
    assert calls == ["a0", "b0", "a1", "b1"]


def test_run_load_against_an_in_process_app() -> None:
    client = AsgiClient(_fake_app())
    cfg = LoadConfig(scenarios=("search", "search-cached", "ask-cached"), users=4, scenario_s=0.2, warm=3, sample_s=0.5)
    report = asyncio.run(run_load(client, cfg, ["cors", "files"], ["q1", "q2", "q3 fallback", "q4"], "hybrid"))
    rows = {r["scenario"]: r for r in report.rows}
    assert list(rows) == ["search", "search-cached", "ask-cached"]
    assert all(r["requests"] > 0 and r["errors"] == 0 and r["rps"] > 0 for r in rows.values())
    assert rows["search"]["backend"] == "bm25" and rows["search-cached"]["backend"] == "hybrid"
    assert rows["ask-cached"]["note"].startswith("2 warm questions")  # q1, q2 (warm stops at 3: q3 fell back)
    hits = int(rows["ask-cached"]["note"].split("; ")[1].split("/")[0])
    assert hits == rows["ask-cached"]["requests"]  # every cached-ask request was a cache hit
    assert report.soak is None and report.errors == {}


def test_run_load_soak_samples_memory() -> None:
    client = AsgiClient(_fake_app())
    cfg = LoadConfig(scenarios=("soak",), users=3, soak_s=0.3, sample_s=0.5, warm=1)
    report = asyncio.run(run_load(client, cfg, ["cors"], ["q1"], "hybrid", server_pid=os.getpid()))
    assert report.soak is not None and report.soak["server"]["samples"] >= 2
    assert report.soak["server"]["max_mb"] > 0
    assert report.soak["server_and_children"]["max_mb"] >= report.soak["server"]["max_mb"]
    assert report.rows[0]["scenario"] == "soak" and report.rows[0]["errors"] == 0


def test_run_load_fails_clearly_when_nothing_can_be_answered() -> None:
    client = AsgiClient(_fake_app())
    cfg = LoadConfig(scenarios=("ask-cached",), users=2, scenario_s=0.1, warm=2)
    with pytest.raises(RuntimeError, match="warming the answer cache"):
        asyncio.run(run_load(client, cfg, ["cors"], ["fallback 1", "fallback 2"], "hybrid"))


def test_aiohttp_client_against_a_tiny_local_server() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def search(request: web.Request) -> web.Response:
        return web.json_response({"q": request.query["q"]})

    async def ask(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"question": body["question"]}, status=201)

    async def go() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        app = web.Application()
        app.router.add_get("/v1/search", search)
        app.router.add_post("/v1/ask", ask)
        async with TestServer(app, host="127.0.0.1") as server, AiohttpClient(str(server.make_url(""))) as client:
            return await client.get("/v1/search", {"q": "a b"}), await client.post("/v1/ask", {"question": "x"})

    (s1, b1), (s2, b2) = asyncio.run(go())
    assert s1 == 200 and json.loads(b1) == {"q": "a b"}
    assert s2 == 201 and json.loads(b2) == {"question": "x"}


def test_wait_ready_reports_a_server_that_exited() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    with pytest.raises(ServerStartError, match="code 3"):
        wait_ready(f"http://127.0.0.1:{free_port()}", timeout_s=5, proc=proc)


def test_wait_ready_times_out_with_the_last_answer() -> None:
    with pytest.raises(ServerStartError, match="did not answer 200"):
        wait_ready(f"http://127.0.0.1:{free_port()}", timeout_s=0.6)


def test_sample_rss_of_this_process() -> None:
    with sample_rss(os.getpid(), interval_s=0.5) as series:
        pass
    assert len(series.server) >= 2 and all(mb > 0 for _, mb in series.server)


def test_pacing_spaces_each_users_requests() -> None:
    async def send(i: int) -> int:
        return 200

    samples, _ = asyncio.run(run_closed_loop(send, users=2, max_requests=6, pace_s=0.05))
    starts = sorted(s.start_s for s in samples)
    assert len(starts) == 6
    # two users, one request each per 50 ms: 6 instant requests still span two pacing periods
    assert starts[-1] - starts[0] >= 2 * 0.05 * 0.9


def test_locust_stats_read_into_a_summary(tmp_path: Path) -> None:
    from ops.load.locust_runner import LocustError, bucket_percentile, read_stats

    entry = {"name": "/v1/search", "method": "GET", "start_time": 100.0, "last_request_timestamp": 104.0,
             "num_requests": 100, "num_failures": 4, "max_response_time": 151.2,
             "response_times": {"10": 50, "20": 45, "150": 5}}  # fmt: skip
    (tmp_path / "r.json").write_text(json.dumps([entry]))
    (tmp_path / "r_failures.csv").write_text("Method,Name,Error,Occurrences\nGET,/v1/search,HTTPError('500'),4\n")
    summary, errors = read_stats(tmp_path / "r", "search", 5, 3.0)
    assert (summary.requests, summary.errors, summary.wall_s, summary.rps) == (100, 4, 4.0, 25.0)
    assert (summary.p50_ms, summary.p95_ms, summary.p99_ms, summary.max_ms) == (10, 20, 150, 151.2)
    assert errors == {"HTTPError('500')": 4}
    assert bucket_percentile({}, 50) != bucket_percentile({}, 50)  # nan: no requests
    with pytest.raises(LocustError, match="no stats"):
        read_stats(tmp_path / "missing", "search", 5, 3.0)
    (tmp_path / "e.json").write_text("[]")
    with pytest.raises(LocustError, match="nothing reached the server"):
        read_stats(tmp_path / "e", "search", 5, 3.0)


def test_locust_runs_the_search_user_against_a_tiny_local_server(tmp_path: Path) -> None:
    """A real headless locust run (a subprocess, about 4 s): unique queries with k and the backend, failures
    counted, the summary from its CSV."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    from ops.load.locust_runner import run_locust

    seen: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn serves

        def do_GET(self) -> None:
            params = parse_qs(urlparse(self.path).query)
            seen.append(params)
            status = 500 if len(seen) % 10 == 0 else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        summary, errors = run_locust(
            url, "search", users=2, duration_s=2, queries=["how to cors", "background\u2028tasks"], k=7, backend="bm25"
        )
    finally:
        server.shutdown()
    assert summary.requests >= 10 and summary.requests == len(seen)
    assert summary.errors == sum(1 for i in range(1, len(seen) + 1) if i % 10 == 0)  # exact: the final stats
    assert set(errors) <= {e for e in errors if "500" in e}  # the failures' messages (its CSV, which may lag)
    assert all(p["k"] == ["7"] and p["backend"] == ["bm25"] and " zq" in p["q"][0] for p in seen)
    assert len({p["q"][0] for p in seen}) == len(seen)  # every query unique: the search cache never answers
    assert {p["q"][0].rsplit(" zq", 1)[0] for p in seen} == {"how to cors", "background\u2028tasks"}  # both, whole


def test_bench_load_names_an_unknown_generator() -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    res = CliRunner().invoke(app, ["bench", "load", "--generator", "wrk", "--url", "http://127.0.0.1:9"])
    assert res.exit_code != 0 and "unknown generator 'wrk'" in res.output and "locust, aiohttp or auto" in res.output
