"""Serve the champion: the compiled program registered under the ``champion`` alias, loaded as JSON state
into a freshly built program, or the uncompiled program (with a logged warning) when there is none or it
cannot be served.

    program, program_version = load_champion("rag", settings, retriever, lm)
    program_version   # "fda-rag/3", or "uncompiled"

A champion whose manifest names another corpus, retriever or program is refused, and the warning says
why. Loading never runs pickled code: only ``program.json`` (demos and instructions) is read.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dspy

from fda.errors import StoreError
from fda.settings import Settings
from index.retrieval.base import Retriever
from optimizers.manifest import PROGRAM, check_fits, check_manifest, read_manifest
from optimizers.registry import ProgramRegistry
from optimizers.shipped import ensure_shipped, shipped_folder

if TYPE_CHECKING:
    from programs.trust.checks import TrustChecks

log = logging.getLogger(__name__)

UNCOMPILED = "uncompiled"


def tracking_uri_of(settings: Settings) -> str:
    from eval.tracking import default_tracking_uri

    return settings.eval.tracking_uri or default_tracking_uri(settings.state_dir)


def artifact_location_of(settings: Settings) -> str:
    from eval.tracking import default_artifact_location

    return settings.eval.artifact_location or default_artifact_location(settings.state_dir)


def program_versions(settings: Settings) -> tuple[list[str], str | None]:
    """(ingested docs versions, the latest one): what MultiHopRAG needs to read versions in questions."""
    from index.ingest.store import ingested_versions

    try:
        available = ingested_versions(settings.db_path)
    except StoreError:  # no store yet: the program answers from the request's version only
        return [], settings.corpus.latest_version
    latest = settings.corpus.latest_version or (max(available, key=_version_key) if available else None)
    return available, latest


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in tag.split("."))


def load_version(
    registry: ProgramRegistry,
    program: str,
    version: str,
    fresh: dspy.Module,
    *,
    corpus_hash: str,
    retriever: str,
    work_dir: Path | None = None,
) -> dspy.Module:
    """``fresh`` with the state of ``version`` loaded; ``ManifestMismatchError`` says why it does not fit."""
    with tempfile.TemporaryDirectory(prefix="fda-program-") as tmp:
        folder = registry.download(program, version, work_dir or Path(tmp))
        manifest = read_manifest(folder)
        check_manifest(manifest, program=program, corpus_hash=corpus_hash, retriever=retriever)
        check_fits(manifest, fresh)
        fresh.load(str(folder / PROGRAM))  # JSON only (allow_pickle stays False)
    return fresh


def load_champion(
    name: str,
    settings: Settings,
    retriever: Retriever,
    lm: Any | None,
    *,
    versions: Sequence[str] | None = None,
    latest: str | None = None,
    checks: TrustChecks | None = None,
) -> tuple[dspy.Module, str]:
    """(program, program_version): the champion of program ``name`` ("rag" or "multihop") built over
    ``retriever`` with ``lm``, or the uncompiled program and ``"uncompiled"`` (a warning says why).
    ``checks``: the trust checks (programs/trust/checks.py), loaded from ``settings`` when not given; a caller
    loading several programs loads them once and passes them."""
    from index.ingest.pipeline import corpus_hash
    from programs.factory import build_answer_program
    from programs.trust.checks import checks_for

    if versions is None:
        versions, latest = program_versions(settings)  # both programs answer from the versions a question names

    if checks is None:
        checks = checks_for(settings, retriever)

    def fresh() -> dspy.Module:
        return build_answer_program(
            name, retriever, lm=lm, versions=versions or (), latest=latest, config=settings.answer, checks=checks
        )

    uri = tracking_uri_of(settings)
    shipped = shipped_folder(name) is not None
    if not shipped and uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        log.warning("serving the uncompiled %s program: no MLflow store at %s (compile with `fda compile`)", name, uri)
        return fresh(), UNCOMPILED
    try:
        registry = ProgramRegistry(uri, prefix=settings.compile.registry_prefix)
        if shipped:  # data/programs/<name>: registered once, champion when there is none (optimizers/shipped.py)
            ensure_shipped(name, registry, artifact_location=artifact_location_of(settings))
        version = registry.champion(name)
        if version is None:
            log.warning("serving the uncompiled %s program: %s has no champion yet", name, registry.model_name(name))
            return fresh(), UNCOMPILED
        program = load_version(
            registry, name, version, fresh(), corpus_hash=corpus_hash(settings.db_path), retriever=retriever.name
        )
    except Exception as err:  # any failure to load falls back: a compiled program is an optimisation, not a need
        log.warning("serving the uncompiled %s program: the champion was not loaded: %s", name, err)
        return fresh(), UNCOMPILED
    tag = f"{registry.model_name(name)}/{version}"
    log.info("serving %s (champion)", tag)
    return program, tag
