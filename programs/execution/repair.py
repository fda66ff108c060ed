"""One more try for an answer's code that failed when it was run (docs/code-checks.md, "Repair").

Two steps, each kept only when the code then runs (``verified`` in the sandbox, like the first code):
1. **the error's own suggestion**, no LM: the sandbox says what a wrong name was probably meant to be
   (``cannot import name 'GzipMiddleware' ... Did you mean: 'GZipMiddleware'?``, a misspelt attribute or
   keyword argument): that name is respelt in the answer's code and inline code; or where the docs import
   a name the code imports from another module (``... The docs import it as `from fastapi.security import
   X```): the import is moved. Then the code is run again (~0.3 s);
2. with ``use_lm``, **the LM**: the code, where it failed and the answer's sources go back to it once
   (signatures/code_repair.py). Its fix replaces the answer's block only when the block is known (the only
   Python block, or the one holding the line the error quotes) and the fix keeps every route the code
   declared and every name it used, except the names the error points at, respellings and imports: a
   repair, not a new program that leaves out what the answer was about.
Otherwise the answer stays as it was, and the report says the repair was tried and why it was not kept.

    repairer = CodeRepairer(checker, use_lm=True)
    with dspy.context(lm=lm):
        outcome = repairer.repair(question, answer, report, passages, version)
    outcome.accepted, outcome.answer, outcome.report.status, outcome.info   # info["how"]: suggestion | lm
"""

from __future__ import annotations

import difflib
import keyword
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dspy

from fda.lm.adapter import lm_scope
from fda.types import Passage
from programs.execution.check import WRONG_MODULE, CodeChecker, CodeReport
from programs.execution.extract import Fence, python_fences
from signatures.code_repair import RepairCode

log = logging.getLogger(__name__)

# a route decorator: @app.get("/items/{id}"), @router.post('/x', ...), @app.websocket("/ws")
_ROUTE = re.compile(
    r"@\w+\.(get|post|put|delete|patch|options|head|trace|websocket|api_route)\(\s*[rb]?[\"']([^\"']*)[\"']"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_IMPORT = re.compile(r"^\s*(from\s+\S+\s+)?import\s")
_KEYWORDS = set(keyword.kwlist) | {"self", "cls"}
_STRING = re.compile(r"(?s)\"\"\".*?\"\"\"|'''.*?'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'")
_COMMENT = re.compile(r"#[^\n]*")
_MEANT = re.compile(r"\. Did you mean: '([A-Za-z_]\w*)'\?")
_WRONG = re.compile(
    r"cannot import name '(\w+)'|has no attribute '(\w+)'|unexpected keyword argument '(\w+)'|name '(\w+)' is not"
)
_DOCS_IMPORT = re.compile(r"\. The docs import it as `from [\w.]+ import (\w+ as )?(\w+)`")
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)  # fenced blocks, then inline code spans
_AT = re.compile(r"\(at `(.+?)`\)\s*$")
_FENCED = re.compile(r"^\s*```[\w+-]*[^\n]*\n(.*?)(?:\n\s*```\s*)?$", re.DOTALL)


@dataclass(frozen=True)
class RepairOutcome:
    accepted: bool
    answer: str  # the answer with the repaired block when accepted, else as it was
    report: CodeReport  # the repaired code's report when accepted, else the original's (with ``repair`` set)
    info: dict[str, Any] = field(default_factory=dict)


def declared_routes(code: str) -> set[tuple[str, str]]:
    """(method, path) of every route decorator in the code."""
    return {(m.group(1).upper(), m.group(2)) for m in _ROUTE.finditer(code)}


def unfence(text: str) -> str:
    """The model's code without the Markdown fence it may have put around it."""
    text = text.strip("\n")
    m = _FENCED.match(text)
    return (m.group(1) if m else text).rstrip()


def _names(code: str, skip_imports: bool = False) -> set[str]:
    """The code's names: not in strings or comments, not keywords."""
    lines = code.splitlines()
    if skip_imports:
        lines = [line for line in lines if not _IMPORT.match(line)]
    text = _COMMENT.sub("", _STRING.sub('""', "\n".join(lines)))
    return {n for n in _NAME.findall(text) if n not in _KEYWORDS}


def dropped_names(code: str, fixed: str, error: str) -> list[str]:
    """Names of the code that the fix no longer has, other than those the error names, those it renamed to a
    close spelling (``GzipMiddleware`` -> ``GZipMiddleware``) and those only imported: what a repair should not
    lose (the feature the answer is about), in order."""
    kept = _names(fixed)
    out = []
    for name in sorted(_names(code, skip_imports=True) - kept):
        if name in error or difflib.get_close_matches(name, kept, n=1, cutoff=0.8):
            continue
        out.append(name)
    return out


def sources_text(passages: Sequence[Passage], max_chars: int) -> str:
    parts, left = [], max_chars
    for i, p in enumerate(passages, 1):
        title = " > ".join(p.heading_path) or p.url
        text = p.text[: max(0, left)]
        if not text:
            break
        parts.append(f"[{i}] {title}\n{text}")
        left -= len(text)
    return "\n\n".join(parts)


def failing_block(answer: str, detail: str) -> Fence | None:
    """The block to repair: the answer's only Python block, or the one holding the line the error quotes
    (the checker's ``(at `line`)``); None when that cannot be told."""
    fences = python_fences(answer)
    if len(fences) == 1:
        return fences[0]
    m = _AT.search(detail)
    if not m:
        return None
    line = m.group(1).strip()
    holding = [f for f in fences if any(x.strip() == line for x in f.code.splitlines())]
    return holding[0] if len(holding) == 1 else None


def suggested_rename(detail: str) -> tuple[str, str] | None:
    """(wrong, meant) from an error that says what was meant (the harness's ``Did you mean: 'X'?`` after a
    wrong from-import, attribute, name or keyword argument); None otherwise."""
    meant = _MEANT.search(detail)
    wrong = _WRONG.search(detail)
    name = next((g for g in wrong.groups() if g), "") if wrong else ""
    if not meant or not name or meant.group(1) == name:
        return None
    return name, meant.group(1)


def renamed(answer: str, wrong: str, meant: str) -> str:
    """The answer with every ``wrong`` name spelt ``meant``: whole words, in its code blocks and inline code only
    (the prose's own words stay as written, even where one looks like the name)."""
    word = re.compile(rf"(?<!\w){re.escape(wrong)}(?!\w)")
    return _CODE.sub(lambda m: word.sub(meant, m.group(0)), answer)


def moved_import(answer: str, detail: str) -> str | None:
    """The answer with a name imported from the wrong module imported the way the docs import it (the checker's
    ``. The docs import it as `from fastapi.security import X```): the name leaves the wrong ``from m import``
    line (the line goes when nothing is left on it) and the docs' line follows it. None when that does not
    apply."""
    hint = _DOCS_IMPORT.search(detail)
    wrong = WRONG_MODULE.match(detail)
    if not hint or not wrong or hint.group(2) != wrong.group(1):
        return None
    name, module, line = wrong.group(1), wrong.group(2), hint.group(0)[len(". The docs import it as `") : -1]
    pattern = re.compile(rf"^([ \t]*)from {re.escape(module)} import (.*\b{re.escape(name)}\b.*)$", re.MULTILINE)

    def move(m: re.Match[str]) -> str:
        indent, names = m.group(1), m.group(2).strip().strip("()")
        rest = [n.strip() for n in names.split(",") if n.strip() and n.strip() != name]
        kept = f"{indent}from {module} import {', '.join(rest)}\n" if rest else ""
        return f"{kept}{indent}{line}"

    fixed, n = pattern.subn(move, answer)
    return fixed if n else None


class CodeRepairer:
    """``use_lm`` False: only the fix the error itself names (no LM call); True: that first, then the LM."""

    def __init__(self, checker: CodeChecker, *, use_lm: bool = True, source_chars: int = 1500) -> None:
        self.checker = checker
        self.use_lm = use_lm
        self.source_chars = source_chars
        self.fix = dspy.Predict(RepairCode)

    def repair_prediction(self, pred: Any, question: str, report: CodeReport, version: str | None) -> CodeReport:
        """:meth:`repair` for a program's prediction, from the passages it was written from: a kept fix replaces
        ``pred.answer``, and ``pred.code_repair`` records the try either way (so a cached answer is served
        repaired and not tried again). The report to show."""
        passages = list(getattr(pred, "passages", None) or [])
        outcome = self.repair(question, str(pred.answer), report, passages, version)
        if outcome.accepted:
            pred.answer = outcome.answer
        pred.code_repair = outcome.info
        return outcome.report

    def repair(
        self,
        question: str,
        answer: str,
        report: CodeReport,
        passages: Sequence[Passage] = (),
        version: str | None = None,
    ) -> RepairOutcome:
        """Try once to repair the answer's failed code (the error's suggestion, then with ``use_lm`` one LM call;
        a sandbox run for each fix); see the module."""
        info: dict[str, Any] = {"tried": False, "accepted": False, "error": f"{report.stage}: {report.detail}"}

        def keep(why: str) -> RepairOutcome:
            info["why"] = why
            return RepairOutcome(False, answer, replace(report, repair=info), info)

        if report.status != "failed":
            return keep(f"the code did not fail ({report.status})")
        block = failing_block(answer, report.detail)
        if block is None:
            n = len(python_fences(answer))
            return keep(f"the answer shows {n} Python blocks and the error does not say which one failed")
        info["tried"] = True
        rename = suggested_rename(report.detail)
        suggested: tuple[str, str] | None = None  # (what the error suggests, the answer with it)
        if rename is not None and re.search(rf"\b{re.escape(rename[0])}\b", block.code):
            suggested = (f"{rename[0]} -> {rename[1]}", renamed(answer, *rename))
        elif (moved := moved_import(answer, report.detail)) is not None:
            suggested = ("import as the docs do", moved)
        if suggested is not None:
            t1 = time.perf_counter()
            after = self.checker.check(suggested[1], version)
            info["check_ms"] = round((time.perf_counter() - t1) * 1000, 1)
            if after is not None and after.status == "verified":
                info.update(accepted=True, how="suggestion", why="", suggestion=suggested[0])
                return RepairOutcome(True, suggested[1], replace(after, repair=info), info)
            info["suggestion"] = f"{suggested[0]}: " + (f"{after.status}" if after else "no code")
        if not self.use_lm:
            return keep("the error names no fix that runs" if suggested else "the error names no fix")
        t0 = time.perf_counter()
        try:
            with lm_scope(None):
                out = self.fix(
                    question=question,
                    sources=sources_text(passages, self.source_chars),
                    code=block.code,
                    error=info["error"],
                )
        except Exception as err:  # a failed repair never costs the answer
            log.warning("code repair: the LM call failed: %s", err)
            info["lm_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            return keep(f"the repair's LM call failed: {type(err).__name__}")
        info["lm_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        fixed = unfence(str(getattr(out, "fixed_code", "") or ""))
        info["fixed_code"] = fixed[:4000]  # what the model proposed, kept or not (checkable in eval/results/code/)
        if not fixed.strip():
            return keep("the model returned no code")
        if fixed.strip() == block.code.strip():
            return keep("the model returned the same code")
        lost = declared_routes(block.code) - declared_routes(fixed)
        if lost:
            return keep("the fix drops routes: " + ", ".join(f"{m} {p}" for m, p in sorted(lost)))
        dropped = dropped_names(block.code, fixed, info["error"])
        if dropped:
            return keep("the fix drops names the error does not point at: " + ", ".join(dropped[:6]))
        body = "\n".join(block.indent + line if line.strip() else "" for line in fixed.splitlines())
        repaired = answer[: block.start] + body + "\n" + block.indent + answer[block.end :]
        t1 = time.perf_counter()
        after = self.checker.check(repaired, version)
        info["check_ms"] = round((time.perf_counter() - t1) * 1000, 1)
        if after is None or after.status != "verified":
            info["after"] = f"{after.status}: {after.detail}" if after is not None else "no code"
            return keep("the fixed code does not run either")
        info.update(accepted=True, how="lm", why="")
        return RepairOutcome(True, repaired, replace(after, repair=info), info)
