"""infra/entrypoint.sh mirrors `make run`: ingest -> index -> models fetch -> serve, stopping at the first failure.

A fake ``fda`` on PATH records each call, so the order and the arguments are checked without the stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import INFRA

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

FAKE_FDA = """#!/usr/bin/env bash
echo "$*" >> "$FDA_CALLS"
[[ "$*" == "${FAKE_FAIL:-none}" ]] && exit 7
exit 0
"""


def run(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    fake = bindir / "fda"
    fake.write_text(FAKE_FDA)
    fake.chmod(0o755)
    calls = tmp_path / "calls.txt"
    calls.touch()
    full_env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "FDA_CALLS": str(calls),
        "FDA_STATE_DIR": str(tmp_path / "state"),
    } | env
    proc = subprocess.run(
        ["bash", str(INFRA / "entrypoint.sh"), *args], env=full_env, capture_output=True, text=True, timeout=30
    )
    return proc, calls.read_text().splitlines()


def test_serve_runs_the_make_run_steps_in_order(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, "serve", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["ingest", "index", "models fetch", "serve --workers 2"]
    assert (tmp_path / "state").is_dir()
    assert "ingest: done in" in proc.stderr


def test_default_command_is_serve(tmp_path: Path) -> None:
    proc, calls = run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert calls[-1] == "serve"


def test_a_failing_step_stops_before_serving(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, "serve", FAKE_FAIL="index")
    assert proc.returncode == 7
    assert calls == ["ingest", "index"]


def test_steps_are_configurable(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, "serve", FDA_PREPARE_STEPS="index")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["index", "serve"]


def test_unknown_step_is_refused(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, "serve", FDA_PREPARE_STEPS="ingest bogus")
    assert proc.returncode == 2
    assert "unknown step 'bogus'" in proc.stderr
    assert "serve" not in calls


def test_a_remote_lm_needs_no_model_files(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, "prepare", FDA_LM__MODEL="openai/gpt-4o-mini")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["ingest", "index"]
    assert "models: skipped" in proc.stderr


def test_ui_and_other_commands(tmp_path: Path) -> None:
    proc, calls = run(tmp_path, "ui")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["ui"]
    proc, calls = run(tmp_path, "fda", "corpus", "stats")
    assert proc.returncode == 0, proc.stderr
    assert calls[-1] == "corpus stats"
