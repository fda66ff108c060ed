"""BM25, dense (with a fake encoder), hybrid and the factory on the tiny fixture corpus."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fda.errors import IndexMissingError, InvalidQuestionError, UnknownVersionError
from fda.settings import ChunkingSettings, RetrievalSettings, Settings
from index.ingest.pipeline import corpus_hash, ingest
from index.retrieval import bm25, dense
from index.retrieval.base import MAX_QUERY_CHARS, Retriever
from index.retrieval.bm25 import BM25Retriever, tokenize
from index.retrieval.build import build_indexes, folder_for
from index.retrieval.dense import DenseRetriever
from index.retrieval.factory import open_retriever
from index.retrieval.hybrid import RRFRetriever
from index.retrieval.layout import Paths, index_dir
from index.retrieval.passages import load_chunks, resolve_version
from index.retrieval.rerank import RerankRetriever
from index.retrieval.wrappers import SectionFolding

CORS = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"


class HashEncoder:
    """A deterministic stand-in for MiniLM: hashed bag of words, L2-normalised."""

    dim = 64

    def documents_int8(self) -> bool:  # as MiniLMEncoder: a fake has no fp32 fallback to report
        return True

    def encode(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in tokenize(text):
                out[i, int(hashlib.md5(tok.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@pytest.fixture
def tiny_store(tiny_dumps: Path, tmp_path: Path) -> Path:
    db = tmp_path / "state" / "fda.duckdb"
    cfg = ChunkingSettings(tokenizer="whitespace", max_tokens=64, min_tokens=0)
    ingest([str(tiny_dumps)], db, tmp_path / "cache", cfg, progress=False)
    return db


@pytest.fixture
def paths(tiny_store: Path) -> Paths:
    root = tiny_store.parent
    return Paths(
        tiny_store,
        root / "indexes",
        root / "models",
        Path("/nonexistent-minilm"),
        root / "artifact",
        corpus_hash(tiny_store),
    )


@pytest.fixture
def bm25_index(paths: Paths) -> Path:
    build_indexes(RetrievalSettings(), paths, ["bm25"], progress=False)
    return folder_for("bm25", RetrievalSettings(), paths)


@pytest.fixture
def dense_index(paths: Paths) -> Path:
    folder = index_dir(paths.index_root, "dense", {"test": "hash-encoder"})
    folder.mkdir(parents=True)
    for version in ("0.1.0", "0.2.0"):
        dense.build_version(folder / version, load_chunks(paths.db_path, version), HashEncoder())
    (folder / "manifest.json").write_text(json.dumps({"versions": {"0.1.0": {}, "0.2.0": {}}, "latest": "0.2.0"}))
    return folder


def test_tokenize_splits_identifiers_and_stems() -> None:
    toks = tokenize("Use CORSMiddleware with allow_origins, the settings")
    assert {"corsmiddlewar", "cor", "middlewar", "allow_origin", "allow", "origin", "set"} <= set(toks)
    assert "the" not in toks and "with" not in toks


def test_bm25_finds_the_section_and_returns_passages(bm25_index: Path) -> None:
    r = BM25Retriever(bm25_index)
    hits = r.search("How do I add the CORSMiddleware?", k=3)
    assert hits[0].url == CORS
    assert hits[0].version == "0.2.0" and hits[0].heading_path[-1] == "Use CORSMiddleware"
    assert hits[0].score >= hits[-1].score > 0
    assert isinstance(r, Retriever)


def test_bm25_version_filter(bm25_index: Path) -> None:
    r = BM25Retriever(bm25_index)
    old = r.search("CORSMiddleware", k=5, version="0.1.0")
    assert old and {p.version for p in old} == {"0.1.0"}
    assert all(p.url.startswith("https://github.com/fastapi/fastapi/blob/0.1.0/") for p in old)
    with pytest.raises(UnknownVersionError):
        r.search("CORSMiddleware", version="9.9.9")


def test_bm25_unmatched_words_give_no_results(bm25_index: Path) -> None:
    assert BM25Retriever(bm25_index).search("¿Cómo subo archivos? 文件上传", k=5) == []


def test_dense_ranks_by_cosine(dense_index: Path) -> None:
    r = DenseRetriever(dense_index, HashEncoder())
    hits = r.search("CORSMiddleware middleware", k=2)
    assert hits[0].url == CORS
    assert len(hits) == 2 and hits[0].score >= hits[1].score
    assert r.search("CORSMiddleware", k=1, version="0.1.0")[0].version == "0.1.0"


@pytest.mark.parametrize("query", ["", "   \n"])
def test_empty_query_is_refused(bm25_index: Path, dense_index: Path, query: str) -> None:
    for r in (BM25Retriever(bm25_index), DenseRetriever(dense_index, HashEncoder())):
        with pytest.raises(InvalidQuestionError):
            r.search(query)


def test_long_query_is_cut_and_logged(bm25_index: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="index.retrieval.base"):
        hits = BM25Retriever(bm25_index).search("CORSMiddleware " * 1000, k=1)
    assert hits[0].url == CORS
    assert any(str(MAX_QUERY_CHARS) in rec.getMessage() for rec in caplog.records)


def test_missing_index_names_the_command(paths: Paths) -> None:
    with pytest.raises(IndexMissingError) as err:
        BM25Retriever(folder_for("bm25", RetrievalSettings(), paths))
    assert "fda index" in str(err.value)


def test_corrupt_index_is_a_clear_error(bm25_index: Path) -> None:
    (bm25_index / "0.2.0" / "chunks.jsonl").write_text("{not json")
    with pytest.raises(IndexMissingError, match="corrupted") as err:
        BM25Retriever(bm25_index).search("CORS")
    assert "fda index" in str(err.value)
    (bm25_index / "manifest.json").write_text("[]")
    with pytest.raises(IndexMissingError, match="not a manifest"):
        BM25Retriever(bm25_index)


def test_index_is_rebuilt_only_when_inputs_change(paths: Paths) -> None:
    first = build_indexes(RetrievalSettings(), paths, ["bm25"], progress=False)[0]
    again = build_indexes(RetrievalSettings(), paths, ["bm25"], progress=False)[0]
    assert (first.status, again.status) == ("built", "up to date") and first.folder == again.folder
    manifest = json.loads((first.folder / "manifest.json").read_text())
    assert manifest["latest"] == "0.2.0" and set(manifest["versions"]) == {"0.1.0", "0.2.0"}
    changed = build_indexes(RetrievalSettings(bm25_k1=1.5), paths, ["bm25"], progress=False)[0]
    assert changed.status == "built" and changed.folder != first.folder
    forced = build_indexes(RetrievalSettings(), paths, ["bm25"], force=True, progress=False)[0]
    assert forced.status == "built" and forced.folder == first.folder


class FakeScorer:
    """Scores chunks by how many times 'wildcards' appears: a stand-in for ColBERT MaxSim."""

    def __init__(self, inner: BM25Retriever) -> None:
        self.inner = inner

    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]:
        texts = {p.chunk_id: p.text for p in self.inner.search(query, 100, version)}
        return {c: float(texts.get(c, "").lower().count("wildcards")) for c in chunk_ids}


def test_rerank_orders_candidates_by_the_scorer(bm25_index: Path) -> None:
    base = BM25Retriever(bm25_index)
    plain = base.search("CORS middleware credentials wildcards", k=5)
    reranked = RerankRetriever([base], FakeScorer(base), depth=10).search("CORS middleware credentials wildcards", k=5)
    assert {p.chunk_id for p in reranked} == {p.chunk_id for p in plain}
    assert "Wildcards" in reranked[0].text and reranked[0].score == 1.0


def test_rrf_retriever_fuses_and_folding_dedupes_sections(bm25_index: Path, dense_index: Path) -> None:
    fused = RRFRetriever([BM25Retriever(bm25_index), DenseRetriever(dense_index, HashEncoder())], depth=10)
    hits = fused.search("CORSMiddleware", k=4)
    assert hits[0].url == CORS and hits[0].score == pytest.approx(2 / 61)
    folded = SectionFolding(fused).search("CORSMiddleware", k=4)
    assert len({p.url for p in folded}) == len(folded)


def test_open_retriever_from_settings(tiny_store: Path) -> None:
    settings = Settings(state_dir=tiny_store.parent, retrieval=RetrievalSettings(backend="bm25"))
    with pytest.raises(IndexMissingError, match="fda index"):
        open_retriever(None, settings)
    from index.retrieval.layout import paths_for

    build_indexes(
        settings.retrieval,
        paths_for(settings.retrieval, settings.state_dir, settings.db_path),
        ["bm25"],
        progress=False,
    )
    r = open_retriever(None, settings)
    hit = r.search("CORSMiddleware", k=1)[0]
    assert hit.url == CORS
    widened = r.widen(hit, 5000)  # type: ignore[attr-defined]  # the answer step's section context
    assert hit.text in widened and len(widened) >= len(hit.text)


def test_resolve_version(tiny_store: Path) -> None:
    assert resolve_version(tiny_store, None) == "0.2.0"
    assert resolve_version(tiny_store, "0.1.0") == "0.1.0"
    with pytest.raises(UnknownVersionError):
        resolve_version(tiny_store, "1.0")


def test_bm25_spec_changes_name() -> None:
    assert bm25.spec("abc") != bm25.spec("abd") and bm25.spec("abc") == bm25.spec("abc")


@pytest.mark.parametrize(
    ("query", "versions"),
    [
        ("How do I enable CORS?", False),
        ("From which FastAPI version can I use Annotated?", True),
        ("Is on_event still the way to run startup code?", True),
        ("What changed in 0.95?", True),
        ("how do I return a file?", False),
        ("¿Cómo subo un archivo?", False),
    ],
)
def test_asks_about_versions(query: str, versions: bool) -> None:
    from index.retrieval.wrappers import asks_about_versions

    assert asks_about_versions(query) is versions


def test_release_notes_go_last_unless_asked(bm25_index: Path) -> None:
    from index.retrieval.wrappers import ReleaseNotesLast

    base = BM25Retriever(bm25_index)
    query = "add the lifespan fix to the framework"
    assert [p.kind for p in base.search(query, k=2)] == ["release", "release"]
    assert ReleaseNotesLast(base).search(query, k=1)[0].url == "https://fastapi.tiangolo.com/#fastapi"
    assert ReleaseNotesLast(base).search("which version added the lifespan fix?", k=1)[0].kind == "release"
