"""A real sandbox for the execution tests (Linux namespaces); skipped, with the reason, where there are none."""

from __future__ import annotations

from pathlib import Path

import pytest

from programs.execution.sandbox import Sandbox, SandboxLimits


@pytest.fixture(scope="session")
def secret_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stands for the state folder: a file the sandboxed code must not read."""
    folder = tmp_path_factory.mktemp("state")
    (folder / "mlflow.db").write_text("TOP-SECRET-STATE")
    folder.chmod(0o755)
    (folder / "mlflow.db").chmod(0o644)
    return folder


@pytest.fixture(scope="session")
def sandbox(secret_dir: Path) -> Sandbox:
    box = Sandbox(SandboxLimits(timeout_s=8, memory_mb=1024), hide=[secret_dir])
    if box.mode is None:
        pytest.skip("this machine does not allow Linux namespaces: the sandbox refuses to run code here")
    return box
