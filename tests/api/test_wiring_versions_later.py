"""api/wiring.py with ``retrieval.neural_versions = "background"`` (the default): `make run` builds the dense index
for the latest docs version only; `fda serve` adds the older versions in a niced child with "all", and its success
makes the live dense (and colbert) index read its manifest again, so older versions stop falling back to BM25."""

from __future__ import annotations

import sys
from pathlib import Path
from types import MethodType, SimpleNamespace

import pytest

from api.cache import TTLCache
from api.services import Services
from api.wiring import _retrievers, neural_indexes, versions_build
from fda.errors import UnknownVersionError
from fda.settings import RetrievalSettings, Settings
from index.retrieval import dense
from index.retrieval.build import build_indexes
from index.retrieval.layout import paths_for
from tests.index.conftest import tiny_dumps  # noqa: F401  (fixture)
from tests.index.retrieval.test_retrievers import HashEncoder, tiny_store  # noqa: F401  (fixtures)


def _settings(tiny_store: Path, neural_versions: str) -> Settings:  # noqa: F811
    rs = RetrievalSettings(backend="dense", neural_versions=neural_versions)  # type: ignore[arg-type]
    return Settings(state_dir=tiny_store.parent, retrieval=rs)


@pytest.fixture
def settings(tiny_store: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:  # noqa: F811
    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: HashEncoder())
    s = _settings(tiny_store, "background")
    build_indexes(s.retrieval, paths_for(s.retrieval, s.state_dir, s.db_path), ["bm25", "dense"], progress=False)
    return s


def services() -> SimpleNamespace:
    return SimpleNamespace(answer_cache=TTLCache(8, 60), search_cache=TTLCache(8, 60), index_generation=0)


def test_the_older_versions_are_built_later_and_then_searched_by_the_dense_index(settings: Settings) -> None:
    retrievers, _ = _retrievers(settings, defer_colbert=True)
    main = retrievers["dense"]
    (index,) = neural_indexes(main)  # found under the service's wrappers
    assert sorted(index.manifest["versions"]) == ["0.2.0"]
    with pytest.raises(UnknownVersionError):
        index.search("CORS", k=1, version="0.1.0")
    assert main.search("CORS", k=1, version="0.1.0")  # meanwhile: BM25 answers for 0.1.0

    svc = services()
    svc.answer_cache.put("q", "an answer made with bm25 for 0.1.0")
    build = versions_build(settings, main, svc)  # type: ignore[arg-type]
    assert build is not None
    assert build.command[1:] == ["-m", "fda.cli", "index", "--backend", "dense", "--exit-with-parent"]
    assert build.command[0] == sys.executable and build.env and build.env["FDA_RETRIEVAL__NEURAL_VERSIONS"] == "all"
    assert build.log_path == settings.state_dir / "logs" / "index-older-versions.log"
    assert "0.1.0 are searched with bm25" in build.summary() and "NEURAL_VERSIONS=all fda index" in build.fix

    # what the child does (the real one is `fda index` in another process; the slow tier runs real builds)
    all_versions = settings.retrieval.model_copy(update={"neural_versions": "all"})
    build_indexes(
        all_versions, paths_for(all_versions, settings.state_dir, settings.db_path), ["dense"], progress=False
    )
    build.command = [sys.executable, "-c", "print('built')"]
    build.poll_s = 0.02
    build.start()
    assert build.wait(30) and build.state == "done", build.error
    assert sorted(index.manifest["versions"]) == ["0.1.0", "0.2.0"] and index.search("CORS", k=1, version="0.1.0")
    assert svc.answer_cache.get("q") is None and svc.index_generation == 1
    again = versions_build(settings, main, services())  # type: ignore[arg-type]
    assert again is None  # nothing left to build: a restart starts none


def test_no_background_build_unless_the_setting_asks(tiny_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: HashEncoder())
    s = _settings(tiny_store, "latest")
    build_indexes(s.retrieval, paths_for(s.retrieval, s.state_dir, s.db_path), ["bm25", "dense"], progress=False)
    main = _retrievers(s, defer_colbert=True)[0]["dense"]
    assert versions_build(s, main, services()) is None  # type: ignore[arg-type]
    assert neural_indexes(_retrievers(s, defer_colbert=True)[0]["bm25"]) == []  # bm25 covers every version itself


def test_a_build_that_cannot_start_or_a_closing_service_never_stops_serving(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from api.wiring import start_versions_build
    from index.retrieval.background import BackgroundBuild

    main = _retrievers(settings, defer_colbert=True)[0]["dense"]
    svc = SimpleNamespace(**vars(services()), builds=[], closers=[], closing=True, gate=SimpleNamespace(pending=0))
    svc.add_build = MethodType(Services.add_build, svc)  # the service's own registration (/readyz, shutdown)
    start_versions_build(settings, main, svc)  # type: ignore[arg-type]
    assert svc.builds == []  # the service is closing: nothing new starts

    def no_start(self: BackgroundBuild) -> None:
        raise OSError("read-only file system: state/logs")

    monkeypatch.setattr(BackgroundBuild, "start", no_start)
    svc.closing = False
    with caplog.at_level("WARNING"):
        start_versions_build(settings, main, svc)  # type: ignore[arg-type]
    assert "did not start (they stay on bm25): read-only" in caplog.text
    assert main.search("CORS", k=1, version="0.1.0")  # still answered, by BM25


def test_a_build_that_ends_without_the_versions_is_reported_failed(settings: Settings) -> None:
    main = _retrievers(settings, defer_colbert=True)[0]["dense"]
    svc = services()
    build = versions_build(settings, main, svc)  # type: ignore[arg-type]
    assert build is not None
    build.command, build.poll_s = [sys.executable, "-c", "pass"], 0.02  # exits 0, extends nothing
    build.start()
    assert build.wait(30) and build.state == "failed"
    assert "still lack dense 0.1.0" in build.error and "NEURAL_VERSIONS=all fda index" in build.summary()
    assert svc.index_generation == 1  # the caches are emptied all the same


def test_neural_indexes_are_found_inside_rank_fusion_and_rerank() -> None:
    dense_like = SimpleNamespace(name="dense", refresh=lambda: [], manifest={"versions": {}})
    colbert_like = SimpleNamespace(name="colbert", refresh=lambda: [], manifest={"versions": {}})
    bm25_like = SimpleNamespace(name="bm25")
    hybrid = SimpleNamespace(name="hybrid", retrievers=[bm25_like, dense_like, colbert_like])
    rerank = SimpleNamespace(name="rerank", candidates=[bm25_like, dense_like], scorer=colbert_like)
    for top in (hybrid, SimpleNamespace(name="wrapper", inner=rerank)):
        found = neural_indexes(top)
        assert len(found) == 2 and {id(r) for r in found} == {id(dense_like), id(colbert_like)}
