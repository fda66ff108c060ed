"""Azure AI Search indexes from the store: for each docs version, create or update the index schema, then upload
the version's chunks with their MiniLM vectors in batches of ``batch_size``.

    FDA_AZURE__SEARCH__ENDPOINT=https://<service>.search.windows.net FDA_AZURE__SEARCH__API_KEY=<admin key> \\
        fda index --target azure-search --version 0.141.1

Uploads are ``mergeOrUpload`` keyed by the chunk id, so running again writes the same documents (stale ones
of a re-chunked version are left: delete the index to drop them). Each batch's per-document statuses are
counted; the documents that failed are sent once more. The vectors are the dense index's own when it holds
the version (same model, same text), else encoded once and cached under ``<state_dir>/cache/azure-search``.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from fda.errors import IndexMissingError
from fda.settings import AzureSearchSettings, Settings
from index.retrieval.azure_search import VECTOR_FIELD, Call, ClientFactory, Clients, call_with_retries, index_name
from index.retrieval.passages import Chunk, chunks_hash, index_text
from index.retrieval.vector_cache import TextEncoder, encode_cached

if TYPE_CHECKING:
    from azure.search.documents import SearchClient
    from azure.search.documents.indexes.models import SearchIndex

log = logging.getLogger(__name__)

WRITER_ROLE = "Search Index Data Contributor (and Search Service Contributor to create indexes)"
HNSW = "fda-hnsw"
VECTOR_PROFILE = "fda-hnsw-profile"
ANALYZER = "en.lucene"  # stemmed English, as the local BM25 tokenizer stems
_KEY = re.compile(r"^[A-Za-z0-9_\-=]{1,1024}$")  # what Azure allows in a document key


def index_schema(name: str, s: AzureSearchSettings, dimensions: int) -> SearchIndex:
    """Key ``id``; searchable ``title``, ``heading_path``, ``text``; filterable ``chunk_id``, ``section_id``,
    ``version``, ``url``, ``anchor``, ``kind``; ``vector`` (cosine HNSW); the semantic configuration when set."""
    from azure.search.documents.indexes.models import (
        HnswAlgorithmConfiguration,
        HnswParameters,
        SearchableField,
        SearchField,
        SearchFieldDataType,
        SearchIndex,
        SemanticConfiguration,
        SemanticField,
        SemanticPrioritizedFields,
        SemanticSearch,
        SimpleField,
        VectorSearch,
        VectorSearchProfile,
    )

    string = SearchFieldDataType.STRING
    fields = [
        SimpleField(name="id", type=string, key=True),
        *(SimpleField(name=n, type=string, filterable=True) for n in ("chunk_id", "section_id", "url", "anchor")),
        SimpleField(name="version", type=string, filterable=True, facetable=True),
        SimpleField(name="kind", type=string, filterable=True, facetable=True),
        SearchableField(name="title", analyzer_name=ANALYZER),
        SearchableField(name="heading_path", collection=True, analyzer_name=ANALYZER),
        SearchableField(name="text", analyzer_name=ANALYZER),
        SearchField(
            name=VECTOR_FIELD,
            type="Collection(Edm.Single)",
            searchable=True,
            hidden=True,  # never returned: searches select the fields they map
            vector_search_dimensions=dimensions,
            vector_search_profile_name=VECTOR_PROFILE,
        ),
    ]
    semantic = None
    if s.semantic_configuration:
        prioritized = SemanticPrioritizedFields(
            title_field=SemanticField(field_name="title"),
            content_fields=[SemanticField(field_name="text")],
            keywords_fields=[SemanticField(field_name="heading_path")],
        )
        semantic = SemanticSearch(
            default_configuration_name=s.semantic_configuration,
            configurations=[SemanticConfiguration(name=s.semantic_configuration, prioritized_fields=prioritized)],
        )
    vector_search = VectorSearch(
        algorithms=[HnswAlgorithmConfiguration(name=HNSW, parameters=HnswParameters(metric="cosine"))],
        profiles=[VectorSearchProfile(name=VECTOR_PROFILE, algorithm_configuration_name=HNSW)],
    )
    return SearchIndex(name=name, fields=fields, vector_search=vector_search, semantic_search=semantic)


def document_key(chunk_id: str) -> str:
    """The chunk id when Azure accepts it as a key (ours are hex), else its URL-safe base64: stable either way."""
    return chunk_id if _KEY.match(chunk_id) else base64.urlsafe_b64encode(chunk_id.encode()).decode()


def to_document(chunk: Chunk, vector: np.ndarray) -> dict[str, Any]:
    anchor = chunk.url.split("#", 1)[1] if "#" in chunk.url else ""
    return {
        "id": document_key(chunk.chunk_id),
        "chunk_id": chunk.chunk_id,
        "section_id": chunk.section_id,
        "version": chunk.version,
        "url": chunk.url,
        "anchor": anchor,
        "kind": chunk.kind,
        "title": " > ".join(chunk.heading_path),
        "heading_path": list(chunk.heading_path),
        "text": chunk.text,
        VECTOR_FIELD: np.asarray(vector, dtype=np.float32).tolist(),
    }


@dataclass
class BatchReport:
    number: int
    size: int
    uploaded: int = 0
    failed: int = 0
    retried: int = 0  # documents sent a second time after failing in the first request
    failed_ids: list[str] = field(default_factory=list)


@dataclass
class UploadReport:
    version: str
    index: str
    documents: int
    batches: list[BatchReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def uploaded(self) -> int:
        return sum(b.uploaded for b in self.batches)

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.batches)

    @property
    def retried(self) -> int:
        return sum(b.retried for b in self.batches)


def _send(client: SearchClient, docs: list[dict[str, Any]], call: Call) -> dict[str, str]:
    """One ``mergeOrUpload`` request; the keys that failed, with the service's reason."""
    results = call_with_retries(lambda: client.merge_or_upload_documents(documents=docs), call)
    failed = {r.key: f"{r.status_code}: {r.error_message}" for r in results if not r.succeeded}
    answered = {r.key for r in results}
    failed.update({d["id"]: "no status returned" for d in docs if d["id"] not in answered})
    return failed


def upload_batch(client: SearchClient, number: int, docs: list[dict[str, Any]], call: Call) -> BatchReport:
    """Send a batch; the documents that failed are sent once more (after ``call.backoff_s``)."""
    report = BatchReport(number, len(docs))
    failed = _send(client, docs, call)
    if failed:
        report.retried = len(failed)
        log.warning("batch %d: %d of %d documents failed, retrying them once", number, len(failed), len(docs))
        call.sleep(call.backoff_s)
        failed = _send(client, [d for d in docs if d["id"] in failed], call)
    report.failed, report.failed_ids = len(failed), sorted(failed)
    report.uploaded = len(docs) - report.failed
    for key, why in list(failed.items())[:5]:
        log.warning("batch %d: document %s failed twice (%s)", number, key, why)
    return report


def upload_version(
    s: AzureSearchSettings,
    version: str,
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    clients: Clients,
    progress: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> UploadReport:
    """Create or update the version's index, then upload its chunks in batches of ``s.batch_size``."""
    if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
        raise IndexMissingError(
            f"{vectors.shape[0]} vectors for {len(chunks)} chunks of version {version}",
            hint="Delete <state_dir>/cache/azure-search and run `fda index --target azure-search` again.",
        )
    start = time.perf_counter()
    name = index_name(s.index_prefix, version)
    call = Call(name, version, WRITER_ROLE, s.retries, keyed=s.api_key is not None, sleep=sleep)
    schema = index_schema(name, s, int(vectors.shape[1]))
    indexes = clients.indexes()
    call_with_retries(lambda: indexes.create_or_update_index(schema), call)
    client = clients.search(name)
    report = UploadReport(version, name, len(chunks))
    starts = range(0, len(chunks), s.batch_size)
    with tqdm(total=len(starts), desc=f"azure-search {version}", unit="batch", disable=not progress) as bar:
        for number, i in enumerate(starts, start=1):
            rows = zip(chunks[i : i + s.batch_size], vectors[i : i + s.batch_size], strict=True)
            docs = [to_document(c, v) for c, v in rows]
            report.batches.append(upload_batch(client, number, docs, call))
            bar.update(1)
            bar.set_postfix(uploaded=report.uploaded, failed=report.failed)
    report.seconds = round(time.perf_counter() - start, 2)
    log.info("%s: %d uploaded, %d failed in %.1f s", name, report.uploaded, report.failed, report.seconds)
    return report


class _LazyEncoder:
    """Loads the encoder on the first ``encode``: a cached version never loads the model."""

    def __init__(self, make: Callable[[], TextEncoder]) -> None:
        self.make = make
        self.encoder: TextEncoder | None = None

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.encoder is None:
            self.encoder = self.make()
        return self.encoder.encode(texts)


def dense_vectors(dense_dir: Path, chunks: Sequence[Chunk]) -> np.ndarray | None:
    """The dense index's vectors of these chunks, when it holds the same chunks of their version in the same order."""
    from index.retrieval.dense import EMBEDDINGS
    from index.retrieval.layout import load_chunk_file

    if not chunks:
        return None
    sub = dense_dir / chunks[0].version
    try:
        if chunks_hash(load_chunk_file(sub, "dense"), 64) != chunks_hash(chunks, 64):
            return None
        vectors = np.load(sub / EMBEDDINGS)
    except (IndexMissingError, OSError, ValueError):
        return None
    return vectors if vectors.shape[0] == len(chunks) else None


def chunk_vectors(
    chunks: Sequence[Chunk],
    make_encoder: Callable[[], TextEncoder],
    cache_dir: Path | None,
    model_key: str,
    dense_dir: Path | None = None,
) -> np.ndarray:
    """The chunks' vectors of ``index_text`` (as the dense index encodes them): the dense index's, else cached."""
    if dense_dir is not None and (found := dense_vectors(dense_dir, chunks)) is not None:
        log.info("vectors of %d chunks taken from the dense index %s", len(chunks), dense_dir)
        return found
    texts = [index_text(c) for c in chunks]
    return encode_cached(_LazyEncoder(make_encoder), texts, cache_dir, prefix="azure-search", model_key=model_key)


def upload_from_store(
    settings: Settings, versions: Sequence[str] | None = None, progress: bool = False
) -> list[UploadReport]:
    """Upload the given ingested versions (``None``: the latest) to the Azure AI Search service the settings name."""
    from index.retrieval import dense
    from index.retrieval.build import folder_for
    from index.retrieval.layout import paths_for
    from index.retrieval.passages import load_chunks, resolve_version

    clients = ClientFactory(settings.azure.search)  # no endpoint: a ConfigError before the store is read
    asked: Sequence[str | None] = versions or [None]
    wanted = [resolve_version(settings.db_path, v) for v in asked]
    rs = settings.retrieval
    paths = paths_for(rs, settings.state_dir, settings.db_path)
    onnx_dir = paths.models_dir / "onnx" if rs.onnx else None
    doc_int8 = rs.onnx and rs.doc_int8  # as the dense index encodes them, so both give the same vectors

    def make_encoder() -> TextEncoder:
        return dense.MiniLMEncoder(paths.base_model, onnx_dir=onnx_dir, doc_int8=doc_int8)

    reports = []
    for version in dict.fromkeys(wanted):
        chunks = load_chunks(settings.db_path, version)
        vectors = chunk_vectors(
            chunks,
            make_encoder,
            settings.state_dir / "cache" / "azure-search",
            dense.model_id(paths.base_model) + ("+int8" if doc_int8 else ""),
            folder_for("dense", rs, paths),
        )
        reports.append(upload_version(settings.azure.search, version, chunks, vectors, clients, progress))
    return reports
