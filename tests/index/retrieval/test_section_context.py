"""index/retrieval/section_context.py: a passage widened to its section around it, for the answer step."""

from __future__ import annotations

from typing import Any

import pytest

from fda.errors import UnknownVersionError
from fda.types import Passage
from index.retrieval.passages import Chunk
from index.retrieval.section_context import SectionContext

V = "0.141.1"


def chunk(cid: str, section: str, text: str) -> Chunk:
    return Chunk(cid, section, f"https://x/{section}/#{section}", (section,), text, V, "doc")


CHUNKS = [
    chunk("a1", "a", "A one."),
    chunk("b1", "b", "B intro."),
    chunk("b2", "b", "B middle, the retrieved chunk."),
    chunk("b3", "b", "B code: app.add_middleware(...)"),
    chunk("c1", "c", "C one."),
]


class FakeBM25:
    name = "bm25"

    def __init__(self) -> None:
        self.searched: list[tuple[str, int, str | None]] = []

    def _load(self, version: str) -> tuple[Any, list[Chunk]]:
        if version != V:
            raise UnknownVersionError(f"version {version} was not ingested")
        return None, CHUNKS

    def search(self, query: str, k: int = 10, version: str | None = None) -> list[Passage]:
        self.searched.append((query, k, version))
        return [CHUNKS[2].passage(1.0)]


@pytest.fixture
def ctx() -> SectionContext:
    bm25 = FakeBM25()
    return SectionContext(bm25, bm25)  # type: ignore[arg-type]


def passage(i: int, version: str = V) -> Passage:
    return CHUNKS[i].passage(1.0).model_copy(update={"version": version})


def test_search_is_the_inner_retrievers(ctx: SectionContext) -> None:
    assert ctx.name == "bm25"
    assert [p.chunk_id for p in ctx.search("q", k=3)] == ["b2"]


def test_whole_section_in_order_when_it_fits(ctx: SectionContext) -> None:
    assert ctx.widen(passage(2), 1000) == "B intro.\nB middle, the retrieved chunk.\nB code: app.add_middleware(...)"


def test_neighbours_one_after_then_one_before_while_they_fit(ctx: SectionContext) -> None:
    middle, after = CHUNKS[2].text, CHUNKS[3].text
    assert ctx.widen(passage(2), len(middle)) == middle
    assert ctx.widen(passage(2), len(middle) + 1 + len(after)) == f"{middle}\n{after}"
    assert ctx.widen(passage(3), 1000).startswith("B intro.")  # the last chunk grows backwards
    assert ctx.widen(passage(0), 1000) == "A one."  # never into another section


def test_unknown_chunk_or_version_gives_the_passage_as_retrieved(ctx: SectionContext) -> None:
    stranger = passage(2).model_copy(update={"chunk_id": "zz", "text": "as retrieved"})
    assert ctx.widen(stranger, 1000) == "as retrieved"
    assert ctx.widen(passage(2, version="0.1.0"), 1000) == CHUNKS[2].text
