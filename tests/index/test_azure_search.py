"""The Azure AI Search adapters (index/retrieval/azure_search.py, azure_upload.py) against a local server that
speaks the documented REST contract: index PUT, ``docs/search.index`` batches, ``docs/search.post.search``.

The fake service checks the api-key header and the bodies the real service needs, keeps uploaded documents per
index, and can answer 401/403/404/429/503 or fail chosen documents, so each behaviour is seen on the wire.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fda.errors import ConfigError, IndexMissingError, UnknownVersionError
from fda.settings import AzureSearchSettings, ChunkingSettings, Settings
from fda.types import Passage
from index.retrieval.azure_search import (
    AzureSearchRetriever,
    ClientFactory,
    SearchAccessError,
    SearchUnavailableError,
    index_name,
    retry_after_s,
    to_passage,
)
from index.retrieval.azure_upload import (
    chunk_vectors,
    document_key,
    upload_from_store,
    upload_version,
)
from index.retrieval.base import Retriever
from index.retrieval.passages import Chunk, index_text

KEY = "test-admin-key"
DIM = 384
_PATH = re.compile(r"^/indexes\('(?P<index>[^']+)'\)(?P<rest>/docs/search\.(?:index|post\.search))?$")


class FakeEncoder:
    """MiniLM's shape without the model: hashed words, 384 dims, L2-normalised; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@dataclass
class Seen:
    method: str
    index: str
    op: str  # "schema", "upload", "search"
    query: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeSearchService:
    """The REST contract of Azure AI Search, kept to what the adapters use."""

    key: str = KEY
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    docs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    fail_once: set[str] = field(default_factory=set)  # document keys failing their first upload
    fail_always: set[str] = field(default_factory=set)
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # queued (status, headers) to answer first
    delay_s: float = 0.0

    def __call__(self, req: Request) -> Response:
        m = _PATH.match(req.path)
        if m is None:
            return self._error(400, f"unexpected path {req.path}")
        if req.headers.get("api-key") != self.key:
            return self._error(401, "missing or wrong api-key")
        body = json.loads(req.get_data() or b"{}")
        op = {None: "schema", "/docs/search.index": "upload", "/docs/search.post.search": "search"}[m["rest"]]
        self.seen.append(Seen(req.method, m["index"], op, dict(req.args), body))
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.replies:
            status, headers = self.replies.pop(0)
            return self._error(status, "queued reply", headers)
        if op == "schema":
            return self._put_index(req, m["index"], body)
        if m["index"] not in self.indexes:
            return self._error(404, f"The index '{m['index']}' was not found.")
        return self._upload(m["index"], body) if op == "upload" else self._search(m["index"], body)

    def _put_index(self, req: Request, name: str, body: dict[str, Any]) -> Response:
        assert req.method == "PUT" and body["name"] == name
        created = name not in self.indexes
        self.indexes[name] = body
        self.docs.setdefault(name, {})
        return Response(json.dumps(body), 201 if created else 200, content_type="application/json")

    def _upload(self, name: str, body: dict[str, Any]) -> Response:
        results, partial = [], False
        for action in body["value"]:
            key = action["id"]
            if key in self.fail_always or key in self.fail_once:
                self.fail_once.discard(key)
                partial = True
                results.append({"key": key, "status": False, "errorMessage": "throttled", "statusCode": 503})
                continue
            assert action["@search.action"] == "mergeOrUpload"
            self.docs[name][key] = {k: v for k, v in action.items() if k != "@search.action"}
            results.append({"key": key, "status": True, "errorMessage": None, "statusCode": 200})
        return Response(json.dumps({"value": results}), 207 if partial else 200, content_type="application/json")

    def _search(self, name: str, body: dict[str, Any]) -> Response:
        words = set(re.findall(r"\w+", body["search"].lower()))
        hits = []
        for doc in self.docs[name].values():
            overlap = len(words & set(re.findall(r"\w+", (doc["title"] + " " + doc["text"]).lower())))
            if overlap:
                hits.append({"@search.score": float(overlap), **{k: doc[k] for k in body.get("select", "").split(",")}})
        hits.sort(key=lambda h: -h["@search.score"])
        if body.get("queryType") == "semantic":
            for rank, hit in enumerate(hits):
                hit["@search.rerankerScore"] = 4.0 - rank * 0.5
        return Response(json.dumps({"value": hits[: body["top"]]}), 200, content_type="application/json")

    @staticmethod
    def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps({"error": {"code": str(status), "message": message}})
        return Response(body, status, headers=headers or {}, content_type="application/json")

    def of(self, op: str) -> list[Seen]:
        return [s for s in self.seen if s.op == op]


@pytest.fixture
def service(httpserver: HTTPServer) -> FakeSearchService:
    fake = FakeSearchService()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    return fake


@pytest.fixture
def azure(httpserver: HTTPServer) -> AzureSearchSettings:
    return AzureSearchSettings(endpoint=httpserver.url_for("/"), api_key=KEY, batch_size=2, retries=2, vector_k=7)


def chunk(i: int, version: str = "0.2.0", text: str = "") -> Chunk:
    url = f"https://fastapi.tiangolo.com/tutorial/page{i}/#section-{i}"
    return Chunk(
        chunk_id=hashlib.sha256(f"{version}{i}".encode()).hexdigest()[:16],
        section_id=f"s{i}",
        url=url,
        heading_path=(f"Page {i}", f"Section {i}"),
        text=text or f"Chunk {i} explains topic{i}.",
        version=version,
        kind="doc",
    )


CHUNKS = [
    chunk(0, text="Add CORSMiddleware to the app to enable CORS with allow_origins."),
    chunk(1, text="Declare a request body with a Pydantic model."),
    chunk(2, text="Use Depends to declare dependencies."),
    chunk(3, text="Background tasks run after the response."),
    chunk(4, text="Mount static files with StaticFiles."),
]


def vectors_of(chunks: Sequence[Chunk]) -> np.ndarray:
    return FakeEncoder().encode([index_text(c) for c in chunks])


def upload(azure: AzureSearchSettings, chunks: Sequence[Chunk] = CHUNKS, version: str = "0.2.0") -> Any:
    sleeps: list[float] = []
    report = upload_version(azure, version, chunks, vectors_of(chunks), ClientFactory(azure), sleep=sleeps.append)
    return report, sleeps


def retriever(azure: AzureSearchSettings, sleeps: list[float] | None = None) -> AzureSearchRetriever:
    return AzureSearchRetriever(
        azure,
        FakeEncoder(),
        versions=["0.1.0", "0.2.0"],
        latest="0.2.0",
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
    )


# --- names, keys, Retry-After ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "version", "name"),
    [
        ("fda-docs", "0.141.1", "fda-docs-0-141-1"),
        ("fda-docs", "0.100.0", "fda-docs-0-100-0"),
        ("docs", "1.0.0RC1", "docs-1-0-0rc1"),
    ],
)
def test_index_name_is_prefix_and_version_with_dashes(prefix: str, version: str, name: str) -> None:
    assert index_name(prefix, version) == name


def test_document_keys_are_the_chunk_ids_or_their_base64() -> None:
    assert document_key("ad57259f87041605") == "ad57259f87041605"
    odd = document_key("a/b c")
    assert odd != "a/b c" and re.fullmatch(r"[A-Za-z0-9_\-=]+", odd) and odd == document_key("a/b c")


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "soon"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after_s(headers) == seconds


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    wait = retry_after_s({"Retry-After": formatdate(time.time() + 30, usegmt=True)})
    assert wait is not None and 25 <= wait <= 31


def test_no_endpoint_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="FDA_AZURE__SEARCH__ENDPOINT"):
        ClientFactory(AzureSearchSettings())
    with pytest.raises(ConfigError, match="FDA_AZURE__SEARCH__ENDPOINT"):
        AzureSearchRetriever(AzureSearchSettings(), FakeEncoder(), ["0.2.0"])


def test_without_a_key_the_credential_is_microsoft_entra_id() -> None:
    from azure.core.credentials import AzureKeyCredential
    from azure.identity import DefaultAzureCredential

    assert isinstance(
        ClientFactory(AzureSearchSettings(endpoint="https://x.search.windows.net")).credential(), DefaultAzureCredential
    )
    keyed = ClientFactory(AzureSearchSettings(endpoint="https://x.search.windows.net", api_key="k")).credential()
    assert isinstance(keyed, AzureKeyCredential) and keyed.key == "k"


# --- the index schema ---------------------------------------------------------------------------------------------


def test_schema_put_has_the_fields_the_retriever_needs(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    upload(azure.model_copy(update={"api_version": "2024-07-01"}))
    (put,) = service.of("schema")
    assert put.method == "PUT" and put.index == "fda-docs-0-2-0" and put.query["api-version"] == "2024-07-01"
    fields = {f["name"]: f for f in put.body["fields"]}
    assert fields["id"]["key"] is True and fields["id"]["type"] == "Edm.String"
    for name in ("text", "title", "heading_path"):
        assert fields[name]["searchable"] is True, name
    assert fields["heading_path"]["type"] == "Collection(Edm.String)"
    for name in ("version", "url", "anchor", "chunk_id"):
        assert fields[name]["filterable"] is True, name
    vector = fields["vector"]
    assert vector["type"] == "Collection(Edm.Single)" and vector["dimensions"] == DIM
    (profile,) = put.body["vectorSearch"]["profiles"]
    (algorithm,) = put.body["vectorSearch"]["algorithms"]
    assert vector["vectorSearchProfile"] == profile["name"] and profile["algorithm"] == algorithm["name"]
    assert algorithm["kind"] == "hnsw" and algorithm["hnswParameters"]["metric"] == "cosine"
    assert not put.body.get("semantic")


def test_schema_has_a_semantic_configuration_only_when_set(
    service: FakeSearchService, azure: AzureSearchSettings
) -> None:
    upload(azure.model_copy(update={"semantic_configuration": "fda-semantic"}))
    semantic = service.of("schema")[0].body["semantic"]
    (config,) = semantic["configurations"]
    assert config["name"] == "fda-semantic" == semantic["defaultConfiguration"]
    assert config["prioritizedFields"]["titleField"] == {"fieldName": "title"}
    assert config["prioritizedFields"]["prioritizedContentFields"] == [{"fieldName": "text"}]


# --- uploads ---------------------------------------------------------------------------------------------------------


def test_upload_sends_batches_of_batch_size_with_merge_or_upload(
    service: FakeSearchService, azure: AzureSearchSettings
) -> None:
    report, _ = upload(azure)
    batches = service.of("upload")
    assert [len(b.body["value"]) for b in batches] == [2, 2, 1]
    actions = [a for b in batches for a in b.body["value"]]
    assert {a["@search.action"] for a in actions} == {"mergeOrUpload"}
    assert [a["id"] for a in actions] == [c.chunk_id for c in CHUNKS]
    first = actions[0]
    assert first["url"] == CHUNKS[0].url and first["anchor"] == "section-0" and first["version"] == "0.2.0"
    assert first["title"] == "Page 0 > Section 0" and first["heading_path"] == ["Page 0", "Section 0"]
    assert len(first["vector"]) == DIM and np.allclose(first["vector"], vectors_of(CHUNKS)[0], atol=1e-6)
    assert (report.documents, report.uploaded, report.failed, len(report.batches)) == (5, 5, 0, 3)


def test_upload_again_writes_the_same_ids(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    upload(azure)
    first = [a["id"] for b in service.of("upload") for a in b.body["value"]]
    service.seen.clear()
    report, _ = upload(azure)
    again = [a["id"] for b in service.of("upload") for a in b.body["value"]]
    assert again == first and len(service.docs["fda-docs-0-2-0"]) == len(CHUNKS) and report.uploaded == 5
    assert len(service.of("schema")) == 1  # the schema is put again (create or update)


def test_failed_documents_are_retried_once(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    flaky, broken = CHUNKS[1].chunk_id, CHUNKS[3].chunk_id
    service.fail_once.add(flaky)
    service.fail_always.add(broken)
    report, sleeps = upload(azure)
    sent = [[a["id"] for a in b.body["value"]] for b in service.of("upload")]
    assert sent == [
        [CHUNKS[0].chunk_id, flaky],
        [flaky],  # only the failed one, once
        [CHUNKS[2].chunk_id, broken],
        [broken],
        [CHUNKS[4].chunk_id],
    ]
    assert (report.uploaded, report.failed, report.retried) == (4, 1, 2)
    assert report.batches[1].failed_ids == [broken] and report.batches[0].failed == 0
    assert flaky in service.docs["fda-docs-0-2-0"] and broken not in service.docs["fda-docs-0-2-0"]
    assert len(sleeps) == 2


def test_upload_with_a_query_key_says_which_role_is_missing(
    service: FakeSearchService, azure: AzureSearchSettings
) -> None:
    service.replies.append((403, {}))
    with pytest.raises(SearchAccessError, match="Search Index Data Contributor") as err:
        upload(azure)
    assert "FDA_AZURE__SEARCH__API_KEY" in err.value.hint


def test_upload_from_store_uploads_the_latest_version_and_caches_vectors(
    service: FakeSearchService,
    azure: AzureSearchSettings,
    tiny_dumps: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from index.ingest.pipeline import ingest
    from index.retrieval import dense
    from index.retrieval.passages import load_chunks

    state = tmp_path / "state"
    chunking = ChunkingSettings(tokenizer="whitespace", max_tokens=64, min_tokens=0)
    ingest([str(tiny_dumps)], state / "fda.duckdb", tmp_path / "cache", chunking, progress=False)
    encoders: list[FakeEncoder] = []

    def fake_minilm(*_a: Any, **_k: Any) -> FakeEncoder:
        encoders.append(FakeEncoder())
        return encoders[-1]

    monkeypatch.setattr(dense, "MiniLMEncoder", fake_minilm)
    settings = Settings(state_dir=state, azure={"search": azure.model_dump() | {"api_key": KEY, "batch_size": 500}})
    (report,) = upload_from_store(settings)
    expected = load_chunks(state / "fda.duckdb", "0.2.0")
    assert report.version == "0.2.0" and report.index == "fda-docs-0-2-0" and report.uploaded == len(expected) > 0
    assert set(service.docs["fda-docs-0-2-0"]) == {c.chunk_id for c in expected}
    assert len(encoders) == 1 and encoders[0].calls == 1
    upload_from_store(settings, ["0.2.0", "0.1.0"])
    same_texts = [index_text(c) for c in load_chunks(state / "fda.duckdb", "0.1.0")] == [
        index_text(c) for c in expected
    ]
    assert len(encoders) == (1 if same_texts else 2)  # 0.2.0 from the cache; 0.1.0 too when its texts are the same
    assert set(service.docs) == {"fda-docs-0-2-0", "fda-docs-0-1-0"}
    with pytest.raises(UnknownVersionError):
        upload_from_store(settings, ["9.9.9"])


def test_chunk_vectors_reuse_the_dense_index_then_the_cache(tmp_path: Path) -> None:
    from index.retrieval import dense

    dense_dir = tmp_path / "dense-abc"
    dense.build_version(dense_dir / "0.2.0", CHUNKS, FakeEncoder())
    encoder = FakeEncoder()
    found = chunk_vectors(CHUNKS, lambda: encoder, tmp_path / "cache", "model", dense_dir)
    assert encoder.calls == 0 and np.allclose(found, vectors_of(CHUNKS))
    other = [chunk(i, version="0.1.0") for i in range(3)]
    first = chunk_vectors(other, lambda: encoder, tmp_path / "cache", "model", dense_dir)
    again = chunk_vectors(other, lambda: encoder, tmp_path / "cache", "model", dense_dir)
    assert encoder.calls == 1 and first.shape == (3, DIM) and np.array_equal(first, again)


# --- search ------------------------------------------------------------------------------------------------------------


def test_search_sends_a_hybrid_query_and_maps_passages(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    upload(azure)
    service.seen.clear()
    r = retriever(azure)
    assert isinstance(r, Retriever) and r.name == "azure-search"
    hits = r.search("How do I enable CORS with CORSMiddleware?", k=3)
    (sent,) = service.of("search")
    assert sent.index == "fda-docs-0-2-0" and sent.method == "POST"
    body = sent.body
    assert body["search"] == "How do I enable CORS with CORSMiddleware?" and body["top"] == 3
    (vq,) = body["vectorQueries"]
    assert vq["kind"] == "vector" and vq["k"] == 7 and vq["fields"] == "vector"
    expected = FakeEncoder().encode_query("How do I enable CORS with CORSMiddleware?")
    assert len(vq["vector"]) == DIM and np.allclose(vq["vector"], expected, atol=1e-6)
    assert "queryType" not in body and "semanticConfiguration" not in body
    assert set(body["select"].split(",")) >= {"url", "anchor", "heading_path", "text", "version", "chunk_id"}
    top = hits[0]
    assert top.chunk_id == CHUNKS[0].chunk_id and top.url == CHUNKS[0].url and "#section-0" in top.url
    assert top.heading_path == ["Page 0", "Section 0"] and top.text == CHUNKS[0].text
    assert top.version == "0.2.0" and top.kind == "doc" and top.score > 0


def test_search_picks_the_index_of_the_version(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    old = [chunk(i, version="0.1.0", text="CORS in the old docs") for i in range(2)]
    upload(azure, old, version="0.1.0")
    hits = retriever(azure).search("CORS", k=5, version="0.1.0")
    assert service.of("search")[-1].index == "fda-docs-0-1-0" and {p.version for p in hits} == {"0.1.0"}
    with pytest.raises(UnknownVersionError):
        retriever(azure).search("CORS", version="9.9.9")
    assert len(service.of("search")) == 1  # an unknown version sends nothing


def test_semantic_ranker_only_when_configured(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    semantic = azure.model_copy(update={"semantic_configuration": "fda-semantic"})
    upload(semantic)
    hits = retriever(semantic).search("CORS CORSMiddleware", k=2)
    body = service.of("search")[-1].body
    assert body["queryType"] == "semantic" and body["semanticConfiguration"] == "fda-semantic"
    assert hits[0].score == 4.0  # the reranker's score, not the hybrid one


def test_a_result_without_an_anchor_in_its_url_gets_it_from_the_anchor_field() -> None:
    doc = {"id": "x", "url": "https://h/p/", "anchor": "a", "text": "t", "@search.score": 0.5}
    assert to_passage(doc, "0.2.0").url == "https://h/p/#a"
    with pytest.raises(IndexMissingError, match="text"):
        to_passage({"id": "x", "url": "u"}, "0.2.0")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_say_which_role_is_missing(
    service: FakeSearchService, azure: AzureSearchSettings, status: int
) -> None:
    service.replies.append((status, {}))
    with pytest.raises(SearchAccessError) as err:
        retriever(azure).search("CORS")
    assert "the key or the managed identity lacks the Search Index Data Reader role" in str(err.value)
    assert len(service.of("search")) == 1  # not retried


def test_a_wrong_key_is_refused_by_the_service(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    with pytest.raises(SearchAccessError, match="401"):
        retriever(azure.model_copy(update={"api_key": SecretStr("wrong")})).search("CORS")


def test_a_missing_index_says_which_command_builds_it(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    with pytest.raises(IndexMissingError) as err:
        retriever(azure).search("CORS", version="0.1.0")
    assert "fda-docs-0-1-0" in str(err.value) and "fda index --target azure-search --version 0.1.0" in err.value.hint


def test_429_with_retry_after_is_retried_then_answers(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    upload(azure)
    service.seen.clear()
    service.replies.append((429, {"Retry-After": "0"}))
    sleeps: list[float] = []
    hits = retriever(azure, sleeps).search("CORSMiddleware", k=2)
    assert len(service.of("search")) == 2 and sleeps == [0.0]
    assert hits and hits[0].chunk_id == CHUNKS[0].chunk_id


def test_retry_after_is_honoured(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    upload(azure)
    service.replies.append((429, {"Retry-After": "3"}))
    sleeps: list[float] = []
    retriever(azure, sleeps).search("CORSMiddleware", k=2)
    assert sleeps == [3.0]  # recorded, not slept


def test_503_past_the_retries_is_a_typed_error(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    upload(azure)
    service.seen.clear()
    service.replies.extend([(503, {})] * 5)
    sleeps: list[float] = []
    with pytest.raises(SearchUnavailableError, match=r"unavailable \(503\).*after 2 retries"):
        retriever(azure, sleeps).search("CORS")
    assert len(service.of("search")) == 3 and sleeps == [0.5, 1.0]  # retries=2, backoff without Retry-After


def test_an_unreachable_service_is_a_typed_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    azure = AzureSearchSettings(endpoint=f"http://127.0.0.1:{port}", api_key=KEY)
    with pytest.raises(SearchUnavailableError, match="could not be reached"):
        retriever(azure).search("CORS")


def test_a_slow_answer_times_out(service: FakeSearchService, azure: AzureSearchSettings) -> None:
    service.delay_s = 1.0
    start = time.perf_counter()
    with pytest.raises(SearchUnavailableError):
        retriever(azure.model_copy(update={"timeout_s": 0.2})).search("CORS")
    assert time.perf_counter() - start < 0.9


# --- the CLI ---------------------------------------------------------------------------------------------------------------


def test_cli_without_an_endpoint_names_the_variable() -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["index", "--target", "azure-search"])
    assert result.exit_code == 2 and "FDA_AZURE__SEARCH__ENDPOINT" in result.output


def test_cli_passes_versions_and_fails_on_documents_not_uploaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app
    from index.retrieval import azure_upload
    from index.retrieval.azure_upload import BatchReport, UploadReport

    asked: list[Any] = []

    def fake_upload(settings: Settings, versions: list[str] | None = None, progress: bool = False) -> list[Any]:
        asked.append(versions)
        return [UploadReport("0.1.0", "fda-docs-0-1-0", 3, [BatchReport(1, 3, uploaded=2, failed=1, retried=1)])]

    monkeypatch.setattr(azure_upload, "upload_from_store", fake_upload)
    result = CliRunner().invoke(app, ["index", "--target", "azure-search", "--version", "0.1.0", "--json"])
    assert asked == [["0.1.0"]]
    assert result.exit_code == 2 and "1 documents were not uploaded" in result.output
    assert '"uploaded": 2' in result.output
    local = CliRunner().invoke(app, ["index", "--version", "0.1.0"])
    assert local.exit_code == 2 and "--target azure-search" in local.output


def test_the_factory_opens_azure_search_by_name_without_the_bm25_version_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`FDA_RETRIEVAL__BACKEND=azure-search`: the factory opens it (every uploaded version has its own index, so
    no fallback to the local BM25 for older versions), wrapped like every backend for the answer step."""
    from index.retrieval import factory
    from index.retrieval.wrappers import VersionFallback

    opened: list[Settings] = []

    class Fake:
        name = "azure-search"

        def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
            return []

    def fake_open(settings: Settings) -> Fake:
        opened.append(settings)
        return Fake()

    monkeypatch.setattr("index.retrieval.azure_search.open_azure_search", fake_open)
    monkeypatch.setattr(factory.BM25Retriever, "__init__", lambda self, folder: None)  # its index is not read here
    monkeypatch.setattr(factory, "folder_for", lambda *a: tmp_path)
    paths: Any = SimpleNamespace(models_dir=tmp_path)
    settings = Settings(state_dir=tmp_path, azure={"search": {"endpoint": "https://x.search.windows.net"}})
    retriever, _ = factory.open_retriever_deferring("azure-search", settings, paths)
    assert opened == [settings]
    chain, inner = [], retriever
    while inner is not None:
        chain.append(type(inner).__name__)
        inner = getattr(inner, "inner", None)
    assert "Fake" in chain and VersionFallback.__name__ not in chain
    with pytest.raises(ConfigError, match="whole settings"):
        factory.Opener(settings.retrieval, paths).get("azure-search")
