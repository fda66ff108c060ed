"""api/wiring.py on a fresh clone's state: bm25 and dense built, colbert not yet. ``fused`` opens without
ColBERT, the build is a niced ``fda index --backend colbert`` child, and its success attaches the signal and
empties the caches that were filled without it."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from api.cache import TTLCache
from api.wiring import _retrievers, colbert_build
from fda.errors import IndexMissingError
from fda.settings import RetrievalSettings, Settings
from index.retrieval import dense
from index.retrieval.build import build_indexes
from index.retrieval.layout import paths_for
from tests.index.conftest import tiny_dumps  # noqa: F401  (fixture)
from tests.index.retrieval.test_fused import BuiltColBERT
from tests.index.retrieval.test_retrievers import CORS, HashEncoder, tiny_store  # noqa: F401  (fixtures)


@pytest.fixture
def settings(tiny_store: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:  # noqa: F811
    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: HashEncoder())
    s = Settings(state_dir=tiny_store.parent, retrieval=RetrievalSettings(backend="fused", checkpoint="test/colbert"))
    build_indexes(s.retrieval, paths_for(s.retrieval, s.state_dir, s.db_path), ["bm25", "dense"], progress=False)
    return s


def test_without_deferral_a_missing_colbert_index_stops_start_up(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="fda index"):
        _retrievers(settings, defer_colbert=False)


def test_fused_serves_at_once_and_the_finished_build_switches_colbert_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.wiring

    then: list[object] = []  # after the attach, the older versions' build (tests/api/test_wiring_versions_later.py)
    monkeypatch.setattr(api.wiring, "start_versions_build", lambda _s, retriever, _svc: then.append(retriever))
    retrievers, deferred = _retrievers(settings, defer_colbert=True)
    assert deferred is not None and deferred.fused.weights[2] == 0.0 and set(retrievers) == {"fused", "bm25"}
    assert retrievers["fused"].search("How do I use CORSMiddleware?", k=1)[0].url == CORS

    services = SimpleNamespace(answer_cache=TTLCache(8, 60), search_cache=TTLCache(8, 60), index_generation=0)
    services.answer_cache.put("q", "an answer made without colbert")
    build = colbert_build(settings, deferred, services)  # type: ignore[arg-type]
    assert build.command[1:] == ["-m", "fda.cli", "index", "--backend", "colbert", "--exit-with-parent"]
    assert build.command[0] == sys.executable and build.expected_s and build.expected_s > 0
    assert build.log_path == settings.state_dir / "logs" / "index-colbert.log"

    colbert = BuiltColBERT()
    deferred.opener.cache["colbert"] = colbert  # type: ignore[assignment]  # what the finished index opens as
    build.command = [sys.executable, "-c", "print('built')"]  # the real build takes minutes: the slow tier runs it
    build.poll_s = 0.02
    build.start()
    assert build.wait(30) and build.state == "done", build.error
    assert deferred.fused.weights[2] == settings.retrieval.fused_weights[2] and deferred.fused.colbert is colbert
    assert colbert.searched  # loaded before the switch, not by the first user
    assert services.answer_cache.get("q") is None and services.index_generation == 1
    assert then == [deferred.fused]  # the colbert index it attached is now among those the next build extends
    retrievers["fused"].search("How do I use CORSMiddleware?", k=1)
