"""``fda serve`` (the HTTP service) and ``fda ask`` (one question from the terminal).

fda serve                      # http://127.0.0.1:8000 (docs at /docs)
fda ask "How do I enable CORS?" --show-context
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape

from fda.console import console, err_console, fail
from fda.errors import FDAError
from fda.settings import get_settings


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings api.host, loopback).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings api.port).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads its own index and LM client).")] = 1,
) -> None:
    """Serve the assistant over HTTP (OpenAPI docs at /docs)."""
    import uvicorn

    s = get_settings()
    host, port = host or s.api.host, port or s.api.port
    err_console.print(f"Serving on [bold]http://{host}:{port}[/] (docs: http://{host}:{port}/docs) — Ctrl+C stops.")
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=s.logging.level.lower(),
        access_log=False,
    )


def _print_answer(resp: dict[str, Any], passages: list[Any], show_context: bool) -> None:
    flags = [name for name in ("cannot_answer", "refused", "fallback") if resp[name]]
    console.print(escape(resp["answer"]))
    if resp["citations"]:
        console.print("\n[bold]Sources[/]")
        for c in resp["citations"]:
            console.print(f"  [{c['number']}] [link={c['url']}]{escape(c['title'])}[/link]\n      {c['url']}")
    if show_context and passages:
        console.print("\n[bold]Context shown to the model[/]")
        for i, p in enumerate(passages, start=1):
            console.print(f"  [{i}] {escape(p.title)} ({p.version}, score {p.score:.3f})\n      {p.url}")
    checked = resp.get("verification") or {}
    if checked.get("removed") or checked.get("code_removed"):
        console.print(
            f"\n[yellow]{checked.get('removed', 0)} of {checked.get('sentences', 0)} sentences and "
            f"{checked.get('code_removed', 0)} code blocks removed: not supported by the cited docs[/]"
        )
    code = resp.get("code")
    if code:
        colour = {"verified": "green", "failed": "red", "not_runnable": "yellow"}.get(code["status"], "dim")
        console.print(f"\n[{colour}]{escape(_code_line(code))}[/]")
    usage = resp.get("usage") or {}
    console.print(
        f"\n[dim]docs {escape(', '.join(resp.get('versions') or [resp['version']]))} · "
        f"{escape(resp['program'])} {escape(resp['program_version'])} · "
        f"{resp['timings_ms']['total']:.0f} ms · {usage.get('lm_calls', 0)} LM calls · "
        f"{usage.get('prompt_tokens', 0)}+{usage.get('completion_tokens', 0)} tokens"
        f"{' · ' + ', '.join(flags) if flags else ''}"
        f"{' (' + escape(resp['reason']) + ')' if flags and resp.get('reason') else ''}[/]"
    )


def _code_line(code: dict[str, Any]) -> str:
    from programs.execution.check import CodeReport

    return "Code: " + CodeReport(**code).summary().removeprefix("code ")


def _check_code(services: Any, pred: Any, version: str, question: str) -> dict[str, Any] | None:
    """The sandbox's verdict on the answer's Python (programs/execution/), as the API gives it: with
    ``code.repair`` on, failed code gets one repair try first (a kept fix replaces ``pred.answer``)."""
    report = services.code_checker.check_prediction(pred, version) if services.code_checker else None
    if report is None:
        return None
    if report.status == "failed" and services.code_repairer is not None:
        report = services.code_repairer.repair_prediction(pred, question, report, version)
    data: dict[str, Any] = report.to_dict()
    return data


def _answer_once(
    question: str, version: str | None, run: Callable[[Any, str], Any]
) -> tuple[Any, Any, str, float, dict[str, Any] | None]:
    """What `fda ask` and `fda agent` share: check the question, wire the services (no background index build),
    resolve the docs version, time ``run(services, version)`` inside the LM context, check (and maybe repair) the
    answer's code, close the services. Returns (prediction, services, version, milliseconds, code report); a typed
    error exits with its message."""
    from api.wiring import wire
    from programs.guard import check_question

    s = get_settings()
    try:
        check_question(question, s.api.max_question_chars)
        services = wire(s, build_missing=False)
    except FDAError as err:
        fail(err)
    try:
        v = services.resolve_version(version)
        t0 = time.perf_counter()
        with services.lm_context():
            pred = run(services, v)
            elapsed = (time.perf_counter() - t0) * 1000
            code = _check_code(services, pred, v, question)
        return pred, services, v, elapsed, code
    except FDAError as err:
        fail(err)
    finally:
        services.close()


def _common(pred: Any, version: str, program: str, program_version: str, elapsed: float) -> dict[str, Any]:
    """The answer fields both commands print (and write with --json)."""
    return {
        "answer": pred.answer,
        "citations": [c.model_dump() for c in pred.citations],
        "cannot_answer": bool(pred.cannot_answer),
        "refused": bool(pred.refused),
        "fallback": bool(pred.fallback),
        "version": version,
        "versions": list(getattr(pred, "versions", None) or [version]),
        "program": program,
        "program_version": program_version,
        "timings_ms": {"total": round(elapsed, 1)},
        "usage": dict(getattr(pred, "usage", {}) or {}),
        "reason": str(getattr(pred, "reason", "") or ""),
        "verification": getattr(pred, "verification", None),
    }


def ask_cmd(
    question: Annotated[str, typer.Argument(help="The question about FastAPI.")],
    version: Annotated[str | None, typer.Option(help="Docs version (tag); default: latest.")] = None,
    program: Annotated[str | None, typer.Option(help="rag or multihop (default: settings).")] = None,
    show_context: Annotated[bool, typer.Option(help="Also list the passages the model saw.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Answer one question with numbered citations (links) and timings."""
    name = program or get_settings().api.default_program

    def run(services: Any, v: str) -> Any:
        if name not in services.programs:
            raise FDAError(f"unknown program {name!r}", hint=f"Use one of: {', '.join(services.programs)}.")
        return services.programs[name](question=question, version=v)

    pred, services, v, elapsed, code = _answer_once(question, version, run)
    resp = {
        **_common(pred, v, name, services.program_version(name), elapsed),
        "invalid_citations": int(pred.invalid_citations),
        "code": code,
    }
    if as_json:
        if show_context:
            resp["passages"] = [p.model_dump() for p in pred.passages]
        console.print_json(json.dumps(resp))
    else:
        _print_answer(resp, list(pred.passages), show_context)


def agent_cmd(
    question: Annotated[str, typer.Argument(help="The question about FastAPI.")],
    version: Annotated[str | None, typer.Option(help="Docs version the tools use (default: latest).")] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, max=20, help="Tool calls at most (default: settings).")
    ] = None,
    show_steps: Annotated[bool, typer.Option(help="Print the plan and each tool call.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer and trajectory as JSON.")] = False,
) -> None:
    """Answer with the docs agent: a plan, tool calls over the docs (search, read, compare versions,
    deprecations), then a cited answer; --show-steps prints what each step did and why it stopped."""

    def run(services: Any, v: str) -> Any:
        if services.agent is None:
            raise FDAError("the docs agent is not available: no docs store", hint="Run `fda ingest` first.")
        return services.agent(question=question, version=v, max_steps=max_steps)

    pred, _services, v, elapsed, code = _answer_once(question, version, run)
    resp = {
        **_common(pred, v, "agent", "uncompiled", elapsed),
        "code": code,
        "stop_reason": pred.stop_reason,
        "plan": list(pred.plan),
        "trajectory": list(pred.trajectory),
    }
    if as_json:
        console.print_json(json.dumps(resp))
        return
    if show_steps:
        console.print("[bold]Plan[/]")
        for line in resp["plan"] or ["(none)"]:
            console.print(f"  - {escape(line)}")
        console.print("[bold]Steps[/]")
        for st in resp["trajectory"]:
            args = ", ".join(f"{k}={st[k]!r}" for k in ("argument", "version", "to_version") if st[k])
            what = (
                f"[red]error: {escape(st['error'])}[/]" if st["error"] else f"{len(st['found'])} found, {st['new']} new"
            )
            console.print(f"  {st['step']}. {st['tool']}({escape(args)}) -> {what} [dim]{st['ms']:.0f} ms[/]")
        console.print(f"[bold]Stopped:[/] {escape(resp['stop_reason'])}\n")
    _print_answer(resp, list(pred.passages), False)
