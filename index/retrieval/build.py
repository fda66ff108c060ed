"""``fda index``: build every configured backend for every ingested version, each into a folder named by
the hash of its inputs (index/retrieval/layout.py); an index whose inputs did not change is left as it is.

    fda index                       # bm25 for all versions; dense and colbert for the latest
    fda index --backend bm25 --force
    FDA_RETRIEVAL__NEURAL_VERSIONS=all fda index   # adds dense and colbert for the older versions

Which versions an index covers is not part of its name: a folder built for the latest version only gets
the other versions added to it (and its manifest) when ``retrieval.neural_versions`` asks for them.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from fda.errors import ConfigError
from fda.settings import INDEXED as INDEXED_BACKENDS
from fda.settings import RetrievalSettings
from index.retrieval import bm25, colbert, dense, warm
from index.retrieval.colbert_checkpoint import BUILTIN, checkpoint_id, resolve_checkpoint
from index.retrieval.layout import Paths, fresh_dir, index_dir, is_built, read_manifest, write_manifest
from index.retrieval.passages import chunks_hash, load_chunks, versions

log = logging.getLogger(__name__)

INDEXED = INDEXED_BACKENDS
NEURAL = ("dense", "colbert")


@dataclass
class BuildReport:
    backend: str
    folder: Path
    status: str  # "built", "extended" (versions added to an existing index) or "up to date"
    seconds: float = 0.0
    versions: dict[str, int] = field(default_factory=dict)


def spec_for(backend: str, rs: RetrievalSettings, paths: Paths) -> dict[str, Any]:
    if backend == "bm25":
        return bm25.spec(paths.corpus_hash, rs.bm25_k1, rs.bm25_b)
    if backend == "dense":
        return dense.spec(paths.corpus_hash, paths.base_model, doc_int8=rs.onnx and rs.doc_int8)
    if backend == "colbert":
        return colbert.spec(paths.corpus_hash, checkpoint_id(rs.checkpoint, paths.artifact_dir), rs.doc_maxlen)
    raise ConfigError(f"{backend!r} has no index of its own (indexed backends: {', '.join(INDEXED)})")


def folder_for(backend: str, rs: RetrievalSettings, paths: Paths) -> Path:
    return index_dir(paths.index_root, backend, spec_for(backend, rs, paths))


def versions_for(backend: str, rs: RetrievalSettings, known: list[str], latest: str | None) -> list[str]:
    """The versions ``backend``'s index should cover: all for bm25; dense and colbert follow
    ``rs.neural_versions`` (the latest only unless "all": encoding is the slow part of a first build; with
    "background" `fda serve` runs `fda index` again with "all" in a background process)."""
    if backend in NEURAL and rs.neural_versions != "all" and known:
        return [latest or known[-1]]
    return list(known)


def build_indexes(
    rs: RetrievalSettings,
    paths: Paths,
    backends: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[BuildReport]:
    reports: list[BuildReport] = []
    known, latest = versions(paths.db_path)
    for backend in backends or list(rs.build):
        spec = spec_for(backend, rs, paths)
        folder = index_dir(paths.index_root, backend, spec)
        with build_lock(folder):  # another process building the same folder: wait, then find it built
            reports.append(_build_or_reuse(backend, spec, folder, rs, paths, force, progress, known, latest))
    return reports


@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``<folder>.lock`` for one build: two `fda serve` workers, or a background build a
    killed service left running, must not both write (and ``fresh_dir`` delete) the same index folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is building %s: waiting for it", folder)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_or_reuse(
    backend: str,
    spec: dict[str, Any],
    folder: Path,
    rs: RetrievalSettings,
    paths: Paths,
    force: bool,
    progress: bool,
    known: list[str],
    latest: str | None,
) -> BuildReport:
    wanted = versions_for(backend, rs, known, latest)
    previous: dict[str, Any] | None = None
    if is_built(folder) and not force:
        previous = read_manifest(folder, backend)
        missing = [v for v in wanted if v not in previous["versions"]]
        if not missing:
            log.info("%s index is up to date: %s", backend, folder)
            return BuildReport(backend, folder, "up to date")
        log.info("%s index lacks %s: adding to %s", backend, ", ".join(missing), folder)
        wanted = missing
    return _build(backend, spec, folder, rs, paths, progress, wanted, latest, previous)


def _build(
    backend: str,
    spec: dict[str, Any],
    folder: Path,
    rs: RetrievalSettings,
    paths: Paths,
    progress: bool,
    wanted: list[str],
    latest: str | None,
    previous: dict[str, Any] | None = None,
) -> BuildReport:
    """Build ``wanted`` versions into ``folder``: from scratch, or added to the index ``previous`` describes."""
    start = time.perf_counter()
    onnx_dir = paths.models_dir / "onnx" if rs.onnx else None
    encoder = (
        dense.MiniLMEncoder(paths.base_model, onnx_dir=onnx_dir, doc_int8=rs.doc_int8) if backend == "dense" else None
    )
    if encoder is not None and spec_for("dense", rs, paths).get("doc_int8") and not encoder.documents_int8():
        raise ConfigError(  # the folder's name says int8: fp32 vectors there would mix with int8 headings later
            "the int8 MiniLM could not be made, so the dense index cannot be built from int8 document vectors",
            hint="See the warning above, or build the fp32 index: FDA_RETRIEVAL__DOC_INT8=false fda index.",
        )
    if previous is None:
        fresh_dir(folder)
    else:
        for version in wanted:  # an interrupted earlier attempt may have left a partial sub-folder
            if (folder / version).exists():
                shutil.rmtree(folder / version)
    per_version: dict[str, dict[str, Any]] = dict(previous["versions"]) if previous else {}
    checkpoint = ""
    if backend == "colbert":
        # first: assembling the checkpoint makes a ColBERT model, which loads (and waits on the lock of) the first
        # extension; a lock left by a compile killed halfway would hold this build for ever (warm.py)
        warm.clear_stale_locks()
        checkpoint = resolve_checkpoint(
            rs.checkpoint, base_model=paths.base_model, artifact_dir=paths.artifact_dir, models_dir=paths.models_dir
        )
        # Every extension colbert-ai loads, the search's three too, compiled here (about two minutes on a fresh
        # clone, a second after): otherwise the service compiles those three when it attaches the index, in its own
        # process beside the LM, where a background build's nice and pause do not reach.
        log.info("colbert-ai's C++ extensions ready in %.1f s", warm.warm_extensions())
    for version in wanted:
        chunks = load_chunks(paths.db_path, version)
        t0 = time.perf_counter()
        with tqdm(total=len(chunks), desc=f"{backend} {version}", unit="chunk", disable=not progress) as bar:
            if backend == "bm25":
                bm25.build_version(folder / version, chunks, rs.bm25_k1, rs.bm25_b)
                bar.update(len(chunks))
            elif backend == "dense":
                assert encoder is not None
                dense.build_version(folder / version, chunks, encoder, progress=bar.update)
            else:
                colbert.build_version(folder, version, chunks, checkpoint, rs.doc_maxlen)
                bar.update(len(chunks))
        per_version[version] = {
            "chunks": len(chunks),
            "chunks_hash": chunks_hash(chunks),
            "seconds": round(time.perf_counter() - t0, 2),
        }
    seconds = time.perf_counter() - start
    write_manifest(
        folder,
        {
            "backend": backend,
            "spec": spec,
            "versions": dict(sorted(per_version.items())),
            "latest": latest,
            "checkpoint": checkpoint or None,
            "checkpoint_setting": rs.checkpoint if backend == "colbert" else None,
            "builtin_checkpoint": backend == "colbert" and rs.checkpoint == BUILTIN,
            "built_at": datetime.now(UTC).isoformat(),
            "build_seconds": round(seconds + (previous or {}).get("build_seconds", 0.0), 2),
        },
    )
    log.info("built %s index (%s) in %.1f s: %s", backend, ", ".join(wanted), seconds, folder)
    status = "extended" if previous else "built"
    return BuildReport(backend, folder, status, seconds, {v: per_version[v]["chunks"] for v in wanted})
