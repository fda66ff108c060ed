"""``fda trace``: what the service did for one question, stage by stage (spans from fda/tracing.py).

fda trace                      # the latest questions: trace id, when, duration, program
fda trace 4bf92f3577b34da6a3ce929d0e0e4736   # one question's spans as a tree, with durations and tokens
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from fda.console import console, fail
from fda.errors import FDAError
from fda.settings import get_settings

SHOWN = (
    "lm.model",
    "lm.prompt_tokens",
    "lm.completion_tokens",
    "lm.cached",
    "passages",
    "candidates",
    "declined",
    "removed",
    "sentences",
    "reason",
    "cached",
    "program",
    "version",
    "hop",
    "error.type",
)


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _roots(lines: list[str], last: int) -> list[dict[str, Any]]:
    roots = []
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("name") == "ask":
            roots.append(record)
            if len(roots) >= last:
                break
    return roots


def trace_cmd(
    trace_id: Annotated[str | None, typer.Argument(help="A trace id (responses' trace_id, the UI's caption).")] = None,
    last: Annotated[int, typer.Option(min=1, help="Without a trace id: how many recent questions to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the spans as JSON.")] = False,
) -> None:
    """Show a question's trace: a span per stage (guard, rewrite, retrieval per signal, each LM call with its
    tokens, verification) with durations. Without an id: the latest questions."""
    from fda.tracing import read_trace, tree_lines

    s = get_settings()
    path = s.traces_file
    if not path.is_file():
        fail(FDAError(f"no traces at {path}", hint="`fda serve` records them (tracing.enabled); ask something first."))
        return
    if trace_id is None:
        roots = _roots(path.read_text(encoding="utf-8").splitlines(), last)
        table = Table(title=f"latest questions ({path})")
        for col in ("trace id", "when (UTC)", "ms", "program", "stream", "cached", "declined"):
            table.add_column(col)
        for r in roots:
            a = r.get("attributes", {})
            declined = a.get("refused") or a.get("cannot_answer")
            table.add_row(
                r["trace_id"],
                _when(r["start_ns"]),
                f"{r['duration_ms']:.0f}",
                str(a.get("program", "")),
                str(a.get("stream", "")),
                str(a.get("cached", "")),
                str(bool(declined)),
            )
        console.print(table)
        return
    spans = read_trace(path, trace_id.strip().lower())
    if not spans:
        fail(FDAError(f"no spans of trace {trace_id} in {path}", hint="Run `fda trace` for the latest trace ids."))
        return
    if as_json:
        console.print_json(json.dumps(spans))
        return
    table = Table(title=f"trace {trace_id} ({_when(spans[0]['start_ns'])} UTC)")
    for col, justify in (("stage", "left"), ("ms", "right"), ("details", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for depth, span in tree_lines(spans):
        attrs = span.get("attributes", {})
        details = ", ".join(f"{k}={attrs[k]}" for k in SHOWN if k in attrs and attrs[k] not in ("", None))
        details = f"[red]error[/] {escape(details)}" if span.get("status") == "ERROR" else escape(details)
        table.add_row("  " * depth + escape(span["name"]), f"{span['duration_ms']:.1f}", details)
    console.print(table)
