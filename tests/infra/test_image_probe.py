"""The contract infra/image_test.sh holds the running image to (check_answer, readiness)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

URL = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"


def body(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "answer": "Add CORSMiddleware [1].",
        "citations": [{"number": 1, "url": URL, "title": "CORS"}],
        "fallback": False,
        "cannot_answer": False,
    }
    return base | over


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (body(), "answer: 23 chars, 1 citations"),
        (body(answer="", fallback=True), "fallback (retrieval only, flagged)"),
    ],
)
def test_check_answer_accepts(probe: ModuleType, payload: dict[str, Any], expected: str) -> None:
    assert probe.check_answer(payload).startswith(expected)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "JSON object"),
        (body(citations=[]), "no citations"),
        (body(citations=[], cannot_answer=True), "cannot_answer=True"),
        (body(citations=[{"url": "https://fastapi.tiangolo.com/tutorial/cors/"}]), "URL#anchor"),
        (body(citations=[{"url": "#cors"}]), "URL#anchor"),
        (body(citations=["x"]), "URL#anchor"),
        (body(answer="  "), "empty answer"),
        (body(fallback="no"), "'fallback'"),
        ({"citations": []}, "'answer'"),
    ],
)
def test_check_answer_rejects(probe: ModuleType, payload: Any, reason: str) -> None:
    with pytest.raises(probe.ProbeError, match=reason.replace("(", r"\(")):
        probe.check_answer(payload)


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (200, {"ready": True, "components": {"store": "ok", "index": "ok", "lm": "ok"}}, 0),
        (503, {"ready": False, "components": {"store": "ok", "index": "ok", "lm": "not available: boom"}}, 3),
        (503, {"ready": False, "components": {"store": "ok", "index": "missing", "lm": "not available"}}, 1),
        (503, {"ready": False, "components": {"store": "ok", "index": "ok"}}, 1),
        (503, {"ready": False, "components": {}}, 1),
        (502, "Bad Gateway", 1),
    ],
)
def test_readiness(probe: ModuleType, status: int, payload: Any, expected: int) -> None:
    assert probe.readiness(status, payload) == expected
