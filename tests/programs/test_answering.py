"""programs/answering.py: output cut at max_tokens is salvaged once, not retried; repeats are dropped."""

from __future__ import annotations

from typing import Any

import dspy
import pytest

from programs.answering import answer_over, drop_repeats
from signatures.answer import CitedAnswer
from tests.programs.conftest import PASSAGES


class CutShort:
    """An answerer whose output was cut mid-answer (what DSPy's JSON adapter raises then)."""

    def __init__(self, parsed: Any) -> None:
        self.parsed, self.calls = parsed, 0

    def __call__(self, **_: Any) -> dspy.Prediction:
        self.calls += 1
        raise dspy.AdapterParseError("JSONAdapter", CitedAnswer, "{...", parsed_result=self.parsed)


def test_cut_answer_is_kept_without_a_second_call() -> None:
    looping = (
        "Add CORSMiddleware to the app [1].\nSet allow_origins [1].\nSet allow_origins [1].\nSet allow_origins [1]."
    )
    answerer = CutShort({"cited": [1], "answer": looping})
    pred = answer_over(answerer, "How do I enable CORS?", PASSAGES[:2], ["cors"], 500)  # type: ignore[arg-type]
    assert answerer.calls == 1
    assert not pred.cannot_answer and pred.answer.count("allow_origins") == 1
    assert pred.reason.startswith("salvaged") and pred.citations[0].url.endswith("#use-corsmiddleware")


@pytest.mark.parametrize("parsed", [None, {"cited": [1]}, {"answer": "  "}])
def test_nothing_to_salvage_is_retried_then_cannot_answer(parsed: Any) -> None:
    answerer = CutShort(parsed)
    pred = answer_over(answerer, "How do I enable CORS?", PASSAGES[:2], ["cors"], 500)  # type: ignore[arg-type]
    assert answerer.calls == 2 and pred.cannot_answer and pred.reason == "malformed LM output"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb\na\nb\nc", "a\nb\nc"),
        ("```\nx = 1\n```\n```\nx = 1\n```", "```\nx = 1\n```\n```\nx = 1\n```"),  # code is kept
        ("a\n\n\nb", "a\n\n\nb"),
    ],
)
def test_drop_repeats(text: str, expected: str) -> None:
    assert drop_repeats(text) == expected


class Recorder:
    """An answerer that records the sources it was shown and answers from source 1."""

    def __init__(self) -> None:
        self.sources = ""

    def __call__(self, question: str, sources: str) -> dspy.Prediction:
        self.sources = sources
        return dspy.Prediction(cited=[1], answer="Set allow_origins [1].", cannot_answer=False)


@pytest.mark.parametrize(("focus", "shown"), [(True, True), (False, False)])
def test_focus_shows_the_lines_that_match_the_question(focus: bool, shown: bool) -> None:
    long = PASSAGES[0].model_copy(
        update={"text": "\n".join(["Some general words about browsers and origins."] * 12 + ["allow_credentials=True"])}
    )
    answerer = Recorder()
    pred = answer_over(answerer, "Can I send cookies?", [long], ["allow_credentials"], 200, focus=focus)  # type: ignore[arg-type]
    assert ("allow_credentials=True" in answerer.sources) is shown
    assert not pred.cannot_answer


@pytest.mark.parametrize(("focus", "widened"), [(True, True), (False, False)])
def test_widen_feeds_the_focused_cut_only(focus: bool, widened: bool) -> None:
    answerer = Recorder()
    calls: list[tuple[str, int]] = []

    def widen(p: Any, limit: int) -> str:
        calls.append((p.chunk_id, limit))
        return p.text + "\napp.add_middleware(CORSMiddleware, allow_origins=['*'])"

    answer_over(answerer, "How do I enable CORS?", PASSAGES[:1], [], 300, focus=focus, widen=widen)  # type: ignore[arg-type]
    assert ("app.add_middleware" in answerer.sources) is widened
    assert calls == ([("c-cors", 1200)] if widened else [])
