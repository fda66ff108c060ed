"""POST /v1/agent and /v1/agent/stream: the docs agent (programs/agent.py): a plan, tool calls over the docs, a
cited answer, and the whole trajectory."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import dspy
from fastapi import APIRouter
from opentelemetry.trace import use_span
from sse_starlette.sse import EventSourceResponse

from api.answering import check_code, usage_of
from api.deps import ServicesDep
from api.schemas import AgentRequest, AgentResponse, AgentStep, ErrorResponse
from api.services import Services
from api.threads import run_abandonable
from fda.errors import IndexMissingError
from fda.tracing import trace_id_of, tracer
from programs.agent import AGENT_LISTENER
from programs.guard import check_question

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["agent"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}
ANSWER_MARGIN_S = 60.0  # the answer step after the tool loop's own time budget


def _checked(services: Services, req: AgentRequest) -> tuple[Any, str, str]:
    """(the agent, the cleaned question, the docs version), or a clear error before anything runs."""
    if services.agent is None:
        raise IndexMissingError(
            "the docs agent is not available: the service has no docs store",
            hint="Run `fda ingest` (or `make run`), then restart the service.",
        )
    question = check_question(req.question, services.settings.api.max_question_chars)
    return services.agent, question, services.resolve_version(req.version)


async def _run(services: Services, agent: Any, question: str, version: str, max_steps: int | None) -> Any:
    """The agent in a worker thread, behind the LM gate, within its budget (the loop keeps its own; this is the
    answer step overrunning)."""
    async with services.gate.slot():

        def call() -> Any:
            with services.lm_context():
                return agent(question=question, version=version, max_steps=max_steps)

        budget = services.settings.agent.max_seconds + ANSWER_MARGIN_S
        try:
            return await run_abandonable(call, budget, name="fda-agent")
        except TimeoutError:
            log.warning("agent over its %.0f s budget", budget)
            return dspy.Prediction(
                answer=f"The agent ran past its {budget:.0f} s budget before answering. Try again, or ask /v1/ask.",
                citations=[], cannot_answer=True, refused=False, fallback=True, reason="timeout",
                stop_reason="time_budget", plan=[], trajectory=[], usage={},
            )  # fmt: skip


async def _response(
    services: Services, pred: Any, question: str, version: str, t0: float, trace_id: str
) -> AgentResponse:
    timings: dict[str, float] = {}
    code = await check_code(services, pred, version, timings, question)
    timings["total"] = round((time.perf_counter() - t0) * 1000, 1)
    return AgentResponse(
        answer=pred.answer,
        citations=list(pred.citations),
        cannot_answer=bool(pred.cannot_answer),
        refused=bool(pred.refused),
        fallback=bool(pred.fallback),
        reason=str(getattr(pred, "reason", "") or ""),
        verification=getattr(pred, "verification", None),
        code=code,
        stop_reason=str(pred.stop_reason),
        plan=list(pred.plan),
        trajectory=[AgentStep(**s) for s in pred.trajectory],
        version=version,
        usage=usage_of(pred),
        timings_ms=timings,
        trace_id=trace_id,
    )


@router.post("/agent", response_model=AgentResponse, responses=ERRORS)
async def agent(req: AgentRequest, services: ServicesDep) -> AgentResponse:
    """Plan, call docs tools (search, read, compare versions, deprecations, related sections) within the step,
    token and time budgets, then answer with citations; the trajectory says what each step did and why it stopped."""
    runner, question, version = _checked(services, req)
    t0 = time.perf_counter()
    root = tracer().start_span("agent", attributes={"version": version, "stream": False})
    try:
        with use_span(root, end_on_exit=False):
            pred = await _run(services, runner, question, version, req.max_steps)
        return await _response(services, pred, question, version, t0, trace_id_of(root) or uuid.uuid4().hex)
    finally:
        root.end()


@router.post("/agent/stream", responses=ERRORS)
async def agent_stream(req: AgentRequest, services: ServicesDep) -> EventSourceResponse:
    """SSE: ``plan`` (the agent's plan), a ``step`` per tool call as it finishes (tool, arguments, what it found,
    its error), then ``final`` (the answer, as POST /v1/agent returns it), or ``error``."""
    runner, question, version = _checked(services, req)
    root = tracer().start_span("agent", attributes={"version": version, "stream": True})
    trace_id = trace_id_of(root) or uuid.uuid4().hex

    async def events() -> AsyncIterator[dict[str, str]]:
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def heard(kind: str, payload: Any) -> None:  # runs in the agent's thread
            loop.call_soon_threadsafe(queue.put_nowait, (kind, payload))

        async def produce() -> None:
            token = AGENT_LISTENER.set(heard)
            try:
                with use_span(root, end_on_exit=False):
                    await queue.put(("final", await _run(services, runner, question, version, req.max_steps)))
            except Exception as err:  # report in-band: the HTTP status is already sent
                await queue.put(("error", err))
            finally:
                AGENT_LISTENER.reset(token)

        producer = asyncio.create_task(produce())
        try:
            while True:
                kind, payload = await queue.get()
                if kind in ("plan", "step"):
                    yield {"event": kind, "data": json.dumps(payload)}
                elif kind == "final":
                    resp = await _response(services, payload, question, version, t0, trace_id)
                    yield {"event": "final", "data": resp.model_dump_json()}
                    return
                elif kind == "error":
                    yield {
                        "event": "error",
                        "data": json.dumps({"code": type(payload).__name__, "message": str(payload)[:500]}),
                    }
                    return
        finally:
            producer.cancel()
            root.end()

    return EventSourceResponse(events(), headers={"X-Trace-Id": trace_id})
