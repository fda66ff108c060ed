"""The image for real: `infra/image_test.sh` builds it with podman, starts it, waits for /readyz, asks one
question and stops it. Minutes when the layers and the state volume are warm; a first start ingests
and indexes inside the container (up to ~45 min on a busy 2-core machine)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import SHARED_CORPUS
from tests.infra.conftest import INFRA

pytestmark = [pytest.mark.slow, pytest.mark.image]


def podman_problem() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed (`make image-test` installs it on Debian: apt-get install podman runc)"
    if shutil.which("runc") is None:
        return "runc is not installed (crun fails on this cgroup setup)"
    env = {"CONTAINERS_CONF": str(INFRA / "containers.conf"), "PATH": os.environ["PATH"]}
    try:
        proc = subprocess.run(["podman", "info"], capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"podman cannot run here: {err}"
    if proc.returncode != 0:
        return f"podman cannot run here: {proc.stderr.strip()[:300]}"
    return None


@pytest.mark.timeout(4 * 3600)
def test_image_builds_starts_and_answers() -> None:
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"no corpus at {SHARED_CORPUS} to mount into the container")
    proc = subprocess.run(["bash", str(INFRA / "image_test.sh")], capture_output=True, text=True, timeout=4 * 3600 - 60)
    tail = (proc.stdout[-3000:] + "\n--- stderr ---\n" + proc.stderr[-6000:]).strip()
    assert proc.returncode == 0, tail
    assert "image-test: ok" in proc.stdout, tail
    assert "POST /v1/ask -> 200" in proc.stdout, tail
