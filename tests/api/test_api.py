"""Every endpoint and error path through TestClient with fake services."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from api.main import create_app
from api.querylog import flush_spool
from fda.errors import IndexMissingError
from fda.settings import Settings
from tests.api.conftest import make_services, services_of


def test_ask_returns_cited_answer_then_caches(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "How do I enable CORS?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["citations"][0]["url"] == "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
    assert body["version"] == "0.141.1" and body["cached"] is False and len(body["trace_id"]) == 32
    again = client.post("/v1/ask", json={"question": "  how do I enable cors  "})
    assert again.json()["cached"] is True and again.json()["answer"] == body["answer"]
    assert services_of(client).programs["rag"].calls == 1


def test_ask_older_version(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "startup event", "version": "0.68.0"})
    assert r.status_code == 200 and r.json()["citations"][0]["version"] == "0.68.0"


def test_bad_inputs_get_clear_4xx(client: TestClient) -> None:
    cases = [
        ({"question": ""}, 422, "invalid_request"),
        ({"question": "   "}, 422, "invalid_question"),
        ({"question": "x" * 5000}, 422, "invalid_question"),
        ({"question": "CORS?", "version": "9.9.9"}, 400, "unknown_version"),
        ({"question": "CORS?", "program": "agent"}, 422, "invalid_request"),
        ({"question": "CORS?", "surprise": 1}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ]
    for payload, status, code in cases:
        r = client.post("/v1/ask", json=payload)
        assert r.status_code == status, (payload, r.text)
        assert r.json()["error"]["code"] == code
        assert r.json()["error"]["message"]
    r = client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    long = client.post("/v1/ask", json={"question": "x" * 5000}).json()["error"]
    assert "5000 characters" in long["message"] and long["hint"]


def test_missing_index_is_503_with_retry_after(client: TestClient) -> None:
    services_of(client).programs["rag"].raise_error = IndexMissingError("no bm25 index for 0.141.1")
    r = client.post("/v1/ask", json={"question": "Anything?"})
    assert r.status_code == 503 and r.json()["error"]["code"] == "index_missing"
    assert "fda index" in r.json()["error"]["hint"] and r.headers["retry-after"]


def test_unexpected_error_is_a_logged_500_with_body(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app, raise_server_exceptions=False) as c:
        services_of(c).programs["rag"].raise_error = RuntimeError("boom")
        r = c.post("/v1/ask", json={"question": "Anything?"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


@contextmanager
def lm_never_answers(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, threading.Event]]:
    """A client whose rag program blocks until the event is set, with a 0.2 s answer budget: every ask times out."""
    settings.api.request_timeout_s = 0.2
    with TestClient(create_app(settings, lambda s: make_services(s, tmp_path))) as c:
        program = services_of(c).programs["rag"]
        program.block = threading.Event()
        yield c, program.block


def test_timeout_answers_retrieval_only(settings: Settings, tmp_path: Path) -> None:
    with lm_never_answers(settings, tmp_path) as (c, block):
        r = c.post("/v1/ask", json={"question": "How do I enable CORS?"})
        block.set()
        assert r.status_code == 200
        body = r.json()
        assert body["fallback"] is True and body["citations"] and not body["cached"]
        assert body["answer"].startswith("The language model did not answer within the time limit")  # not "unavailable"
        metrics = c.get("/metrics").text
        assert 'fda_fallbacks_total{reason="timeout"} 1.0' in metrics


def test_an_answer_past_its_budget_is_kept_for_the_next_ask(settings: Settings, tmp_path: Path) -> None:
    """The request falls back at its budget, but the LM call goes on in its slot; once written, the answer is in
    the cache, so "ask again in a moment" gets it without a second LM call."""
    with lm_never_answers(settings, tmp_path) as (c, block):
        services = services_of(c)
        first = c.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
        assert first["fallback"] is True
        assert services.gate.pending == 1 and len(services.flights) == 1  # still writing, still counted by the gate
        block.set()
        for _ in range(100):  # the flight lands on the service's loop
            if not len(services.flights):
                break
            time.sleep(0.05)
        again = c.post("/v1/ask", json={"question": "how do I enable CORS"}).json()
    assert again["fallback"] is False and again["cached"] is True and again["answer"]
    assert services.programs["rag"].calls == 1 and services.gate.pending == 0


def test_a_question_queued_behind_a_running_answer_has_a_deadline_too(settings: Settings, tmp_path: Path) -> None:
    """An answer past its budget keeps its LM slot until the LM is done; a different question queued behind it
    gets its retrieval-only reply at its own budget instead of waiting without one, and is still answered (and
    kept) when its turn comes."""
    settings.api.lm_concurrency = 1
    with lm_never_answers(settings, tmp_path) as (c, block):
        services = services_of(c)
        first = c.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
        t0 = time.perf_counter()
        queued = c.post("/v1/ask", json={"question": "How do I add a background task?"}).json()
        waited = time.perf_counter() - t0
        assert first["fallback"] is True and queued["fallback"] is True and waited < 5
        assert services.gate.pending == 2  # the running answer and the queued one, both kept going
        block.set()
        for _ in range(100):
            if not len(services.flights):
                break
            time.sleep(0.05)
        again = c.post("/v1/ask", json={"question": "How do I add a background task?"}).json()
    assert again["cached"] is True and again["fallback"] is False and services.programs["rag"].calls == 2


def test_the_same_question_at_once_is_answered_once(settings: Settings, tmp_path: Path) -> None:
    """A second ask while the first is being written waits on it (its own budget), rather than queueing a second
    LM call behind the first; both get the one answer."""
    settings.api.request_timeout_s = 5
    with TestClient(create_app(settings, lambda s: make_services(s, tmp_path))) as c:
        program = services_of(c).programs["rag"]
        program.block = threading.Event()
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(c.post, "/v1/ask", json={"question": "How do I enable CORS?"})
            second = pool.submit(c.post, "/v1/ask", json={"question": "How do I enable CORS?"})
            time.sleep(0.5)
            program.block.set()
            bodies = [first.result().json(), second.result().json()]
        metrics = c.get("/metrics").text
    assert program.calls == 1
    assert [b["fallback"] for b in bodies] == [False, False] and bodies[0]["answer"] == bodies[1]["answer"]
    assert 'fda_cache_total{cache="answer",result="joined"} 1.0' in metrics


def test_a_timeout_still_searches_the_versions_the_question_names(settings: Settings, tmp_path: Path) -> None:
    """The retrieval-only answer of a question about 0.68 shows 0.68's docs, as the programs would (seen as a
    newcomer in session 19: it showed the latest docs' "run the code" section)."""
    with lm_never_answers(settings, tmp_path) as (c, block):
        r = c.post("/v1/ask", json={"question": "In FastAPI 0.68, how do I enable CORS?"})
        pinned = c.post("/v1/ask", json={"question": "In FastAPI 0.68, how do I enable CORS?", "version": "0.141.1"})
        block.set()
    body = r.json()
    assert body["fallback"] is True and body["versions"] == ["0.68.0", "0.141.1"]
    assert "0.68.0" in {cite["version"] for cite in body["citations"]}
    assert pinned.json()["versions"] == ["0.141.1"]  # a version the request fixes is the only one searched


def test_full_queue_gets_503_retry_after(settings: Settings, tmp_path: Path) -> None:
    settings.api.lm_concurrency, settings.api.queue_size = 1, 0
    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app) as c:
        program = services_of(c).programs["rag"]
        program.block = threading.Event()
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(c.post, "/v1/ask", json={"question": "first question"})
            deadline = time.time() + 5
            while program.calls == 0 and time.time() < deadline:
                time.sleep(0.01)
            second = c.post("/v1/ask", json={"question": "second question"})
            program.block.set()
            assert first.result().status_code == 200
        assert second.status_code == 503 and second.headers["retry-after"] == "5"
        assert second.json()["error"]["code"] == "busy"


def test_search(client: TestClient) -> None:
    r = client.get("/v1/search", params={"q": "CORSMiddleware allow_origins", "k": 2})
    assert r.status_code == 200
    body = r.json()
    assert [h["rank"] for h in body["results"]] == [1, 2] and body["results"][0]["chunk_id"] == "c-cors"
    assert body["cached"] is False
    assert client.get("/v1/search", params={"q": "corsmiddleware  allow_origins", "k": 2}).json()["cached"] is True
    assert (
        client.get("/v1/search", params={"q": "startup", "version": "0.68.0"}).json()["results"][0]["version"]
        == "0.68.0"
    )
    for params, status in [
        ({"q": ""}, 422),
        ({"q": "x", "k": 0}, 422),
        ({"q": "x", "k": 999}, 422),
        ({"q": "x", "backend": "nope"}, 422),
        ({"q": "x", "version": "1.0"}, 400),
        ({}, 422),
    ]:
        resp = client.get("/v1/search", params=params)
        assert resp.status_code == status, (params, resp.text)
        assert "error" in resp.json()
    truncated = client.get("/v1/search", params={"q": "cors " * 1000}).json()
    assert truncated["truncated"] is True


def test_sources(client: TestClient) -> None:
    r = client.get("/v1/sources/c-cors")
    assert r.status_code == 200 and r.json()["title"] == "CORS > Use CORSMiddleware"
    assert r.json()["section_text"].endswith("(whole section)")
    missing = client.get("/v1/sources/nope")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no chunk with id 'nope'"


def test_feedback_is_stored(client: TestClient, tmp_path: Path) -> None:
    trace = client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()["trace_id"]
    r = client.post("/v1/feedback", json={"trace_id": trace, "rating": "down", "comment": "wrong page"})
    assert r.status_code == 201 and r.json()["stored"] is True
    assert client.post("/v1/feedback", json={"trace_id": trace, "rating": "meh"}).status_code == 422
    flush_spool(tmp_path / "spool", tmp_path / "logs.duckdb")
    con = duckdb.connect(str(tmp_path / "logs.duckdb"))  # same process as the app's flusher: same config
    assert con.execute("SELECT trace_id, rating, comment FROM feedback").fetchall() == [(trace, "down", "wrong page")]
    assert con.execute("SELECT count(*) FROM query_log WHERE trace_id = ?", [trace]).fetchone()[0] == 1
    con.close()


def test_health_ready_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert ready.json()["checks"] == {}  # the fake program has no trust checks
    services_of(client).readiness["lm"] = "not loaded: connection refused"
    assert client.get("/readyz").status_code == 503
    client.post("/v1/ask", json={"question": "How do I enable CORS?"})
    text = client.get("/metrics").text
    assert 'fda_requests_total{route="/v1/ask",status="200"}' in text
    assert "fda_request_seconds_bucket" in text and 'fda_cache_total{cache="answer",result="miss"}' in text
    assert client.get("/openapi.json").json()["paths"]["/v1/ask"]


def test_request_id_echoed(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"


def test_concurrent_asks_all_logged_exactly_once(settings: Settings, tmp_path: Path) -> None:
    settings.api.lm_concurrency, settings.api.queue_size = 4, 100
    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app) as c, ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda i: c.post("/v1/ask", json={"question": f"question {i} cors"}).status_code, range(40))
        )
    assert codes == [200] * 40
    con = duckdb.connect(str(tmp_path / "logs.duckdb"), read_only=True)  # the shutdown flush ran
    n, distinct = con.execute("SELECT count(*), count(DISTINCT trace_id) FROM query_log").fetchone()
    con.close()
    assert n == distinct == 40


def _sse(text: str) -> list[tuple[str, dict | list]]:
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_stream_events_in_order(client: TestClient) -> None:
    r = client.post("/v1/ask/stream", json={"question": "How do I enable CORS?"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _sse(r.text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "meta" and kinds[-2:] == ["citations", "final"] and "token" in kinds
    tokens = "".join(d["text"] for k, d in events if k == "token").strip()
    final = events[-1][1]
    assert tokens == final["answer"] and final["citations"][0]["url"].endswith("#use-corsmiddleware")
    # the sources come before the first token, numbered as the answer's markers number them
    assert kinds.index("sources") < kinds.index("token")
    sources = dict(events)["sources"]
    assert sources[0]["number"] == 1 and sources[0]["url"] == final["citations"][0]["url"] and sources[0]["snippet"]


def test_stream_tokens_go_out_a_sentence_at_a_time_without_foreign_links(client: TestClient) -> None:
    """The draft a client shows before ``final`` never carries a link an injected instruction asked for."""
    services_of(client).programs["rag"].text = "Log in at https://evil.example/login first. Add CORSMiddleware [1]."
    events = _sse(client.post("/v1/ask/stream", json={"question": "How do I enable CORS?"}).text)
    tokens = [d["text"] for k, d in events if k == "token"]
    assert tokens and not any("evil.example" in t for t in tokens)
    assert tokens[0].startswith("Log in at (link removed") and tokens[0].endswith("first. ")  # one whole sentence


def test_sources_are_sent_before_the_lm_finishes(settings: Settings, tmp_path: Path) -> None:
    """With the LM blocked after retrieval, the stream has already carried the sources."""
    import threading

    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app) as c:
        program = services_of(c).programs["rag"]
        program.block_after_sources = threading.Event()
        seen: list[str] = []
        with c.stream("POST", "/v1/ask/stream", json={"question": "How do I enable CORS?"}) as r:
            for line in r.iter_lines():
                if line.startswith("event:"):
                    seen.append(line.split(":", 1)[1].strip())
                    if seen[-1] == "sources":
                        assert "token" not in seen and "final" not in seen
                        program.block_after_sources.set()  # the LM may go on now
        assert seen[:2] == ["meta", "sources"] and seen[-1] == "final"


def test_a_declined_question_sends_no_sources(client: TestClient) -> None:
    services_of(client).programs["rag"].decline = True
    events = _sse(client.post("/v1/ask/stream", json={"question": "Write me a poem"}).text)
    assert "sources" not in [k for k, _ in events] and events[-1][0] == "final"


def test_concurrent_streams_do_not_mix(client: TestClient) -> None:
    questions = [f"How do I enable CORS number {i}?" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda q: client.post("/v1/ask/stream", json={"question": q}).text, questions))
    for q, text in zip(questions, texts, strict=True):
        events = _sse(text)
        tokens = "".join(d["text"] for k, d in events if k == "token").strip()
        assert q in tokens and tokens == events[-1][1]["answer"]


def test_stream_bad_input_is_plain_4xx(client: TestClient) -> None:
    assert client.post("/v1/ask/stream", json={"question": " "}).status_code == 422
    assert client.post("/v1/ask/stream", json={"question": "x", "version": "2.0"}).status_code == 400


def test_stream_error_reported_in_band(client: TestClient) -> None:
    services_of(client).programs["rag"].raise_error = RuntimeError("model crashed")
    events = _sse(client.post("/v1/ask/stream", json={"question": "How do I enable CORS?"}).text)
    assert events[-1][0] == "error" and "model crashed" in events[-1][1]["message"]


def test_readyz_while_an_index_builds_in_the_background(client: TestClient) -> None:
    """Serving on fewer signals is ready (200) but says what is degraded and how far the build is; once the
    build is done the service is whole, and a failed build stays degraded with its command."""

    class Build:
        name = "colbert"
        state = "building"

        def summary(self) -> str:
            return "ok" if self.state == "done" else f"degraded: colbert index {self.state}"

        def describe(self) -> dict[str, object]:
            return {"index": self.name, "state": self.state, "elapsed_s": 12.0, "expected_s": 600}

    build = Build()
    services_of(client).builds.append(build)
    body = client.get("/readyz")
    assert body.status_code == 200 and body.json()["ready"] is True
    assert body.json()["degraded"] == ["index.colbert"]
    assert body.json()["components"]["index.colbert"] == "degraded: colbert index building"
    assert body.json()["builds"] == [{"index": "colbert", "state": "building", "elapsed_s": 12.0, "expected_s": 600}]
    build.state = "done"
    body = client.get("/readyz").json()
    assert body["degraded"] == [] and "index.colbert" not in body["components"]
    services_of(client).readiness["lm"] = "not available: connection refused"  # degraded is not a way round this
    build.state = "failed"
    assert client.get("/readyz").status_code == 503


def test_caches_can_be_emptied() -> None:
    from api.cache import TTLCache

    cache = TTLCache(4, 60)
    cache.put("a", 1)
    cache.clear()
    assert cache.get("a") is None and cache.stats()["size"] == 0


def test_each_answer_is_a_trace_whose_id_the_response_carries(settings: Settings, tmp_path: Path) -> None:
    from fda.tracing import read_trace

    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app) as c:
        plain = c.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
        with c.stream("POST", "/v1/ask/stream", json={"question": "How do I add a middleware?"}) as resp:
            streamed = resp.headers["X-Trace-Id"]
            resp.read()
        metrics = c.get("/metrics").text  # the same spans feed /metrics: per-stage latency, outcomes
        assert 'fda_stage_seconds_count{stage="ask"} 2.0' in metrics
        assert 'fda_answers_total{cached="false",outcome="answered"} 2.0' in metrics
    # the app's shutdown flushed the spans to <state_dir>/logs/traces.jsonl
    # (FastAPI's own request spans join the trace when this provider is OpenTelemetry's global one)
    (ask,) = [s for s in read_trace(settings.traces_file, plain["trace_id"]) if s["name"] == "ask"]
    assert ask["attributes"]["stream"] is False and ask["attributes"]["cached"] is False
    assert ask["attributes"]["program_version"] == "uncompiled"
    (stream,) = [s for s in read_trace(settings.traces_file, streamed) if s["name"] == "ask"]
    assert stream["attributes"]["stream"] is True and stream["attributes"]["cannot_answer"] is False
    assert stream["attributes"]["program_version"] == "uncompiled"  # outcomes on streamed questions' roots too


def test_tracing_off_records_nothing(tmp_path: Path) -> None:
    s = Settings(state_dir=tmp_path, tracing={"enabled": False})  # type: ignore[arg-type]
    with TestClient(create_app(s, lambda st: make_services(st, tmp_path))) as c:
        body = c.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
    assert len(body["trace_id"]) == 32 and not s.traces_file.exists()


def test_lm_spans_feed_throughput_counters() -> None:
    from api.telemetry import Telemetry

    t = Telemetry()
    t.span_ended("lm", 2.0, {"lm.model": "m", "lm.cached": False, "lm.completion_tokens": 50})
    t.span_ended("lm", 0.01, {"lm.model": "m", "lm.cached": True})  # DSPy's cache: not LM time
    t.span_ended("verify", 0.003, {})
    text = t.render().decode()
    assert 'fda_lm_seconds_total{model="m"} 2.0' in text and 'fda_lm_completion_tokens_total{model="m"} 50.0' in text
    assert 'fda_stage_seconds_count{stage="lm"} 2.0' in text and 'fda_stage_seconds_count{stage="verify"} 1.0' in text
    t.outcome({"cannot_answer": True}, cached=True)
    t.outcome({"fallback": True, "refused": True}, cached=False)
    text = t.render().decode()
    assert 'fda_answers_total{cached="true",outcome="declined"} 1.0' in text
    assert 'fda_answers_total{cached="false",outcome="fallback"} 1.0' in text


def test_answers_cached_before_a_signal_came_online_are_not_served_after(client: TestClient) -> None:
    services = services_of(client)
    first = client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
    assert client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()["cached"] is True
    services.index_generation += 1  # what attaching the background-built colbert index does
    again = client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
    assert again["cached"] is False and again["answer"] == first["answer"]


def test_probes_and_scrapes_are_not_traced(settings: Settings, tmp_path: Path) -> None:
    """A health probe every few seconds would fill the trace file: only questions are recorded."""
    import json as _json

    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app) as c:
        for path in ("/readyz", "/healthz", "/metrics", "/readyz"):
            c.get(path)
        c.post("/v1/ask", json={"question": "How do I enable CORS?"})
    names = {_json.loads(line)["name"] for line in settings.traces_file.read_text().splitlines()}
    assert "ask" in names and not any(n.startswith(("GET /readyz", "GET /healthz", "GET /metrics")) for n in names)


class YieldingBuild:
    """Records what the service tells a background build (index/retrieval/background.py ``yield_to``)."""

    name = "older versions"

    def __init__(self) -> None:
        self.calls: list[bool] = []
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def yield_to(self, busy: bool) -> None:
        self.calls.append(busy)

    def summary(self) -> str:
        return "degraded: building"

    def describe(self) -> dict[str, object]:
        return {"index": self.name, "state": "building"}


def test_a_background_build_steps_aside_while_an_answer_is_made(client: TestClient) -> None:
    """The LM gate's first request pauses the builds and its last one resumes them, for /v1/ask, the stream and
    a failing answer alike; a cached answer touches nothing. A build added while answers run starts paused."""
    services = services_of(client)
    build = YieldingBuild()
    services.add_build(build)
    assert build.started and build.calls == [False]  # nothing running at start
    program = services.programs["rag"]
    seen: list[list[bool]] = []
    original = type(program).__call__

    def spy(self: object, question: str, version: str | None = None) -> object:
        seen.append(list(build.calls))  # what the build had been told when the LM work began
        return original(self, question, version)  # type: ignore[arg-type]

    type(program).__call__ = spy  # type: ignore[method-assign]
    try:
        assert client.post("/v1/ask", json={"question": "How do I enable CORS?"}).status_code == 200
        assert seen[-1][-1] is True and build.calls[-1] is False
        n = len(build.calls)
        assert client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()["cached"] is True
        assert len(build.calls) == n  # the cache answered: no LM, no pause
        program.raise_error = IndexMissingError("no bm25 index for 0.141.1")  # type: ignore[attr-defined]
        assert client.post("/v1/ask", json={"question": "How do I add a header?"}).status_code == 503
        assert build.calls[-2:] == [True, False]  # resumed after a failure too
        program.raise_error = None  # type: ignore[attr-defined]
        stream = client.post("/v1/ask/stream", json={"question": "How do I set a cookie?"})
        assert _sse(stream.text)[-1][0] == "final" and build.calls[-2:] == [True, False]
    finally:
        type(program).__call__ = original  # type: ignore[method-assign]
        program.raise_error = None  # type: ignore[attr-defined]
    late = YieldingBuild()
    services.gate.pending += 1  # as if an answer were running
    try:
        services.add_build(late)
    finally:
        services.gate.pending -= 1
    assert late.calls == [True]
    assert build.stop in services.closers and late.stop in services.closers  # ended with the service
