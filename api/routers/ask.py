"""POST /v1/ask (JSON) and POST /v1/ask/stream (Server-Sent Events)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse

from api import answering
from api.deps import ServicesDep
from api.schemas import AskRequest, AskResponse, ErrorResponse
from programs.guard import check_question

router = APIRouter(prefix="/v1", tags=["ask"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}


@router.post("/ask", response_model=AskResponse, responses=ERRORS)
async def ask(req: AskRequest, services: ServicesDep) -> AskResponse:
    """Answer with citations (URL#anchor), or say it cannot answer from the docs."""
    return await answering.ask(services, req)


@router.post("/ask/stream", responses=ERRORS)
async def ask_stream(req: AskRequest, services: ServicesDep) -> EventSourceResponse:
    """SSE: ``token`` events while the answer is written, then ``citations`` and ``final``
    (the final answer text is the validated one: made-up citation markers are stripped there)."""
    question = check_question(req.question, services.settings.api.max_question_chars)
    version = services.resolve_version(req.version)
    name = req.program or services.settings.api.default_program
    program = services.programs[name]
    trace_id = uuid.uuid4().hex

    async def events() -> AsyncIterator[dict[str, str]]:
        t0 = time.perf_counter()
        meta = {
            "trace_id": trace_id,
            "version": version,
            "program": name,
            "program_version": services.program_version(name),
        }
        yield {"event": "meta", "data": json.dumps(meta)}
        pred = None
        try:
            async with services.gate.slot():
                if services.stream is None:
                    raise RuntimeError("streaming is not configured")
                with services.lm_context():
                    async for kind, payload in services.stream(program, question, version):
                        if kind == "token":
                            yield {"event": "token", "data": json.dumps({"text": payload})}
                        elif kind == "final":
                            pred = payload
        except Exception as err:  # report in-band: the HTTP status is already sent
            code = getattr(err, "__class__", type(err)).__name__
            yield {"event": "error", "data": json.dumps({"code": code, "message": str(err)[:500]})}
            return
        if pred is None:
            yield {
                "event": "error",
                "data": json.dumps({"code": "no_answer", "message": "the program returned nothing"}),
            }
            return
        timings = {"total": round((time.perf_counter() - t0) * 1000, 1)}
        resp = answering.to_response(
            pred, version=version, program=name, services=services, cached=False, timings=timings, trace_id=trace_id
        )
        answering.log_answer(services, question, resp)
        yield {"event": "citations", "data": json.dumps([c.model_dump() for c in resp.citations])}
        yield {"event": "final", "data": resp.model_dump_json()}

    return EventSourceResponse(events(), headers={"X-Trace-Id": trace_id})
