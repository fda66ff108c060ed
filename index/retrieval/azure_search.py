"""Azure AI Search as a retrieval backend: one index per docs version, queried hybrid (the question's keywords
plus one vector query with its MiniLM vector), re-ordered by the semantic ranker when one is configured.

    FDA_AZURE__SEARCH__ENDPOINT=https://<service>.search.windows.net fda index --target azure-search
    retriever = open_azure_search(get_settings())
    retriever.search("How do I enable CORS?", k=5, version=None)      # None = the latest ingested version

An index is named ``<index_prefix>-<version with dashes>`` (fda-docs-0-141-1); index/retrieval/azure_upload.py
writes its schema and documents. Passages carry the same fields as the local backends' (URL#anchor, heading
path, text, version), so citations stay valid. The SDK (``azure-search-documents``) is imported lazily: nothing
Azure loads unless an endpoint is set.

Requests are not retried by azure-core (``retry_total=0``): :func:`call_with_retries` retries 429 and 503
``retries`` times, waiting what Retry-After (or retry-after-ms) asks, and turns every failure into a typed
error that says what to do (a missing role, a missing index, a throttled service).
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fda.errors import (
    ConfigError,
    FDAError,
    IndexMissingError,
    SearchAccessError,
    SearchUnavailableError,
    UnknownVersionError,
)
from fda.settings import AzureSearchSettings, Settings
from fda.types import Passage
from index.retrieval.base import check_query

if TYPE_CHECKING:
    from azure.search.documents import SearchClient
    from azure.search.documents.indexes import SearchIndexClient

    from index.retrieval.dense import QueryEncoder

log = logging.getLogger(__name__)

NAME = "azure-search"
ENDPOINT_VAR = "FDA_AZURE__SEARCH__ENDPOINT"
KEY_VAR = "FDA_AZURE__SEARCH__API_KEY"
VECTOR_FIELD = "vector"
DIMENSIONS = 384  # all-MiniLM-L6-v2
RESULT_FIELDS = ("id", "chunk_id", "url", "anchor", "heading_path", "text", "version", "kind")
READER_ROLE = "Search Index Data Reader"
RETRYABLE = frozenset({429, 503})
_NOT_NAME = re.compile(r"[^a-z0-9]+")

T = TypeVar("T")


def index_name(prefix: str, version: str) -> str:
    """``fda-docs`` + ``0.141.1`` -> ``fda-docs-0-141-1`` (index names: lower-case letters, digits, dashes)."""
    return f"{prefix}-{_NOT_NAME.sub('-', version.lower()).strip('-')}"


def require_endpoint(s: AzureSearchSettings) -> str:
    if not s.endpoint:
        raise ConfigError(
            "Azure AI Search is off: no endpoint is set",
            hint=f"Set {ENDPOINT_VAR}=https://<service>.search.windows.net (and {KEY_VAR}, or give the managed "
            "identity a Search Index Data role).",
        )
    return s.endpoint.rstrip("/")


class Clients(Protocol):
    """Where the adapters get their SDK clients (tests point them at a local server)."""

    def search(self, index: str) -> SearchClient: ...

    def indexes(self) -> SearchIndexClient: ...


class ClientFactory:
    """SDK clients for the service the settings name: the key when set, else Microsoft Entra ID
    (``DefaultAzureCredential``, one for all clients); no azure-core retries; ``timeout_s`` per request."""

    def __init__(self, settings: AzureSearchSettings) -> None:
        self.settings = settings
        self.endpoint = require_endpoint(settings)
        self._credential: Any = None
        self._lock = threading.Lock()

    def credential(self) -> Any:
        with self._lock:
            if self._credential is None:
                if self.settings.api_key is not None:
                    from azure.core.credentials import AzureKeyCredential

                    self._credential = AzureKeyCredential(self.settings.api_key.get_secret_value())
                else:
                    from azure.identity import DefaultAzureCredential

                    self._credential = DefaultAzureCredential()
            return self._credential

    def options(self) -> dict[str, Any]:
        s = self.settings
        opts: dict[str, Any] = {"retry_total": 0, "connection_timeout": s.timeout_s, "read_timeout": s.timeout_s}
        if s.api_version:
            opts["api_version"] = s.api_version
        return opts

    def search(self, index: str) -> SearchClient:
        from azure.search.documents import SearchClient

        return SearchClient(self.endpoint, index, self.credential(), **self.options())

    def indexes(self) -> SearchIndexClient:
        from azure.search.documents.indexes import SearchIndexClient

        return SearchIndexClient(self.endpoint, self.credential(), **self.options())


@dataclass(frozen=True)
class Call:
    """What a request is for, so that its failure can say what to do; and how it is retried."""

    index: str
    version: str
    role: str  # the RBAC role the request needs
    retries: int
    keyed: bool = True  # an api key (else Microsoft Entra ID)
    sleep: Callable[[float], None] = time.sleep
    backoff_s: float = 0.5  # without Retry-After: 0.5, 1, 2, ... seconds
    max_wait_s: float = 60.0


def call_with_retries(fn: Callable[[], T], call: Call) -> T:
    """``fn()``, retried ``call.retries`` times on 429/503 (waiting Retry-After when given); any Azure failure
    becomes a typed error (:func:`typed_error`)."""
    from azure.core.exceptions import AzureError, HttpResponseError

    attempt = 0
    while True:
        try:
            return fn()
        except HttpResponseError as err:
            if err.status_code in RETRYABLE and attempt < call.retries:
                asked = retry_after_s(getattr(err.response, "headers", None))
                wait = min(call.max_wait_s, asked if asked is not None else call.backoff_s * 2**attempt)
                attempt += 1
                log.warning(
                    "Azure AI Search answered %s for %s: retry %d/%d in %.1f s",
                    err.status_code,
                    call.index,
                    attempt,
                    call.retries,
                    wait,
                )
                call.sleep(wait)
                continue
            raise typed_error(err, call) from err
        except AzureError as err:  # connection refused, timeout, no credential
            raise typed_error(err, call) from err


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a 429/503 asks to wait: ``retry-after-ms``, ``x-ms-retry-after-ms``, or ``Retry-After`` (seconds
    or an HTTP date); ``None`` when none is given or readable."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1e-3), ("x-ms-retry-after-ms", 1e-3), ("retry-after", 1.0)):
        raw = lower.get(name)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            pass
        if name == "retry-after":
            try:
                return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
            except (TypeError, ValueError):
                return None
    return None


def typed_error(err: Exception, call: Call) -> FDAError:
    """An Azure SDK failure as the typed error that says what to do about it."""
    from azure.core.exceptions import ClientAuthenticationError

    status: int | None = getattr(err, "status_code", None)
    detail = _detail(err)
    if status in (401, 403) or (status is None and isinstance(err, ClientAuthenticationError)):
        fix = (
            f"Check {KEY_VAR} (uploads need an admin key; searches a query key is enough)."
            if call.keyed
            else f"Grant the identity the {call.role} role on the search service (az role assignment create "
            f"--role '{call.role.split(' (')[0]}' ...), or set {KEY_VAR}."
        )
        return SearchAccessError(
            f"Azure AI Search refused {call.index} ({status or 'no credential'}): the key or the managed identity "
            f"lacks the {call.role} role: {detail}",
            hint=fix,
        )
    if status == 404:
        return IndexMissingError(
            f"no Azure AI Search index {call.index} for version {call.version}",
            hint=f"Run `fda index --target azure-search --version {call.version}`.",
        )
    if status == 400:
        return IndexMissingError(
            f"Azure AI Search refused the request to {call.index}: {detail}",
            hint="The index may have been made by another fda version: delete it, then run "
            f"`fda index --target azure-search --version {call.version}`.",
        )
    if status in RETRYABLE:
        what = "throttled (429)" if status == 429 else "unavailable (503)"
        return SearchUnavailableError(f"Azure AI Search stayed {what} for {call.index} after {call.retries} retries")
    if status is None:
        return SearchUnavailableError(
            f"Azure AI Search could not be reached for {call.index}: {type(err).__name__}: {detail}",
            hint=f"Check {ENDPOINT_VAR} and the network; FDA_AZURE__SEARCH__TIMEOUT_S is one request's budget.",
        )
    return SearchUnavailableError(f"Azure AI Search answered {status} for {call.index}: {detail}")


def _detail(err: Exception) -> str:
    """The first line of the service's message (cut to 300 characters), or the error's type."""
    text = str(getattr(err, "message", None) or err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def to_passage(doc: Mapping[str, Any], version: str) -> Passage:
    """One search result as a :class:`Passage`; the semantic ranker's score when it ran, else the hybrid score."""
    try:
        url, anchor = str(doc["url"]), doc.get("anchor") or ""
        if anchor and "#" not in url:
            url = f"{url}#{anchor}"
        reranked = doc.get("@search.reranker_score")
        return Passage(
            chunk_id=str(doc.get("chunk_id") or doc["id"]),
            url=url,
            heading_path=[str(h) for h in doc.get("heading_path") or []],
            text=str(doc["text"]),
            version=str(doc.get("version") or version),
            score=float(reranked if reranked is not None else doc.get("@search.score") or 0.0),
            kind=str(doc.get("kind") or "doc"),
        )
    except KeyError as err:
        raise IndexMissingError(
            f"an Azure AI Search result for version {version} lacks the field {err.args[0]!r}",
            hint=f"Rebuild the index: `fda index --target azure-search --version {version}`.",
        ) from err


class AzureSearchRetriever:
    """The :class:`~index.retrieval.base.Retriever` over Azure AI Search: hybrid keyword + vector queries in the
    index of the requested version (``versions``: what was ingested; ``latest``: what ``None`` means)."""

    name = NAME

    def __init__(
        self,
        settings: AzureSearchSettings,
        encoder: QueryEncoder,
        versions: Sequence[str],
        latest: str | None = None,
        clients: Clients | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.versions = list(versions)
        self.latest = latest
        self.clients = clients or ClientFactory(settings)
        self.sleep = sleep
        self._clients: dict[str, SearchClient] = {}
        self._lock = threading.Lock()

    def resolve(self, version: str | None) -> str:
        if version is None:
            if self.latest or self.versions:
                return self.latest or self.versions[-1]
            raise UnknownVersionError("no docs version was ingested, so none can be searched")
        if version not in self.versions:
            raise UnknownVersionError(f"version {version!r} was not ingested (have: {', '.join(self.versions)})")
        return version

    def _client(self, index: str) -> SearchClient:
        with self._lock:
            if index not in self._clients:
                self._clients[index] = self.clients.search(index)
            return self._clients[index]

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        from azure.search.documents.models import VectorizedQuery

        q = check_query(query)
        v = self.resolve(version)
        if k <= 0:
            return []
        s = self.settings
        index = index_name(s.index_prefix, v)
        vector = [float(x) for x in self.encoder.encode_query(q)]
        options: dict[str, Any] = {
            "top": k,
            "select": list(RESULT_FIELDS),
            "vector_queries": [VectorizedQuery(vector=vector, k_nearest_neighbors=s.vector_k, fields=VECTOR_FIELD)],
        }
        if s.semantic_configuration:
            options.update(query_type="semantic", semantic_configuration_name=s.semantic_configuration)
        client = self._client(index)
        # a question is waiting: no Retry-After wait longer than one request's budget
        call = Call(index, v, READER_ROLE, s.retries, s.api_key is not None, self.sleep, max_wait_s=s.timeout_s)
        docs = call_with_retries(lambda: list(islice(client.search(q, **options), k)), call)
        return [to_passage(d, v) for d in docs]


def open_azure_search(settings: Settings) -> AzureSearchRetriever:
    """The Azure retriever the settings describe: the ingested versions from the store, the MiniLM query encoder
    the dense index uses (ONNX / int8 as ``retrieval`` says)."""
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import default_model_path
    from index.retrieval.passages import versions

    s = settings.azure.search
    clients = ClientFactory(s)  # no endpoint: a ConfigError before anything loads
    known, latest = versions(settings.db_path)
    rs = settings.retrieval
    onnx_dir = settings.state_dir / "models" / "onnx" if rs.onnx else None
    encoder = MiniLMEncoder(default_model_path(), onnx_dir=onnx_dir, query_int8=rs.query_int8)
    return AzureSearchRetriever(s, encoder, known, latest, clients=clients)
