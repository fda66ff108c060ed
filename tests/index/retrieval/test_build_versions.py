"""Dense/colbert indexes for the latest version only by default, extended on request; BM25 answers
older versions in their place (index/retrieval/build.py, index/retrieval/wrappers.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fda.errors import ConfigError, IndexMissingError, UnknownVersionError
from fda.settings import RetrievalSettings, Settings
from fda.types import Passage
from index.retrieval import dense
from index.retrieval.build import build_indexes, folder_for, versions_for
from index.retrieval.factory import open_retriever
from index.retrieval.layout import Paths
from index.retrieval.wrappers import VersionFallback
from tests.index.retrieval.test_retrievers import HashEncoder, paths, tiny_store  # noqa: F401  (fixtures)


@pytest.fixture
def hash_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: HashEncoder())


@pytest.mark.parametrize(
    ("backend", "setting", "expected"),
    [
        ("bm25", "latest", ["0.1.0", "0.2.0"]),
        ("dense", "latest", ["0.2.0"]),
        ("colbert", "latest", ["0.2.0"]),
        ("dense", "background", ["0.2.0"]),  # `fda index` builds the latest; `fda serve` adds the rest later
        ("colbert", "all", ["0.1.0", "0.2.0"]),
    ],
)
def test_versions_for(backend: str, setting: str, expected: list[str]) -> None:
    rs = RetrievalSettings(neural_versions=setting)  # type: ignore[arg-type]
    assert versions_for(backend, rs, ["0.1.0", "0.2.0"], "0.2.0") == expected


def test_versions_for_without_a_latest_flag_takes_the_last() -> None:
    assert versions_for("dense", RetrievalSettings(), ["0.1.0", "0.2.0"], None) == ["0.2.0"]


def _manifest_versions(folder: Path) -> list[str]:
    return sorted(json.loads((folder / "manifest.json").read_text())["versions"])


def test_latest_only_then_extended(paths: Paths, hash_encoder: None) -> None:  # noqa: F811
    rs = RetrievalSettings()
    reports = {r.backend: r for r in build_indexes(rs, paths, ["bm25", "dense"], progress=False)}
    assert reports["dense"].status == "built" and list(reports["dense"].versions) == ["0.2.0"]
    assert _manifest_versions(folder_for("dense", rs, paths)) == ["0.2.0"]
    assert _manifest_versions(folder_for("bm25", rs, paths)) == ["0.1.0", "0.2.0"]

    again = build_indexes(rs, paths, ["dense"], progress=False)[0]
    assert again.status == "up to date"

    (folder_for("dense", rs, paths) / "0.1.0").mkdir()  # debris of an interrupted extension
    all_versions = RetrievalSettings(neural_versions="all")
    extended = build_indexes(all_versions, paths, ["dense"], progress=False)[0]
    assert extended.status == "extended" and list(extended.versions) == ["0.1.0"]
    assert extended.folder == folder_for("dense", rs, paths)  # the same index, not a new name
    assert _manifest_versions(extended.folder) == ["0.1.0", "0.2.0"]
    assert build_indexes(all_versions, paths, ["dense"], progress=False)[0].status == "up to date"


def _settings(paths: Paths, backend: str) -> Settings:  # noqa: F811
    return Settings(
        state_dir=paths.db_path.parent,
        retrieval=RetrievalSettings(backend=backend, fusion_backends=["bm25", "dense"]),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("backend", ["dense", "hybrid"])
def test_older_version_falls_back_to_bm25(
    paths: Paths,  # noqa: F811
    hash_encoder: None,
    backend: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _settings(paths, backend)
    build_indexes(settings.retrieval, paths, ["bm25", "dense"], progress=False)
    retriever = open_retriever(backend, settings, paths)
    latest = retriever.search("CORSMiddleware", k=3)
    assert latest and {p.version for p in latest} == {"0.2.0"}
    with caplog.at_level(logging.WARNING, logger="index.retrieval.wrappers"):
        old = retriever.search("CORSMiddleware", k=3, version="0.1.0")
        retriever.search("CORSMiddleware middleware", k=3, version="0.1.0")
    assert old and {p.version for p in old} == {"0.1.0"}
    warnings = [r for r in caplog.records if "NEURAL_VERSIONS=all" in r.getMessage()]
    assert len(warnings) == 1  # once per version, not per query
    with pytest.raises(UnknownVersionError, match=r"0\.1\.0, 0\.2\.0"):
        retriever.search("CORSMiddleware", version="9.9.9")


class _Fixed:
    def __init__(self, name: str, versions: set[str]) -> None:
        self.name, self.versions, self.calls = name, versions, 0

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        self.calls += 1
        if (version or "latest") not in self.versions:
            raise UnknownVersionError(f"version {version!r} is not in the index")
        return []


def test_fallback_is_opened_lazily_and_never_for_the_latest() -> None:
    opened: list[str] = []
    inner = _Fixed("colbert", {"latest", "0.2.0"})

    def open_bm25() -> _Fixed:
        opened.append("bm25")
        return _Fixed("bm25", {"latest", "0.1.0", "0.2.0"})

    wrapped = VersionFallback(inner, open_bm25)
    assert wrapped.name == "colbert"
    wrapped.search("q")
    wrapped.search("q", version="0.2.0")
    assert opened == []
    wrapped.search("q", version="0.1.0")
    wrapped.search("q", version="0.1.0")
    assert opened == ["bm25"]  # opened once
    with pytest.raises(UnknownVersionError):
        VersionFallback(_Fixed("colbert", set()), open_bm25).search("q", version=None)


def test_a_second_build_of_the_same_folder_waits_for_the_first(paths: Paths) -> None:  # noqa: F811
    """Two `fda serve` workers, or a leftover background build: the second waits on the lock, then reuses."""
    import threading

    from index.retrieval.build import build_lock, folder_for

    rs = RetrievalSettings()
    folder = folder_for("bm25", rs, paths)
    done: list[str] = []
    with build_lock(folder):
        worker = threading.Thread(
            target=lambda: done.extend(r.status for r in build_indexes(rs, paths, ["bm25"], progress=False))
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and done == []  # waiting for the lock
    worker.join(30)
    assert done == ["built"]
    assert [r.status for r in build_indexes(rs, paths, ["bm25"], progress=False)] == ["up to date"]


def test_int8_documents_name_another_dense_folder_only_with_onnx(paths: Paths) -> None:  # noqa: F811
    int8, fp32 = RetrievalSettings(doc_int8=True), RetrievalSettings(doc_int8=False)
    assert folder_for("dense", int8, paths) != folder_for("dense", fp32, paths)
    # without ONNX Runtime documents are encoded in fp32 whatever the setting: the fp32 index
    no_onnx = RetrievalSettings(doc_int8=True, onnx=False)
    assert folder_for("dense", no_onnx, paths) == folder_for("dense", fp32, paths)
    assert folder_for("bm25", int8, paths) == folder_for("bm25", fp32, paths)


def test_the_build_encodes_documents_as_the_folder_says(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    made: list[dict[str, object]] = []

    def encoder(*_a: object, **kw: object) -> HashEncoder:
        made.append(kw)
        return HashEncoder()

    monkeypatch.setattr(dense, "MiniLMEncoder", encoder)
    for doc_int8 in (True, False):
        build_indexes(RetrievalSettings(doc_int8=doc_int8), paths, ["dense"], progress=False)
        assert made[-1]["doc_int8"] is doc_int8


def test_an_fp32_index_serves_until_the_int8_one_is_built(
    paths: Paths,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made: list[dict[str, object]] = []

    def encoder(*_a: object, **kw: object) -> HashEncoder:
        made.append(kw)
        return HashEncoder()

    monkeypatch.setattr(dense, "MiniLMEncoder", encoder)  # the factory imports it from there when it opens dense
    settings = _settings(paths, "dense")
    int8 = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"doc_int8": True})})
    fp32 = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"doc_int8": False})})
    with pytest.raises(IndexMissingError):  # nothing built: the int8 index is what is missing
        open_retriever("dense", int8, paths)
    build_indexes(fp32.retrieval, paths, ["bm25", "dense"], progress=False)  # a checkout from before doc_int8
    with caplog.at_level(logging.WARNING, logger="index.retrieval.factory"):
        served = open_retriever("dense", int8, paths)
    assert served.search("CORSMiddleware", k=1) and "fda index --backend dense" in caplog.text
    assert made[-1]["doc_int8"] is False  # heading vectors must match the fp32 index they are compared with
    build_indexes(int8.retrieval, paths, ["dense"], progress=False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="index.retrieval.factory"):
        open_retriever("dense", int8, paths)
    assert made[-1]["doc_int8"] is True and "fda index --backend dense" not in caplog.text


def test_an_int8_index_is_not_built_from_fp32_vectors(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    class FellBack(HashEncoder):
        def documents_int8(self) -> bool:  # the int8 copy could not be made: ONNX Runtime fell back to fp32
            return False

    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: FellBack())
    with pytest.raises(ConfigError, match="int8 MiniLM could not be made") as err:
        build_indexes(RetrievalSettings(doc_int8=True), paths, ["dense"], progress=False)
    assert "DOC_INT8=false" in (err.value.hint or "")
    assert not folder_for("dense", RetrievalSettings(doc_int8=True), paths).exists()
    build_indexes(RetrievalSettings(doc_int8=False), paths, ["dense"], progress=False)  # the fp32 one still builds
