"""Azure OpenAI through LiteLLM, against a local server that speaks its REST contract
(``POST /openai/deployments/<deployment>/chat/completions?api-version=...``, ``api-key`` header): the path and
version, retries on 429 with Retry-After, the fallback chain (fda/lm/fallback.py) and what it counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import litellm
import pytest
from dspy.utils import exceptions as dx
from opentelemetry.sdk.trace import TracerProvider
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from api.telemetry import StageMetrics, Telemetry
from fda.errors import ConfigError, LMUnavailableError
from fda.lm import fallback as fallback_module
from fda.lm.factory import make_lm
from fda.lm.failures import translate_lm_error
from fda.lm.fallback import FallbackLM
from fda.settings import LMSettings

KEY = "test-azure-key-123"
VERSION = "2024-10-21"


def completion(text: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }  # fmt: skip


def error(status: int, code: str, retry_after: str | None = None) -> Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = json.dumps({"error": {"code": code, "message": f"{code} (fake Azure OpenAI)"}})
    return Response(body, status=status, headers=headers, content_type="application/json")


class Deployment:
    """One deployment's endpoint: answers from ``script`` in turn (the last one repeats), and records requests."""

    def __init__(self, server: HTTPServer, name: str, script: list[Callable[[], Response]]) -> None:
        self.requests: list[Request] = []
        self.script = script
        server.expect_request(f"/openai/deployments/{name}/chat/completions", method="POST").respond_with_handler(
            self.handle
        )

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        return self.script[min(len(self.requests), len(self.script)) - 1]()


def ok(text: str = "hello") -> Callable[[], Response]:
    return lambda: Response(json.dumps(completion(text)), status=200, content_type="application/json")


def settings(server: HTTPServer, **kw: object) -> LMSettings:
    base = {"api_base": server.url_for("/").rstrip("/"), "api_version": VERSION, "cache": False, "num_retries": 0}
    return LMSettings(model="azure/main", **{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def azure_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AZURE_API_KEY", KEY)
    yield


def ask(lm: object) -> list[str]:
    return lm("Say hello")  # type: ignore[operator,no-any-return]


def test_a_deployment_is_called_with_its_api_version_and_key(httpserver: HTTPServer) -> None:
    main = Deployment(httpserver, "main", [ok()])
    assert ask(make_lm(settings(httpserver))) == ["hello"]
    (request,) = main.requests
    assert request.args.get("api-version") == VERSION and request.headers.get("api-key") == KEY


def test_a_429_with_retry_after_is_retried(httpserver: HTTPServer) -> None:
    main = Deployment(httpserver, "main", [lambda: error(429, "429", retry_after="0"), ok()])
    assert ask(make_lm(settings(httpserver, num_retries=1))) == ["hello"]
    assert len(main.requests) == 2


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Telemetry:
    """The fallback spans go through the same span processor /metrics is fed by."""
    counted = Telemetry()
    provider = TracerProvider()
    provider.add_span_processor(StageMetrics(counted))
    monkeypatch.setattr(fallback_module, "tracer", lambda: provider.get_tracer("fda"))
    return counted


def fallbacks_counted(telemetry: Telemetry, reason: str, to: str) -> float:
    return telemetry.lm_fallbacks.labels(reason=reason, to=to)._value.get()  # type: ignore[attr-defined,no-any-return]


def test_a_rate_limited_deployment_falls_back_and_is_counted(httpserver: HTTPServer, telemetry: Telemetry) -> None:
    main = Deployment(httpserver, "main", [lambda: error(429, "429", retry_after="0")])
    backup = Deployment(httpserver, "backup", [ok("from backup")])
    lm = make_lm(settings(httpserver, fallback_models=["azure/backup"]))
    assert isinstance(lm, FallbackLM)
    assert ask(lm) == ["from backup"]
    assert len(main.requests) == 1 and len(backup.requests) == 1
    assert backup.requests[0].headers.get("api-key") == KEY  # same resource: same key and version
    assert fallbacks_counted(telemetry, "rate_limited", "azure/backup") == 1


def test_bad_credentials_do_not_fall_back(httpserver: HTTPServer, telemetry: Telemetry) -> None:
    Deployment(httpserver, "main", [lambda: error(401, "401")])
    backup = Deployment(httpserver, "backup", [ok()])
    with pytest.raises(dx.LMAuthError):
        ask(make_lm(settings(httpserver, fallback_models=["azure/backup"])))
    assert backup.requests == [] and fallbacks_counted(telemetry, "server_error", "azure/backup") == 0


def test_when_every_model_fails_the_last_error_is_raised(httpserver: HTTPServer, telemetry: Telemetry) -> None:
    Deployment(httpserver, "main", [lambda: error(503, "503")])
    backup = Deployment(httpserver, "backup", [lambda: error(429, "429", retry_after="0")])
    with pytest.raises(dx.LMRateLimitError) as raised:
        ask(make_lm(settings(httpserver, fallback_models=["azure/backup"])))
    assert len(backup.requests) == 1 and fallbacks_counted(telemetry, "server_error", "azure/backup") == 1
    typed = translate_lm_error(raised.value, model="azure/main")
    assert isinstance(typed, LMUnavailableError)  # the service's usual "unreachable or failing" path


def test_another_providers_fallback_gets_none_of_azures_endpoint() -> None:
    lm = make_lm(LMSettings(model="azure/main", api_base="https://x.openai.azure.com", api_version=VERSION,
                            fallback_models=["openai/gpt-4o-mini"]))  # fmt: skip
    assert isinstance(lm, FallbackLM)
    (other,) = lm.fallbacks
    assert other.model == "openai/gpt-4o-mini"
    assert "api_base" not in other.kwargs and "api_version" not in other.kwargs
    assert lm.kwargs["api_version"] == VERSION


def test_entra_id_turns_on_litellms_token_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm, "enable_azure_ad_token_refresh", False)
    make_lm(LMSettings(model="azure/main", api_base="https://x.openai.azure.com", azure_ad=True))
    assert litellm.enable_azure_ad_token_refresh is True
    with pytest.raises(ConfigError, match="both set"):
        make_lm(LMSettings(model="azure/main", azure_ad=True, api_key="a-real-looking-key-42"))  # type: ignore[arg-type]
