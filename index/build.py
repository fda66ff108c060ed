"""``fda index``: build every configured backend for every ingested version, each into a folder named by
the hash of its inputs (index/layout.py); an index whose inputs did not change is left as it is.

    fda index                       # bm25, dense, colbert for all versions
    fda index --backend bm25 --force
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from fda.errors import ConfigError
from fda.settings import RetrievalSettings
from index import bm25, colbert, dense
from index.colbert_checkpoint import BUILTIN, checkpoint_id, resolve_checkpoint
from index.layout import fresh_dir, index_dir, is_built, write_manifest
from index.passages import chunks_hash, load_chunks, versions

log = logging.getLogger(__name__)

INDEXED = ("bm25", "dense", "colbert")
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "data" / "retriever"


@dataclass(frozen=True)
class Paths:
    """Everything on disk the retrievers need: the store, where indexes and assembled models go, the MiniLM."""

    db_path: Path
    index_root: Path
    models_dir: Path
    base_model: Path
    artifact_dir: Path
    corpus_hash: str


@dataclass
class BuildReport:
    backend: str
    folder: Path
    status: str  # "built" or "up to date"
    seconds: float = 0.0
    versions: dict[str, int] = field(default_factory=dict)


def paths_for(rs: RetrievalSettings, state_dir: Path, db_path: Path) -> Paths:
    from index.dense import default_model_path
    from index.ingest import corpus_hash

    return Paths(
        db_path=db_path,
        index_root=rs.index_dir or state_dir / "indexes",
        models_dir=state_dir / "models",
        base_model=default_model_path(),
        artifact_dir=ARTIFACTS_DIR / rs.artifact,
        corpus_hash=corpus_hash(db_path),
    )


def spec_for(backend: str, rs: RetrievalSettings, paths: Paths) -> dict[str, Any]:
    if backend == "bm25":
        return bm25.spec(paths.corpus_hash, rs.bm25_k1, rs.bm25_b)
    if backend == "dense":
        return dense.spec(paths.corpus_hash, paths.base_model)
    if backend == "colbert":
        return colbert.spec(paths.corpus_hash, checkpoint_id(rs.checkpoint, paths.artifact_dir), rs.doc_maxlen)
    raise ConfigError(f"{backend!r} has no index of its own (indexed backends: {', '.join(INDEXED)})")


def folder_for(backend: str, rs: RetrievalSettings, paths: Paths) -> Path:
    return index_dir(paths.index_root, backend, spec_for(backend, rs, paths))


def build_indexes(
    rs: RetrievalSettings,
    paths: Paths,
    backends: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[BuildReport]:
    reports: list[BuildReport] = []
    for backend in backends or list(rs.build):
        spec = spec_for(backend, rs, paths)
        folder = index_dir(paths.index_root, backend, spec)
        if is_built(folder) and not force:
            log.info("%s index is up to date: %s", backend, folder)
            reports.append(BuildReport(backend, folder, "up to date"))
            continue
        reports.append(_build(backend, spec, folder, rs, paths, progress))
    return reports


def _build(
    backend: str, spec: dict[str, Any], folder: Path, rs: RetrievalSettings, paths: Paths, progress: bool
) -> BuildReport:
    start = time.perf_counter()
    known, latest = versions(paths.db_path)
    fresh_dir(folder)
    per_version: dict[str, dict[str, Any]] = {}
    encoder = dense.MiniLMEncoder(paths.base_model) if backend == "dense" else None
    checkpoint = ""
    if backend == "colbert":
        checkpoint = resolve_checkpoint(
            rs.checkpoint, base_model=paths.base_model, artifact_dir=paths.artifact_dir, models_dir=paths.models_dir
        )
    for version in known:
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
            "versions": per_version,
            "latest": latest,
            "checkpoint": checkpoint or None,
            "checkpoint_setting": rs.checkpoint if backend == "colbert" else None,
            "builtin_checkpoint": backend == "colbert" and rs.checkpoint == BUILTIN,
            "built_at": datetime.now(UTC).isoformat(),
            "build_seconds": round(seconds, 2),
        },
    )
    log.info("built %s index in %.1f s: %s", backend, seconds, folder)
    return BuildReport(backend, folder, "built", seconds, {v: d["chunks"] for v, d in per_version.items()})
