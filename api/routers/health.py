"""GET /healthz (alive), /readyz (index and LM loaded; 200 also while degraded, e.g. the colbert index still
building in the background, which ``degraded`` and ``builds`` show), /metrics (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


def checks_of(program: object, lm: object | None = None) -> dict[str, object]:
    """The default program's trust checks (docs/trust.md): the scope gate's threshold (None: not loaded),
    whether the premise check runs, the verification mode, whether the LM intent check asks the LM served
    (``lm``: the program's own answer LM first). Empty for a program without them."""
    checks = getattr(program, "checks", None)
    describe = getattr(checks, "describe", None)
    served = getattr(program, "answer_lm", None) or getattr(program, "lm", None) or lm  # multihop keeps it in .lm
    return dict(describe(served)) if callable(describe) else {}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    body = {
        "ready": services.ready,
        "components": services.components(),
        "degraded": services.degraded,
        "builds": [build.describe() for build in services.builds],
        "versions": services.versions,
        "latest": services.latest,
        "program_version": services.program_version(services.settings.api.default_program),
        "program_versions": {name: services.program_version(name) for name in services.programs},
        "checks": checks_of(services.programs.get(services.settings.api.default_program), services.lm),
    }
    return JSONResponse(body, status_code=200 if services.ready else 503)


@router.get("/metrics")
async def metrics(services: ServicesDep) -> Response:
    for name, cache in (("answer", services.answer_cache), ("search", services.search_cache)):
        services.telemetry.cache_entries.labels(cache=name).set(cache.stats()["size"])
    return Response(services.telemetry.render(), media_type="text/plain; version=0.0.4")
