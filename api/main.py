"""The FastAPI app: ``create_app()`` for uvicorn, services loaded once in ``lifespan``.

uvicorn --factory api.main:create_app      # what `fda serve` runs
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request, Response

from api import errors
from api.querylog import flush_spool
from api.routers import ask, feedback, health, search, sources
from api.services import Services, build_services
from fda.settings import Settings, get_settings

log = logging.getLogger(__name__)

ServicesFactory = Callable[[Settings], Services]


async def _flush_forever(services: Services) -> None:
    while True:
        await asyncio.sleep(services.settings.api.log_flush_s)
        try:
            await anyio.to_thread.run_sync(flush_spool, services.spool_dir, services.logs_db)
        except Exception:  # a failed flush loses nothing: lines stay in the spool for the next one
            log.exception("query-log flush failed; will retry")


def create_app(settings: Settings | None = None, services_factory: ServicesFactory | None = None) -> FastAPI:
    settings = settings or get_settings()
    factory = services_factory or build_services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await anyio.to_thread.run_sync(factory, settings)
        app.state.services = services
        flusher = asyncio.create_task(_flush_forever(services))
        log.info("ready: %s", services.readiness)
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            services.close()
            await anyio.to_thread.run_sync(flush_spool, services.spool_dir, services.logs_db)

    app = FastAPI(
        title="FastAPI Docs Assistant",
        version="0.1.0",
        description="Answers about FastAPI with citations to the exact section of the official docs.",
        lifespan=lifespan,
    )
    errors.install(app, settings.api.retry_after_s)
    for router in (ask.router, search.router, sources.router, feedback.router, health.router):
        app.include_router(router)

    @app.middleware("http")
    async def request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        t0 = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - t0
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        services: Services | None = getattr(request.app.state, "services", None)
        if services is not None:
            services.telemetry.requests.labels(route=path, status=str(response.status_code)).inc()
            services.telemetry.latency.labels(route=path).observe(elapsed)
        response.headers["X-Request-ID"] = rid
        log.info(
            "%s %s -> %d in %.1f ms",
            request.method,
            request.url.path,
            response.status_code,
            elapsed * 1000,
            extra={"request_id": rid},
        )
        return response

    return app
