"""ColBERT late interaction through RAGatouille (PLAID index), one index per docs version.

    fda index --backend colbert && fda search "enable CORS" --backend colbert

RAGatouille and colbert-ai are imported lazily (7-15 s) and their stdout goes to the debug log.
``rescore`` re-ranks given chunks with the same MaxSim (PLAID's decompressed embeddings restricted to
those passages): the hybrid backend uses it on BM25's candidates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fda.errors import IndexMissingError
from fda.types import Passage
from index.retrieval.base import check_query
from index.retrieval.layout import load_chunk_file, pick_version, read_manifest, save_chunks
from index.retrieval.passages import TEXT_FORMAT, Chunk, index_text
from index.retrieval.quiet import quiet
from index.retrieval.warm import clear_stale_locks

log = logging.getLogger(__name__)

NAME = "colbert"
PLAID_DIR = "plaid"  # RAGatouille writes <folder>/<version>/plaid/colbert/indexes/<version>/


def spec(corpus_hash: str, checkpoint_id: str, doc_maxlen: int) -> dict[str, Any]:
    return {
        "backend": NAME,
        "corpus": corpus_hash,
        "text": TEXT_FORMAT,
        "checkpoint": checkpoint_id,
        "doc_maxlen": doc_maxlen,
    }


def plaid_path(folder: Path, version: str) -> Path:
    return folder / version / PLAID_DIR / "colbert" / "indexes" / version


def build_version(folder: Path, version: str, chunks: list[Chunk], checkpoint: str, doc_maxlen: int) -> None:
    """Encode and PLAID-index one version's chunks with ``checkpoint`` (a folder or a hub name)."""
    sub = folder / version
    sub.mkdir(parents=True, exist_ok=True)
    with quiet():
        from ragatouille import RAGPretrainedModel  # its import warns about a future backend: silenced
        from ragatouille.models.index import PLAIDModelIndex

        from index.retrieval.kmeans import train_kmeans

        # RAGatouille's CPU k-means needs >17 GB for one version; use the chunked one (index/retrieval/kmeans.py).
        PLAIDModelIndex.pytorch_kmeans = staticmethod(train_kmeans)
        model = RAGPretrainedModel.from_pretrained(checkpoint, index_root=str(sub / PLAID_DIR), verbose=0)
        model.index(
            collection=[index_text(c) for c in chunks],
            document_ids=[c.chunk_id for c in chunks],
            index_name=version,
            overwrite_index="force_silent_overwrite",  # the default sleeps 20 s before overwriting
            max_document_length=doc_maxlen,
            split_documents=False,  # chunks are already sized for the encoder
        )
    save_chunks(sub, chunks)


@dataclass(frozen=True)
class PlaidSearch:
    """How much of the PLAID index a search visits: centroids probed per query token, the centroid-score
    pruning threshold and how many candidates get exact MaxSim (at least 4 x k). The default is colbert-ai's
    own setting for k <= 10; RAGatouille's for small collections (8, 0.4, 1,024) visits a third of this
    corpus per query and measured the same quality at twice the latency (docs/benchmarks.md)."""

    ncells: int = 1
    centroid_threshold: float = 0.5
    ndocs: int = 256

    def apply(self, searcher: Any) -> None:
        searcher.configure(ncells=self.ncells, centroid_score_threshold=self.centroid_threshold, ndocs=self.ndocs)


class ColBERTRetriever:
    name = NAME

    def __init__(
        self,
        folder: Path,
        onnx_dir: Path | None = None,
        query_int8: bool = False,
        plaid: PlaidSearch | None = None,
    ) -> None:
        self.folder = folder
        self.onnx_dir = (
            onnx_dir  # run the query encoder's transformer on ONNX Runtime (index/retrieval/onnx_encoder.py)
        )
        self.query_int8 = query_int8  # ... with int8 weights (queries only; the index keeps fp32 vectors)
        self.plaid = plaid  # None: RAGatouille's own search settings
        self.manifest = read_manifest(folder, NAME)
        self._loaded: dict[str, tuple[Any, dict[str, Chunk]]] = {}
        # RAGatouille re-configures its searcher (ncells, ndocs, query length) on every call: one at a time.
        self._lock = threading.RLock()

    def _load(self, version: str) -> tuple[Any, dict[str, Chunk]]:
        with self._lock:
            return self._load_locked(version)

    def _load_locked(self, version: str) -> tuple[Any, dict[str, Chunk]]:
        if version not in self._loaded:
            path = plaid_path(self.folder, version)
            chunks = load_chunk_file(self.folder / version, NAME)
            if not (path / "metadata.json").is_file():
                raise IndexMissingError(
                    f"the colbert index for {version} is missing at {path}",
                    hint=f"Delete {self.folder} and run `fda index --backend colbert`.",
                )
            clear_stale_locks()  # loading compiles colbert-ai's search extensions where they are missing
            try:
                with quiet():
                    from ragatouille import RAGPretrainedModel

                    model = RAGPretrainedModel.from_index(str(path), verbose=0)
                    model.search("warm-up", k=1)  # colbert-ai prints on its first query: do it here
                    if self.plaid is not None:  # RAGatouille reads its base settings back on every search
                        self.plaid.apply(model.model.model_index.searcher)
            except (OSError, ValueError, KeyError, RuntimeError) as err:
                raise IndexMissingError(
                    f"the colbert index at {path} cannot be loaded: {err}",
                    hint=f"Delete {self.folder} and run `fda index --backend colbert`.",
                ) from err
            if self.onnx_dir is not None:
                _use_onnx(model, self.onnx_dir, self.query_int8)
            self._loaded[version] = (model, {c.chunk_id: c for c in chunks})
        return self._loaded[version]

    def refresh(self) -> list[str]:
        """Read the manifest again after another process extended the index with more versions (the versions
        already loaded are unchanged: an extension never rebuilds them); returns the versions it now covers."""
        self.manifest = read_manifest(self.folder, NAME)
        return list(self.manifest["versions"])

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        q = check_query(query)
        model, by_id = self._load(pick_version(self.manifest, version))
        k = min(k, len(by_id))
        if k <= 0:
            return []
        with self._lock:
            hits = model.search(q, k=k)
        return [by_id[h["document_id"]].passage(float(h["score"])) for h in hits]

    def rescore(self, query: str, chunk_ids: Sequence[str], version: str | None = None) -> dict[str, float]:
        """MaxSim score of each given chunk (ids of this version's index) for the query."""
        q = check_query(query)
        model, by_id = self._load(pick_version(self.manifest, version))
        ids = [c for c in chunk_ids if c in by_id]
        if not ids:
            return {}
        with self._lock:
            hits = model.search(q, k=len(ids), doc_ids=ids)
        return {h["document_id"]: float(h["score"]) for h in hits}


def _use_onnx(model: Any, onnx_dir: Path, int8: bool = False) -> None:
    """Swap the transformer inside colbert-ai's query encoder for its ONNX Runtime twin (same weights, same
    hidden states; the 384->128 projection and the normalisation stay in PyTorch). Left as is on failure."""
    from index.retrieval.onnx_encoder import onnx_bert

    try:
        hf = model.model.model_index.searcher.checkpoint.model  # RAGatouille -> colbert-ai Searcher -> HF_ColBERT
        bert = hf.LM
    except AttributeError as err:
        log.warning("ColBERT query encoder not found for ONNX Runtime (%s): keeping PyTorch", err)
        return
    twin = onnx_bert(bert, onnx_dir, int8=int8)
    if twin is not None:
        hf._modules.pop(hf.base_model_prefix, None)
        object.__setattr__(hf, hf.base_model_prefix, twin)
