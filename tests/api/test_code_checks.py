"""Answers that show Python carry the sandbox's verdict on it (``code``) in /v1/ask, its stream and /readyz."""

from __future__ import annotations

import json
import time
from typing import Any

import dspy
import pytest
from dspy.utils import DummyLM
from fastapi.testclient import TestClient

from api.wiring import code_checker
from fda.settings import Settings
from programs.execution.check import CodeChecker
from programs.execution.repair import CodeRepairer
from programs.execution.sandbox import Sandbox, SandboxLimits
from tests.api.conftest import FakeProgram, services_of

WORKS = "Add a route [1]:\n\n```python\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/ping')\ndef ping():\n    return {'ok': True}\n```\n"
BROKEN = "Like this [1]:\n\n```python\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef root():\n    return 1 / 0\n```\n"


@pytest.fixture
def sandbox() -> Sandbox:
    box = Sandbox(SandboxLimits(timeout_s=8))
    if box.mode is None:
        pytest.skip("no Linux namespaces here: the sandbox refuses to run code")
    return box


def answering_with(client: TestClient, text: str, box: Sandbox | None) -> FakeProgram:
    services = services_of(client)
    program: FakeProgram = services.programs["rag"]
    program.text = text
    services.code_checker = CodeChecker(box) if box is not None else None
    return program


def test_an_answer_with_working_code_says_verified(client: TestClient, sandbox: Sandbox) -> None:
    answering_with(client, WORKS, sandbox)
    body = client.post("/v1/ask", json={"question": "How do I add a ping route?"}).json()
    assert body["code"]["status"] == "verified"
    assert body["code"]["routes"] == [{"method": "GET", "path": "/ping", "status": 200, "error": ""}]
    assert body["timings_ms"]["code"] > 0 and body["timings_ms"]["total"] >= body["timings_ms"]["code"]


def test_an_answer_with_broken_code_says_failed_and_why_in_the_stream_too(client: TestClient, sandbox: Sandbox) -> None:
    answering_with(client, BROKEN, sandbox)
    body = client.post("/v1/ask", json={"question": "How do I divide?"}).json()
    assert body["code"]["status"] == "failed" and "ZeroDivisionError" in body["code"]["detail"]
    with client.stream("POST", "/v1/ask/stream", json={"question": "How do I divide, streamed?"}) as resp:
        finals = [json.loads(line[5:]) for line in resp.iter_lines() if line.startswith("data:") and '"code"' in line]
    assert finals and finals[-1]["code"]["status"] == "failed"


def test_no_code_no_checker_or_a_declined_answer_carries_no_code_report(client: TestClient, sandbox: Sandbox) -> None:
    answering_with(client, "Use `CORSMiddleware` [1].", sandbox)
    assert client.post("/v1/ask", json={"question": "CORS?"}).json()["code"] is None
    answering_with(client, WORKS, None)
    assert client.post("/v1/ask", json={"question": "ping route, no checker?"}).json()["code"] is None
    program = answering_with(client, WORKS, sandbox)
    program.decline = True
    body = client.post("/v1/ask", json={"question": "a poem, with code?"}).json()
    assert body["cannot_answer"] and body["code"] is None


@pytest.mark.corpus
def test_readyz_says_whether_code_runs(tmp_path: object) -> None:
    readiness: dict[str, str] = {}
    assert code_checker(Settings(code={"execute": False}), readiness) is None  # type: ignore[arg-type]
    assert "code" not in readiness  # off on purpose: not a component
    checker = code_checker(Settings(), readiness)
    assert checker is not None
    if checker.sandbox.mode is not None:
        assert readiness["code"] == "ok"
    else:
        assert readiness["code"].startswith("degraded: the sandbox cannot start here")
    assert len(checker.imports) > 50 and checker.imports["FastAPI"] == "from fastapi import FastAPI"


FIXED = BROKEN.replace("return 1 / 0", "return 1")


def repairing_with(client: TestClient, sandbox: Sandbox, lm: dspy.BaseLM, timeout_s: float = 30.0) -> FakeProgram:
    program = answering_with(client, BROKEN, sandbox)
    services = services_of(client)
    services.lm = lm
    services.code_repairer = CodeRepairer(services.code_checker)
    code = services.settings.code.model_copy(update={"repair_timeout_s": timeout_s})
    services.settings = services.settings.model_copy(update={"code": code})
    return program


def test_failed_code_repaired_once_is_served_repaired_and_cached(client: TestClient, sandbox: Sandbox) -> None:
    lm = DummyLM([{"fixed_code": FIXED.split("```python\n")[1].split("```")[0]}])
    repairing_with(client, sandbox, lm)
    body = client.post("/v1/ask", json={"question": "How do I return a number?"}).json()
    assert body["code"]["status"] == "verified"
    assert body["code"]["repair"]["accepted"] and "ZeroDivisionError" in body["code"]["repair"]["error"]
    assert "return 1\n" in body["answer"] and "1 / 0" not in body["answer"]
    assert body["timings_ms"]["code_repair"] > 0
    again = client.post("/v1/ask", json={"question": "How do I return a number?"}).json()
    assert again["cached"] and again["answer"] == body["answer"]  # no second LM call: the script has one answer
    assert again["code"]["status"] == "verified" and again["code"]["repair"]["accepted"]


def test_a_repair_over_its_time_leaves_the_answer_as_it_was(client: TestClient, sandbox: Sandbox) -> None:
    class SlowLM(DummyLM):
        def forward(self, *args: Any, **kwargs: Any) -> Any:
            time.sleep(1.5)
            return super().forward(*args, **kwargs)

    repairing_with(client, sandbox, SlowLM([{"fixed_code": "x = 1"}]), timeout_s=0.3)
    body = client.post("/v1/ask", json={"question": "How do I divide slowly?"}).json()
    assert body["answer"] == BROKEN.strip() and body["code"]["status"] == "failed"
    assert body["code"]["repair"] == {
        "tried": True,
        "accepted": False,
        "error": body["code"]["repair"]["error"],
        "why": "no fix within 0.3 s",
    }
    assert "ZeroDivisionError" in body["code"]["repair"]["error"]
