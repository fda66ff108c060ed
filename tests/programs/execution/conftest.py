"""A real sandbox for the execution tests (Linux namespaces); skipped, with the reason, where there are none."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from programs.execution.sandbox import Sandbox, SandboxLimits

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def secret_dir() -> Iterator[Path]:
    """Stands for the state folder: a world-readable file the sandboxed code must not read. It lives in the
    checkout, as state/ does (not under /tmp, which the sandbox replaces anyway: that would test nothing)."""
    folder = ROOT / f".sandbox-test-state-{os.getpid()}"
    folder.mkdir(mode=0o755)
    (folder / "mlflow.db").write_text("TOP-SECRET-STATE")
    (folder / "mlflow.db").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox(secret_dir: Path) -> Sandbox:
    box = Sandbox(SandboxLimits(timeout_s=8, memory_mb=1024), hide=[secret_dir])
    if box.mode is None:
        pytest.skip("this machine does not allow Linux namespaces: the sandbox refuses to run code here")
    return box
