"""The program version served ("fda-rag/3" or "uncompiled") per program: in answers, the SSE meta event,
/readyz, the answer cache key, and `fda ask` (text and --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from api.services import Services
from fda.cli.app import app
from fda.settings import Settings
from tests.api.conftest import make_services, services_of

QUESTION = "How do I enable CORS?"


def with_champion(settings: Settings, tmp: Path) -> Services:
    services = make_services(settings, tmp)
    services.program_versions = {"rag": "fda-rag/3", "multihop": "uncompiled"}
    return services


@pytest.fixture
def champion_client(settings: Settings, tmp_path: Path) -> TestClient:
    return TestClient(create_app(settings, lambda s: with_champion(s, tmp_path)))


def test_each_answer_names_the_version_of_its_program(champion_client: TestClient) -> None:
    with champion_client as client:
        rag = client.post("/v1/ask", json={"question": QUESTION}).json()
        multihop = client.post("/v1/ask", json={"question": QUESTION, "program": "multihop"}).json()
        ready = client.get("/readyz").json()
        with client.stream("POST", "/v1/ask/stream", json={"question": QUESTION}) as r:
            meta = next(line for line in r.iter_lines() if line.startswith("data:"))
    assert rag["program_version"] == "fda-rag/3" and multihop["program_version"] == "uncompiled"
    assert ready["program_versions"] == {"rag": "fda-rag/3", "multihop": "uncompiled"}
    assert ready["program_version"] == "fda-rag/3"
    assert json.loads(meta.removeprefix("data:"))["program_version"] == "fda-rag/3"


def test_a_new_champion_does_not_reuse_cached_answers(champion_client: TestClient) -> None:
    with champion_client as client:
        assert client.post("/v1/ask", json={"question": QUESTION}).json()["cached"] is False
        assert client.post("/v1/ask", json={"question": QUESTION}).json()["cached"] is True
        services = services_of(client)
        services.program_versions["rag"] = "fda-rag/4"  # what a reload after `fda programs promote 4` serves
        fresh = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert fresh["cached"] is False and fresh["program_version"] == "fda-rag/4"
    assert services.programs["rag"].calls == 2


def test_fda_ask_prints_the_program_version(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    monkeypatch.setattr("api.wiring.wire", lambda s, **_: with_champion(s, tmp_path))
    runner = CliRunner()
    as_json = runner.invoke(app, ["ask", QUESTION, "--json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["program"] == "rag" and body["program_version"] == "fda-rag/3"
    text = runner.invoke(app, ["ask", QUESTION, "--program", "multihop"])
    assert text.exit_code == 0, text.output
    assert "multihop uncompiled" in text.output


class _Retriever:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.queries: list[str] = []

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[object]:
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        return []


def test_warm_up_searches_once_and_a_failure_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    from api.wiring import warm_up
    from fda.errors import IndexMissingError

    ok = _Retriever()
    warm_up(ok)  # type: ignore[arg-type]
    assert len(ok.queries) == 1
    broken = _Retriever(IndexMissingError("no colbert index", hint="Run `fda index`."))
    warm_up(broken)  # type: ignore[arg-type]
    assert "warm-up failed" in caplog.text
    caplog.clear()
    warm_up(_Retriever(RuntimeError("onnxruntime: bad allocation")))  # type: ignore[arg-type]  # not an FDAError
    assert "bad allocation" in caplog.text
