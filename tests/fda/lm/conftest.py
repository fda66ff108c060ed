"""Fakes for the LM layer: tiny part packages on sys.path, a spec that names them, a fake server worker."""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fda.lm.registry import ModelSpec, PartRef

FAKE_WORKER = Path(__file__).with_name("fake_worker.py")


def fake_command(mode: str = "ok", *extra: str) -> list[str]:
    return [sys.executable, str(FAKE_WORKER), "--mode", mode, *extra]


@pytest.fixture
def make_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ModelSpec]]:
    """``make_parts([b"ab", b"cd"])`` -> a ModelSpec whose parts are importable packages holding those bytes."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created: list[str] = []
    counter = iter(range(10_000))

    def make(chunks: list[bytes], *, sha256: str | None = None, name: str = "fake-model") -> ModelSpec:
        prefix = f"fdafakepart{next(counter)}_"
        parts = []
        for i, chunk in enumerate(chunks, start=1):
            module = f"{prefix}{i}"
            pkg = site / module
            (pkg / "data").mkdir(parents=True)
            (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
            (pkg / "__init__.py").write_text(
                "import os\n"
                "def get_part_path():\n"
                f"    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'part{i:02d}.bin')\n"
            )
            created.append(module)
            parts.append(PartRef(f"fake-part{i}", "1.0", module))
        importlib.invalidate_caches()
        blob = b"".join(chunks)
        return ModelSpec(
            name=name,
            title="fake",
            upstream="-",
            licence="Apache-2.0",
            quant="-",
            parts=tuple(parts),
            sha256=sha256 or hashlib.sha256(blob).hexdigest(),
            size=len(blob),
            context_length=2048,
            chat_template="-",
        )

    yield make
    for module in created:
        sys.modules.pop(module, None)
