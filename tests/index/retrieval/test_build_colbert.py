"""index/retrieval/build.py for colbert, with colbert-ai faked: what the build does before it encodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fda.settings import RetrievalSettings
from index.retrieval import build, colbert, warm
from index.retrieval.layout import Paths
from tests.index.conftest import tiny_dumps  # noqa: F401  (fixture)
from tests.index.retrieval.test_retrievers import paths, tiny_store  # noqa: F401  (fixtures)


def test_a_colbert_build_compiles_the_search_extensions_before_it_encodes(
    paths: Paths,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The search's extensions are compiled by the build (in fda serve: the niced, pausable child), so the service
    does not compile them beside the LM when it attaches the index."""
    calls: list[str] = []
    monkeypatch.setattr(build, "resolve_checkpoint", lambda *_a, **_k: calls.append("checkpoint") or "checkpoint")
    monkeypatch.setattr(warm, "warm_extensions", lambda: calls.append("warm") or 1.0)
    monkeypatch.setattr(warm, "clear_stale_locks", lambda: calls.append("locks") or [])

    def fake_build_version(folder: Path, version: str, chunks: list[Any], checkpoint: str, doc_maxlen: int) -> None:
        calls.append(f"encode {version}")
        (folder / version).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(colbert, "build_version", fake_build_version)
    build.build_indexes(RetrievalSettings(checkpoint="test/colbert"), paths, ["colbert"], progress=False)
    # stale compile locks go before the checkpoint (making a ColBERT model loads the first extension, waiting on
    # its lock: seen on a fresh clone interrupted during the compile), the extensions before the encoding
    assert calls[:3] == ["locks", "checkpoint", "warm"] and calls.count("warm") == 1
    assert [c for c in calls if c.startswith("encode")] == ["encode 0.2.0"]  # the latest version only
