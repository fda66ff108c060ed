"""Real services from settings: corpus store, retrievers, the LM (started once), programs.

A missing store or index stops start-up with the command that fixes it; an LM that cannot start
leaves the service up, answering retrieval-only (flagged) and reporting not-ready on /readyz.
Each answer program is its registered champion (optimizers/serving.py: ``load_champion``), or the
uncompiled program with a logged warning; the version served ("fda-rag/3" or "uncompiled") is in every
answer, in /readyz and in the answer cache key.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from api.services import Services
from api.streaming import stream_program
from fda.env import apply_offline_defaults
from fda.settings import Settings
from index.retrieval.background import (
    COLBERT_SECONDS_PER_CHUNK,
    DENSE_SECONDS_PER_CHUNK,
    EXTENSION_SECONDS,
    BackgroundBuild,
)
from index.retrieval.base import Retriever
from index.retrieval.factory import Deferred, open_retriever, open_retriever_deferring
from index.retrieval.lookup import ChunkLookup
from programs.agent import Budget, DocsAgent
from programs.execution import CodeChecker, load_code_checker
from programs.execution.repair import CodeRepairer
from programs.factory import ANSWER_PROGRAMS, build_answer_program
from programs.tools.docs import DocsTools
from programs.trust.checks import TrustChecks, checks_for

log = logging.getLogger(__name__)


def _retrievers(settings: Settings, defer_colbert: bool) -> tuple[dict[str, Retriever], Deferred | None]:
    """The configured backend (required; ``fused`` may open without ColBERT, see ``Deferred``) and BM25 for
    /v1/search (cheap, always built)."""
    main = settings.retrieval.backend
    retriever, deferred = open_retriever_deferring(main, settings, defer_colbert=defer_colbert)
    out: dict[str, Retriever] = {main: retriever}
    for extra in ("bm25",):
        if extra not in out:
            try:
                out[extra] = open_retriever(extra, settings)
            except Exception as err:  # optional backend: searchable only when built
                log.warning("backend %s not available for /v1/search: %s", extra, err)
    return out, deferred


def colbert_build(settings: Settings, deferred: Deferred, services: Services) -> BackgroundBuild:
    """``fda index --backend colbert`` as a low-priority child process; when it succeeds the colbert signal is
    attached to ``fused``, the cache keys move to a new generation and the caches (filled without it) are emptied."""
    from index.retrieval.passages import load_chunks, versions

    known, latest = versions(settings.db_path)
    chunks = len(load_chunks(settings.db_path, latest or known[-1])) if known else 0

    def attach() -> None:
        deferred.attach()
        # answers still being written without ColBERT land under the old generation's keys, never read again
        services.index_generation += 1
        services.answer_cache.clear()
        services.search_cache.clear()
        start_versions_build(settings, deferred.fused, services)  # then the older versions, when they are due

    return BackgroundBuild(
        "colbert",
        [sys.executable, "-m", "fda.cli", "index", "--backend", "colbert", "--exit-with-parent"],
        settings.state_dir / "logs" / "index-colbert.log",
        attach,
        expected_s=colbert_expected_s(chunks),
        max_pause_s=settings.retrieval.build_yield_max_pause_s,
        min_run_s=settings.retrieval.build_yield_min_run_s,
    )


def colbert_expected_s(chunks: int, missing_extensions: Sequence[str] | None = None) -> float | None:
    """The colbert build's time estimate for /readyz: encoding ``chunks``, after compiling the extensions not built
    yet (all four on a fresh clone); None without chunks."""
    if not chunks:
        return None
    if missing_extensions is None:
        from index.retrieval.warm import missing_extensions as missing

        missing_extensions = missing()
    return chunks * COLBERT_SECONDS_PER_CHUNK + len(missing_extensions) * EXTENSION_SECONDS


def neural_indexes(retriever: object, depth: int = 8) -> list[Any]:
    """The dense and colbert retrievers a retriever searches with (itself; fused's, hybrid's and rerank's signals;
    under any wrappers): the indexes that may cover fewer versions than BM25."""
    out: list[Any] = []
    frontier: list[object] = [retriever]
    for _ in range(depth):
        children: list[object] = []
        for obj in frontier:
            neural = getattr(obj, "name", None) in ("dense", "colbert") and callable(getattr(obj, "refresh", None))
            if neural and all(obj is not seen for seen in out):
                out.append(obj)
            for attr in ("inner", "dense", "colbert", "scorer"):
                child = getattr(obj, attr, None)
                if child is not None and child is not obj:
                    children.append(child)
            for attr in ("retrievers", "candidates"):  # hybrid (rank fusion), rerank
                children.extend(getattr(obj, attr, None) or [])
        if not children:
            break
        frontier = children
    return out


def versions_build(settings: Settings, retriever: object, services: Services) -> BackgroundBuild | None:
    """With ``retrieval.neural_versions = "background"``: ``fda index`` for the dense and colbert indexes that lack
    some ingested version, with "all", as a low-priority child; when it succeeds each index reads its manifest again
    (the older versions are searched by it instead of BM25), one search per new version loads it (so no user waits
    on it), the cache keys move on and the caches are emptied. None when nothing is missing or the setting is
    another."""
    from index.retrieval.passages import load_chunks, versions

    if settings.retrieval.neural_versions != "background":
        return None
    known, _ = versions(settings.db_path)
    neural = neural_indexes(retriever)
    lacking = {r.name: [v for v in known if v not in r.manifest["versions"]] for r in neural}
    lacking = {name: missing for name, missing in lacking.items() if missing}
    if not lacking:
        return None
    backends = sorted(lacking)
    missing = sorted({v for m in lacking.values() for v in m})
    chunks = sum(len(load_chunks(settings.db_path, v)) for v in missing)
    per_chunk = (DENSE_SECONDS_PER_CHUNK if "dense" in lacking else 0) + (
        COLBERT_SECONDS_PER_CHUNK if "colbert" in lacking else 0
    )

    def refresh() -> None:
        try:
            indexes = neural_indexes(retriever)
            for r in indexes:
                log.info("the %s index now covers %s", r.name, ", ".join(r.refresh()))
            still = sorted({f"{r.name} {v}" for r in indexes for v in missing if v not in r.manifest["versions"]})
            if still:
                raise RuntimeError(f"the build ended but the indexes still lack {', '.join(still)}")
            search = getattr(retriever, "search", None)
            if callable(search):
                for version in missing:  # load each here, not on a user's question
                    search("How do I enable CORS?", k=1, version=version)
        finally:  # whatever was refreshed is served from now on: no answer cached before it is reused
            services.index_generation += 1
            services.answer_cache.clear()
            services.search_cache.clear()

    return BackgroundBuild(
        "older versions",
        [
            sys.executable,
            "-m",
            "fda.cli",
            "index",
            *(a for b in backends for a in ("--backend", b)),
            "--exit-with-parent",
        ],
        settings.state_dir / "logs" / "index-older-versions.log",
        refresh,
        expected_s=chunks * per_chunk or None,
        env={**os.environ, "FDA_RETRIEVAL__NEURAL_VERSIONS": "all"},
        meanwhile=f"docs versions {', '.join(missing)} are searched with bm25 instead of {' + '.join(backends)} "
        "meanwhile",
        fix=f"FDA_RETRIEVAL__NEURAL_VERSIONS=all fda index {' '.join(f'--backend {b}' for b in backends)}",
        max_pause_s=settings.retrieval.build_yield_max_pause_s,
        min_run_s=settings.retrieval.build_yield_min_run_s,
    )


def start_versions_build(settings: Settings, retriever: object, services: Services) -> None:
    """``versions_build``, registered with the service (/readyz, shutdown) and started, when one is due. Never
    raises: the older versions keep their BM25 search when it cannot be planned or started; nothing starts once
    the service is closing."""
    if getattr(services, "closing", False):
        return
    try:
        build = versions_build(settings, retriever, services)
        if build is None:
            return
        services.add_build(build)
    except Exception as err:  # an optimisation: say so and serve on
        log.warning("the older versions' index build did not start (they stay on bm25): %s", err)


def warm_up(retriever: Retriever) -> None:
    """One search before serving: loads the query encoders and computes (or reads from state/cache/) the
    heading and generated-question vectors, so the first user does not wait for them."""
    t0 = time.perf_counter()
    try:
        retriever.search("How do I enable CORS?", k=1)
    except Exception as err:  # warming is an optimisation: never a reason not to serve
        log.warning("retriever warm-up failed (the first request will try again): %s", err, exc_info=True)
        return
    log.info("retriever warmed up in %.1f s", time.perf_counter() - t0)


def load_programs(
    settings: Settings,
    retriever: Retriever,
    lm: Any | None,
    *,
    versions: Sequence[str],
    latest: str | None,
    checks: TrustChecks | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(programs, program versions) by name: each program's champion, or the uncompiled one (warned)."""
    from optimizers.serving import UNCOMPILED, load_champion

    programs: dict[str, Any] = {}
    checks = checks if checks is not None else checks_for(settings, retriever)
    served: dict[str, str] = {}
    for name in ANSWER_PROGRAMS:
        if settings.compile.serve_champion:
            programs[name], served[name] = load_champion(
                name, settings, retriever, lm, versions=list(versions), latest=latest, checks=checks
            )
        else:
            programs[name] = build_answer_program(
                name, retriever, lm=lm, versions=versions, latest=latest, config=settings.answer, checks=checks
            )
            served[name] = UNCOMPILED
    if not settings.compile.serve_champion:
        log.info("compile.serve_champion is off: serving the uncompiled programs")
    return programs, served


def docs_tools(settings: Settings, retriever: Retriever) -> DocsTools | None:
    """The docs tools over the store and the service's retriever; None (logged) when the store cannot open."""
    try:
        return DocsTools(retriever, settings.db_path)
    except Exception as err:  # the answers still work: only the MCP tools are off
        log.warning("docs tools (MCP) off: %s", err)
        return None


def docs_agent(settings: Settings, tools: DocsTools | None, lm: Any | None, checks: TrustChecks) -> DocsAgent | None:
    """The docs agent over the docs tools (None without them), with settings.agent's budgets."""
    if tools is None:
        return None
    a = settings.agent
    budget = Budget(
        max_steps=a.max_steps, max_tokens=a.max_tokens, max_seconds=a.max_seconds, stale_steps=a.stale_steps
    )
    return DocsAgent(tools, budget=budget, k=a.k, lm=lm, checks=checks)


def code_checker(settings: Settings, readiness: dict[str, str]) -> CodeChecker | None:
    """The sandboxed code check (programs/execution/). /readyz's ``code`` component: ``ok``, or ``degraded: ...``
    where this machine cannot isolate code (answers then say "not run"); absent when code.execute is false."""
    try:
        checker = load_code_checker(settings)
    except Exception as err:  # answers still work, without the code status
        log.warning("code checks off: %s", err)
        readiness["code"] = f"degraded: code checks did not load: {err}"
        return None
    if checker is None:
        log.info("code checks off (code.execute=false)")
        return None
    if checker.sandbox.mode is None:
        readiness["code"] = (
            "degraded: the sandbox cannot start here (needs root and Linux namespaces), "
            "so answers' code is not run (status not_run)"
        )
    else:
        readiness["code"] = "ok"
    return checker


def code_repairer(settings: Settings, checker: CodeChecker | None, lm: Any | None) -> CodeRepairer | None:
    """The repair of failed code (``code.repair``; programs/execution/repair.py): only with a sandbox that runs
    code (a fix is kept only when it runs); 'lm' without an LM repairs by the error's suggestion alone."""
    mode = settings.code.repair
    if mode == "off" or checker is None or checker.sandbox.mode is None:
        return None
    if mode == "lm" and lm is None:
        log.warning("code.repair=lm without an LM: failed code is repaired by the error's suggestion only")
    return CodeRepairer(checker, use_lm=mode == "lm" and lm is not None)


def wire(settings: Settings, *, build_missing: bool = True) -> Services:
    """Everything the service needs. ``build_missing`` (``fda serve``): a missing colbert index is built in the
    background (``retrieval.build_missing_on_serve``) while ``fused`` answers without it, then (or at once) the older
    docs versions of the neural indexes (``retrieval.neural_versions = "background"``); ``fda ask`` passes False
    and answers without them, with a warning."""
    apply_offline_defaults(settings.state_dir)
    lookup = ChunkLookup(settings.db_path)
    versions = lookup.versions()
    latest = next((v for v, is_latest in versions if is_latest), versions[-1][0] if versions else "")
    background = build_missing and settings.retrieval.build_missing_on_serve
    retrievers, deferred = _retrievers(settings, defer_colbert=background or not build_missing)
    main = retrievers[settings.retrieval.backend]
    warm_up(main)
    readiness = {"store": "ok", "index": "ok"}
    closers = [lookup.close]

    lm = None
    try:
        from fda.lm.factory import make_lm, runtime_from_settings

        runtime = runtime_from_settings(settings)
        closers.append(runtime.close)
        lm = make_lm(settings.lm, runtime=runtime)
        readiness["lm"] = "ok"
    except Exception as err:  # the service still answers retrieval-only, flagged
        log.error("LM %s did not start: %s", settings.lm.model, err)
        readiness["lm"] = f"not available: {err}"

    names = [v for v, _ in versions]
    checks = checks_for(settings, main)
    programs, program_versions = load_programs(settings, main, lm, versions=names, latest=latest, checks=checks)
    tools = docs_tools(settings, main)
    if deferred is not None and not background:
        readiness["index"] = "degraded: no colbert index; run `fda index --backend colbert` for the full fused"
    services = Services(
        settings=settings,
        programs=programs,
        program_versions=program_versions,
        retrievers=retrievers,
        default_backend=settings.retrieval.backend,
        versions=names,
        latest=latest,
        sources=lookup,
        spool_dir=settings.state_dir / "logs" / "spool",
        logs_db=settings.state_dir / "logs.duckdb",
        lm=lm,
        stream=stream_program,
        readiness=readiness,
        closers=closers,
        docs_tools=tools,
        agent=docs_agent(settings, tools, lm, checks),
        code_checker=code_checker(settings, readiness),
    )
    services.code_repairer = code_repairer(settings, services.code_checker, lm)
    if services.docs_tools is not None:
        services.closers.append(services.docs_tools.close)
    if lm is not None and settings.lm.prime_cache:  # before the builds start: they would slow it down
        from fda.lm.prime import prime_in_background

        prime_in_background(programs.get(settings.api.default_program), lm)
    if deferred is not None and background:
        build = colbert_build(settings, deferred, services)  # its success starts the older versions' build
        services.add_build(build)
    elif background:
        start_versions_build(settings, main, services)
    return services
