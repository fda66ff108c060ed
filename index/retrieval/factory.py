"""Backend name + settings -> a ready ``Retriever``: ``open_retriever(backend, settings)``.

Each backend opens the index folder its current inputs name; a missing one raises
:class:`~fda.errors.IndexMissingError` telling the user to run ``fda index``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fda.errors import ConfigError, IndexMissingError
from fda.settings import BACKENDS, RetrievalSettings, Settings
from index.retrieval.base import Retriever
from index.retrieval.bm25 import BM25Retriever
from index.retrieval.build import folder_for
from index.retrieval.hybrid import RRFRetriever
from index.retrieval.layout import Paths, paths_for, read_manifest
from index.retrieval.rerank import RerankRetriever
from index.retrieval.section_context import SectionContext
from index.retrieval.wrappers import ReleaseNotesLast, SectionFolding, VersionFallback

log = logging.getLogger(__name__)


class Opener:
    """Opens each bare index once, with the settings' encoders and search options, so hybrid, rerank and fused
    share the loaded backends they combine (the ablation and tuning benches open theirs here too)."""

    def __init__(
        self, rs: RetrievalSettings, paths: Paths, defer_colbert: bool = False, settings: Settings | None = None
    ) -> None:
        self.rs = rs
        self.settings = settings  # what azure-search needs besides retrieval settings (azure.search, the store)
        self.paths = paths
        self.cache: dict[str, Retriever] = {}
        self.onnx_dir = paths.models_dir / "onnx" if rs.onnx else None
        # defer_colbert: a missing colbert index does not stop ``fused``; it opens without that signal and
        # ``deferred`` says what to attach once the index is built (fda serve builds it in the background)
        self.defer_colbert = defer_colbert
        self.deferred: Deferred | None = None

    def get(self, backend: str) -> Retriever:
        if backend not in self.cache:
            self.cache[backend] = self._open(backend)
        return self.cache[backend]

    def _open(self, backend: str) -> Retriever:
        rs = self.rs
        if backend == "bm25":
            return BM25Retriever(folder_for("bm25", rs, self.paths))
        if backend == "dense":
            from index.retrieval.dense import DenseRetriever, MiniLMEncoder

            folder, doc_int8 = self._dense_folder()
            read_manifest(folder, "dense")  # a missing index fails before the model loads
            encoder = MiniLMEncoder(
                self.paths.base_model, onnx_dir=self.onnx_dir, query_int8=rs.query_int8, doc_int8=doc_int8
            )
            return DenseRetriever(folder, encoder)
        if backend == "colbert":
            from index.retrieval.colbert import ColBERTRetriever, PlaidSearch

            return ColBERTRetriever(
                folder_for("colbert", rs, self.paths),
                onnx_dir=self.onnx_dir,
                query_int8=rs.query_int8,
                plaid=PlaidSearch(rs.colbert_ncells, rs.colbert_centroid_threshold, rs.colbert_ndocs),
            )
        if backend == "hybrid":
            return RRFRetriever(
                [self.get(b) for b in rs.fusion_backends],
                weights=rs.fusion_weights,
                rrf_k=rs.rrf_k,
                depth=rs.depth,
                name="hybrid",
            )
        if backend == "rerank":
            from index.retrieval.colbert import ColBERTRetriever

            scorer = self.get("colbert")
            assert isinstance(scorer, ColBERTRetriever)
            return RerankRetriever([self.get(b) for b in rs.rerank_candidates], scorer, depth=rs.depth, name="rerank")
        if backend == "fused":
            return self._fused()
        if backend == "azure-search":
            from index.retrieval.azure_search import open_azure_search

            if self.settings is None:
                raise ConfigError("azure-search needs the whole settings", hint="Open it with open_retriever().")
            return open_azure_search(self.settings)
        raise ConfigError(f"unknown retrieval backend {backend!r}", hint=f"Use one of: {', '.join(BACKENDS)}.")

    def _dense_folder(self) -> tuple[Path, bool]:
        """(the dense index folder, whether its documents are int8): the configured one; with ``doc_int8`` on and
        no such index yet but an fp32 one built (a checkout from before session 26), the fp32 one, with a warning,
        until `fda index --backend dense` builds the int8 index (`make run` does)."""
        rs = self.rs
        folder = folder_for("dense", rs, self.paths)
        if not (rs.onnx and rs.doc_int8) or (folder / "manifest.json").is_file():
            return folder, rs.onnx and rs.doc_int8
        fp32 = folder_for("dense", rs.model_copy(update={"doc_int8": False}), self.paths)
        if not (fp32 / "manifest.json").is_file():
            return folder, True  # neither: the missing int8 index is what the error names
        log.warning(
            "no dense index from int8 document vectors yet (retrieval.doc_int8): serving the fp32 one at %s; "
            "`fda index --backend dense` builds the int8 one (`make run` does it)",
            fp32,
        )
        return fp32, False

    def _fused(self) -> Retriever:
        from index.retrieval.colbert import ColBERTRetriever
        from index.retrieval.dense import DenseRetriever
        from index.retrieval.fused import FusedRetriever, HeadingVectors

        rs = self.rs
        bm25, dense = self.get("bm25"), self.get("dense")
        assert isinstance(bm25, BM25Retriever) and isinstance(dense, DenseRetriever)
        # weights: bm25, dense, colbert, headings, questions
        weights = list(rs.fused_weights)
        needs_colbert = len(weights) > 2 and weights[2] != 0
        colbert, colbert_weight = None, 0.0
        if needs_colbert:
            try:
                colbert = self.get("colbert")
            except IndexMissingError as err:
                others = [w for i, w in enumerate(weights) if i != 2 and w]
                if not self.defer_colbert or not others:  # ColBERT alone: nothing to serve meanwhile
                    raise
                log.warning("fused starts without its colbert signal until the index is built: %s", err.args[0])
                colbert_weight, weights[2] = weights[2], 0.0
        assert colbert is None or isinstance(colbert, ColBERTRetriever)
        cache = self.paths.models_dir.parent / "cache"
        headings = HeadingVectors(dense.encoder, cache / "headings", dense.folder.name)
        questions = (
            question_vectors(self.paths.questions_file, dense, cache / "questions")
            if len(weights) > 4 and weights[4]
            else None
        )
        if questions is None and len(weights) > 4:
            weights[4] = 0.0
        fused = FusedRetriever(
            bm25, dense, colbert, headings, weights, page_weight=rs.page_weight, depth=rs.depth, questions=questions
        )
        if needs_colbert and colbert is None:
            self.deferred = Deferred(fused, colbert_weight, self)
        return fused


class Deferred:
    """A ``fused`` retriever serving without ColBERT: ``attach()`` opens the colbert index (once it is built),
    loads it with one search, and turns the signal on with its configured weight."""

    def __init__(self, fused: Any, weight: float, opener: Opener) -> None:
        self.fused = fused
        self.weight = weight
        self.opener = opener

    def attach(self) -> None:
        colbert = self.opener.get("colbert")  # raises IndexMissingError while the index is still missing
        search = getattr(colbert, "search", None)
        if callable(search):
            search("How do I enable CORS?", k=1)  # load PLAID and the query encoder before the switch
        self.fused.attach_colbert(colbert, self.weight)


def question_vectors(path: Path | None, dense: Any, cache_dir: Path) -> Any:
    """The generated questions (data/retriever/<questions_artifact>/questions.jsonl) as a ``QuestionVectors``;
    ``None``, with a warning, when the file is missing or empty: ``fused`` then runs without that signal."""
    from index.retrieval.question_vectors import QuestionVectors, load_questions

    questions = load_questions(path) if path is not None else {}
    if not questions:
        log.warning(
            "no generated questions at %s: fused runs without its questions signal "
            "(restore the file from git, or run `fda gen-questions`)",
            path,
        )
        return None
    return QuestionVectors(dense.encoder, questions, cache_dir, dense.folder.name)


def open_retriever(backend: str | None, settings: Settings, paths: Paths | None = None) -> Retriever:
    """A ready backend (``None``: ``settings.retrieval.backend``), wrapped as the service searches: older
    versions through BM25, release notes last, one chunk per section, section context for the answer step."""
    return open_retriever_deferring(backend, settings, paths, defer_colbert=False)[0]


def open_retriever_deferring(
    backend: str | None, settings: Settings, paths: Paths | None = None, *, defer_colbert: bool = True
) -> tuple[Retriever, Deferred | None]:
    """``open_retriever``, except that ``fused`` with a missing colbert index opens without that signal and the
    :class:`Deferred` says how to attach it later (``None`` when nothing was deferred)."""
    rs = settings.retrieval
    paths = paths or paths_for(rs, settings.state_dir, settings.db_path)
    opener = Opener(rs, paths, defer_colbert=defer_colbert, settings=settings)
    name = backend or rs.backend
    retriever = opener.get(name)
    if name not in ("bm25", "azure-search"):  # dense/colbert may cover the latest version only (neural_versions)
        retriever = VersionFallback(retriever, lambda: opener.get("bm25"))
    if rs.release_notes_last:
        retriever = ReleaseNotesLast(retriever)
    if rs.fold_sections:
        retriever = SectionFolding(retriever)
    bm25 = opener.get("bm25")
    assert isinstance(bm25, BM25Retriever)
    # the answer step may show what follows a chunk in its section
    return SectionContext(retriever, bm25), opener.deferred
