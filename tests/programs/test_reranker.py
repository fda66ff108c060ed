"""programs/reranker.py: the LM's picks come first in its order, the rest keep the retriever's order, and
nothing the LM writes can drop, duplicate or invent a passage."""

from __future__ import annotations

import dspy
from dspy.utils import DummyLM

from fda.types import Passage
from programs.reranker import QUESTION_CHARS, SNIPPET_CHARS, LMReranker, candidates, prompt_inputs, render, reorder
from tests.programs.conftest import PASSAGES


def chunk(section: str, n: int) -> Passage:
    return Passage(
        chunk_id=f"{section}-{n}",
        url=f"https://fastapi.tiangolo.com/x/#{section}",
        heading_path=["X", section],
        text=f"{section} text {n}",
        version="1",
    )


RANKED = [chunk("a", 0), chunk("b", 0), chunk("a", 1), chunk("c", 0), chunk("d", 0)]


def ids(passages: list[Passage]) -> list[str]:
    return [p.chunk_id for p in passages]


def test_candidates_are_the_first_distinct_sections() -> None:
    assert ids(candidates(RANKED, 3)) == ["a-0", "b-0", "c-0"]
    assert ids(candidates(RANKED, 10)) == ["a-0", "b-0", "c-0", "d-0"]


def test_picked_sections_lead_with_all_their_chunks_and_the_rest_keep_their_order() -> None:
    shown = candidates(RANKED, 3)
    assert ids(reorder(RANKED, shown, [3, 2])) == ["c-0", "b-0", "a-0", "a-1", "d-0"]
    assert ids(reorder(RANKED, shown, [2])) == ["b-0", "a-0", "a-1", "c-0", "d-0"]


def test_invented_repeated_or_unreadable_numbers_are_ignored() -> None:
    shown = candidates(RANKED, 3)
    assert ids(reorder(RANKED, shown, [9, 0, -1, "x", 3, "3", "[2]"])) == ["c-0", "b-0", "a-0", "a-1", "d-0"]
    assert reorder(RANKED, shown, []) == RANKED
    assert reorder(RANKED, shown, [4]) == RANKED  # d was not shown: the LM cannot name it


def test_each_candidate_is_one_line_cut_at_a_word() -> None:
    long = chunk("long", 0).model_copy(update={"text": "word\n\n" + "word " * 100})
    line = render([long])
    assert "\n" not in line and line.startswith("[1] X > long: word word")
    text = line.split(": ", 1)[1]
    assert text.endswith("…") and len(text) <= SNIPPET_CHARS and text[:-1].split()[-1] == "word"
    lines = render(candidates(RANKED, 2)).splitlines()
    assert lines == ["[1] X > a: a text 0", "[2] X > b: b text 0"]
    assert prompt_inputs("q" * 5000, RANKED[:1])["question"] == "q" * QUESTION_CHARS


def test_the_module_reorders_by_the_lms_pick() -> None:
    lm = DummyLM([{"best": [2, 1]}])
    with dspy.context(lm=lm):
        pred = LMReranker(top=3)(question="How do I add middleware?", passages=PASSAGES)
    assert [p.chunk_id for p in pred.passages] == ["c-mw", "c-cors", "c-bg", "c-ev68"]
    prompt = str(lm.history[-1]["messages"])
    assert "[3] Background Tasks > Using BackgroundTasks" in prompt and "Events" not in prompt  # top 3 shown


def test_one_candidate_needs_no_lm_call() -> None:
    lm = DummyLM([])
    with dspy.context(lm=lm):
        pred = LMReranker()(question="q", passages=PASSAGES[:1])
    assert pred.passages == PASSAGES[:1] and not lm.history
