"""From an answer's Markdown to one Python module to run, or the reason there is none.

    prepared = prepare(answer, imports)     # Prepared(code=..., added=["from fastapi import FastAPI"], reason="")

- Python blocks only (```python, ```py, or an unlabelled block that reads as Python); shell, JSON, TOML and
  console blocks are left out. The blocks are joined in order: answers build an app over several blocks.
- Names the code uses but never defines are imported the way the docs import them (``imports``: name ->
  import line, learnt from the docs' own code, docs_imports()), and a missing ``app``/``router`` that
  decorates routes is created, so "the snippet that can be completed into an app" runs.
- What still cannot run gets a reason: an excerpt (indented, or with ``…`` for omitted code), cut off, or
  names it needs that neither it nor the docs define (``get_db``: the reader's own code). Code without an
  app is still imported (a wrong import fails it); the harness then says there is no app to call.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
PYTHON = {"python", "py", "python3", "py3"}
_SHELL_LINE = re.compile(r"^\s*(\$|pip |uvicorn |fastapi (run|dev)|python -m|curl |gunicorn |docker |>>>)")
_PYTHON_LINE = re.compile(r"^\s*(from \w|import \w|def \w|async def|class \w|@\w|\w+\s*=)")
_IMPORT_LINE = re.compile(r"^from\s+([\w.]+)\s+import\s+\(?([\w\s,]+?)\)?\s*$|^import\s+([\w.]+)\s*$", re.MULTILINE)
# the standard library and typing names answers use without importing them
STDLIB = {
    "Annotated": "from typing import Annotated",
    "Optional": "from typing import Optional",
    "Union": "from typing import Union",
    "List": "from typing import List",
    "Dict": "from typing import Dict",
    "Any": "from typing import Any",
    "Literal": "from typing import Literal",
    "asynccontextmanager": "from contextlib import asynccontextmanager",
    "datetime": "from datetime import datetime",
    "timedelta": "from datetime import timedelta",
    "UUID": "from uuid import UUID",
    "Enum": "from enum import Enum",
    "lru_cache": "from functools import lru_cache",
    **{m: f"import {m}" for m in ("asyncio", "json", "os", "time", "logging", "secrets", "uuid", "typing", "io")},
}
_BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__doc__"}


@dataclass(frozen=True)
class Prepared:
    code: str = ""  # the module to run; empty when there is nothing to run
    blocks: int = 0  # Python blocks found
    added: list[str] = field(default_factory=list)  # import lines (and app/router) added to complete it
    reason: str = ""  # why it cannot run (empty: it can)
    placeholders: list[str] = field(default_factory=list)  # functions whose body is only ``...`` or ``pass``
    syntax_error: str = ""  # the code is not valid Python (a failure, not a fragment)


@dataclass(frozen=True)
class Fence:
    """One Python block of an answer: its code (the fence's indent removed) and where its body lies."""

    code: str
    start: int  # the body's span in the answer (between the opening fence line and the closing fence)
    end: int
    indent: str  # the fence's indent: a block inside a list item carries it on every line


def python_fences(answer: str) -> list[Fence]:
    """The answer's Python code blocks, in order, with their places (to replace one: programs/execution/repair.py)."""
    out = []
    for m in FENCE.finditer(answer):
        lang, body = m.group(1).lower(), m.group(2)
        fence_indent = answer[answer.rfind("\n", 0, m.start()) + 1 : m.start()]
        indent = fence_indent if fence_indent and not fence_indent.strip() else ""
        if indent:  # a fence inside a list item: its lines carry its indent
            body = "\n".join(line.removeprefix(indent) for line in body.splitlines())
        lines = [line for line in body.splitlines() if line.strip()]
        if not lines:
            continue
        if lang in PYTHON or (not lang and _reads_as_python(lines)):
            out.append(Fence(body.rstrip(), m.start(2), m.end(2), indent))
    return out


_AN_IMPORT = re.compile(r"^(?:from\s+[\w.]+\s+import\s+\(?\w|import\s+\w)")


def with_imports(answer: str, lines: Iterable[str]) -> tuple[str, list[str]]:
    """The answer with the import ``lines`` it lacks at the top of its first Python block (after any ``from
    __future__`` line, in the block's indent), and the lines added. Other lines (``app = FastAPI()``) are left
    out: where they belong depends on the code."""
    present = {line.strip() for line in answer.splitlines()}
    missing = [line for line in dict.fromkeys(lines) if _AN_IMPORT.match(line) and line.strip() not in present]
    fences = python_fences(answer)
    if not missing or not fences:
        return answer, []
    first = fences[0]
    at, offset = first.start, first.start
    for line in answer[first.start : first.end].splitlines(keepends=True):  # after the last ``from __future__``
        offset += len(line)
        if line.strip().startswith("from __future__ import"):
            at = offset
    head = "".join(f"{first.indent}{line}\n" for line in missing)
    return answer[:at] + head + answer[at:], missing


def python_blocks(answer: str) -> list[str]:
    """The answer's Python code blocks, in order."""
    return [f.code for f in python_fences(answer)]


def _reads_as_python(lines: list[str]) -> bool:
    if any(_SHELL_LINE.match(line) for line in lines):
        return False
    return sum(bool(_PYTHON_LINE.match(line)) for line in lines) >= max(1, len(lines) // 3)


def docs_imports(code_texts: Iterable[str]) -> dict[str, str]:
    """name -> the import line the docs use for it most often (``HTMLResponse`` -> ``from fastapi.responses
    import HTMLResponse``), from every ``from x import a, b`` line in the docs' code."""
    seen: dict[str, Counter[str]] = {}
    for text in code_texts:
        for m in _IMPORT_LINE.finditer(text):
            if m.group(3):
                name = m.group(3).split(".")[0]
                seen.setdefault(name, Counter())[f"import {name}"] += 1
                continue
            for name in re.findall(r"[A-Za-z_]\w*", m.group(2)):
                if name != "as":
                    seen.setdefault(name, Counter())[f"from {m.group(1)} import {name}"] += 1
    return {name: lines.most_common(1)[0][0] for name, lines in seen.items()}


def importable(imports: Mapping[str, str]) -> dict[str, str]:
    """Only the lines whose package is installed here (``from .models import Item`` and ``import jwt``
    without PyJWT are not completions the sandbox can run)."""
    import importlib.util

    ok: dict[str, bool] = {}
    out = {}
    for name, line in imports.items():
        top = line.split()[1].split(".")[0]
        if not top:
            continue
        if top not in ok:
            try:
                ok[top] = importlib.util.find_spec(top) is not None
            except (ImportError, ValueError):
                ok[top] = False
        if ok[top]:
            out[name] = line
    return out


def undefined_names(tree: ast.AST) -> list[str]:
    """Names read somewhere in the module that nothing in it binds (a module-wide approximation of scopes:
    enough to find what a snippet forgot to import or define)."""
    bound: set[str] = set()
    used: dict[str, tuple[int, int]] = {}  # name -> where it is first read, to report in reading order
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                at = (node.lineno, node.col_offset)
                used[node.id] = min(used.get(node.id, at), at)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
    return sorted((n for n in used if n not in bound and n not in _BUILTINS), key=used.__getitem__)


def _excerpt(code: str, err: SyntaxError | None = None) -> bool:
    """Code the answer shows in part: it starts indented, marks omitted code with an ellipsis, or is a
    function's body (``return`` or ``await`` outside a function)."""
    first = next((line for line in code.splitlines() if line.strip()), "")
    if err is not None and "outside" in (err.msg or "") and "function" in (err.msg or ""):
        return True
    return first[:1] in (" ", "\t") or "…" in code or bool(re.search(r"^\s*(#\s*)?\.\.\.\s*(#.*)?$", code, re.M))


def join_blocks(blocks: list[str]) -> str:
    """The blocks as one module, the imports at each block's top level first (deduplicated): an answer often
    shows a class first and the block with its imports after. Imports are found by parsing, so an "import"
    line inside a string stays where it is; a block that does not parse is kept as it is."""
    imports: dict[str, None] = {}
    bodies = []
    for block in blocks:
        lines = block.splitlines()
        try:
            tree = ast.parse(block)
        except SyntaxError:
            bodies.append(block.strip("\n"))
            continue
        moved: set[int] = set()
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom) and not (
                isinstance(node, ast.ImportFrom) and node.module == "__future__"
            ):
                span = range(node.lineno - 1, (node.end_lineno or node.lineno))
                imports.setdefault("\n".join(lines[i] for i in span), None)
                moved.update(span)
        bodies.append("\n".join(line for i, line in enumerate(lines) if i not in moved).strip("\n"))
    future = [line for body in bodies for line in body.splitlines() if line.startswith("from __future__ import")]
    bodies = ["\n".join(ln for ln in b.splitlines() if not ln.startswith("from __future__ import")) for b in bodies]
    head = "\n".join([*dict.fromkeys(future), *imports])  # ``from __future__`` must open the module
    return "\n\n".join(p for p in [head, *bodies] if p.strip())


def _cut_off(code: str, err: SyntaxError) -> bool:
    """The error is at the code's end and is the kind an unfinished block gives (the answer ran out of
    tokens, or a block was split): not a mistake in what the code says."""
    lines = code.rstrip().splitlines()
    msg = err.msg or ""
    if "expected an indented block" in msg:  # the block's header is the last line: its body never came
        return bool(lines) and lines[-1].rstrip().endswith(":")
    unfinished = ("was never closed", "unexpected EOF", "incomplete input")
    return (err.lineno or 0) >= len(lines) and any(u in msg for u in unfinished)


def prepare(answer: str, imports: Mapping[str, str], verbatim: bool = False) -> Prepared:
    """The answer's Python as one runnable module, completed with the docs' imports, or why not. ``verbatim``:
    ``answer`` is code itself (an agent's, through MCP), run as written apart from the added imports."""
    blocks = [answer] if verbatim else python_blocks(answer)
    if not blocks or not blocks[0].strip():
        return Prepared()
    code = blocks[0] if verbatim else join_blocks(blocks)
    try:
        tree = ast.parse(code)
        compile(tree, "<answer>", "exec")  # what parses but cannot compile: ``return`` outside a function
    except SyntaxError as err:
        if _excerpt(code, err):
            return Prepared(code=code, blocks=len(blocks), reason="an excerpt (indented, or with omitted parts)")
        if _cut_off(code, err):
            return Prepared(code=code, blocks=len(blocks), reason="the code stops mid-statement (cut off)")
        at = f" (at `{err.text.strip()[:120]}`)" if err.text and err.text.strip() else ""
        return Prepared(code=code, blocks=len(blocks), syntax_error=f"SyntaxError: {err.msg}{at}")
    missing = undefined_names(tree)
    added: list[str] = []
    for name in missing:
        line = imports.get(name) or STDLIB.get(name)
        if line and line not in added:
            added.append(line)
    known = {n for n in missing if n in imports or n in STDLIB}
    made = _made(tree, [n for n in missing if n not in known])
    unknown = [n for n in missing if n not in known and n not in made]
    if made:
        for name, maker in made.items():
            line = imports.get(maker, f"from fastapi import {maker}")
            if line not in added:
                added.append(line)
            added.append(f"{name} = {maker}()")
    if unknown:
        shown = ", ".join(f"`{n}`" for n in unknown[:4])
        return Prepared(code=code, blocks=len(blocks), added=added, reason=f"uses names it does not define: {shown}")
    header = "\n".join(added)
    holes = placeholders(tree)
    if not header:
        return Prepared(code=code, blocks=len(blocks), added=added, placeholders=holes)
    future = [line for line in code.splitlines() if line.startswith("from __future__ import")]
    rest = "\n".join(line for line in code.splitlines() if not line.startswith("from __future__ import"))
    return Prepared(code="\n".join([*future, header, "", rest]), blocks=len(blocks), added=added, placeholders=holes)


def placeholders(tree: ast.AST) -> list[str]:
    """Functions the answer left out: a body of only ``...`` or ``pass`` (after a docstring). Their routes are not
    called: the snippet says "your code here", not "this returns None"."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = [
                b
                for b in node.body
                if not (
                    isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant) and isinstance(b.value.value, str)
                )
            ]
            if all(
                isinstance(b, ast.Pass)
                or (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant) and b.value.value is Ellipsis)
                for b in body
            ):
                out.append(node.name)
    return out


def _made(tree: ast.AST, missing: list[str]) -> dict[str, str]:
    """``app``/``router`` used as ``@app.get(...)`` but never created: created (FastAPI() / APIRouter())."""
    made: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in missing:
            name = node.value.id
            if name == "app" or name.endswith("_app"):
                made[name] = "FastAPI"
            elif name == "router" or name.endswith("_router"):
                made[name] = "APIRouter"
    return made
