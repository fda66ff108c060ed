"""Admonitions and tabs, both markups, turned into plain labelled text.

New markup (0.141.1): ``/// tip | Title`` ... ``///`` and ``//// tab | Python 3.10+`` ... ``////``.
Old markup (<= 0.100): ``!!! note "Title"``, ``??? info``, ``=== "Python 3.10+"`` with a 4-space indented body.

Tabs that only repeat the same example for another Python version are dropped (the first one stays);
tabs with different content (``non-Annotated``, ``Windows PowerShell``) all stay, labelled.
"""

from __future__ import annotations

import re
import textwrap

_SLASH_OPEN = re.compile(r"^(?P<fence>/{3,})\s*(?P<kind>[\w-]+)\s*(?:\|\s*(?P<title>.*?))?\s*$")
_OLD_OPEN = re.compile(r"^(?P<mark>!!!|\?\?\?\+?|===)\s*(?P<kind>[\w-]+)?\s*(?:\"(?P<title>[^\"]*)\")?\s*$")
_PY_VERSION = re.compile(r"python\s*3\.\d+\+?", re.IGNORECASE)


def variant_key(label: str) -> str:
    """Tab label without its Python version: tabs with equal keys show the same example."""
    return _PY_VERSION.sub("", label).strip(" -").lower()


def _admonition_label(kind: str, title: str | None) -> str:
    kind_word = kind.replace("-", " ").capitalize()
    return f"{kind_word}: {title.strip()}" if title and title.strip() else f"{kind_word}:"


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith(("```", "~~~"))


def _keep_tabs(tabs: list[tuple[str, list[str]]]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for label, body in tabs:
        key = variant_key(label)
        if key in seen:
            continue
        seen.add(key)
        out.append(f"{label}:" if label else "")
        out.extend(body)
        out.append("")
    return out


def convert_blocks(lines: list[str]) -> list[str]:
    """Flatten admonitions and tabs of both markups, recursively."""
    out: list[str] = []
    i, n = 0, len(lines)
    in_fence = False
    while i < n:
        line = lines[i]
        if _is_fence(line):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        if in_fence:
            out.append(line)
            i += 1
            continue
        m_new = _SLASH_OPEN.match(line)
        m_old = _OLD_OPEN.match(line) if m_new is None else None
        if m_new is None and m_old is None:
            out.append(line)
            i += 1
            continue
        tabs: list[tuple[str, list[str]]] = []
        while i < n:
            parsed = _parse_block(lines, i)
            if parsed is None:
                break
            kind, label, body, end = parsed
            if kind != "tab":
                if tabs:
                    break
                out.append(label)
                out.extend(convert_blocks(body))
                out.append("")
                i = end
                break
            tabs.append((label, convert_blocks(body)))
            i = end
            # a tab group continues when the next non-blank line opens another tab
            j = i
            while j < n and not lines[j].strip():
                j += 1
            nxt = _parse_block(lines, j) if j < n else None
            if nxt is None or nxt[0] != "tab":
                break
            i = j
        if tabs:
            out.extend(_keep_tabs(tabs))
    return out


def _parse_block(lines: list[str], i: int) -> tuple[str, str, list[str], int] | None:
    """At an opener: (kind, label line, body lines, index after the block)."""
    line = lines[i]
    if m := _SLASH_OPEN.match(line):
        fence = m.group("fence")
        kind = m.group("kind").lower()
        title = m.group("title")
        body: list[str] = []
        j = i + 1
        in_fence = False
        while j < len(lines):
            if _is_fence(lines[j]):
                in_fence = not in_fence
            elif not in_fence and lines[j].strip() == fence:
                break
            body.append(lines[j])
            j += 1
        label = (title or "").strip() if kind == "tab" else _admonition_label(kind, title)
        return kind, label, body, j + 1
    if m := _OLD_OPEN.match(line):
        mark = m.group("mark")
        raw: list[str] = []
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(("    ", "\t"))):
            raw.append(lines[j])
            j += 1
        while raw and not raw[-1].strip():  # trailing blanks belong to the outer text
            raw.pop()
            j -= 1
        body = textwrap.dedent("\n".join(raw)).splitlines()
        if mark == "===":
            label = (m.group("title") or m.group("kind") or "").strip()
            return "tab", label, body, j
        return "admonition", _admonition_label(m.group("kind") or "note", m.group("title")), body, j
    return None
