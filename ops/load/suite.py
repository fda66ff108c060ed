"""``fda bench load``: a bounded load test of the HTTP service on loopback, and a soak that watches memory.

    fda bench load                          # starts `fda serve` on a free port, runs every scenario, stops it
    fda bench load --url http://127.0.0.1:8000 --pid 1234 --scenario search

Scenarios (closed loop: each user sends its next request when the previous one answered):

- ``search``: ``GET /v1/search`` with the BM25 backend (``--backend``), every query made unique (a nonsense
  suffix word, ignored by BM25) so the search cache never answers: the cost of a real search.
- ``search-paced``: the same, each user starting a request every ``users / --rate`` seconds (200 requests/s
  offered by 50 users by default): the latency at the target rate rather than at saturation.
- ``search-default``: the same with the server's configured backend (hybrid by default: BM25 + dense + ColBERT).
- ``search-cached``: the gold questions repeated with the configured backend: cache hits after the first pass.
- ``ask-lm``: ``POST /v1/ask`` with distinct questions (the server runs with DSPy's response cache off), few
  users: LM-bound. The questions it answers warm the answer cache for the next scenario.
- ``ask-cached``: ``POST /v1/ask`` over the answered questions only: answer-cache hits.
- ``soak``: ``search`` and ``ask-cached`` requests alternating for ``--duration``, sampling the server's RSS.

Without pacing, 50 users with no think time saturate the server and, by Little's law, the mean latency is
users / throughput (50 users at 400 req/s: 125 ms) whatever the per-request cost: ``search`` gives the most
requests per second, ``search-paced`` the latency at the target rate.

Latency is measured by the client (from sending the request to reading the whole body); the generator runs on
the same machine as the server and takes CPU from it, so on 2 cores the numbers are lower bounds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Protocol

from ops.load.runner import Send, run_closed_loop
from ops.load.server import RssSeries, sample_rss
from ops.load.stats import Sample, Summary, error_kinds, memory_trend, summarize

log = logging.getLogger(__name__)

SCENARIOS = ("search", "search-paced", "search-default", "search-cached", "ask-lm", "ask-cached", "soak")


class HttpClient(Protocol):
    async def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]: ...

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]: ...


class AiohttpClient:
    """A pooled aiohttp session (much less client CPU per request than httpx, which matters on 2 cores)."""

    def __init__(self, base_url: str, connections: int = 100, timeout_s: float = 300.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.connections = connections
        self.timeout_s = timeout_s
        self._session: Any = None

    async def __aenter__(self) -> AiohttpClient:
        import aiohttp

        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections),
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.close()

    async def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        async with self._session.get(self.base_url + path, params=params) as resp:
            return int(resp.status), await resp.read()

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        async with self._session.post(self.base_url + path, json=body) as resp:
            return int(resp.status), await resp.read()


def search_send(
    client: HttpClient, queries: Sequence[str], k: int = 10, backend: str | None = None, unique: bool = True
) -> Send:
    """Request ``i`` searches ``queries[i % n]``; ``unique`` appends a word no index knows (a cache miss)."""

    async def send(i: int) -> int:
        q = queries[i % len(queries)]
        params = {"q": f"{q} zq{i:x}" if unique else q, "k": str(k)}
        if backend:
            params["backend"] = backend
        status, _ = await client.get("/v1/search", params)
        return status

    return send


@dataclass
class AskTally:
    """What the ask requests saw: answered (not fallback) questions, answer-cache hits."""

    answered: list[str] = field(default_factory=list)
    cached: int = 0
    fallbacks: int = 0


def ask_send(client: HttpClient, questions: Sequence[str], tally: AskTally, cycle: bool = True) -> Send:
    """Request ``i`` asks ``questions[i % n]`` (``cycle=False``: each question once; pair with max_requests)."""

    async def send(i: int) -> int:
        question = questions[i % len(questions)] if cycle else questions[i]
        status, body = await client.post("/v1/ask", {"question": question})
        if status == 200:
            data = json.loads(body)
            tally.cached += bool(data.get("cached"))
            if data.get("fallback"):
                tally.fallbacks += 1
            elif question not in tally.answered:
                tally.answered.append(question)
        return status

    return send


def alternate(first: Send, second: Send) -> Send:
    async def send(i: int) -> int:
        return await (first if i % 2 == 0 else second)(i // 2)

    return send


@dataclass
class LoadConfig:
    scenarios: Sequence[str] = SCENARIOS
    users: int = 50
    lm_users: int = 4
    scenario_s: float = 30.0
    lm_s: float = 120.0
    soak_s: float = 300.0
    sample_s: float = 5.0
    backend: str = "bm25"
    k: int = 10
    warm: int = 6
    rate: float = 200.0  # requests per second offered in search-paced
    generator: str = "aiohttp"  # the search scenarios' generator: aiohttp (in process) or locust (headless); the CLI picks locust when installed


@dataclass
class LoadReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    soak: dict[str, Any] | None = None


def _row(summary: Summary, endpoint: str, backend: str, note: str = "") -> dict[str, Any]:
    return {
        "scenario": summary.scenario,
        "endpoint": endpoint,
        "backend": backend,
        "users": summary.users,
        "requests": summary.requests,
        "errors": summary.errors,
        "error_pct": round(100 * summary.error_rate, 2),
        "rps": round(summary.rps, 2),
        "p50_ms": round(summary.p50_ms, 1),
        "p95_ms": round(summary.p95_ms, 1),
        "p99_ms": round(summary.p99_ms, 1),
        "max_ms": round(summary.max_ms, 1),
        "note": note,
    }


async def run_load(
    client: HttpClient,
    cfg: LoadConfig,
    queries: Sequence[str],
    questions: Sequence[str],
    default_backend: str,
    server_pid: int | None = None,
    url: str | None = None,
) -> LoadReport:
    """Run the chosen scenarios in a fixed order (LM-bound asks first: they warm the answer cache). With
    ``cfg.generator == "locust"`` the search scenarios run as headless locust against ``url``."""
    report = LoadReport()
    tally = AskTally()

    def record(
        name: str, samples: list[Sample], wall: float, users: int, endpoint: str, backend: str, note: str
    ) -> None:
        summary = summarize(name, users, samples, wall)
        report.rows.append(_row(summary, endpoint, backend, note))
        if summary.errors:
            report.errors[name] = error_kinds(samples)
        log.info("%s: %d requests, %.1f rps, p95 %.1f ms", name, summary.requests, summary.rps, summary.p95_ms)

    async def search(name: str, backend: str | None, shown: str, unique: bool, note: str, pace_s: float = 0.0) -> None:
        if cfg.generator == "locust":
            if url is None:
                raise RuntimeError("the locust generator needs the server's URL")
            from ops.load.locust_runner import run_locust

            summary, errors = await asyncio.to_thread(
                run_locust, url, name, users=cfg.users, duration_s=cfg.scenario_s, queries=queries, k=cfg.k,
                backend=backend, unique=unique, pace_s=pace_s,
            )  # fmt: skip
            report.rows.append(_row(summary, "GET /v1/search", shown, f"{note}; locust"))
            if errors:
                report.errors[name] = errors
            return
        send = search_send(client, queries, cfg.k, backend, unique=unique)
        samples, wall = await run_closed_loop(send, cfg.users, cfg.scenario_s, pace_s=pace_s)
        record(name, samples, wall, cfg.users, "GET /v1/search", shown, note)

    chosen = [s for s in SCENARIOS if s in cfg.scenarios]
    if "search" in chosen:
        await search("search", cfg.backend, cfg.backend, True, "unique queries: cache misses")
    if "search-paced" in chosen:
        note = f"unique queries, {cfg.rate:.0f} req/s offered"
        await search("search-paced", cfg.backend, cfg.backend, True, note, pace_s=cfg.users / cfg.rate)
    if "search-default" in chosen:
        await search("search-default", None, default_backend, True, "unique queries")
    if "search-cached" in chosen:
        fill = search_send(client, queries, cfg.k, None, unique=False)
        await run_closed_loop(fill, min(cfg.users, 8), max_requests=len(queries))  # fill the cache
        await search("search-cached", None, default_backend, False, "repeated: cache hits")
    if "ask-lm" in chosen:
        send = ask_send(client, questions, tally, cycle=False)
        samples, wall = await run_closed_loop(
            send, cfg.lm_users, cfg.lm_s, max_requests=len(questions), grace_s=max(30.0, cfg.lm_s)
        )
        note = f"distinct questions; {len(tally.answered)} answered, {tally.fallbacks} fallbacks"
        record("ask-lm", samples, wall, cfg.lm_users, "POST /v1/ask", default_backend, note)
    needs_answers = "ask-cached" in chosen or "soak" in chosen
    if needs_answers and not tally.answered:  # warm the answer cache: one question at a time
        await run_closed_loop(ask_send(client, questions, tally, cycle=False), 1, max_requests=cfg.warm)
        if not tally.answered:
            raise RuntimeError("no question was answered while warming the answer cache (is the LM up? see /readyz)")
    if "ask-cached" in chosen:
        before = tally.cached
        send = ask_send(client, list(tally.answered), tally)
        samples, wall = await run_closed_loop(send, cfg.users, cfg.scenario_s)
        hits = tally.cached - before
        note = f"{len(tally.answered)} warm questions; {hits}/{len(samples)} cache hits"
        record("ask-cached", samples, wall, cfg.users, "POST /v1/ask", default_backend, note)
    if "soak" in chosen:
        send = alternate(
            search_send(client, queries, cfg.k, cfg.backend, unique=True), ask_send(client, list(tally.answered), tally)
        )
        if server_pid is None:
            samples, wall = await run_closed_loop(send, cfg.users, cfg.soak_s)
            series = RssSeries()
        else:
            with sample_rss(server_pid, cfg.sample_s) as series:
                samples, wall = await run_closed_loop(send, cfg.users, cfg.soak_s)
        record("soak", samples, wall, cfg.users, "search + cached ask", cfg.backend, f"{cfg.soak_s:.0f} s")
        report.soak = {
            "duration_s": round(wall, 1),
            "sample_s": cfg.sample_s,
            "server": {k: _round(v) for k, v in asdict(memory_trend(series.server)).items()},
            "server_and_children": {k: _round(v) for k, v in asdict(memory_trend(series.tree)).items()},
            "series": [(round(t, 1), round(mb, 1)) for t, mb in series.server],
        }
    return report


def _round(value: float | int) -> float | int:
    return round(value, 2) if isinstance(value, float) else value


def gold_texts() -> tuple[list[str], list[str]]:
    """Search queries (every gold question) and ask questions (the answerable how-to and factoid ones first)."""
    from eval.gold import load_gold

    rows = load_gold()
    first = [r.question for r in rows if r.type in ("howto", "factoid")]
    rest = [r.question for r in rows if r.type not in ("howto", "factoid")]
    return [r.question for r in rows], first + rest


def now_stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")
