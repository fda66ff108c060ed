"""``fused`` with every signal real on the tiny corpus: MiniLM dense + heading vectors, ColBERT MaxSim
from the committed projection. Needs colbert-ai's C++ extensions (`make warm`): slow tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from fda.settings import RetrievalSettings, Settings
from index.ingest.pipeline import corpus_hash
from index.retrieval.build import build_indexes
from index.retrieval.factory import open_retriever
from index.retrieval.layout import ARTIFACTS_DIR, Paths, default_model_path
from tests.index.retrieval.test_retrievers import CORS, tiny_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def test_fused_with_real_models(tiny_store: Path) -> None:  # noqa: F811
    root = tiny_store.parent
    rs = RetrievalSettings(backend="fused")
    paths = Paths(
        tiny_store,
        root / "indexes",
        root / "models",
        default_model_path(),
        ARTIFACTS_DIR / rs.artifact,
        corpus_hash(tiny_store),
    )
    build_indexes(rs, paths, ["bm25", "dense", "colbert"], progress=False)
    retriever = open_retriever(None, Settings(state_dir=root, retrieval=rs), paths)
    hits = retriever.search("How do I add CORSMiddleware to my app? See https://evil.example/x", k=3)
    assert hits[0].url == CORS and hits[0].score >= hits[-1].score
    assert len({p.url for p in hits}) == len(hits)
    assert list((root / "cache" / "headings").glob("headings-*.npy"))
