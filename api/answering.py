"""Answer a question inside the service: cache, bounded LM concurrency, time budget, fallback, log."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import replace
from typing import Any

import anyio

from api.cache import normalize_question
from api.schemas import AskRequest, AskResponse
from api.services import Services
from api.threads import run_abandonable
from fda.tracing import span, trace_id_of
from programs.answering import fallback
from programs.execution.check import CodeReport
from programs.guard import check_question

log = logging.getLogger(__name__)


def usage_of(pred: Any) -> dict[str, int]:
    usage = getattr(pred, "usage", None) or {}
    return {k: int(v) for k, v in usage.items() if isinstance(v, int | float)}


async def check_code(
    services: Services, pred: Any, version: str, timings: dict[str, float], question: str = ""
) -> dict[str, Any] | None:
    """Run the answer's Python in the sandbox (programs/execution/): its report, None without code or checker.
    Declined and fallback answers are not run; ``timings["code"]`` is the time this took (a cached report: ~0).
    With ``code.repair`` on and the ``question`` given, failed code gets one repair try (:func:`repair_code`).
    A check that breaks never breaks the answer: it says ``not_run`` and why."""
    checker = services.code_checker
    if checker is None:
        return None
    t0 = time.perf_counter()
    with span("code_check") as sp:
        try:
            report = await anyio.to_thread.run_sync(checker.check_prediction, pred, version)
        except Exception as err:  # the answer stands; the code status says what happened
            log.exception("code check failed")
            return {"status": "not_run", "detail": f"the code check failed: {type(err).__name__}: {err}"[:300]}
        if report is None:
            return None
        timings["code"] = round((time.perf_counter() - t0) * 1000, 1)
        if sp.is_recording():
            sp.set_attributes({"code.status": report.status, "code.blocks": report.blocks})
    earlier = getattr(pred, "code_repair", None)
    if earlier is not None:  # a cached answer, repaired (or tried) when it was first made
        report = replace(report, repair=earlier)
    elif report.status == "failed" and services.code_repairer is not None and question:
        report = await repair_code(services, pred, question, report, version, timings)
    data: dict[str, Any] = report.to_dict()
    return data


async def repair_code(
    services: Services, pred: Any, question: str, report: CodeReport, version: str, timings: dict[str, float]
) -> CodeReport:
    """One try at the answer's failed code (programs/execution/repair.py: the error's suggestion, then with
    ``code.repair=lm`` the LM, through the LM gate), within ``code.repair_timeout_s``. A kept fix replaces
    ``pred.answer`` (so a cached answer is served repaired); ``pred.code_repair`` records the try either way,
    so it is made once per answer."""
    repairer = services.code_repairer
    if repairer is None:
        return report
    limit = services.settings.code.repair_timeout_s

    def call() -> CodeReport:
        with services.lm_context():
            return repairer.repair_prediction(pred, question, report, version)

    t0 = time.perf_counter()
    with span("code_repair") as sp:
        try:
            if repairer.use_lm:  # an LM call: it queues with the answers
                async with services.gate.slot():
                    after = await run_abandonable(call, limit, name="fda-code-repair")
            else:
                after = await run_abandonable(call, limit, name="fda-code-repair")
        except Exception as err:  # TimeoutError, a full gate, a broken repair: the answer stands as it was
            why = f"no fix within {limit:g} s" if isinstance(err, TimeoutError) else f"{type(err).__name__}: {err}"
            log.warning("code repair not made: %s", why)
            info = {"tried": True, "accepted": False, "error": f"{report.stage}: {report.detail}", "why": why[:300]}
            pred.code_repair = info
            return replace(report, repair=info)
        timings["code_repair"] = round((time.perf_counter() - t0) * 1000, 1)
        if sp.is_recording():
            accepted = bool(after.repair and after.repair.get("accepted"))
            sp.set_attributes({"code.repaired": accepted, "code.status": after.status})
    return after


def to_response(
    pred: Any,
    *,
    version: str,
    program: str,
    services: Services,
    cached: bool,
    timings: dict[str, float],
    trace_id: str,
    code: dict[str, Any] | None = None,
) -> AskResponse:
    return AskResponse(
        answer=pred.answer,
        citations=list(pred.citations),
        cannot_answer=bool(pred.cannot_answer),
        refused=bool(pred.refused),
        fallback=bool(pred.fallback),
        invalid_citations=int(pred.invalid_citations),
        reason=str(getattr(pred, "reason", "") or ""),
        verification=getattr(pred, "verification", None),
        code=code,
        version=version,
        versions=list(getattr(pred, "versions", None) or [version]),
        since=list(getattr(pred, "since", None) or []),
        program=program,
        program_version=services.program_version(program),
        cached=cached,
        timings_ms=timings,
        usage=usage_of(pred),
        trace_id=trace_id,
    )


async def _retrieval_only(services: Services, question: str, version: str, reason: str, named: bool = True) -> Any:
    """The top sources, no LM. Like the programs, a question that names docs versions ("in 0.68") is searched in
    each of them, every version keeping its best passage (``named``: the request did not fix a version)."""
    from programs.fusion import balanced
    from programs.versions import versions_in_question

    retriever = services.retrievers[services.default_backend]
    versions = (versions_in_question(question, services.versions, services.latest) if named else []) or [version]

    def search() -> list[Any]:
        lists = [retriever.search(question, k=4, version=v) for v in versions]
        return balanced(lists, versions, 4)

    passages = await anyio.to_thread.run_sync(search)
    services.telemetry.fallbacks.labels(reason=reason).inc()
    pred = fallback(passages, [question], reason)
    pred.versions = list(versions)
    return pred


async def ask(services: Services, req: AskRequest) -> AskResponse:
    """One answer, traced: the ``ask`` span is the root of the question's trace (fda/tracing.py), and its id
    is the response's ``trace_id`` (a random one when tracing is off)."""
    with span("ask", program=req.program or services.settings.api.default_program, stream=False) as root:
        resp = await _ask(services, req, trace_id_of(root) or uuid.uuid4().hex)
        record_outcome(services, resp, root)
        return resp


def record_outcome(services: Services, resp: AskResponse, root: Any) -> None:
    """What became of a question, on /metrics (answers by outcome) and on its trace's ``ask`` span: both ask
    routes call this once the response is made."""
    services.telemetry.outcome(
        {"fallback": resp.fallback, "refused": resp.refused, "cannot_answer": resp.cannot_answer}, resp.cached
    )
    if root.is_recording():
        root.set_attributes(
            {
                "cached": resp.cached,
                "refused": resp.refused,
                "cannot_answer": resp.cannot_answer,
                "fallback": resp.fallback,
                "version": resp.version,
                "program_version": resp.program_version,
                **{f"usage.{k}": v for k, v in resp.usage.items()},
            }
        )


async def _ask(services: Services, req: AskRequest, trace_id: str) -> AskResponse:
    t0 = time.perf_counter()
    question = check_question(req.question, services.settings.api.max_question_chars)
    version = services.resolve_version(req.version)
    name = req.program or services.settings.api.default_program
    program = services.programs[name]
    # a new champion or a retrieval signal coming online (the background colbert build): a new key
    key = (normalize_question(question), version, name, services.program_version(name), services.index_generation)
    cached = services.answer_cache.get(key)
    services.telemetry.cache.labels(cache="answer", result="hit" if cached is not None else "miss").inc()
    if cached is not None:
        pred = cached
    else:
        budget = services.settings.api.request_timeout_s

        def call() -> Any:
            with services.lm_context():
                return program(question=question, version=version)

        async def make(started: asyncio.Event) -> Any:
            """The answer, in its LM slot; kept in the answer cache even when every request stopped waiting."""
            async with services.gate.slot():
                started.set()
                made = await run_abandonable(call, None, name="fda-answer")
            if made.fallback:  # the program could not reach the LM
                services.telemetry.fallbacks.labels(reason="lm_error").inc()
            else:
                services.answer_cache.put(key, made)
            return made

        services.telemetry.in_flight.inc()
        try:
            flight, joined = services.flights.join(key, make)
            if joined:
                services.telemetry.cache.labels(cache="answer", result="joined").inc()
            try:
                pred = await flight.result(budget)
            except TimeoutError:
                log.warning("answer over its %.0f s budget: retrieval-only; it is kept when it is written", budget)
                pred = await _retrieval_only(services, question, version, "timeout", named=req.version is None)
        finally:
            services.telemetry.in_flight.dec()
    timings: dict[str, float] = {}
    code = await check_code(services, pred, version, timings, question)
    timings["total"] = round((time.perf_counter() - t0) * 1000, 1)
    resp = to_response(
        pred,
        version=version,
        program=name,
        services=services,
        cached=cached is not None,
        timings=timings,
        trace_id=trace_id,
        code=code,
    )
    for kind, n in resp.usage.items():
        if kind.endswith("tokens"):
            services.telemetry.lm_tokens.labels(kind=kind).inc(n)
    log_answer(services, question, resp)
    return resp


def log_answer(services: Services, question: str, resp: AskResponse, error: str | None = None) -> None:
    services.spool.append(
        "query",
        {
            "trace_id": resp.trace_id,
            "question": question,
            "version": resp.version,
            "program": resp.program,
            "program_version": resp.program_version,
            "answer": resp.answer,
            "citations": [c.url for c in resp.citations],
            "cannot_answer": resp.cannot_answer,
            "refused": resp.refused,
            "fallback": resp.fallback,
            "invalid_citations": resp.invalid_citations,
            "cached": resp.cached,
            "latency_ms": resp.timings_ms.get("total"),
            "timings": resp.timings_ms,
            "usage": resp.usage,
            "error": error,
        },
    )
