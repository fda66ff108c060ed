"""Fakes for eval tests: a few gold questions, a scripted retriever and a scripted answer program."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import dspy
import pytest

from eval.gold import GoldQuestion
from fda.types import Citation, Passage

CORS = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
CORS_WILD = "https://fastapi.tiangolo.com/tutorial/cors/#wildcards"
BG = "https://fastapi.tiangolo.com/tutorial/background-tasks/#using-backgroundtasks"
COOKIE = "https://fastapi.tiangolo.com/advanced/response-cookies/#use-a-response-parameter"
MW = "https://fastapi.tiangolo.com/tutorial/middleware/#create-a-middleware"


def gq(qid: str, **kw: object) -> GoldQuestion:
    base: dict[str, object] = {
        "id": qid,
        "question": f"question {qid}?",
        "category": "middleware",
        "type": "howto",
        "gold_sections": [CORS],
        "reference_answer": "Use CORSMiddleware.",
    }
    return GoldQuestion.model_validate(base | kw)


@pytest.fixture
def gold_rows() -> list[GoldQuestion]:
    return [
        gq("q-cors", must_mention=[["CORSMiddleware"], ["allow_origins"]]),
        gq("q-bg", category="background_lifespan", gold_sections=[BG], must_mention=[["BackgroundTasks"]]),
        gq(
            "q-inject",
            type="adversarial",
            category="responses",
            gold_sections=[COOKIE],
            must_mention=[["set_cookie"]],
            forbidden=["PWNED"],
        ),
        gq(
            "q-oos",
            type="out_of_scope",
            category="out_of_scope",
            gold_sections=[],
            expect_refusal=True,
            reference_answer="",
        ),
    ]


def passage(url: str, n: int = 0) -> Passage:
    return Passage(chunk_id=f"{url.rsplit('#', 1)[-1]}-{n}", url=url, text=f"text of {url}", version="0.141.1")


class ScriptedRetriever:
    """Returns the scripted URLs for a question (word-for-word), nothing otherwise; thread-safe counter."""

    name = "scripted"

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = script
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        with self._lock:
            self.calls.append(query)
        return [passage(u, i) for i, u in enumerate(self.script.get(query, []))][:k]


class ScriptedProgram:
    """An answer program whose predictions are given per question; a callable value raises instead."""

    def __init__(self, script: dict[str, dict[str, object] | Callable[[], object]]) -> None:
        self.script = script
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, question: str, version: str | None = None) -> dspy.Prediction:
        with self._lock:
            self.calls.append(question)
        spec = self.script.get(question, {})
        if callable(spec):
            spec()
        assert isinstance(spec, dict)
        shown = [passage(u, i) for i, u in enumerate(spec.get("shown", []))]  # type: ignore[arg-type]
        cited = [
            Citation(number=i + 1, chunk_id=p.chunk_id, url=p.url, title="t", snippet="s", version=p.version)
            for i, p in enumerate(shown)
            if p.url in spec.get("cite", [])  # type: ignore[operator]
        ]
        return dspy.Prediction(
            answer=spec.get("answer", ""),
            citations=cited,
            passages=shown,
            cannot_answer=spec.get("cannot_answer", False),
            refused=spec.get("refused", False),
            invalid_citations=spec.get("invalid", 0),
            fallback=False,
            usage={"prompt_tokens": 100, "completion_tokens": 20, "lm_calls": 1},
        )


@pytest.fixture
def good_program() -> ScriptedProgram:
    """Answers the answerable questions well, refuses the out-of-scope one, resists the injection."""
    return ScriptedProgram(
        {
            "question q-cors?": {
                "answer": "Add `CORSMiddleware` with allow_origins [1].",
                "shown": [CORS, MW],
                "cite": [CORS],
            },
            "question q-bg?": {"answer": "Use BackgroundTasks [1].", "shown": [BG], "cite": [BG]},
            "question q-inject?": {"answer": "Call response.set_cookie [1].", "shown": [COOKIE], "cite": [COOKIE]},
            "question q-oos?": {"answer": "I can't answer that from the docs.", "cannot_answer": True},
        }
    )


@pytest.fixture(autouse=True)
def _reset_dspy() -> Iterator[None]:
    with dspy.context(lm=None):
        yield


@pytest.fixture
def eval_paths(tmp_path: Path) -> dict[str, Path]:
    return {"reports": tmp_path / "reports", "db": tmp_path / "state" / "eval.duckdb", "state": tmp_path / "state"}
