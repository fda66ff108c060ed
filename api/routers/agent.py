"""POST /v1/agent: the docs agent (programs/agent.py): a plan, tool calls over the docs, a cited answer, and the
whole trajectory."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import anyio
import dspy
from fastapi import APIRouter

from api.answering import usage_of
from api.deps import ServicesDep
from api.schemas import AgentRequest, AgentResponse, AgentStep, ErrorResponse
from fda.errors import IndexMissingError
from fda.tracing import span, trace_id_of
from programs.guard import check_question

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["agent"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}
ANSWER_MARGIN_S = 60.0  # the answer step after the tool loop's own time budget


@router.post("/agent", response_model=AgentResponse, responses=ERRORS)
async def agent(req: AgentRequest, services: ServicesDep) -> AgentResponse:
    """Plan, call docs tools (search, read, compare versions, deprecations, related sections) within the step,
    token and time budgets, then answer with citations; the trajectory says what each step did and why it stopped."""
    if services.agent is None:
        raise IndexMissingError(
            "the docs agent is not available: the service has no docs store",
            hint="Run `fda ingest` (or `make run`), then restart the service.",
        )
    runner = services.agent
    t0 = time.perf_counter()
    question = check_question(req.question, services.settings.api.max_question_chars)
    version = services.resolve_version(req.version)
    with span("agent", stream=False) as root:
        async with services.gate.slot():

            def call() -> Any:
                with services.lm_context():
                    return runner(question=question, version=version, max_steps=req.max_steps)

            budget = services.settings.agent.max_seconds + ANSWER_MARGIN_S
            try:
                pred = await asyncio.wait_for(anyio.to_thread.run_sync(call), budget)
            except TimeoutError:  # the loop keeps its own budget; this is the answer step overrunning
                log.warning("agent over its %.0f s budget", budget)
                pred = dspy.Prediction(
                    answer=f"The agent ran past its {budget:.0f} s budget before answering. Try again, or ask /v1/ask.",
                    citations=[],
                    cannot_answer=True,
                    refused=False,
                    fallback=True,
                    reason="timeout",
                    stop_reason="time_budget",
                    plan=[],
                    trajectory=[],
                    usage={},
                )
        trace_id = trace_id_of(root) or uuid.uuid4().hex
    return AgentResponse(
        answer=pred.answer,
        citations=list(pred.citations),
        cannot_answer=bool(pred.cannot_answer),
        refused=bool(pred.refused),
        fallback=bool(pred.fallback),
        reason=str(getattr(pred, "reason", "") or ""),
        verification=getattr(pred, "verification", None),
        stop_reason=str(pred.stop_reason),
        plan=list(pred.plan),
        trajectory=[AgentStep(**s) for s in pred.trajectory],
        version=version,
        usage=usage_of(pred),
        timings_ms={"total": round((time.perf_counter() - t0) * 1000, 1)},
        trace_id=trace_id,
    )
