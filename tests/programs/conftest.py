"""Fakes for program tests: an in-memory retriever over a few passages, and DSPy reset per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dspy
import pytest

from fda.errors import UnknownVersionError
from fda.types import Passage
from index.ingest.store import connect
from index.retrieval.base import check_query
from programs.tools.docs import DocsTools

PASSAGES = [
    Passage(
        chunk_id="c-cors",
        url="https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware",
        heading_path=["CORS", "Use CORSMiddleware"],
        text="Add CORSMiddleware with allow_origins.",
        version="0.141.1",
    ),
    Passage(
        chunk_id="c-mw",
        url="https://fastapi.tiangolo.com/tutorial/middleware/#create-a-middleware",
        heading_path=["Middleware", "Create a middleware"],
        text="Use the @app.middleware('http') decorator.",
        version="0.141.1",
    ),
    Passage(
        chunk_id="c-bg",
        url="https://fastapi.tiangolo.com/tutorial/background-tasks/#using-backgroundtasks",
        heading_path=["Background Tasks", "Using BackgroundTasks"],
        text="Declare a BackgroundTasks parameter.",
        version="0.141.1",
    ),
    Passage(
        chunk_id="c-ev68",
        url="https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs/advanced/events.md#startup-event",
        heading_path=["Events", "startup event"],
        text="Use @app.on_event('startup').",
        version="0.68.0",
    ),
]


class FakeRetriever:
    """Ranks passages by shared lowercase words with the query; records every call."""

    name = "fake"

    def __init__(self, passages: list[Passage] = PASSAGES, latest: str = "0.141.1") -> None:
        self.passages = passages
        self.latest = latest
        self.calls: list[tuple[str, int, str | None]] = []

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        q = check_query(query)
        self.calls.append((q, k, version))
        v = version or self.latest
        if v not in {p.version for p in self.passages}:
            raise UnknownVersionError(f"version {v} was not ingested")
        words = set(q.lower().replace("?", " ").split())
        scored = []
        for p in self.passages:
            if p.version != v:
                continue
            overlap = len(words & set((p.title + " " + p.text).lower().replace(".", " ").split()))
            scored.append(p.model_copy(update={"score": float(overlap)}))
        scored.sort(key=lambda p: -p.score)
        return scored[:k]


@pytest.fixture
def retriever() -> FakeRetriever:
    return FakeRetriever()


@pytest.fixture(autouse=True)
def _reset_dspy() -> Iterator[None]:
    with dspy.context(lm=None):
        yield


class WordMatch:
    """Sections whose heading or text holds every word of the query (longest words first), as passages."""

    name = "word-match"

    def __init__(self, db: Path) -> None:
        self.con = connect(db, read_only=True)

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        words = sorted({w.lower() for w in query.split() if len(w) > 3}, key=len, reverse=True)[:3]
        where = " AND ".join("lower(array_to_string(heading_path, ' ') || ' ' || text) LIKE ?" for _ in words)
        rows = self.con.execute(
            f"SELECT section_id, url, heading_path, text, version FROM sections WHERE kind = 'doc' AND version = ? "
            f"{'AND ' + where if where else ''} ORDER BY length(text) DESC LIMIT ?",
            [version or "0.141.1", *[f"%{w}%" for w in words], k],
        ).fetchall()
        return [
            Passage(chunk_id=sid, url=url, heading_path=list(hp), text=text, version=v, score=1.0 / (i + 1))
            for i, (sid, url, hp, text, v) in enumerate(rows)
        ]


@pytest.fixture(scope="module")
def tools(real_store: tuple[Path, object]) -> Iterator[DocsTools]:
    """The docs tools over the real store, searching with ``WordMatch`` (corpus tier)."""
    t = DocsTools(WordMatch(real_store[0]), real_store[0])
    yield t
    t.close()


@pytest.fixture(scope="module")
def urls(tools: DocsTools) -> set[str]:
    return tools.section_urls()
