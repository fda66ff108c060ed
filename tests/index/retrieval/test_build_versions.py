"""Dense/colbert indexes for the latest version only by default, extended on request; BM25 answers
older versions in their place (index/retrieval/build.py, index/retrieval/wrappers.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fda.errors import UnknownVersionError
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
