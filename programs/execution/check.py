"""Run the code an answer shows and say whether it works: ``verified``, ``failed`` (with the error), ``not
runnable`` (a fragment, and why) or ``not run`` (no sandbox here, or checks off).

    checker = CodeChecker(Sandbox(...), imports=docs_imports(texts), examples=DocsExamples(...))
    report = checker.check(answer, version="0.141.1")
    report.status      # "verified"; report.routes: [{"method": "GET", "path": "/items/{item_id}", "status": 200}]

``verified`` means: the module imports in the sandbox, its app starts (lifespan included), its OpenAPI schema
builds, and every route answers a request made from its own schema without a server error (a 4xx is an
answer). It does not mean the code does what the question asked. Reports are cached by code, so the same
snippet is run once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from fda.errors import SandboxBusyError, SandboxUnavailableError
from programs.execution.examples import DocsExamples
from programs.execution.extract import prepare, python_blocks, with_imports
from programs.execution.harness import MARKER
from programs.execution.sandbox import Sandbox

log = logging.getLogger(__name__)

Status = Literal["verified", "failed", "not_runnable", "not_run"]
_MADE = re.compile(r"^\w+ = (\w+)\(\)$")  # an object the check created to run the code (``app = FastAPI()``)
IDENT = re.compile(r"[A-Za-z_]\w*")
HARNESS = (Path(__file__).with_name("harness.py")).read_text(encoding="utf-8")


@dataclass(frozen=True)
class CodeReport:
    status: Status
    detail: str = ""  # the error (failed), why it cannot run (not_runnable) or was not run (not_run)
    stage: str = ""  # how far the run got: import, app, openapi, routes
    blocks: int = 0
    added: list[str] = field(default_factory=list)  # imports (and app/router) added to complete the snippet
    routes: list[dict[str, Any]] = field(default_factory=list)  # method, path, status, error
    docs_example: dict[str, Any] | None = None  # {"path", "version", "url", "share"} when it is a docs example
    ms: float = 0.0  # sandbox wall time
    fastapi: str = ""  # the FastAPI it ran on (the service's own; the answer's docs version may be older)
    # a repair was tried (programs/execution/repair.py): accepted, the first code's error, why it was not kept
    repair: dict[str, Any] | None = None
    # the import lines of ``added`` that were put into the answer's code, so that what it shows runs as it ran
    imports_shown: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a terminal or a log."""
        words = {
            "verified": "code verified",
            "failed": "code failed",
            "not_runnable": "code not runnable",
            "not_run": "code not run",
        }[self.status]
        n = len(self.routes)
        calls = f" ({n} route{'s' if n != 1 else ''} answered)" if self.status == "verified" and n else ""
        detail = f": {self.detail}" if self.detail else ""
        example = f"; docs example {self.docs_example['url']}" if self.docs_example else ""
        on = f" on FastAPI {self.fastapi}" if self.fastapi else ""
        shown = f"; imports added to the answer's code: {'; '.join(self.imports_shown)}" if self.imports_shown else ""
        return f"{words}{on}{calls}{detail}{example}{shown}{self._repair_note()}"

    def _repair_note(self) -> str:
        r = self.repair
        if not r or not r.get("tried"):
            return ""
        if r.get("accepted"):
            return f"; repaired once: the answer's first code failed with {r.get('error', '')}"
        return f"; a repair was tried and not kept: {r.get('why', '')}"


class CodeChecker:
    def __init__(
        self,
        sandbox: Sandbox,
        imports: Mapping[str, str] | None = None,
        examples: DocsExamples | None = None,
        max_routes: int = 12,
        max_chars: int = 20_000,
        cache_size: int = 256,
    ) -> None:
        self.sandbox = sandbox
        self.imports = dict(imports or {})
        self.examples = examples
        self.max_routes = max_routes
        self.max_chars = max_chars
        self._cache: OrderedDict[str, CodeReport] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def check(self, answer: str, version: str | None = None) -> CodeReport | None:
        """The report for the answer's Python code; None when it shows none."""
        blocks = python_blocks(answer)
        if not blocks:
            return None
        key = hashlib.sha256(f"{version}\0{answer}".encode()).hexdigest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        report = self._check(answer, blocks, version)
        if report.status == "not_run":  # busy or no sandbox now: ask again next time
            return report
        with self._lock:
            self._cache[key] = report
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return report

    def check_code(self, code: str) -> CodeReport | None:
        """As :meth:`check`, for code itself (an agent's, through MCP's check_code): run as written, only the
        missing imports added; None when it is empty."""
        if not code.strip():
            return None
        return self._check(code, [code], None, verbatim=True)

    def check_prediction(self, pred: Any, version: str | None = None) -> CodeReport | None:
        """As :meth:`check`, for a program's prediction: declined and fallback answers are not run. Verified
        code that needed imports it did not show (``from typing import Annotated``) gets them: they go into
        ``pred.answer``'s first Python block, and ``imports_shown`` lists them, so the code the user copies runs
        as it ran here. Checking the completed answer again adds nothing."""
        if getattr(pred, "fallback", False) or getattr(pred, "refused", False) or getattr(pred, "cannot_answer", False):
            return None
        report = self.check(str(pred.answer), version)
        if report is None or report.status != "verified" or not report.added:
            return report
        # the import of a class whose object the check created (``app = FastAPI()``) would not help: that line is
        # not shown, so the code would still lack ``app``
        made = {m.group(1) for line in report.added if (m := _MADE.match(line))}
        lines = [line for line in report.added if not (set(IDENT.findall(line.split(" import ")[-1])) & made)]
        pred.answer, shown = with_imports(str(pred.answer), lines)
        if not shown:
            return report
        completed = replace(report, imports_shown=shown)
        key = hashlib.sha256(f"{version}\0{pred.answer}".encode()).hexdigest()
        with self._lock:  # a cached answer is served completed: the completed text keeps the same report
            self._cache[key] = completed
        return completed

    def _example(self, blocks: list[str], version: str | None) -> dict[str, Any] | None:
        if self.examples is None:
            return None
        for block in blocks:
            found = self.examples.match(block, version)
            if found is not None:
                return {"path": found.path, "version": found.version, "url": found.url, "share": found.share}
        return None

    def _check(self, answer: str, blocks: list[str], version: str | None, verbatim: bool = False) -> CodeReport:
        example = self._example(blocks, version)
        prepared = prepare(answer, self.imports, verbatim=verbatim)
        base: dict[str, Any] = {"blocks": prepared.blocks, "added": prepared.added, "docs_example": example}
        if prepared.syntax_error:
            return CodeReport("failed", prepared.syntax_error, stage="parse", **base)
        if prepared.reason:
            return CodeReport("not_runnable", prepared.reason, **base)
        if len(prepared.code) > self.max_chars:
            return CodeReport("not_runnable", f"longer than {self.max_chars} characters", **base)
        nonce = secrets.token_hex(8)
        job = json.dumps(
            {
                "code": prepared.code,
                "nonce": nonce,
                "max_routes": self.max_routes,
                "placeholders": prepared.placeholders,
            }
        )
        try:
            run = self.sandbox.run(HARNESS, stdin=job)
        except SandboxBusyError:
            return CodeReport("not_run", "the code checks are busy (too many answers at once)", **base)
        except SandboxUnavailableError as err:
            return CodeReport("not_run", str(err).split("\n")[0], **base)
        except OSError as err:
            log.warning("code check could not start the sandbox: %s", err)
            return CodeReport("not_run", f"the sandbox could not start: {err}", **base)
        if run.timed_out:
            limit = self.sandbox.limits.timeout_s
            return CodeReport(
                "not_runnable",
                f"did not finish within {limit:g} s (an endless stream or a long wait?)",
                ms=run.ms,
                **base,
            )
        report = _read_report(run.stdout, nonce)
        if report is None:
            tail = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1][:300]
            return CodeReport("failed", f"the run ended without a report: {tail}", stage="import", ms=run.ms, **base)
        base["fastapi"] = str(report.get("fastapi", ""))
        cause = str(report.get("cause", ""))
        if cause:  # it failed for want of something the sandbox does not give, not by its own mistake
            return CodeReport(
                "not_runnable", _needs(cause, str(report.get("error", ""))), stage="import", ms=run.ms, **base
            )
        if report.get("stage") == "app":  # it imported; there is nothing to call
            detail = "imports cleanly, but defines no FastAPI app or router to call"
            return CodeReport("not_runnable", detail, stage="app", ms=run.ms, **base)
        status: Status = "verified" if report.get("ok") else "failed"
        excused = [r for r in report.get("routes", []) if r.get("cause")]
        detail = docs_import_hint(str(report.get("error", "")), self.imports)
        if status == "verified" and excused:
            r = excused[0]
            why = {
                "input": "a lookup of the made-up test input; not counted",
                "files": "a file the sandbox does not have; not counted",
                "placeholder": "its body is a placeholder; not called",
            }.get(r["cause"], r["cause"])
            detail = f"{r['method']} {r['path']}: " + (f"{r['error']} " if r["error"] else "") + f"({why})"
        return CodeReport(
            status,
            detail,
            stage=str(report.get("stage", "")),
            routes=list(report.get("routes", [])),
            ms=run.ms,
            **base,
        )


WRONG_MODULE = re.compile(r"^ImportError: cannot import name '(\w+)' from '([\w.]+)'")


def docs_import_hint(detail: str, imports: Mapping[str, str]) -> str:
    """``cannot import name 'OAuth2PasswordRequestForm' from 'fastapi'`` + ``. The docs import it as `from
    fastapi.security import OAuth2PasswordRequestForm``` when the docs import that name from another module
    (the hint goes before the answer's line, ``(at ...)``); the detail as it was otherwise."""
    m = WRONG_MODULE.match(detail)
    line = imports.get(m.group(1), "") if m else ""
    if not m or not line or line.startswith(f"from {m.group(2)} import") or "Did you mean" in detail:
        return detail
    head, at, tail = detail.partition(" (at `")
    return f"{head}. The docs import it as `{line}`" + (at + tail if at else "")


def _needs(cause: str, error: str) -> str:
    if cause == "package":
        return "imports from the reader's own package (a relative import): " + error
    if cause == "files":
        return "needs files or folders it does not create: " + error
    if cause.startswith("module:"):
        return f"needs `{cause.removeprefix('module:')}`, which is not installed where the code runs (or is the reader's own module)"
    if cause == "network":
        return "needs the network or a running server, which the sandbox does not have: " + error
    return "needs settings from the environment or a .env file: " + error


_ROUTE_KEYS = {"method": str, "path": str, "status": int, "error": str}


def _read_report(stdout: str, nonce: str) -> dict[str, Any] | None:
    """The harness's report line, if it has the report's shape (code in the same process can print anything)."""
    prefix = MARKER + nonce
    for line in reversed(stdout.splitlines()):
        if line.startswith(prefix):
            try:
                data = json.loads(line[len(prefix) :])
            except json.JSONDecodeError:
                return None
            routes = data.get("routes") if isinstance(data, dict) else None
            if not isinstance(routes, list) or not all(
                isinstance(r, dict) and all(isinstance(r.get(k), t) for k, t in _ROUTE_KEYS.items()) for r in routes
            ):
                return None
            if not isinstance(data.get("error", ""), str) or not isinstance(data.get("stage", ""), str):
                return None
            return data
    return None
