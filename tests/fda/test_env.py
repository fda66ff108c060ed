"""fda/env.py: process defaults applied before heavy libraries are imported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fda.env import ninja_first


def test_the_environments_ninja_comes_first_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's JIT builds run `ninja` from PATH: the system's 1.11 without an activated environment, the package's
    1.13 with one, and each switch between their log formats recompiled every colbert-ai extension."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/local/bin", "/usr/bin", str(bin_dir)]))
    ninja_first(bin_dir)  # no ninja there: nothing changes
    assert os.environ["PATH"].split(os.pathsep)[0] == "/usr/local/bin"
    (bin_dir / "ninja").write_text("")
    ninja_first(bin_dir)
    ninja_first(bin_dir)  # twice: once on PATH
    assert os.environ["PATH"].split(os.pathsep) == [str(bin_dir), "/usr/local/bin", "/usr/bin"]
