"""The ``fused`` backend over the real corpus (BM25 real; a hashed bag-of-words stands in for MiniLM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fda.settings import RetrievalSettings, Settings
from index.ingest.pipeline import corpus_hash
from index.retrieval import dense
from index.retrieval.build import build_indexes
from index.retrieval.factory import open_retriever
from index.retrieval.layout import Paths
from tests.index.retrieval.test_retrievers import HashEncoder

pytestmark = pytest.mark.corpus

SITE = "https://fastapi.tiangolo.com"


@pytest.fixture
def fused_settings(
    real_store: tuple[Path, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, Paths]:
    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: HashEncoder())
    db = real_store[0]
    paths = Paths(
        db, tmp_path / "indexes", tmp_path / "models", Path("/nonexistent"), tmp_path / "art", corpus_hash(db)
    )
    settings = Settings(
        state_dir=tmp_path,
        retrieval=RetrievalSettings(backend="fused", fused_weights=[1.0, 1.0, 0.0, 0.5]),
    )
    build_indexes(settings.retrieval, paths, ["bm25", "dense"], progress=False)
    return settings, paths


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("How do I enable CORS for my frontend origin?", "/tutorial/cors/"),
        ("How do I serve static files from a directory?", "/tutorial/static-files/"),
        ("How do I override a dependency in tests?", "/advanced/testing-dependencies/"),
    ],
)
def test_fused_finds_the_page_and_keeps_release_notes_out(
    fused_settings: tuple[Settings, Paths], question: str, page: str
) -> None:
    settings, paths = fused_settings
    hits = open_retriever(None, settings, paths).search(question, k=5)
    assert hits[0].url.startswith(SITE + page), [p.url for p in hits]
    assert all(p.kind != "release" for p in hits)
    assert len({p.url for p in hits}) == 5
