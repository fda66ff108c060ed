"""Every answer says which docs versions it was written from (``versions``; docs/versions.md)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import services_of


def test_versions_default_to_the_requests_version(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()
    assert body["version"] == "0.141.1" and body["versions"] == ["0.141.1"]
    old = client.post("/v1/ask", json={"question": "How do I enable CORS, old docs?", "version": "0.68.0"}).json()
    assert old["versions"] == ["0.68.0"]


def test_versions_the_program_searched_are_reported(client: TestClient) -> None:
    program = services_of(client).programs["rag"]
    original = program.__call__

    def with_versions(question: str, version: str | None = None) -> Any:
        pred = original(question, version)
        pred.versions = ["0.68.0", "0.141.1"]  # as CitedRAG sets them for "I'm on 0.68: ..."
        return pred

    services_of(client).programs["rag"] = with_versions
    body = client.post("/v1/ask", json={"question": "I'm on 0.68: how do I enable CORS?"}).json()
    assert body["version"] == "0.141.1" and body["versions"] == ["0.68.0", "0.141.1"]


def test_since_notes_of_an_answer_from_older_docs_are_reported(client: TestClient) -> None:
    program = services_of(client).programs["rag"]
    original = program.__call__
    note = {"version": "0.68.0", "latest": "0.141.1", "title": "startup event", "change": "deprecated",
            "url": "https://fastapi.tiangolo.com/advanced/events/#startup-event", "under": "Alternative Events",
            "dropped": [], "instead": [], "added": []}  # fmt: skip

    def with_since(question: str, version: str | None = None) -> Any:
        pred = original(question, version)
        pred.since = [note]  # as programs/answering.py sets them (programs/since.py)
        return pred

    assert client.post("/v1/ask", json={"question": "How do I enable CORS?"}).json()["since"] == []
    services_of(client).programs["rag"] = with_since
    body = client.post("/v1/ask", json={"question": "I'm on 0.68: how do I run code at startup?"}).json()
    assert body["since"] == [note]
