"""api/security.py through the real app (fake programs): keys, rate limits, body limit, CORS, headers, and the
production preset's refusals."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from api.security import TokenBuckets
from fda.settings import Settings
from tests.api.conftest import make_services

KEY = "k" * 24
OTHER = "o" * 24


def app_client(tmp_path: Path, **api: Any) -> TestClient:
    settings = Settings(state_dir=tmp_path, api={"request_timeout_s": 5, "log_flush_s": 0.05, **api})  # type: ignore[arg-type]
    return TestClient(create_app(settings, lambda s: make_services(s, tmp_path)))


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path, api_keys=[KEY, OTHER]) as c:
        yield c


def ask(c: TestClient, **headers: str) -> Any:
    return c.post("/v1/ask", json={"question": "How do I enable CORS?"}, headers=headers)


def test_keys_are_required_when_set(keyed: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        missing = ask(keyed)
        wrong = ask(keyed, authorization="Bearer " + "x" * 24)
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["message"] == "this service needs an API key"
    assert wrong.json()["error"]["code"] == "unauthorized" and "FDA_API__API_KEYS" in wrong.json()["error"]["hint"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert ask(keyed, authorization=f"Bearer {KEY}").status_code == 200
    assert ask(keyed, **{"x-api-key": OTHER}).status_code == 200
    assert keyed.get("/v1/search", params={"q": "cors"}).status_code == 401  # every route, not only /ask
    assert keyed.get("/healthz").status_code == 200 and keyed.get("/readyz").status_code == 200  # probes pass
    assert KEY not in caplog.text and "x" * 24 not in caplog.text  # no key in the logs


def test_no_keys_no_auth(client: TestClient) -> None:
    assert ask(client).status_code == 200


def test_token_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, max_clients=2, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(1.0)  # burst spent: a token a second
    assert buckets.take("b") == 0  # another client has its own bucket
    now[0] = 1.0
    assert buckets.take("a") == 0
    buckets.take("c")
    assert len(buckets.buckets) == 2 and "b" not in buckets.buckets  # bounded: the least recent goes


def test_rate_limit_per_client_with_retry_after(tmp_path: Path) -> None:
    with app_client(tmp_path, api_keys=[KEY, OTHER], rate_limit_per_minute=6, rate_limit_burst=2) as c:
        codes = [ask(c, authorization=f"Bearer {KEY}").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = ask(c, authorization=f"Bearer {KEY}")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        assert ask(c, authorization=f"Bearer {OTHER}").status_code == 200  # the other key is another client
        assert c.get("/healthz").status_code == 200  # probes are never limited


def test_body_limit_by_header_and_by_stream(tmp_path: Path) -> None:
    with app_client(tmp_path, max_body_bytes=2048) as c:
        big = c.post("/v1/ask", json={"question": "x" * 4000})
        assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
            yield b'{"question": "'
            for _ in range(10):
                yield b"x" * 500
            yield b'"}'

        streamed = c.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert ask(c).status_code == 200


def test_cors_allow_list(tmp_path: Path) -> None:
    with app_client(tmp_path, cors_origins=["https://docs.example.org"]) as c:
        ok = c.options(
            "/v1/ask",
            headers={"origin": "https://docs.example.org", "access-control-request-method": "POST"},
        )
        assert ok.headers.get("access-control-allow-origin") == "https://docs.example.org"
        other = c.get("/healthz", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with app_client(tmp_path) as c:  # no allow-list: no CORS headers at all
        assert "access-control-allow-origin" not in c.get("/healthz", headers={"origin": "https://a.b"}).headers


def test_security_headers(client: TestClient, tmp_path: Path) -> None:
    r = ask(client)
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert "strict-transport-security" not in r.headers
    assert "content-security-policy" not in client.get("/docs").headers  # Swagger UI must load its assets
    with app_client(tmp_path, hsts=True, api_keys=[KEY]) as c:
        refused = ask(c)  # refusals carry the headers too
        assert refused.status_code == 401 and refused.headers["strict-transport-security"].startswith("max-age")


def test_production_preset_needs_a_key_and_turns_the_layers_on() -> None:
    with pytest.raises(ValidationError, match="FDA_API__API_KEYS"):
        Settings(preset="production")
    s = Settings(preset="production", api={"api_keys": [KEY]})  # type: ignore[arg-type]
    assert s.api.require_api_key and s.api.rate_limit_per_minute > 0 and s.api.hsts and s.logging.json_logs


@pytest.mark.parametrize(
    ("api", "message"),
    [({"api_keys": ["short"]}, "at least 16 characters"), ({"cors_origins": ["*"]}, "list the origins")],
)
def test_weak_settings_are_refused(api: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(api=api)  # type: ignore[arg-type]
