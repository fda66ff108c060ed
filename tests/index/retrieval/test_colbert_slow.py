"""ColBERT end to end on the tiny corpus: assemble the checkpoint from the packaged MiniLM and the
committed weights, build PLAID indexes, search, re-score, fuse. Needs colbert-ai's C++ extensions
(`make warm`) and a minute or two: slow tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from fda.settings import RetrievalSettings, Settings
from index.ingest.pipeline import corpus_hash
from index.retrieval.build import build_indexes, folder_for
from index.retrieval.factory import open_retriever
from index.retrieval.layout import ARTIFACTS_DIR, Paths, default_model_path, pick_version
from tests.index.retrieval.test_retrievers import CORS, tiny_store  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def test_colbert_builds_searches_rescores_and_fuses(tiny_store: Path) -> None:  # noqa: F811
    from index.retrieval.colbert import ColBERTRetriever

    root = tiny_store.parent
    rs = RetrievalSettings(neural_versions="all")  # every version, so an older one is searched by ColBERT itself
    paths = Paths(
        tiny_store,
        root / "indexes",
        root / "models",
        default_model_path(),
        ARTIFACTS_DIR / rs.artifact,
        corpus_hash(tiny_store),
    )
    reports = build_indexes(rs, paths, ["bm25", "colbert"], progress=False)
    assert [r.status for r in reports] == ["built", "built"]
    assert list((root / "models").glob("colbert-*/artifact.metadata"))  # assembled once, into state/models

    colbert = ColBERTRetriever(folder_for("colbert", rs, paths))
    hits = colbert.search("How do I add CORSMiddleware to my app?", k=3)
    assert hits[0].url == CORS and hits[0].score >= hits[-1].score
    assert {p.version for p in colbert.search("CORS", k=3, version="0.1.0")} == {"0.1.0"}
    scores = colbert.rescore("CORSMiddleware", [hits[0].chunk_id, "not-a-chunk"])
    assert set(scores) == {hits[0].chunk_id}

    # the query encoder's transformer on ONNX Runtime gives the same scores and ranking
    fast = ColBERTRetriever(folder_for("colbert", rs, paths), onnx_dir=root / "models" / "onnx")
    fast_hits = fast.search("How do I add CORSMiddleware to my app?", k=3)
    assert list((root / "models" / "onnx").glob("minilm-*.onnx"))
    assert [h.chunk_id for h in fast_hits] == [h.chunk_id for h in hits]
    assert [h.score for h in fast_hits] == pytest.approx([h.score for h in hits], abs=1e-3)

    # int8 query weights and the lean PLAID search: close scores, the same best hit, the settings applied
    from index.retrieval.colbert import PlaidSearch

    lean = PlaidSearch(ncells=1, centroid_threshold=0.5, ndocs=64)
    q8 = ColBERTRetriever(
        folder_for("colbert", rs, paths), onnx_dir=root / "models" / "onnx", query_int8=True, plaid=lean
    )
    q8_hits = q8.search("How do I add CORSMiddleware to my app?", k=3)
    assert list((root / "models" / "onnx").glob("minilm-*-int8.onnx"))
    assert q8_hits[0].chunk_id == hits[0].chunk_id
    assert q8_hits[0].score == pytest.approx(hits[0].score, rel=0.05) and q8_hits[0].score != hits[0].score
    config = q8._loaded[pick_version(q8.manifest, None)][0].model.model_index.searcher.config
    assert (config.ncells, config.centroid_score_threshold, config.ndocs) == (1, 0.5, 64)

    settings = Settings(
        state_dir=root, retrieval=RetrievalSettings(fusion_backends=["bm25", "colbert"], neural_versions="all")
    )
    for backend in ("hybrid", "rerank"):
        assert open_retriever(backend, settings, paths).search("CORSMiddleware", k=2)[0].url == CORS


def test_serve_builds_the_missing_colbert_index_in_the_background(
    tiny_store: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fresh clone's `make run`: bm25 and dense built (the latest version only), colbert not. ``fused`` answers
    at once without it; the real ``fda index --backend colbert`` runs as a child process; its index is then
    attached to the live retriever, which now scores with ColBERT; then a second child adds the older version to
    both neural indexes (``neural_versions=background``), which the live retriever then searches itself."""
    from types import MethodType, SimpleNamespace

    from api.cache import TTLCache
    from api.services import Services
    from api.wiring import _retrievers, colbert_build
    from index.retrieval.layout import paths_for

    root = tiny_store.parent
    monkeypatch.setenv("FDA_STATE_DIR", str(root))  # the child reads the same settings
    settings = Settings(state_dir=root)
    assert settings.retrieval.backend == "fused" and settings.retrieval.fused_weights[2] > 0
    build_indexes(
        settings.retrieval, paths_for(settings.retrieval, root, tiny_store), ["bm25", "dense"], progress=False
    )
    retrievers, deferred = _retrievers(settings, defer_colbert=True)
    assert deferred is not None and deferred.fused.colbert is None
    assert retrievers["fused"].search("How do I add CORSMiddleware to my app?", k=1)[0].url == CORS

    services = SimpleNamespace(
        answer_cache=TTLCache(8, 60),
        search_cache=TTLCache(8, 60),
        index_generation=0,
        builds=[],
        closers=[],
        gate=SimpleNamespace(pending=0),
    )
    services.add_build = MethodType(Services.add_build, services)  # the service's own registration and start
    build = colbert_build(settings, deferred, services)  # type: ignore[arg-type]
    build.start()
    assert build.wait(600), "the background colbert build did not finish in 10 minutes"
    assert build.state == "done", f"{build.error}\n{build.log_path.read_text()[-3000:]}"
    assert deferred.fused.colbert is not None and deferred.fused.weights[2] == settings.retrieval.fused_weights[2]
    assert retrievers["fused"].search("How do I add CORSMiddleware to my app?", k=1)[0].url == CORS
    assert "colbert" in build.log_path.read_text()

    (older,) = services.builds  # started by the attach: the older version for dense and colbert
    assert older.wait(600), "the older versions' build did not finish in 10 minutes"
    assert older.state == "done", f"{older.error}\n{older.log_path.read_text()[-3000:]}"
    for index in (deferred.fused.dense, deferred.fused.colbert):
        assert sorted(index.manifest["versions"]) == ["0.1.0", "0.2.0"], index.name
    assert deferred.fused.search("CORSMiddleware", k=1, version="0.1.0")  # fused itself, no BM25 fallback
    assert services.index_generation == 2
