"""Test tiers: the default run is offline and fast; ``-m slow`` (real corpus, real models) is opt-in
via ``make test-slow`` and CI. Settings are reset around every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fda.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in [v for v in __import__("os").environ if v.startswith("FDA_")]:
        monkeypatch.delenv(var)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def shared_corpus() -> Path:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {SHARED_CORPUS}")
    return SHARED_CORPUS


@pytest.fixture(scope="session")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The three real dumps ingested once per test session into a temporary store."""
    from fda.settings import ChunkingSettings
    from index.ingest.pipeline import ingest

    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {SHARED_CORPUS}")
    tmp = tmp_path_factory.mktemp("real")
    db = tmp / "fda.duckdb"
    summary = ingest([str(SHARED_CORPUS)], db, tmp / "cache", ChunkingSettings(), progress=False)
    return db, summary
