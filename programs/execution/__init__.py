"""Run the code an answer shows, confined, and say whether it works (docs/code-checks.md).

    checker = load_code_checker(settings)        # None when settings.code.execute is false
    checker.check(answer, version).status        # verified / failed / not_runnable / not_run

extract.py (blocks -> one completed module), sandbox.py (namespaces + limits), harness.py (runs inside:
import, app, OpenAPI, every route with TestClient), examples.py (is it a docs_src/ example?), check.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from fda.errors import CorpusError
from index.ingest.sources import Snapshot, load_sources
from programs.execution.check import CodeChecker, CodeReport
from programs.execution.examples import DocsExamples
from programs.execution.extract import docs_imports, importable
from programs.execution.sandbox import Sandbox, SandboxLimits

if TYPE_CHECKING:
    from fda.settings import Settings

__all__ = ["CodeChecker", "CodeReport", "hidden_paths", "load_code_checker", "local_snapshots"]

log = logging.getLogger(__name__)


def hidden_paths(settings: Settings) -> list[Path]:
    """What an answer's code must never see: the state folder (query logs, MLflow, models, indexes), every
    store or log the settings put elsewhere, and ``.env`` beside the project and the working directory."""
    from fda.settings import project_root

    paths: list[Path | None] = [
        settings.state_dir,
        settings.retrieval.index_dir,
        settings.ui.eval_db,
        settings.ui.logs_db,
        settings.tracing.file.parent if settings.tracing.file else None,
        project_root() / ".env",
        Path.cwd() / ".env",
    ]
    for uri in (settings.eval.tracking_uri, settings.eval.artifact_location):
        if uri and (uri.startswith("sqlite:///") or "://" not in uri):
            paths.append(Path(uri.removeprefix("sqlite:///")))
    return [p.resolve() for p in dict.fromkeys(p for p in paths if p is not None)]


def local_snapshots(settings: Settings) -> list[Snapshot]:
    """The corpus sources on this machine (a github: source is never downloaded for this); [] when none read."""
    local = [s for s in settings.corpus.sources if not s.startswith("github:")]
    try:
        return load_sources(local, settings.state_dir / "cache") if local else []
    except CorpusError as err:
        log.warning("code checks without the docs' imports and examples: %s", str(err).split("\n")[0])
        return []


def load_code_checker(settings: Settings) -> CodeChecker | None:
    """The checker the service and the CLI use: the sandbox with the settings' limits, the docs' imports and
    examples read from the corpus sources (local dumps only: nothing is downloaded for this)."""
    if not settings.code.execute:
        return None
    limits = SandboxLimits(timeout_s=settings.code.timeout_s, memory_mb=settings.code.memory_mb)
    sandbox = Sandbox(limits, hide=hidden_paths(settings))
    snapshots = local_snapshots(settings)
    examples = DocsExamples.from_snapshots(snapshots)
    texts = [text for s in snapshots for path, text in s.files.items() if path.endswith(".py")]
    return CodeChecker(
        sandbox,
        imports=importable(docs_imports(texts)),
        examples=examples,
        max_routes=settings.code.max_routes,
        max_chars=settings.code.max_chars,
    )
