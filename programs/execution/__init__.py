"""Run the code an answer shows, confined, and say whether it works (docs/code-checks.md).

    checker = load_code_checker(settings)        # None when settings.code.execute is false
    checker.check(answer, version).status        # verified / failed / not_runnable / not_run

extract.py (blocks -> one completed module), sandbox.py (namespaces + limits), harness.py (runs inside:
import, app, OpenAPI, every route with TestClient), examples.py (is it a docs_src/ example?), check.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fda.errors import CorpusError
from index.ingest.sources import load_sources
from programs.execution.check import CodeChecker, CodeReport
from programs.execution.examples import DocsExamples
from programs.execution.extract import docs_imports, importable
from programs.execution.sandbox import Sandbox, SandboxLimits, default_hide

if TYPE_CHECKING:
    from fda.settings import Settings

__all__ = ["CodeChecker", "CodeReport", "load_code_checker"]

log = logging.getLogger(__name__)


def load_code_checker(settings: Settings) -> CodeChecker | None:
    """The checker the service and the CLI use: the sandbox with the settings' limits, the docs' imports and
    examples read from the corpus sources (local dumps only: nothing is downloaded for this)."""
    from fda.settings import project_root

    if not settings.code.execute:
        return None
    limits = SandboxLimits(timeout_s=settings.code.timeout_s, memory_mb=settings.code.memory_mb)
    sandbox = Sandbox(limits, hide=default_hide(settings.state_dir, project_root()))
    local = [s for s in settings.corpus.sources if not s.startswith("github:")]
    try:
        snapshots = load_sources(local, settings.state_dir / "cache") if local else []
    except CorpusError as err:
        log.warning("code checks without the docs' imports and examples: %s", str(err).split("\n")[0])
        snapshots = []
    examples = DocsExamples.from_snapshots(snapshots)
    texts = [text for s in snapshots for path, text in s.files.items() if path.endswith(".py")]
    return CodeChecker(
        sandbox,
        imports=importable(docs_imports(texts)),
        examples=examples,
        max_routes=settings.code.max_routes,
        max_chars=settings.code.max_chars,
    )
