"""programs/trust/echo.py: an answer sentence that asks the user's question back is removed; questions back
with words of their own, statements, and code stay."""

from __future__ import annotations

from typing import Any

import dspy
import pytest

from programs.answering import answer_over
from programs.trust.checks import TrustChecks
from programs.trust.echo import drop_echoes, drop_restated_claim, is_echo
from programs.trust.support import content_words
from tests.programs.conftest import PASSAGES

QUESTION = "TrustedHostMiddleware doesn't support wildcards, so I have to list every subdomain one by one?"


@pytest.mark.parametrize(
    ("sentence", "echo"),
    [
        ("TrustedHostMiddleware does not support wildcards, so you have to list every subdomain one by one [1]?", True),
        ("TrustedHostMiddleware doesn't support wildcards, so I have to list every subdomain one by one? [1]", True),
        # a statement is judged by the support check, not here
        ("TrustedHostMiddleware does not support wildcards, so list every subdomain one by one [1].", False),
        # a question back that brings its own words
        ("Do you mean the allowed_hosts argument of TrustedHostMiddleware, which takes a pattern list?", False),
        ("Wildcards?", False),  # too short to judge
    ],
)  # fmt: skip
def test_is_echo(sentence: str, echo: bool) -> None:
    assert is_echo(sentence, content_words(QUESTION)) is echo


def test_code_indentation_and_nested_lists_survive_a_removal() -> None:
    text = (
        "TrustedHostMiddleware doesn't support wildcards, so I have to list every subdomain one by one [1]?\n"
        "- Use it:\n  - nested  item [1]\n```python\nif True:\n    app.add_middleware(X)\n```"
    )
    kept, removed = drop_echoes(text, QUESTION)
    assert removed == 1
    assert kept == "- Use it:\n  - nested item [1]\n```python\nif True:\n    app.add_middleware(X)\n```"


def test_drop_echoes_keeps_the_rest_and_code() -> None:
    text = (
        "TrustedHostMiddleware does not support wildcards, so you have to list every subdomain one by one [1]? "
        "Use allowed_hosts=['*.example.com'] [1].\n```python\n# one by one? list every subdomain?\n```"
    )
    kept, removed = drop_echoes(text, QUESTION)
    assert removed == 1
    assert kept == "Use allowed_hosts=['*.example.com'] [1].\n```python\n# one by one? list every subdomain?\n```"
    assert drop_echoes("Use allowed_hosts [1].", QUESTION) == ("Use allowed_hosts [1].", 0)


# the premise check is off in these two: their questions carry a claim, which would also get the docs' sentence
# quoted before the answer (tests/programs/trust/test_assumption.py)
def _answerer(answer: str) -> Any:
    def call(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer=answer, cannot_answer=False)

    return call


def test_an_echo_is_removed_from_the_answer_and_counted() -> None:
    question = "CORSMiddleware needs allow_origins listed one by one, so how do I add it for my app?"
    answer = "CORSMiddleware needs allow_origins listed one by one, so how do you add it for your app [1]? Add CORSMiddleware with allow_origins [1]."
    pred = answer_over(
        _answerer(answer), question, PASSAGES[:2], ["cors"], 500, checks=TrustChecks(verify="off", premise=False)
    )
    assert pred.answer.startswith("Add CORSMiddleware with allow_origins")
    assert "so how do you add it" not in pred.answer
    assert pred.verification["echoes_removed"] == 1


def test_an_answer_that_only_echoes_is_declined_with_its_reason() -> None:
    question = "CORSMiddleware needs allow_origins listed one by one, right?"
    answer = "CORSMiddleware needs allow_origins listed one by one, right [1]?"
    pred = answer_over(
        _answerer(answer), question, PASSAGES[:2], ["cors"], 500, checks=TrustChecks(verify="off", premise=False)
    )
    assert pred.cannot_answer
    assert pred.reason == "verification: the answer only asked the question back"


@pytest.mark.parametrize(
    ("sentence", "dropped"),
    [
        ("FastAPI requires every path operation function to be async def [1].", True),
        ("If so, why?", True),
        ("if so why?", True),
        ("FastAPI does not require every path operation function to be async def [1].", False),  # a denial
        ("FastAPI doesn't require every path operation function to be async def.", False),
        ("A normal def path operation function runs in a threadpool [1].", False),  # words of its own
        ("Path operation functions [1].", False),  # too short to judge
    ],
)
def test_a_restated_claim_goes_and_a_denial_stays(sentence: str, dropped: bool) -> None:
    claim = "FastAPI requires every path operation function to be async def"
    text, removed = drop_restated_claim(f"Use def [1]. {sentence}", claim)
    assert (removed == 1) is dropped and (text == "Use def [1].") is dropped


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the model put the marker after the full stop: it cites the sentence before and goes with it
        (
            "FastAPI requires every path operation function to be async def. If so, why? [1] You can use def [2].",
            "You can use def [2].",
        ),
        ("Use def [2]. FastAPI requires every path operation function to be async def. [1][3]", "Use def [2]."),
        # a marker after the kept sentence's full stop stays with it when the sentence after goes
        ("Use def. [1] FastAPI requires every path operation function to be async def.", "Use def. [1]"),
        ("Use def. [1] A plain def runs in a threadpool [2].", "Use def. [1] A plain def runs in a threadpool [2]."),
        # a marker followed by its own full stop goes with the sentence too
        ("FastAPI requires every path operation function to be async def. [1]. Use def [2].", "Use def [2]."),
        # a marker opening a line belongs to that line, not to a dropped sentence before it
        (
            "FastAPI requires every path operation function to be async def.\n\n[1] https://fastapi.tiangolo.com/async/",
            "[1] https://fastapi.tiangolo.com/async/",
        ),
    ],
)
def test_markers_after_a_full_stop_follow_the_sentence_they_cite(text: str, expected: str) -> None:
    assert drop_restated_claim(text, "FastAPI requires every path operation function to be async def")[0] == expected
