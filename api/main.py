"""The FastAPI app: ``create_app()`` for uvicorn, services loaded once in ``lifespan``.

uvicorn --factory api.main:create_app      # what `fda serve` runs
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import MutableHeaders
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.insights import export_metrics
from api.logstore import LogStoreError, open_log_store
from api.mcp import answer_with, build_mcp
from api.querylog import LogStore, flush_spool
from api.routers import agent, ask, feedback, health, search, sources
from api.security import ApiKeyAuth, BodyLimit, RateLimit, SecurityHeaders
from api.services import Services
from api.telemetry import StageMetrics
from api.wiring import wire
from fda.errors import IndexMissingError
from fda.settings import Settings, get_settings
from fda.tracing import setup_tracing, stop_tracing
from programs.tools.docs import DocsTools

log = logging.getLogger(__name__)

ServicesFactory = Callable[[Settings], Services]


async def _flush_forever(services: Services, store: LogStore) -> None:
    failures = 0
    while True:
        await asyncio.sleep(services.settings.api.log_flush_s)
        try:
            await anyio.to_thread.run_sync(flush_spool, services.spool_dir, store)
        except LogStoreError as err:  # says what to check, never the DSN; logged once a minute or so while down
            if failures % max(1, round(60 / services.settings.api.log_flush_s)) == 0:
                log.error("query-log flush failed (%d in a row); will retry: %s", failures + 1, err)
            failures += 1
            continue
        except Exception:  # a failed flush loses nothing: lines stay in the spool for the next one
            log.exception("query-log flush failed; will retry")
            continue
        if failures:
            log.info("query-log store reachable again after %d failed flushes", failures)
            failures = 0


class RequestContext:
    """Request id (``X-Request-ID``, echoed or made up), Prometheus request count and latency (until the
    response starts, as before), one log line per request. Plain ASGI rather than ``@app.middleware("http")``:
    Starlette's BaseHTTPMiddleware runs every request through an extra task group and memory stream; replacing
    it was part of taking GET /v1/search from 326 to 590 req/s (docs/benchmarks.md, HTTP service under load)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = rid or f"{random.getrandbits(64):016x}"  # no uuid4: its urandom syscall gives up the GIL
        t0 = time.perf_counter()
        done = False

        def record(status: int) -> None:
            nonlocal done
            done = True
            elapsed = time.perf_counter() - t0
            path = getattr(scope.get("route"), "path", "unmatched")
            app = scope.get("app")
            services: Services | None = getattr(getattr(app, "state", None), "services", None)
            if services is not None:
                services.telemetry.requests.labels(route=path, status=str(status)).inc()
                services.telemetry.latency.labels(route=path).observe(elapsed)
            log.info(
                "%s %s -> %d in %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={"request_id": rid},
            )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", rid)
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not done:  # an exception before any response: the error middleware answers 500
                record(500)


def mcp_server_for(app: FastAPI, settings: Settings) -> MCPServer:
    """The MCP server over the services this app loads at start-up (api/mcp.py); ``check_code`` only when
    ``api.mcp_code_tool`` is on."""

    def tools() -> DocsTools:
        services: Services | None = getattr(app.state, "services", None)
        if services is None or services.docs_tools is None:
            raise IndexMissingError(
                "the docs tools are not available: the service has no docs store",
                hint="Run `fda ingest` (or `make run`), then restart the service.",
            )
        return services.docs_tools

    async def answer(question: str, version: str | None) -> dict[str, Any]:
        return await answer_with(app.state.services, question, version)

    def checker() -> Any:
        services: Services | None = getattr(app.state, "services", None)
        return services.code_checker if services is not None else None

    return build_mcp(tools, answer, checker if settings.api.mcp_code_tool else None)


class McpEndpoint:
    """/mcp: the streamable HTTP transport of this app's current lifespan. The SDK's session manager runs once
    per server, so each start-up (a restart in the same process, a second test client) builds its own server and
    transport here; between lifespans /mcp answers 503."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            body = b'{"error": {"code": "starting", "message": "the MCP server is not running"}}'
            await send(
                {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    @asynccontextmanager
    async def serving(self, app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        server = mcp_server_for(app, settings)
        hosts = settings.api.mcp_allowed_hosts
        security = TransportSecuritySettings(enable_dns_rebinding_protection=bool(hosts), allowed_hosts=hosts)
        self.app = server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, json_response=True, transport_security=security
        )
        try:
            async with server.session_manager.run():
                yield
        finally:
            self.app = None


def create_app(settings: Settings | None = None, services_factory: ServicesFactory | None = None) -> FastAPI:
    settings = settings or get_settings()
    factory = services_factory or wire
    mcp = McpEndpoint() if settings.api.mcp else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracing = settings.tracing
        insights = settings.azure.monitor_connection_string
        connection = insights.get_secret_value() if insights is not None else None
        provider = None
        if tracing.enabled:
            provider = setup_tracing(
                settings.traces_file,
                tracing.otlp_endpoint,
                tracing.sample_ratio,
                tracing.service_name,
                max_file_mb=tracing.max_file_mb,
                azure_monitor=connection,
            )
        services = await anyio.to_thread.run_sync(factory, settings)
        try:
            store = open_log_store(settings, services.logs_db)  # api.log_store=postgres without a DSN stops here
        except Exception:
            services.close()
            raise
        if provider is not None:  # per-stage latency and LM throughput on /metrics, from the same spans
            provider.add_span_processor(StageMetrics(services.telemetry))
        app.state.services = services
        # The loaded indexes and models are millions of long-lived objects: keep the collector from walking
        # them on every full collection (each one stalled all requests for ~0.5 s under load).
        gc.collect()
        gc.freeze()
        meters = export_metrics(services.telemetry, connection) if connection else None  # /metrics to App Insights
        flusher = asyncio.create_task(_flush_forever(services, store))
        log.info("ready: %s", services.components())
        try:
            async with mcp.serving(app, settings) if mcp is not None else contextlib.nullcontext():
                yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            services.close()
            try:
                await anyio.to_thread.run_sync(flush_spool, services.spool_dir, store)
            except LogStoreError as err:  # the next start on this machine (or a replica sharing the folder) moves them
                log.error("last query-log flush failed; the lines stay in %s: %s", services.spool_dir, err)
            if meters is not None:
                meters.shutdown()
            if tracing.enabled:
                stop_tracing()

    app = FastAPI(
        title="FastAPI Docs Assistant",
        version="0.1.0",
        description="Answers about FastAPI with citations to the exact section of the official docs.",
        lifespan=lifespan,
    )
    errors.install(app, settings.api.retry_after_s)
    for router in (ask.router, agent.router, search.router, sources.router, feedback.router, health.router):
        app.include_router(router)
    if mcp is not None:  # streamable HTTP at /mcp, behind the same keys, limits and headers as the rest
        app.router.routes.append(Route("/mcp", endpoint=mcp))

    harden(app, settings)
    app.add_middleware(RequestContext)

    return app


def harden(app: FastAPI, settings: Settings) -> None:
    """api/security.py's layers, outermost last: a request meets security headers, CORS, the body limit,
    the key check, then the rate limit; RequestContext (added after) logs and counts even the refusals."""
    api = settings.api
    if api.rate_limit_per_minute:
        app.add_middleware(RateLimit, per_minute=api.rate_limit_per_minute, burst=api.rate_limit_burst)
    if api.api_keys:
        app.add_middleware(ApiKeyAuth, keys=[k.get_secret_value() for k in api.api_keys])
    app.add_middleware(BodyLimit, max_bytes=api.max_body_bytes)
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=api.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    if api.security_headers:
        app.add_middleware(SecurityHeaders, hsts=api.hsts)
