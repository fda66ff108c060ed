"""The local runtime: assembles model files and keeps one server per local model, started on first use.

    with LocalRuntime(state_dir / "models", threads=2) as runtime:
        server = runtime.server_for(get_spec("qwen2.5-coder-1.5b"))   # started once, reused after

Whoever creates it owns it (the CLI command, the API's lifespan) and closes it; every server also
stops at interpreter exit and when this process dies (its stdin closes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from fda.lm.assemble import assemble
from fda.lm.registry import ModelSpec, base_spec, check_adapter
from fda.lm.server import WORKER_COMMAND, LocalServer, ServerConfig

log = logging.getLogger(__name__)


class LocalRuntime:
    def __init__(
        self,
        models_dir: Path,
        *,
        context_size: int = 4096,
        threads: int = 2,
        parallel: int = 1,
        startup_timeout_s: float = 120.0,
        log_dir: Path | None = None,
        progress: bool = False,
        command: Sequence[str] = WORKER_COMMAND,
        speculative: str = "none",
        draft: ModelSpec | None = None,
        draft_max: int = 16,
        speculative_for: str | None = None,
    ) -> None:
        self.models_dir = models_dir
        self.context_size = context_size
        self.threads = threads
        self.parallel = parallel
        self.startup_timeout_s = startup_timeout_s
        self.log_dir = log_dir
        self.progress = progress
        self.command = list(command)
        self.speculative = speculative
        self.draft = draft  # lm.speculative=draft: the local model that drafts
        self.draft_max = draft_max
        self.speculative_for = speculative_for  # the model it applies to (None: every local model)
        self._servers: dict[str, LocalServer] = {}
        self._lock = threading.Lock()

    def config_for(self, spec: ModelSpec, model_path: Path) -> ServerConfig:
        speculative, draft_path = self.speculative, None
        if self.speculative_for is not None and spec.name != self.speculative_for:
            speculative = "none"  # the served model only: not the judge or teacher
        if speculative == "draft":
            if self.draft is None or self.draft.name == spec.name:  # a model does not draft for itself
                speculative = "none"
            else:
                draft_path = assemble(self.draft, self.models_dir, progress=self.progress)
        return ServerConfig(
            model_path=model_path,
            alias=spec.name,
            context_size=min(self.context_size, spec.context_length),
            threads=self.threads,
            parallel=self.parallel,
            speculative=speculative,
            draft_path=draft_path,
            draft_max=self.draft_max,
            lora_path=check_adapter(spec),  # an adapted model: its verified LoRA adapter on the base weights
        )

    def server_for(self, spec: ModelSpec) -> LocalServer:
        """The running server for ``spec``: assembled and started on first use, restarted if it died."""
        with self._lock:
            server = self._servers.get(spec.name)
            if server is not None and server.running:
                return server
            if server is not None:
                log.warning("local LM %s had stopped (%s); restarting", spec.name, server.log_tail(300) or "no log")
                server.stop()
            path = assemble(base_spec(spec), self.models_dir, progress=self.progress)
            log_path = self.log_dir / f"lm-{spec.name}.log" if self.log_dir else None
            server = LocalServer(
                self.config_for(spec, path),
                startup_timeout_s=self.startup_timeout_s,
                log_path=log_path,
                command=self.command,
            )
            server.start()
            self._servers[spec.name] = server
            return server

    def running(self) -> list[str]:
        return [name for name, server in self._servers.items() if server.running]

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()

    def __enter__(self) -> LocalRuntime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
