"""POST /v1/agent: the agent's answer, plan and trajectory through the service (a fake agent: the loop itself is
tested in tests/programs/test_agent.py), and the same clear errors as /v1/ask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fda.cli.app import app
from fda.settings import Settings
from tests.api.conftest import FakeAgent, make_services, services_of
from tests.programs.conftest import PASSAGES


def test_agent_answers_with_its_trajectory(client: TestClient) -> None:
    fake = FakeAgent()
    services_of(client).agent = fake
    r = client.post("/v1/agent", json={"question": "How do I enable CORS?", "version": "0.68.0", "max_steps": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stop_reason"] == "finished" and body["plan"] == ["search_docs: CORS"]
    assert body["trajectory"][0]["tool"] == "search_docs" and body["trajectory"][0]["found"] == [PASSAGES[0].url]
    assert body["citations"][0]["url"] == PASSAGES[0].url and body["usage"]["lm_calls"] == 3
    assert fake.calls == [{"question": "How do I enable CORS?", "version": "0.68.0", "max_steps": 3}]


def test_agent_errors_are_clear(client: TestClient) -> None:
    services_of(client).agent = FakeAgent()
    assert client.post("/v1/agent", json={"question": "   "}).status_code == 422
    assert (
        client.post("/v1/agent", json={"question": "cors", "version": "9.9"}).json()["error"]["code"]
        == "unknown_version"
    )
    assert client.post("/v1/agent", json={"question": "cors", "max_steps": 99}).status_code == 422
    services_of(client).agent = None  # no docs store: the tools and the agent are off
    r = client.post("/v1/agent", json={"question": "How do I enable CORS?"})
    assert r.status_code == 503 and "fda ingest" in r.json()["error"]["hint"]


def test_fda_agent_prints_steps_and_json(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def wired(s: Settings, **_: Any) -> Any:
        services = make_services(s, tmp_path)
        services.agent = FakeAgent()
        return services

    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    monkeypatch.setattr("api.wiring.wire", wired)
    runner = CliRunner()
    text = runner.invoke(app, ["agent", "How do I enable CORS?", "--show-steps"])
    assert text.exit_code == 0, text.output
    assert "1. search_docs(argument='CORS') -> 1 found, 1 new" in text.output
    assert "Stopped: finished" in text.output and "Add CORSMiddleware" in text.output
    as_json = runner.invoke(app, ["agent", "How do I enable CORS?", "--json"])
    body = json.loads(as_json.output)
    assert body["stop_reason"] == "finished" and body["trajectory"][0]["tool"] == "search_docs"


def test_agent_stream_sends_the_plan_each_step_then_the_answer(client: TestClient) -> None:
    events: list[tuple[str, Any]] = []
    with client.stream("POST", "/v1/agent/stream", json={"question": "How do I enable CORS?"}) as r:
        assert r.status_code == 200 and r.headers["x-trace-id"]
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ").strip()
            elif line.startswith("data: ") and kind:
                events.append((kind, json.loads(line.removeprefix("data: "))))
    assert [k for k, _ in events] == ["plan", "step", "final"]
    assert events[0][1] == ["search_docs: CORS"] and events[1][1]["tool"] == "search_docs"
    final = events[-1][1]
    assert final["stop_reason"] == "finished" and final["citations"] and final["trace_id"] == r.headers["x-trace-id"]


def test_agent_stream_refuses_bad_input_before_streaming(client: TestClient) -> None:
    assert client.post("/v1/agent/stream", json={"question": " "}).status_code == 422
    services_of(client).agent = None
    assert client.post("/v1/agent/stream", json={"question": "cors"}).status_code == 503
