"""What the app holds for its lifetime: programs, retrievers, LM, caches, query log, metrics.

``api.wiring.wire`` makes the real ones from settings (called in ``lifespan``); tests hand the app
their own ``Services`` with fakes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import dspy

from api.cache import TTLCache
from api.flights import Flights
from api.gate import LMGate
from api.querylog import Spool
from api.telemetry import Telemetry
from fda.errors import UnknownVersionError
from fda.settings import Settings
from index.retrieval.base import Retriever
from optimizers.serving import UNCOMPILED

log = logging.getLogger(__name__)

StreamFn = Callable[[Any, str, str | None], AsyncIterator[tuple[str, Any]]]


class SourceLookup(Protocol):
    def get(self, chunk_id: str) -> dict[str, Any] | None: ...


@dataclass
class Services:
    settings: Settings
    programs: dict[str, Any]
    retrievers: dict[str, Retriever]
    default_backend: str
    versions: list[str]
    latest: str
    sources: SourceLookup
    spool_dir: Path
    logs_db: Path
    lm: Any | None = None
    program_versions: dict[str, str] = field(default_factory=dict)  # name -> "fda-rag/3" or "uncompiled"
    stream: StreamFn | None = None
    readiness: dict[str, str] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    builds: list[Any] = field(default_factory=list)  # background index builds (index/retrieval/background.py)
    closing: bool = False  # close() has begun
    docs_tools: Any | None = None  # programs/tools/docs.py: /mcp's tools (None: the store did not open)
    agent: Any | None = None  # programs/agent.py: /v1/agent (None without the docs tools)
    code_checker: Any | None = None  # programs/execution/: runs an answer's code (None: code.execute off)
    code_repairer: Any | None = None  # programs/execution/repair.py: one LM try at failed code (code.repair)
    index_generation: int = 0  # bumped when a retrieval signal comes online: part of the cache keys
    telemetry: Telemetry = field(default_factory=Telemetry)
    answer_cache: TTLCache = field(init=False)
    search_cache: TTLCache = field(init=False)
    gate: LMGate = field(init=False)
    flights: Flights = field(init=False)  # answers being made, one per question (api/flights.py)
    spool: Spool = field(init=False)
    _lm_spans: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        api = self.settings.api
        self.answer_cache = TTLCache(api.cache_size, api.cache_ttl_s)
        self.search_cache = TTLCache(api.cache_size, api.cache_ttl_s)
        self.gate = LMGate(api.lm_concurrency, api.queue_size, on_busy=self._lm_busy)
        self.flights = Flights()
        self.spool = Spool(self.spool_dir)
        if self.settings.tracing.enabled:
            from fda.lm.spans import LMSpans

            self._lm_spans = LMSpans()

    def resolve_version(self, version: str | None) -> str:
        if version is None:
            return self.latest
        if version not in self.versions:
            raise UnknownVersionError(f"docs version {version!r} is not ingested (have: {', '.join(self.versions)})")
        return version

    def program_version(self, name: str) -> str:
        """The version of program ``name`` being served: its registry tag, or "uncompiled"."""
        return self.program_versions.get(name, UNCOMPILED)

    def components(self) -> dict[str, str]:
        """Each component's state: "ok", "degraded: ..." (serving, with less) or why it is not available."""
        out = dict(self.readiness)
        for build in self.builds:
            line = build.summary()
            if line != "ok":
                out[f"index.{build.name}"] = line
        return out

    @property
    def degraded(self) -> list[str]:
        return [name for name, state in self.components().items() if state.startswith("degraded")]

    @property
    def ready(self) -> bool:
        """Serving: every component ok or degraded (answers with less, said so on /readyz)."""
        states = self.components().values()
        return bool(states) and all(v == "ok" or v.startswith("degraded") for v in states)

    def add_build(self, build: Any) -> None:
        """Register a background index build (/readyz, shutdown) and start it, paused at once if answers are
        being made."""
        self.builds.append(build)
        self.closers.append(build.stop)
        build.start()
        build.yield_to(self.gate.pending > 0)

    def _lm_busy(self, busy: bool) -> None:
        """The LM gate's first request entered (True) or its last one left (False): background builds pause
        meanwhile (index/retrieval/background.py ``yield_to``: nice alone let answers run past their budget)."""
        for build in list(self.builds):
            try:
                build.yield_to(busy)
            except Exception:  # never fail an answer over a build
                log.exception("could not tell the %s build that answers are running", getattr(build, "name", "?"))

    def close(self) -> None:
        self.closing = True  # a background build finishing now starts no other (api/wiring.py)
        self.flights.cancel()
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:  # shutting down: log and keep closing the rest
                log.exception("error while closing a service")
        self.spool.close()

    def lm_context(self) -> Any:
        """The service's LM for a program call; with tracing on, a span per LM call (fda/lm/spans.py)."""
        extra: dict[str, Any] = {"callbacks": [*dspy.settings.callbacks, self._lm_spans]} if self._lm_spans else {}
        return dspy.context(lm=self.lm, **extra) if self.lm is not None else dspy.context(**extra)
