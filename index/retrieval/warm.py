"""Compile colbert-ai's four C++ extensions once into ``TORCH_EXTENSIONS_DIR`` (state/torch_extensions).

    python -m index.retrieval.warm          # or `make warm`; ~2 minutes the first time, about a second after

colbert-ai JIT-compiles them on first use (g++ and ninja); doing it up front keeps the first
``fda index`` / search / slow test from paying for it, and lets CI cache the folder.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from index.retrieval.quiet import quiet

log = logging.getLogger(__name__)


# the four extensions colbert-ai compiles, each into <TORCH_EXTENSIONS_DIR>/<name>/<name>.so
EXTENSIONS = ("segmented_maxsim_cpp", "decompress_residuals_cpp", "filter_pids_cpp", "segmented_lookup_cpp")


def extensions_root() -> Path | None:
    """``TORCH_EXTENSIONS_DIR`` as a folder; None when it is unset or empty (torch then uses its own cache).
    ``Path("")`` is the working folder, which the unset case must not become."""
    value = os.environ.get("TORCH_EXTENSIONS_DIR", "")
    return Path(value) if value else None


def missing_extensions(root: Path | None = None) -> list[str]:
    """The extensions not compiled yet under ``root`` (TORCH_EXTENSIONS_DIR): what a build will compile first (all
    four on a fresh clone), for its time estimate. Without a folder set, torch uses its own cache, which may hold
    them: nothing is counted missing then."""
    root = root if root is not None else extensions_root()
    if root is None:
        return []
    try:
        return [name for name in EXTENSIONS if not (root / name / f"{name}.so").is_file()]
    except OSError:  # an unreadable folder: only an estimate hangs on it, so start-up must not
        return []


def _held_open() -> set[str]:
    """Every path some process on this machine holds open (Linux /proc; processes we may not read are skipped)."""
    held: set[str] = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.scandir(f"/proc/{pid}/fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    held.add(os.readlink(fd.path))
                except OSError:
                    continue
    return held


def clear_stale_locks(root: Path | None = None, settle_s: float = 0.5) -> list[Path]:
    """Remove torch's compile locks that nobody holds, and return them.

    torch compiles an extension under ``<TORCH_EXTENSIONS_DIR>/<name>/lock``, a file made with O_EXCL and held
    open while it compiles, and removed at the end; a compile that is killed (Ctrl+C on a fresh clone's ``make run``
    in the build's first minutes, or the service stopping the build) leaves it behind, and every later load of that
    extension then waits on it for ever. A lock no process holds open, twice ``settle_s`` apart (a holder closes it
    just before removing it), is stale. Without /proc nothing can be told apart and nothing is removed."""
    root = root if root is not None else extensions_root()
    if root is None or not root.is_dir() or not Path("/proc/self/fd").is_dir():
        return []
    locks = sorted(root.glob("*/lock"))
    if not locks:
        return []
    unheld = [lock for lock in locks if str(lock.resolve()) not in _held_open()]
    if unheld and settle_s > 0:
        time.sleep(settle_s)
        held = _held_open()
        unheld = [lock for lock in unheld if lock.exists() and str(lock.resolve()) not in held]
    removed = []
    for lock in unheld:
        try:
            lock.unlink()
        except FileNotFoundError:
            continue
        log.warning("removed a stale compile lock left by an interrupted build: %s", lock)
        removed.append(lock)
    return removed


def warm_extensions() -> float:
    """Load (compiling if needed) every CPU extension colbert-ai uses; returns the seconds it took."""
    from colbert.modeling.colbert import ColBERT
    from colbert.search.index_storage import IndexScorer
    from colbert.search.strided_tensor import StridedTensor

    clear_stale_locks()
    start = time.perf_counter()
    with quiet():
        ColBERT.try_load_torch_extensions(use_gpu=False)
        IndexScorer.try_load_torch_extensions(use_gpu=False)
        StridedTensor.try_load_torch_extensions(use_gpu=False)
    return time.perf_counter() - start


if __name__ == "__main__":  # pragma: no cover
    from fda.env import apply_offline_defaults
    from fda.settings import get_settings

    apply_offline_defaults(get_settings().state_dir)
    logging.basicConfig(level=logging.INFO)
    log.info("colbert-ai extensions ready in %.1f s", warm_extensions())
