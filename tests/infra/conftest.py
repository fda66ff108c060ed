"""Helpers for the infra/ tests: paths, and infra/image_probe.py loaded from its file (infra/ is no package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


@pytest.fixture(scope="session")
def probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_probe", INFRA / "image_probe.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
