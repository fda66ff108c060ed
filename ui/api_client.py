"""The UI's client of the running API (httpx): readiness, ask (JSON or streamed), sources, feedback.

    client = ApiClient("http://127.0.0.1:8000", timeout_s=120)
    for event, payload in client.ask_stream("How do I enable CORS?", version=None, program="rag"): ...

Every failure is an ``ApiError`` whose message says what happened and whose hint says what to do:
unreachable (start the API), timed out, or the API's own error body (code, message, hint).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx

from fda.errors import ApiError
from ui.sse import iter_events

log = logging.getLogger(__name__)


class ApiClient:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        api_key: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s, connect=3.0)
        self.transport = transport
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}  # an API with api.api_keys set

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=self.timeout, transport=self.transport, headers=self.headers
        )

    def _fail(self, err: httpx.HTTPError) -> ApiError:
        if isinstance(err, httpx.ConnectError):
            return ApiError(f"the API at {self.base_url} is not reachable ({err})")
        if isinstance(err, httpx.TimeoutException):
            return ApiError(
                f"the API at {self.base_url} did not answer in time ({type(err).__name__})",
                hint="It may be busy with a long answer: retry, or raise FDA_UI__REQUEST_TIMEOUT_S.",
            )
        return ApiError(f"calling the API at {self.base_url} failed: {type(err).__name__}: {err}")

    @staticmethod
    def _check(resp: httpx.Response) -> None:
        if resp.status_code < 400:
            return
        try:
            body = resp.json().get("error", {})
        except (json.JSONDecodeError, AttributeError):
            body = {}
        message = body.get("message") or resp.text[:300] or resp.reason_phrase
        raise ApiError(
            f"the API answered {resp.status_code} {body.get('code', '')}: {message}".replace("  ", " "),
            hint=body.get("hint") or "See the API's log for details.",
        )

    def _get(self, path: str, allow: tuple[int, ...] = ()) -> Any:
        try:
            with self._client() as c:
                resp = c.get(path)
        except httpx.HTTPError as err:
            raise self._fail(err) from err
        if resp.status_code not in allow:
            self._check(resp)
        return resp.json()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            with self._client() as c:
                resp = c.post(path, json=body)
        except httpx.HTTPError as err:
            raise self._fail(err) from err
        self._check(resp)
        return resp.json()

    def ready(self) -> dict[str, Any]:
        """``/readyz``: ready flag, components, ingested versions, latest, program version (503 is a body too)."""
        data: dict[str, Any] = self._get("/readyz", allow=(503,))
        return data

    def ask(self, question: str, version: str | None, program: str | None) -> dict[str, Any]:
        data: dict[str, Any] = self._post("/v1/ask", _ask_body(question, version, program))
        return data

    def agent(self, question: str, version: str | None) -> dict[str, Any]:
        """The docs agent (POST /v1/agent): the answer with its plan and trajectory."""
        data: dict[str, Any] = self._post("/v1/agent", _ask_body(question, version, None))
        return data

    def ask_stream(self, question: str, version: str | None, program: str | None) -> Iterator[tuple[str, Any]]:
        """``(event, payload)`` with JSON payloads decoded: meta, sources, token..., citations, final; or error."""
        try:
            with (
                self._client() as c,
                c.stream("POST", "/v1/ask/stream", json=_ask_body(question, version, program)) as resp,
            ):
                if resp.status_code >= 400:
                    resp.read()
                    self._check(resp)
                for event, data in iter_events(resp.iter_lines()):
                    try:
                        payload = json.loads(data)
                    except json.JSONDecodeError:
                        log.warning("undecodable %s event: %r", event, data[:200])
                        continue
                    yield event, payload
        except httpx.HTTPError as err:
            raise self._fail(err) from err

    def source(self, chunk_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self._get(f"/v1/sources/{chunk_id}")
        return data

    def feedback(self, trace_id: str, rating: str, comment: str = "") -> dict[str, Any]:
        data: dict[str, Any] = self._post("/v1/feedback", {"trace_id": trace_id, "rating": rating, "comment": comment})
        return data


def _ask_body(question: str, version: str | None, program: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"question": question}
    if version:
        body["version"] = version
    if program:
        body["program"] = program
    return body


def readiness(body: dict[str, Any]) -> tuple[str, str]:
    """A /readyz body -> ("ready" | "degraded" | "down", detail). Degraded: answering with less (e.g. the colbert
    index still building in the background), and the detail says what."""
    components = body.get("components") or {}
    if body.get("ready") and body.get("degraded"):
        return "degraded", "; ".join(f"{k}: {components.get(k, '')}" for k in body["degraded"])
    parts = ", ".join(f"{k}: {v}" for k, v in components.items())
    return ("ready" if body.get("ready") else "down"), parts or "no components reported"
