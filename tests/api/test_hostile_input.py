"""Hostile input through the real app (fake programs): each case gets a clear 4xx or an answer to the cleaned
question, never a 5xx, and the query log store still takes and holds every line afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from api.querylog import flush_spool
from tests.api.conftest import services_of

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"question": "CORS? \\ud800"}', 422, "invalid_request"),  # a lone surrogate
        (b'{"question": "\\udfff"}', 422, "invalid_request"),
        (b'{"question": "\xff\xfe CORS"}', 400, "http_error"),  # not UTF-8
        (b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "http_error"),  # deeply nested
        (b'{"question": "x", "version": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}", 400, "http_error"),
        (b'{"question": 42}', 422, "invalid_request"),  # non-string fields
        (b'{"question": ["How", "CORS"]}', 422, "invalid_request"),
        (b'{"question": {"text": "CORS"}}', 422, "invalid_request"),
        (b'{"question": null}', 422, "invalid_request"),
        (b'{"question": true}', 422, "invalid_request"),
        (b"[1, 2, 3]", 422, "invalid_request"),
        (b'"How do I enable CORS?"', 422, "invalid_request"),
        (b"", 422, "invalid_request"),
        (b'{"question": "\\u0000\\u200b\\u202e"}', 422, "invalid_question"),  # nothing left once cleaned
        (json.dumps({"question": "x" * 100_000}).encode(), 413, "body_too_large"),  # 100 kB
    ],
)
def test_hostile_bodies_get_a_clear_4xx(client: TestClient, body: bytes, status: int, code: str) -> None:
    r = client.post("/v1/ask", content=body, headers=JSON)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_wrong_content_types_are_422(client: TestClient, content_type: str) -> None:
    r = client.post("/v1/ask", content=b'{"question": "CORS?"}', headers={"content-type": content_type})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("question", "seen"),
    [
        ("How do I \x00enable CORS?", "How do I enable CORS?"),  # control characters go
        ("\x1b[31mHow do I enable CORS?\x1b[0m", "[31mHow do I enable CORS?[0m"),
        ("How do I en\u200bable CO\u200dRS?", "How do I enable CORS?"),  # zero-width characters go
        ("How do I enable \u202eSROC\u202c?", "How do I enable SROC?"),  # bidi overrides go
        ("Ｈｏｗ do I enable CORS?", "How do I enable CORS?"),  # fullwidth folds (NFKC)
        ("How do I enable CORS? " + "\U0001f600" * 300, "How do I enable CORS? " + "\U0001f600" * 300),
        ("{{7*7}} ${jndi:ldap://x/a} <script>alert(1)</script> CORS?", None),  # answered as text, not run
    ],
)
def test_hostile_text_reaches_the_program_cleaned_and_the_log_store_holds(
    client: TestClient, tmp_path: Path, question: str, seen: str | None
) -> None:
    r = client.post("/v1/ask", json={"question": question})
    assert r.status_code == 200, r.text
    program = services_of(client).programs["rag"]
    assert program.calls == 1
    if seen is not None:
        assert r.json()["answer"].startswith(f"Answer to: {seen}")
    flush_spool(tmp_path / "spool", tmp_path / "logs.duckdb")
    with duckdb.connect(str(tmp_path / "logs.duckdb")) as con:  # same process as the app's flusher: same config
        logged = [q for (q,) in con.execute("SELECT question FROM query_log").fetchall()]
    assert len(logged) == 1 and "\x00" not in logged[0] and "\u202e" not in logged[0]


def test_hostile_search_queries(client: TestClient) -> None:
    assert client.get("/v1/search", params={"q": "cors\x00\u200b"}).json()["query"] == "cors"
    assert client.get("/v1/search?q=cors%ED%A0%80").status_code == 200  # invalid UTF-8 in the URL: replaced
    assert client.get("/v1/search", params={"q": "\u200b\u200b"}).status_code == 422
    assert client.get("/v1/sources/%ED%A0%80").status_code == 404
