"""The only place typed errors become HTTP status codes, with one error body shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.gate import BusyError
from fda.errors import (
    FDAError,
    IndexMissingError,
    InvalidQuestionError,
    SearchUnavailableError,
    StoreError,
    UnknownVersionError,
)

log = logging.getLogger(__name__)

STATUS: list[tuple[type[FDAError], int, str]] = [
    (InvalidQuestionError, 422, "invalid_question"),
    (UnknownVersionError, 400, "unknown_version"),
    (BusyError, 503, "busy"),
    (IndexMissingError, 503, "index_missing"),
    (StoreError, 503, "store_unavailable"),
    (SearchUnavailableError, 503, "search_unavailable"),  # Azure AI Search throttled or down (docs/azure.md)
]


def error_body(code: str, message: str, hint: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message, "hint": hint}}


def install(app: FastAPI, retry_after_s: int) -> None:
    @app.exception_handler(FDAError)
    async def _typed(request: Request, err: FDAError) -> JSONResponse:
        status, code = 500, "internal_error"
        for cls, st, cd in STATUS:
            if isinstance(err, cls):
                status, code = st, cd
                break
        if status == 500:
            log.exception("unmapped error", exc_info=err)
        headers = {"Retry-After": str(retry_after_s)} if status == 503 else None
        return JSONResponse(error_body(code, err.args[0] if err.args else str(err), err.hint), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> JSONResponse:
        parts = []
        for e in err.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return JSONResponse(error_body("invalid_request", "; ".join(parts), "See the OpenAPI docs at /docs."), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body("http_error", str(err.detail)), err.status_code, headers=err.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path, exc_info=err)
        return JSONResponse(error_body("internal_error", "unexpected server error", "It was logged; retry."), 500)
