"""Compiled programs in the MLflow model registry: one registered model per program, aliases
``champion`` (what is served) and ``challenger`` (the latest compiled version not promoted).

    reg = ProgramRegistry(tracking_uri, prefix="fda-")
    version = reg.register("rag", run_id)                  # the run's ``program/`` artifacts (JSON state + manifest)
    reg.promote("rag", version, reason="...")              # champion -> version; history kept for rollback
    reg.rollback("rag")                                    # champion -> the one before
    folder = reg.download("rag", version, tmp_dir)         # program.json, manifest.json, dev_scores.json

An explicit ``MlflowClient`` (no global state). The champion history lives in a registered-model tag, so
a rollback knows which version served before.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fda.errors import CompileError

log = logging.getLogger(__name__)

ARTIFACT_PATH = "program"
CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "fda.champion_history"
PROGRESS_BAR_VAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


@dataclass
class VersionInfo:
    version: str
    run_id: str | None
    created_ms: int
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


class ProgramRegistry:
    def __init__(self, tracking_uri: str, *, prefix: str = "fda-") -> None:
        from mlflow.tracking import MlflowClient

        self.tracking_uri = tracking_uri
        self.prefix = prefix
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def model_name(self, program: str) -> str:
        return f"{self.prefix}{program}"

    def _ensure_model(self, program: str) -> str:
        from mlflow.exceptions import MlflowException

        name = self.model_name(program)
        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(
                name, description=f"Compiled '{program}' answer programs (DSPy JSON state + manifest)."
            )
        return name

    def register(self, program: str, run_id: str, tags: dict[str, str] | None = None) -> str:
        """A new version from the run's ``program/`` artifacts; returns its number."""
        name = self._ensure_model(program)
        mv = self.client.create_model_version(
            name, f"runs:/{run_id}/{ARTIFACT_PATH}", run_id=run_id, tags=dict(tags or {})
        )
        log.info("registered %s version %s (run %s)", name, mv.version, run_id)
        return str(mv.version)

    def aliases(self, program: str) -> dict[str, str]:
        from mlflow.exceptions import MlflowException

        try:
            model = self.client.get_registered_model(self.model_name(program))
        except MlflowException:
            return {}
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def alias_version(self, program: str, alias: str) -> str | None:
        return self.aliases(program).get(alias)

    def champion(self, program: str) -> str | None:
        return self.alias_version(program, CHAMPION)

    def versions(self, program: str) -> list[VersionInfo]:
        """Every version, newest first, with its aliases and tags."""
        by_version: dict[str, list[str]] = {}
        for alias, version in self.aliases(program).items():
            by_version.setdefault(version, []).append(alias)
        found = self.client.search_model_versions(f"name='{self.model_name(program)}'")
        infos = [
            VersionInfo(
                version=str(mv.version),
                run_id=mv.run_id,
                created_ms=int(mv.creation_timestamp or 0),
                aliases=sorted(by_version.get(str(mv.version), [])),
                tags=dict(mv.tags or {}),
            )
            for mv in found
        ]
        return sorted(infos, key=lambda v: int(v.version), reverse=True)

    def version(self, program: str, version: str) -> VersionInfo:
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version(self.model_name(program), version)
        except MlflowException as err:
            raise CompileError(
                f"{self.model_name(program)} has no version {version!r}", hint="List versions: `fda programs list`."
            ) from err
        aliases = [a for a, v in self.aliases(program).items() if v == str(mv.version)]
        return VersionInfo(str(mv.version), mv.run_id, int(mv.creation_timestamp or 0), sorted(aliases), dict(mv.tags))

    def set_alias(self, program: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.model_name(program), alias, version)

    def delete_alias(self, program: str, alias: str) -> None:
        if alias in self.aliases(program):
            self.client.delete_registered_model_alias(self.model_name(program), alias)

    def history(self, program: str) -> list[str]:
        model = self.client.get_registered_model(self.model_name(program))
        raw = (model.tags or {}).get(HISTORY_TAG, "[]")
        data: list[str] = json.loads(raw)
        return data

    def _set_history(self, program: str, history: list[str]) -> None:
        self.client.set_registered_model_tag(self.model_name(program), HISTORY_TAG, json.dumps(history[-50:]))

    def promote(self, program: str, version: str, reason: str = "") -> None:
        """Make ``version`` the champion (it stops being the challenger); remembered for rollback."""
        self.version(program, version)  # exists?
        history = self.history(program)
        if history and history[-1] == version and self.champion(program) == version:
            return
        self.set_alias(program, CHAMPION, version)
        self._set_history(program, [*history, version])
        if self.alias_version(program, CHALLENGER) == version:
            self.delete_alias(program, CHALLENGER)
        self.client.set_model_version_tag(self.model_name(program), version, "fda.promoted", reason or "manual")
        log.info("%s: version %s is the champion (%s)", self.model_name(program), version, reason or "manual")

    def rollback(self, program: str) -> str:
        """Champion back to the version that served before the current one; returns it."""
        history = self.history(program) if self._exists(program) else []
        if len(history) < 2:
            raise CompileError(
                f"{self.model_name(program)} has no earlier champion to roll back to",
                hint="Promote a version explicitly: `fda programs promote VERSION`.",
            )
        previous = history[-2]
        self.set_alias(program, CHAMPION, previous)
        self._set_history(program, history[:-1])
        log.info("%s: rolled back to version %s (from %s)", self.model_name(program), previous, history[-1])
        return previous

    def _exists(self, program: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(self.model_name(program))
        except MlflowException:
            return False
        return True

    def download(self, program: str, version: str, dst: Path) -> Path:
        """The version's ``program/`` folder (program.json, manifest.json, ...), copied under ``dst``."""
        info = self.version(program, version)
        if not info.run_id:
            raise CompileError(f"{self.model_name(program)} version {version} names no run")
        dst.mkdir(parents=True, exist_ok=True)
        with _no_progress_bar():
            path = self.client.download_artifacts(info.run_id, ARTIFACT_PATH, str(dst))
        return Path(path)


@contextmanager
def _no_progress_bar() -> Iterator[None]:
    """MLflow draws a progress bar per download: noise for a few small JSON files (served at start-up)."""
    old = os.environ.get(PROGRESS_BAR_VAR)
    os.environ[PROGRESS_BAR_VAR] = "false"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(PROGRESS_BAR_VAR, None)
        else:
            os.environ[PROGRESS_BAR_VAR] = old
