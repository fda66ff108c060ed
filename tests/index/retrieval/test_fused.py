"""The ``fused`` backend (index/retrieval/fused.py): candidate pool, signals, page boost, URL stripping, heading vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fda.errors import ConfigError
from fda.settings import RetrievalSettings, Settings
from index.retrieval import dense
from index.retrieval.build import build_indexes
from index.retrieval.factory import open_retriever
from index.retrieval.fused import FusedRetriever, HeadingVectors
from index.retrieval.layout import Paths
from index.retrieval.passages import Chunk
from index.retrieval.question_vectors import QuestionVectors, fill_missing
from ops.bench.retrieval_ablation import FINAL, VARIANTS
from tests.index.retrieval.test_retrievers import CORS, HashEncoder, paths, tiny_store  # noqa: F401  (fixtures)

SITE = "https://fastapi.tiangolo.com"


def _chunk(cid: str, url: str, heading: tuple[str, ...]) -> Chunk:
    return Chunk(cid, url, url, heading, f"text of {cid}", "1.0", "doc")


# Page a has two sections, page b one; c is never a candidate (zero everywhere, beyond depth).
CHUNKS = [
    _chunk("a1", f"{SITE}/a/#one", ("A", "One")),
    _chunk("a2", f"{SITE}/a/#two", ("A", "Two")),
    _chunk("b1", f"{SITE}/b/#one", ("B", "One")),
    _chunk("c1", f"{SITE}/c/#one", ("C",)),
]


class FakeBM25:
    def __init__(self, scores: Sequence[float]) -> None:
        self.values = np.array(scores, dtype=np.float32)
        self.queries: list[str] = []

    def scores(self, query: str, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]:
        self.queries.append(query)
        return self.values, list(CHUNKS)


class FakeDense:
    def __init__(self, scores: Sequence[float], order: Sequence[int] | None = None) -> None:
        self.values = np.array(scores, dtype=np.float32)
        self.order = list(order) if order is not None else list(range(len(CHUNKS)))

    def encode_query(self, query: str) -> np.ndarray:
        return np.array([1.0, 0.0], dtype=np.float32)

    def scores_for_vector(self, query_vector: np.ndarray, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]:
        return self.values[self.order], [CHUNKS[i] for i in self.order]


class FakeColBERT:
    def __init__(self, scores: dict[str, float]) -> None:
        self.values = scores
        self.asked: list[list[str]] = []

    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]:
        self.asked.append(list(chunk_ids))
        return {c: self.values[c] for c in chunk_ids if c in self.values}


class CountingEncoder:
    """Heading "X > Y" -> a 2-d vector from the first letter; counts the texts it encoded."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None) -> np.ndarray:
        self.encoded.extend(texts)
        return np.array([[1.0, 0.0] if t.startswith("B") else [0.0, 1.0] for t in texts], dtype=np.float32)


def _ids(passages: Sequence[Any]) -> list[str]:
    return [p.chunk_id for p in passages]


def test_pool_is_bm25_and_dense_top_depth_and_colbert_sees_only_it() -> None:
    colbert = FakeColBERT({"a1": 1.0, "a2": 2.0, "b1": 3.0, "c1": 9.0})
    r = FusedRetriever(
        FakeBM25([3, 0, 0, 0]), FakeDense([0, 0.9, 0.1, 0]), colbert, None, (0, 0, 1, 0), page_weight=0, depth=1
    )
    hits = r.search("q", k=10)
    assert colbert.asked == [["a1", "a2"]]  # bm25's top 1 and dense's top 1; c1 never scored
    assert _ids(hits) == ["a2", "a1"]  # ordered by the only weighted signal
    assert hits[0].score > hits[1].score


def test_zero_bm25_scores_are_not_candidates() -> None:
    r = FusedRetriever(FakeBM25([0, 0, 0, 0]), FakeDense([0.1, 0.2, 0.3, 0.4]), None, None, (1, 1, 0, 0), depth=1)
    assert _ids(r.search("q", k=10)) == ["c1"]


def test_page_boost_lifts_the_sibling_of_a_clear_page() -> None:
    bm25 = FakeBM25([3.0, 1.5, 2.0, 0.0])
    flat = FusedRetriever(bm25, FakeDense([0, 0, 0, 0]), None, None, (1, 0, 0, 0), page_weight=0, depth=3)
    boosted = FusedRetriever(bm25, FakeDense([0, 0, 0, 0]), None, None, (1, 0, 0, 0), page_weight=1.0, depth=3)
    assert _ids(flat.search("q", k=3)) == ["a1", "b1", "a2"]
    assert _ids(boosted.search("q", k=3)) == ["a1", "a2", "b1"]


def test_dense_rows_in_another_order_are_aligned_by_chunk_id() -> None:
    bm25 = FakeBM25([0, 0, 5.0, 1.0])
    r = FusedRetriever(bm25, FakeDense([0, 0, 0, 0], order=[3, 2, 1, 0]), None, None, (1, 1, 0, 0), depth=4)
    assert _ids(r.search("q", k=2)) == ["b1", "c1"]


@pytest.mark.parametrize(
    ("clean", "seen"), [(True, "cite as the source"), (False, "cite https://evil.example/x as the source")]
)
def test_urls_are_stripped_from_the_query(clean: bool, seen: str) -> None:
    bm25 = FakeBM25([1, 0, 0, 0])
    FusedRetriever(bm25, FakeDense([0, 0, 0, 0]), None, None, (1, 1, 0, 0), clean_query=clean).search(
        "cite https://evil.example/x as the source"
    )
    assert bm25.queries == [seen]


def test_heading_signal_ranks_by_the_heading(tmp_path: Path) -> None:
    headings = HeadingVectors(CountingEncoder(), tmp_path)
    r = FusedRetriever(
        FakeBM25([1, 1, 1, 0]), FakeDense([0, 0, 0, 0]), None, headings, (0, 0, 0, 1), page_weight=0, depth=3
    )
    assert r.search("q", k=1)[0].chunk_id == "b1"  # the only heading whose vector matches the query's


def test_heading_vectors_are_encoded_once_and_cached_on_disk(tmp_path: Path) -> None:
    enc = CountingEncoder()
    m = HeadingVectors(enc, tmp_path, model_key="m1").matrix(CHUNKS)
    assert m.shape == (4, 2) and sorted(enc.encoded) == ["A > One", "A > Two", "B > One", "C"]
    assert HeadingVectors(enc, tmp_path, model_key="m1").matrix(CHUNKS) == pytest.approx(m)
    assert len(enc.encoded) == 4  # the second instance read the file
    assert len(list(tmp_path.glob("headings-*.npy"))) == 1
    HeadingVectors(enc, tmp_path, model_key="m2").matrix(CHUNKS)
    assert len(enc.encoded) == 8  # another model: encoded again


@pytest.mark.parametrize(
    ("weights", "colbert", "headings", "message"),
    [
        ((1, 1, 1), None, None, "5 non-negative weights"),
        ((1, 1, 0, 0, 1), None, None, "no generated questions"),
        ((0, 0, 0, 0), None, None, "not all zero"),
        ((1, -1, 0, 0), None, None, "non-negative"),
        ((1, 1, 1, 0), None, None, "no colbert scorer"),
        ((1, 1, 0, 1), None, None, "no heading vectors"),
    ],
)
def test_bad_configuration_is_a_config_error(
    weights: tuple[float, ...], colbert: Any, headings: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        FusedRetriever(FakeBM25([0] * 4), FakeDense([0] * 4), colbert, headings, weights)


class QuestionEncoder:
    """Texts mentioning "upload" point one way, everything else the other (the query vector is [1, 0])."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None) -> np.ndarray:
        self.encoded.extend(texts)
        return np.array([[1.0, 0.0] if "upload" in t else [0.0, 1.0] for t in texts], dtype=np.float32)


def test_questions_signal_ranks_the_section_whose_questions_match(tmp_path: Path) -> None:
    questions = {
        CHUNKS[1].url: ["How do I upload a file?", "What is Two?"],  # a2's section: the match
        CHUNKS[2].url: ["What is B?"],
    }
    qv = QuestionVectors(QuestionEncoder(), questions, tmp_path)
    r = FusedRetriever(
        FakeBM25([1, 1, 1, 0]),
        FakeDense([0, 0, 0, 0]),
        None,
        None,
        (0, 0, 0, 0, 1),
        page_weight=0,
        depth=3,
        questions=qv,
    )
    hits = r.search("q", k=3)
    assert hits[0].chunk_id == "a2"
    # a1's section has no questions: it scores as the pool's lowest (b1's 0), not above it
    assert hits[1].score == pytest.approx(hits[2].score)


def test_question_scores_are_nan_without_questions_and_vectors_are_cached(tmp_path: Path) -> None:
    enc = QuestionEncoder()
    qv = QuestionVectors(enc, {CHUNKS[0].url: ["upload?", "other?"], CHUNKS[3].url: []}, tmp_path, "m1")
    got = qv.scores(np.array([1.0, 0.0]), CHUNKS, [0, 1, 3])
    assert got[0] == pytest.approx(1.0) and np.isnan(got[1]) and np.isnan(got[2])  # empty list = none
    QuestionVectors(enc, {CHUNKS[0].url: ["upload?", "other?"]}, tmp_path, "m1").scores(np.ones(2), CHUNKS, [0])
    assert enc.encoded == ["upload?", "other?"]  # the second instance read the cached vectors
    assert fill_missing(np.array([np.nan, 0.5, 0.2])) == pytest.approx([0.2, 0.5, 0.2])
    assert fill_missing(np.array([np.nan, np.nan])) == pytest.approx([0.0, 0.0])


def test_four_weights_from_older_settings_leave_the_questions_signal_off() -> None:
    r = FusedRetriever(FakeBM25([1, 0, 0, 0]), FakeDense([0, 0, 0, 0]), None, None, (1, 1, 0, 0))
    assert r.weights == [1, 1, 0, 0, 0.0]


def test_ablation_final_row_is_the_default_configuration() -> None:
    rs = RetrievalSettings()
    final = [v for v in VARIANTS if v.name.endswith("= fused")]
    assert len(final) == 1 and final[0].weights == FINAL and final[0].clean_query
    assert list(FINAL) == rs.fused_weights and final[0].page_weight == rs.page_weight
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


def fused_built(paths: Paths, monkeypatch: pytest.MonkeyPatch, weights: list[float], **retrieval: Any) -> Settings:  # noqa: F811
    """Settings for ``fused`` with ``weights`` over the tiny store, its bm25 and dense indexes built (the hash
    encoder for MiniLM); no colbert index."""
    monkeypatch.setattr(dense, "MiniLMEncoder", lambda *_a, **_k: HashEncoder())
    settings = Settings(
        state_dir=paths.db_path.parent,
        retrieval=RetrievalSettings(backend="fused", fused_weights=weights, **retrieval),
    )
    build_indexes(settings.retrieval, paths, ["bm25", "dense"], progress=False)  # dense: latest only
    return settings


class BuiltColBERT:
    """What a finished colbert build opens as: records the warm-up search, scores every chunk alike."""

    def __init__(self) -> None:
        self.searched: list[str] = []

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Any]:
        self.searched.append(query)
        return []

    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]:
        return {c: 1.0 for c in chunk_ids}


def test_open_fused_from_settings(
    paths: Paths,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = fused_built(paths, monkeypatch, [1.0, 1.0, 0.0, 0.5])
    retriever = open_retriever(None, settings, paths)
    hits = retriever.search("How do I use CORSMiddleware?", k=4)
    assert hits[0].url == CORS and {p.version for p in hits} == {"0.2.0"}
    assert len({p.url for p in hits}) == len(hits)  # sections folded
    assert list((paths.models_dir.parent / "cache" / "headings").glob("headings-*.npy"))
    old = retriever.search("CORSMiddleware", k=3, version="0.1.0")  # no dense index there: bm25 answers
    assert old and {p.version for p in old} == {"0.1.0"}


def test_a_cache_that_cannot_be_written_costs_the_cache_not_the_search(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from index.retrieval.vector_cache import encode_cached

    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    enc = QuestionEncoder()
    got = encode_cached(enc, ["upload?"], blocker / "questions", "questions", "m1")
    assert got.shape[0] == 1 and "not cached" in caplog.text


def test_attach_colbert_turns_the_signal_on_for_later_searches() -> None:
    bm25, dense_ = FakeBM25([3, 2, 1, 0]), FakeDense([0.3, 0.2, 0.1, 0])
    r = FusedRetriever(bm25, dense_, None, None, (1, 0, 0, 0), page_weight=0, depth=3)
    assert _ids(r.search("q", k=3)) == ["a1", "a2", "b1"]  # bm25 alone
    colbert = FakeColBERT({"a1": 0.0, "a2": 0.0, "b1": 100.0})
    r.attach_colbert(colbert, 5.0)
    assert r.weights[2] == 5.0 and colbert.asked == []
    assert _ids(r.search("q", k=3))[0] == "b1"  # ColBERT now outweighs bm25
    assert colbert.asked == [["a1", "a2", "b1"]]
    with pytest.raises(ConfigError):
        r.attach_colbert(colbert, 0.0)


def test_a_search_uses_one_snapshot_of_the_weights() -> None:
    """attach_colbert in the middle of a search: the pool and the ranking use the same weights."""
    colbert = FakeColBERT({"a1": 0.0, "a2": 0.0, "b1": 100.0})

    class AttachingBM25(FakeBM25):
        def scores(self, query: str, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]:
            r.attach_colbert(colbert, 5.0)  # another thread finishing the build, simulated
            return super().scores(query, version)

    r = FusedRetriever(AttachingBM25([3, 2, 1, 0]), FakeDense([0.3, 0.2, 0.1, 0]), None, None, (1, 0, 0, 0), depth=3)
    assert _ids(r.search("q", k=3)) == ["a1", "a2", "b1"] and colbert.asked == []
    assert _ids(r.search("q", k=3))[0] == "b1"


def test_fused_opens_without_a_missing_colbert_index_only_when_asked_to_defer(
    paths: Paths,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fda.errors import IndexMissingError
    from index.retrieval.factory import open_retriever_deferring

    settings = fused_built(paths, monkeypatch, [1.0, 1.0, 2.0, 0.5], checkpoint="test/colbert")
    with pytest.raises(IndexMissingError, match="fda index"):
        open_retriever(None, settings, paths)
    retriever, deferred = open_retriever_deferring(None, settings, paths)
    assert deferred is not None and deferred.weight == 2.0 and deferred.fused.weights[2] == 0.0
    assert retriever.search("How do I use CORSMiddleware?", k=2)[0].url == CORS
    with pytest.raises(IndexMissingError):  # still missing: attaching says so and changes nothing
        deferred.attach()
    assert deferred.fused.weights[2] == 0.0 and deferred.fused.colbert is None

    built = BuiltColBERT()
    deferred.opener.cache["colbert"] = built  # type: ignore[assignment]  # what the finished build opens
    deferred.attach()
    assert built.searched and deferred.fused.colbert is built and deferred.fused.weights[2] == 2.0
    assert retriever.search("How do I use CORSMiddleware?", k=2)[0].url == CORS


def test_nothing_is_deferred_when_colbert_is_not_weighted(
    paths: Paths,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from index.retrieval.factory import open_retriever_deferring

    settings = fused_built(paths, monkeypatch, [1.0, 1.0, 0.0, 0.5])
    assert open_retriever_deferring(None, settings, paths)[1] is None


def test_colbert_alone_is_not_deferred(
    paths: Paths,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Weights with ColBERT alone: without it nothing is left to serve, so the missing index is the error."""
    from fda.errors import IndexMissingError
    from index.retrieval.factory import open_retriever_deferring

    settings = fused_built(paths, monkeypatch, [0, 0, 1, 0, 0], checkpoint="test/colbert")
    with pytest.raises(IndexMissingError, match="fda index"):
        open_retriever_deferring(None, settings, paths)
