"""index/retrieval/warm.py: torch's compile locks that an interrupted build left behind, and which extensions a build
still has to compile (for its estimate)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.retrieval.warm import clear_stale_locks


def test_a_lock_nobody_holds_is_removed_and_a_held_one_is_kept(tmp_path: Path) -> None:
    """torch makes ``<extension>/lock`` with O_EXCL and holds it open while it compiles; killed mid-compile, it
    leaves the file and every later load waits on it for ever."""
    stale = tmp_path / "segmented_maxsim_cpp" / "lock"
    held = tmp_path / "filter_pids_cpp" / "lock"
    for lock in (stale, held):
        lock.parent.mkdir()
    stale.touch()
    holder = subprocess.Popen(  # another process compiling: it holds its lock open
        [
            sys.executable,
            "-c",
            f"import os, time; os.open({str(held)!r}, os.O_CREAT | os.O_EXCL); print(1, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "1"
        assert clear_stale_locks(tmp_path, settle_s=0.05) == [stale]
        assert not stale.exists() and held.exists()
    finally:
        holder.kill()
        holder.wait()
    assert clear_stale_locks(tmp_path, settle_s=0.05) == [held]  # its holder is gone now
    assert clear_stale_locks(tmp_path) == []


def test_without_an_extensions_folder_nothing_happens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)
    assert clear_stale_locks() == []
    assert clear_stale_locks(tmp_path / "missing") == []
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "lock").touch()
    assert clear_stale_locks(settle_s=0) == [tmp_path / "x" / "lock"]
    assert os.listdir(tmp_path / "x") == []


def test_missing_extensions_are_those_without_their_library(tmp_path: Path) -> None:
    from index.retrieval.warm import EXTENSIONS, missing_extensions

    assert missing_extensions(tmp_path) == list(EXTENSIONS)  # a fresh clone: all four to compile
    (tmp_path / "filter_pids_cpp").mkdir()
    (tmp_path / "filter_pids_cpp" / "lock").touch()  # an interrupted compile left only its lock
    (tmp_path / "segmented_maxsim_cpp").mkdir()
    (tmp_path / "segmented_maxsim_cpp" / "segmented_maxsim_cpp.so").touch()
    assert missing_extensions(tmp_path) == ["decompress_residuals_cpp", "filter_pids_cpp", "segmented_lookup_cpp"]


def test_the_colbert_estimate_counts_the_extensions_still_to_compile() -> None:
    from api.wiring import colbert_expected_s
    from index.retrieval.background import COLBERT_SECONDS_PER_CHUNK, EXTENSION_SECONDS

    warm = colbert_expected_s(2895, missing_extensions=[])
    fresh = colbert_expected_s(2895, missing_extensions=["a", "b", "c", "d"])
    assert warm == 2895 * COLBERT_SECONDS_PER_CHUNK
    assert fresh == warm + 4 * EXTENSION_SECONDS  # type: ignore[operator]
    assert colbert_expected_s(0) is None


def test_without_an_extensions_folder_nothing_is_missing_or_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    from index.retrieval.warm import missing_extensions

    monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)  # Path("") would be the working folder
    assert missing_extensions() == [] and clear_stale_locks() == []
