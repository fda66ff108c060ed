"""App fixtures: real routers and services plumbing, fake programs/retrievers (no LM, no index)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import dspy
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.services import Services
from fda.errors import IndexMissingError
from fda.settings import Settings
from programs.agent import announce
from programs.answering import announce_sources, result
from programs.citations import validate_citations
from tests.programs.conftest import PASSAGES, FakeRetriever


class FakeProgram:
    """Answers from the fake retriever's top passage; can block, sleep or raise on demand."""

    def __init__(self, retriever: FakeRetriever) -> None:
        self.retriever = retriever
        self.answerer = object()
        self.calls = 0
        self.block: threading.Event | None = None
        self.raise_error: Exception | None = None
        self.block_after_sources: threading.Event | None = None  # the LM "thinking" after the sources went out
        self.decline = False  # declined before retrieval (scope, premise, harm): no sources
        self.text: str | None = None  # the answer to give instead of "Answer to: <question> [1]"
        self.lock = threading.Lock()

    def __call__(self, question: str, version: str | None = None) -> dspy.Prediction:
        with self.lock:
            self.calls += 1
        if self.block is not None:
            self.block.wait(timeout=10)
        if self.raise_error is not None:
            raise self.raise_error
        if self.decline:
            return result(
                answer="I can only answer questions about FastAPI.", cannot_answer=True, reason="out_of_scope"
            )
        passages = self.retriever.search(question, k=2, version=version)
        announce_sources(passages)  # as answer_over does, right before the LM call
        if self.block_after_sources is not None:
            self.block_after_sources.wait(timeout=10)
        checked = validate_citations(self.text or f"Answer to: {question} [1]", passages)
        return result(answer=checked.text, passages=passages, citations=checked.citations, queries=[question])


async def fake_stream(program: Any, question: str, version: str | None) -> AsyncIterator[tuple[str, Any]]:
    """Streams the words of this request's own answer, yielding control between tokens. The program runs in a
    worker thread with the request's context, as dspy.streamify runs it."""
    pred = await anyio.to_thread.run_sync(program, question, version)
    for word in pred.answer.split(" "):
        await asyncio.sleep(0.001)
        yield "token", word + " "
    yield "final", pred


class FakeSources:
    def get(self, chunk_id: str) -> dict[str, Any] | None:
        for p in PASSAGES:
            if p.chunk_id == chunk_id:
                return {
                    "chunk_id": p.chunk_id,
                    "url": p.url,
                    "heading_path": p.heading_path,
                    "version": p.version,
                    "text": p.text,
                    "section_text": p.text + " (whole section)",
                }
        return None


class FakeAgent:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, question: str, version: str | None = None, max_steps: int | None = None) -> dspy.Prediction:
        self.calls.append({"question": question, "version": version, "max_steps": max_steps})
        checked = validate_citations("Add CORSMiddleware [1].", PASSAGES[:1])
        pred = result(answer=checked.text, passages=PASSAGES[:1], citations=checked.citations, queries=[question])
        pred.plan = ["search_docs: CORS"]
        announce("plan", pred.plan)  # as the real agent does, for /v1/agent/stream
        pred.trajectory = [
            {"step": 1, "tool": "search_docs", "argument": "CORS", "version": "", "to_version": "",
             "found": [PASSAGES[0].url], "new": 1, "error": "", "ms": 2.5}
        ]  # fmt: skip
        announce("step", pred.trajectory[0])
        pred.stop_reason = "finished"
        pred.usage = {"lm_calls": 3, "prompt_tokens": 900, "completion_tokens": 60}
        return pred


def make_services(settings: Settings, tmp: Path) -> Services:
    retriever = FakeRetriever()
    program = FakeProgram(retriever)
    return Services(
        settings=settings,
        programs={"rag": program, "multihop": program},
        retrievers={"fake": retriever},
        default_backend="fake",
        versions=["0.68.0", "0.141.1"],
        latest="0.141.1",
        sources=FakeSources(),
        spool_dir=tmp / "spool",
        logs_db=tmp / "logs.duckdb",
        stream=fake_stream,
        readiness={"index": "ok", "lm": "ok"},
        agent=FakeAgent(),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, api={"request_timeout_s": 5, "log_flush_s": 0.05})  # type: ignore[arg-type]


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings, lambda s: make_services(s, tmp_path))
    with TestClient(app) as c:
        yield c


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


__all__ = ["FakeAgent", "FakeProgram", "IndexMissingError", "make_services", "services_of"]
