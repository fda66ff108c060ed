"""Backend name + settings -> a ready ``Retriever`` (reach it as ``index.retriever.open_retriever``).

Each backend opens the index folder its current inputs name; a missing one raises
:class:`~fda.errors.IndexMissingError` telling the user to run ``fda index``.
"""

from __future__ import annotations

from fda.errors import ConfigError
from fda.settings import RetrievalSettings, Settings
from index.bm25 import BM25Retriever
from index.build import Paths, folder_for, paths_for
from index.hybrid import ReleaseNotesLast, RerankRetriever, RRFRetriever, SectionFolding
from index.layout import read_manifest
from index.retriever import Retriever

BACKENDS = ("bm25", "dense", "colbert", "hybrid", "rerank")


class _Opener:
    """Opens each index once, so hybrid and rerank share the loaded backends they combine."""

    def __init__(self, rs: RetrievalSettings, paths: Paths) -> None:
        self.rs = rs
        self.paths = paths
        self.cache: dict[str, Retriever] = {}

    def get(self, backend: str) -> Retriever:
        if backend not in self.cache:
            self.cache[backend] = self._open(backend)
        return self.cache[backend]

    def _open(self, backend: str) -> Retriever:
        rs = self.rs
        if backend == "bm25":
            return BM25Retriever(folder_for("bm25", rs, self.paths))
        if backend == "dense":
            from index.dense import DenseRetriever, MiniLMEncoder

            folder = folder_for("dense", rs, self.paths)
            read_manifest(folder, "dense")  # a missing index fails before the model loads
            return DenseRetriever(folder, MiniLMEncoder(self.paths.base_model))
        if backend == "colbert":
            from index.colbert import ColBERTRetriever

            return ColBERTRetriever(folder_for("colbert", rs, self.paths))
        if backend == "hybrid":
            return RRFRetriever(
                [self.get(b) for b in rs.fusion_backends],
                weights=rs.fusion_weights,
                rrf_k=rs.rrf_k,
                depth=rs.depth,
                name="hybrid",
            )
        if backend == "rerank":
            from index.colbert import ColBERTRetriever

            scorer = self.get("colbert")
            assert isinstance(scorer, ColBERTRetriever)
            return RerankRetriever([self.get(b) for b in rs.rerank_candidates], scorer, depth=rs.depth, name="rerank")
        raise ConfigError(f"unknown retrieval backend {backend!r}", hint=f"Use one of: {', '.join(BACKENDS)}.")


def open_backend(backend: str | None, settings: Settings, paths: Paths | None = None) -> Retriever:
    rs = settings.retrieval
    paths = paths or paths_for(rs, settings.state_dir, settings.db_path)
    retriever = _Opener(rs, paths).get(backend or rs.backend)
    if rs.release_notes_last:
        retriever = ReleaseNotesLast(retriever)
    return SectionFolding(retriever) if rs.fold_sections else retriever
