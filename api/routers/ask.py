"""POST /v1/ask (JSON) and POST /v1/ask/stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter
from opentelemetry.trace import use_span
from sse_starlette.sse import EventSourceResponse

from api import answering
from api.deps import ServicesDep
from api.schemas import AskRequest, AskResponse, ErrorResponse
from fda.tracing import trace_id_of, tracer
from fda.types import Passage
from programs.answering import SOURCES_LISTENER
from programs.citations import snippet
from programs.guard import check_question
from programs.trust.draft import DraftFilter

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
    """SSE: ``meta``; ``sources`` (the passages the answer is written from, numbered like its markers) as soon as
    retrieval and the checks are done, before the LM's first token; ``token`` events (the model's draft, a sentence
    or line at a time, with adapter markup and links the sources do not hold taken out; the sentences are not yet
    checked against their sources: programs/trust/draft.py); then ``citations`` and ``final`` (the verified
    answer: unsupported sentences, foreign links and made-up markers removed). A question declined before the LM
    sends no ``sources``."""
    question = check_question(req.question, services.settings.api.max_question_chars)
    version = services.resolve_version(req.version)
    name = req.program or services.settings.api.default_program
    program = services.programs[name]
    root = tracer().start_span("ask", attributes={"program": name, "version": version, "stream": True})
    trace_id = trace_id_of(root) or uuid.uuid4().hex

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            async for event in _events():
                yield event
        finally:
            root.end()

    async def _events() -> AsyncIterator[dict[str, str]]:
        t0 = time.perf_counter()
        meta = {
            "trace_id": trace_id,
            "version": version,
            "program": name,
            "program_version": services.program_version(name),
        }
        yield {"event": "meta", "data": json.dumps(meta)}
        pred = None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def sources_ready(passages: Sequence[Passage]) -> None:  # runs in the program's thread
            loop.call_soon_threadsafe(queue.put_nowait, ("sources", passages))

        async def produce() -> None:
            token = SOURCES_LISTENER.set(sources_ready)
            try:
                with use_span(root, end_on_exit=False):  # the program's spans join this question's trace
                    await _run()
            except Exception as err:  # report in-band: the HTTP status is already sent
                await queue.put(("error", err))
            finally:
                SOURCES_LISTENER.reset(token)
                await queue.put(("done", None))

        async def _run() -> None:
            async with services.gate.slot():
                if services.stream is None:
                    raise RuntimeError("streaming is not configured")
                with services.lm_context():
                    async for kind, payload in services.stream(program, question, version):
                        await queue.put((kind, payload))

        producer = asyncio.create_task(produce())
        draft = DraftFilter()
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "done":
                    break
                if kind == "sources":  # before the LM's first token: what the answer will be written from
                    draft.sources(payload)
                    yield {"event": "sources", "data": json.dumps(source_list(payload))}
                elif kind == "token":
                    if text := draft.feed(payload):
                        yield {"event": "token", "data": json.dumps({"text": text})}
                elif kind == "final":
                    if rest := draft.flush():
                        yield {"event": "token", "data": json.dumps({"text": rest})}
                    pred = payload
                elif kind == "error":
                    error = {"code": type(payload).__name__, "message": str(payload)[:500]}
                    yield {"event": "error", "data": json.dumps(error)}
                    return
        finally:
            producer.cancel()
        if pred is None:
            yield {
                "event": "error",
                "data": json.dumps({"code": "no_answer", "message": "the program returned nothing"}),
            }
            return
        timings: dict[str, float] = {}
        code = await answering.check_code(services, pred, version, timings, question)
        timings["total"] = round((time.perf_counter() - t0) * 1000, 1)
        resp = answering.to_response(
            pred,
            version=version,
            program=name,
            services=services,
            cached=False,
            timings=timings,
            trace_id=trace_id,
            code=code,
        )
        answering.record_outcome(services, resp, root)
        answering.log_answer(services, question, resp)
        yield {"event": "citations", "data": json.dumps([c.model_dump() for c in resp.citations])}
        yield {"event": "final", "data": resp.model_dump_json()}

    return EventSourceResponse(events(), headers={"X-Trace-Id": trace_id})


def source_list(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """The passages the answer step is shown, numbered as its ``[n]`` markers number them."""
    return [
        {"number": i, "chunk_id": p.chunk_id, "title": p.title, "url": p.url, "snippet": snippet(p.text, 160)}
        for i, p in enumerate(passages, 1)
    ]
