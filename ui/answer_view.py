"""Formatting an API answer for display (pure): citation markers become links to the cited section."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MARKER = re.compile(r"\[(\d+)\]")


def link_markers(text: str, citations: Sequence[dict[str, Any]]) -> str:
    """``[2]`` -> a markdown link ``[[2]](url)`` when citation 2 exists; unknown markers stay as they are."""
    urls = {int(c["number"]): str(c["url"]) for c in citations if c.get("url")}

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[\\[{n}\\]]({urls[n]})" if n in urls else m.group(0)

    return MARKER.sub(repl, text)


def status_line(resp: dict[str, Any]) -> str:
    """Version, program, cache, timings, tokens and trace id in one caption."""
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in (resp.get("timings_ms") or {}).items())
    usage = ", ".join(f"{k} {v}" for k, v in (resp.get("usage") or {}).items())
    parts = [
        f"docs {', '.join(resp.get('versions') or [str(resp.get('version'))])}",
        f"program {resp.get('program')} ({resp.get('program_version')})",
        "cached" if resp.get("cached") else "",
        timings,
        usage,
        f"trace `{resp.get('trace_id')}`",
    ]
    return " · ".join(p for p in parts if p)


def checks_note(resp: dict[str, Any]) -> str:
    """What the trust checks did (docs/trust.md), in one sentence; empty when they changed nothing."""
    reason = str(resp.get("reason") or "")
    if reason.startswith("unsafe (harm classifier"):
        return "Refused before answering: the request reads as asking for help causing harm, or about this assistant's own setup."
    if reason.startswith("unsafe (LM intent check"):
        return "Refused before answering: the harm classifier was unsure, and the language model read the request as acting against others."
    if reason.startswith("out_of_scope"):
        return "Declined before answering: the question does not look like it is about FastAPI."
    if reason.startswith("premise"):
        return "Declined before answering: the question names an API the FastAPI docs never show."
    if reason.startswith("coverage"):
        return "Declined before answering: the question asks about a tool the FastAPI docs never mention."
    if reason.startswith("verification: the answer held only"):
        return "Declined after answering: the draft held only what an instruction inside the question asked for."
    if reason.startswith("verification: the answer only asked"):
        return "Declined after answering: the draft only repeated the question back."
    if reason.startswith("verification"):
        return "Declined after answering: no sentence of the draft answer was supported by the docs it cited."
    checked = resp.get("verification") or {}
    removed, code = int(checked.get("removed") or 0), int(checked.get("code_removed") or 0)
    links, requested = int(checked.get("links_removed") or 0), int(checked.get("requested_removed") or 0)
    notes = []
    if removed or code:
        parts = []
        if removed:
            parts.append(f"{removed} of {checked.get('sentences', removed)} sentences")
        if code:
            parts.append(f"{code} code block{'s' if code > 1 else ''}")
        notes.append(f"Removed {' and '.join(parts)} that the cited docs do not support.")
    if links:
        notes.append(f"Removed {links} link{'s' if links > 1 else ''} the cited docs do not hold.")
    if requested:
        notes.append(
            f"Removed {requested} piece{'s' if requested > 1 else ''} only an instruction in the question asked for."
        )
    repeats = int(checked.get("repeats_removed") or 0)
    if repeats:
        notes.append(f"Removed {repeats} sentence{'s' if repeats > 1 else ''} the draft repeated word for word.")
    echoes = int(checked.get("echoes_removed") or 0)
    if echoes:
        notes.append(f"Removed {echoes} sentence{'s' if echoes > 1 else ''} that only repeated the question back.")
    return " ".join(notes)


CODE_BADGES = {
    "verified": ("green", ":material/check_circle:", "Code verified"),
    "failed": ("red", ":material/error:", "Code failed"),
    "not_runnable": ("orange", ":material/code_off:", "Code not runnable"),
    "not_run": ("gray", ":material/pause_circle:", "Code not run"),
}


def code_note(resp: dict[str, Any]) -> tuple[str, str] | None:
    """The sandbox's verdict on the answer's Python (``code``, docs/code-checks.md) as (colour, markdown): a
    badge, what it means, and the docs example it came from. None when the answer shows no Python."""
    code = resp.get("code")
    if not code:
        return None
    colour, icon, label = CODE_BADGES.get(str(code.get("status")), ("gray", ":material/help:", "Code"))
    parts = [f":{colour}-badge[{icon} {label}]"]
    routes = code.get("routes") or []
    if code.get("status") == "verified":
        calls = ", ".join(f"`{r['method']} {r['path']}` {r['status']}" for r in routes[:4])
        on = f" on FastAPI {code['fastapi']}" if code.get("fastapi") else ""
        parts.append(
            f"It imports, the app starts{on} and every route answered without a server error"
            + (f" ({calls})." if calls else ".")
            + " That does not prove it does what you asked."
        )
    elif code.get("detail"):
        parts.append(f"`{code['detail']}`" if code.get("status") == "failed" else str(code["detail"]))
    if code.get("added"):
        parts.append(f"Completed with: `{'; '.join(code['added'])}`.")
    if code.get("imports_shown"):
        parts.append(f"Imports added to the code above: `{'; '.join(code['imports_shown'])}`.")
    repair = code.get("repair") or {}
    if repair.get("accepted"):
        parts.append(f"Repaired once: the answer's first code failed with `{repair.get('error', '')}`.")
    elif repair.get("tried"):
        parts.append(f"A repair was tried and not kept: {repair.get('why', '')}.")
    example = code.get("docs_example")
    if example:
        parts.append(f"From the docs example [{example['path']}]({example['url']}) (FastAPI {example['version']}).")
    return colour, " ".join(parts)


def sources_markdown(sources: list[dict[str, Any]]) -> str:
    """The passages the answer is being written from (the stream's ``sources`` event), as a numbered list of
    links: on screen before the model's first word."""
    lines = ["**Sources** (the answer is being written from these):"]
    lines += [f"{s.get('number')}. [{s.get('title') or s.get('url')}]({s.get('url')})" for s in sources]
    return "\n".join(lines)


def trajectory_rows(resp: dict[str, Any]) -> list[dict[str, Any]]:
    """The agent's tool calls (POST /v1/agent's ``trajectory``) as table rows: what each step asked and found."""
    rows = []
    for st in resp.get("trajectory") or []:
        args = {k: st.get(k) for k in ("argument", "version", "to_version") if st.get(k)}
        rows.append(
            {
                "step": st.get("step"),
                "tool": st.get("tool"),
                "arguments": ", ".join(f"{k}={v}" for k, v in args.items()),
                "found": len(st.get("found") or []),
                "new": st.get("new", 0),
                "error": st.get("error") or "",
                "ms": st.get("ms"),
            }
        )
    return rows
