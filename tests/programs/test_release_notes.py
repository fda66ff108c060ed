"""'Since which version...?' gets the release notes' own item, its release and date, cited before the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from fda.types import Passage
from programs.release_notes import asks_when, release_evidence, release_note, release_of


def release(version: str, text: str, date: str = "2024-09-06") -> Passage:
    anchor = version.replace(".", "")
    return Passage(
        chunk_id=f"rn-{version}",
        url=f"https://fastapi.tiangolo.com/release-notes/#{anchor}",
        heading_path=["Release Notes", f"{version} ({date})" if date else version, "Features"],
        text=text,
        version="0.141.1",
        kind="release",
    )


DOCS = Passage(
    chunk_id="docs",
    url="https://fastapi.tiangolo.com/tutorial/request-form-models/#forbid-extra-form-fields",
    heading_path=["Form Models", "Forbid Extra Form Fields"],
    text="You can forbid extra form fields with model_config extra forbid.",
    version="0.141.1",
)
FORMS = release(
    "0.114.0",
    "* ✨ Add support for forbidding extra form fields with Pydantic models. PR #12134 by @tiangolo.\n"
    "```python\nclass FormData(BaseModel):\n    model_config = {'extra': 'forbid'}\n```\n",
)
FORMS_LATER = release("0.115.2", "* 🐛 Fix forbidding extra form fields with Pydantic models in nested models.", "")
QUESTION = "Since which FastAPI version can Pydantic form models forbid extra form fields?"


def test_only_questions_that_ask_when() -> None:
    assert asks_when(QUESTION)
    assert asks_when("When was the lifespan parameter added?")
    assert asks_when("Which release dropped Python 3.8?")
    assert not asks_when("How do I forbid extra form fields?")
    assert release_evidence("How do I forbid extra form fields with Pydantic form models?", [DOCS, FORMS]) is None


def test_the_matching_item_of_the_earliest_release_is_quoted_with_its_date() -> None:
    item = release_evidence(QUESTION, [DOCS, FORMS_LATER, FORMS])
    assert item is not None and (item.index, item.version, item.date) == (2, "0.114.0", "2024-09-06")
    assert item.text == "Add support for forbidding extra form fields with Pydantic models."  # no emoji, no PR tail
    assert release_note(item, item.index + 1) == (
        "FastAPI 0.114.0 (2024-09-06), from its release notes: "
        '"Add support for forbidding extra form fields with Pydantic models." [3]'
    )


def test_an_item_about_something_else_is_not_quoted() -> None:
    other = release("0.120.0", "* ✨ Add support for dependency scopes in yield dependencies. PR #1 by @x.")
    assert release_evidence(QUESTION, [DOCS, other]) is None
    assert release_evidence(QUESTION, [DOCS]) is None  # no release notes shown


def test_release_of_reads_the_heading_and_ignores_docs_passages() -> None:
    assert release_of(FORMS) == ("0.114.0", "2024-09-06")
    assert release_of(FORMS_LATER) == ("0.115.2", "")
    assert release_of(DOCS) is None


def test_the_answer_step_puts_the_release_before_the_answer_and_reports_it() -> None:
    import dspy

    from programs.answering import answer_over
    from programs.trust.checks import TrustChecks

    def answerer(**kwargs: object) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Set model_config extra forbid [1].", cannot_answer=False)

    pred = answer_over(answerer, QUESTION, [DOCS, FORMS], ["forbid"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    assert pred.answer.startswith('FastAPI 0.114.0 (2024-09-06), from its release notes: "Add support for')
    assert pred.answer.endswith("Set model_config extra forbid [2].")  # markers renumbered in reading order
    assert pred.verification["release"] == "0.114.0"
    assert [c.url for c in pred.citations] == [FORMS.url, DOCS.url]

    def declines(**kwargs: object) -> dspy.Prediction:
        return dspy.Prediction(cited=[], answer="I can't answer that from the docs.", cannot_answer=True)

    declined = answer_over(declines, QUESTION, [DOCS, FORMS], ["forbid"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    # no release quoted in a decline (its section may be among the links to read, which claim nothing)
    assert declined.cannot_answer and "from its release notes" not in declined.answer
    assert declined.answer.startswith("I can't answer that from the docs.")


def test_every_release_is_searched_when_the_shown_passages_hold_none() -> None:
    from programs.release_notes import ReleaseNotes

    notes = ReleaseNotes(
        [
            release("0.129.0", "* ➖ Drop support for Python 3.9. PR #14897 by @tiangolo."),
            release("0.125.0", "* ➖ Drop support for Python 3.8. PR #14563 by @tiangolo."),
            FORMS,
        ]
    )
    found = notes.find("Which FastAPI release dropped Python 3.9?")
    assert found is not None and (found[0].version, found[0].text) == ("0.129.0", "Drop support for Python 3.9.")
    assert found[1].chunk_id == "rn-0.129.0"
    assert notes.find("Which release dropped Python 3.7?") is None  # the version number must be there
    assert notes.find("How do I drop Python 3.9 support in my app?") is None  # not a when-question


@pytest.mark.corpus
def test_the_stores_release_notes_answer_since_when(real_store: tuple[Path, object]) -> None:
    from programs.release_notes import ReleaseNotes

    notes = ReleaseNotes.from_store(real_store[0])
    assert len(notes) > 1000
    found = notes.find("Since which version can a websocket route take dependencies=[...]?")
    assert found is not None and found[0].version == "0.97.0" and "WebSocket" in found[0].text


def test_the_answer_step_cites_a_release_it_found_outside_the_shown_passages() -> None:
    import dspy

    from programs.answering import answer_over
    from programs.release_notes import ReleaseNotes
    from programs.trust.checks import TrustChecks

    def answerer(**kwargs: object) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Set model_config extra forbid [1].", cannot_answer=False)

    checks = TrustChecks(verify="off", releases=ReleaseNotes([FORMS_LATER, FORMS]))
    pred = answer_over(answerer, QUESTION, [DOCS], ["forbid"], 500, checks=checks)  # type: ignore[arg-type]
    assert pred.answer.startswith('FastAPI 0.114.0 (2024-09-06), from its release notes: "Add support for')
    assert [c.url for c in pred.citations] == [FORMS.url, DOCS.url]
    assert [p.chunk_id for p in pred.passages] == ["docs", "rn-0.114.0"]


def test_over_every_release_only_a_change_in_the_questions_direction() -> None:
    from programs.release_notes import ReleaseNotes

    notes = ReleaseNotes(
        [
            release("0.10.3", "* Make Travis run Ubuntu Xenial and Python 3.7 instead of Python 3.7-dev."),
            release("0.44.1", "* ✨ Add full support for Python 3.8. PR #749."),
            release("0.125.0", "* ➖ Drop support for Python 3.8. PR #1."),
            release("0.1.19", "* ⬆️ Upgrade Starlette to `0.10.1`. PR #2."),
        ]
    )
    assert notes.find("When did FastAPI drop Python 3.7 support?") is None  # a CI item is no answer
    dropped = notes.find("Our servers still run Python 3.8. What is the newest FastAPI we can install?")
    assert dropped is not None and dropped[0].version == "0.125.0"  # a removal question takes the removal
    added = notes.find("Since which release does FastAPI support Python 3.8?")
    assert added is not None and added[0].version == "0.44.1"  # an addition question the addition
    assert notes.find("When did FastAPI start requiring Python 3.8?") is None  # "require" goes either way
    assert notes.find("When did FastAPI upgrade Starlette to 0.27?") is None  # the package's version must match
    assert notes.find("When does a background task run?") is None  # asks how, not since when
    assert notes.find("Which version of the OpenAPI spec does FastAPI generate?") is None
