"""programs/since.py: a section cited from older docs is compared with the latest docs' section on the same page
(same file, same anchor), and the answer ends with what changed."""

from __future__ import annotations

from typing import Any

import dspy
import pytest

from fda.types import Passage
from programs.answering import answer_over
from programs.since import LatestDocs, Section, code_names
from programs.trust.checks import TrustChecks

OLD = "https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs"
NEW = "https://fastapi.tiangolo.com"
EVENTS = "docs/en/docs/advanced/events.md"
QUERY = "docs/en/docs/tutorial/query-params-str-validations.md"
STARTUP_TEXT = "To add a function that should be run before the application starts, declare it with the event startup."


def _s(version: str, path: str, anchor: str, title: str, ordinal: int, text: str = "", code: str = "",
       heading: tuple[str, ...] = (), level: int = 2) -> Section:  # fmt: skip
    base = OLD.replace("0.68.0", version) + "/" + path.split("docs/en/docs/")[1] if version != "0.141.1" else NEW
    url = f"{base}#{anchor}" if version != "0.141.1" else f"{NEW}/{path.split('docs/en/docs/')[1][:-3]}/#{anchor}"
    return Section(version, path, anchor, url, title, heading or (title,), level, ordinal, text or title, code)


SECTIONS = [
    _s("0.68.0", EVENTS, "startup-event", "startup event", 1, STARTUP_TEXT, heading=("Events", "startup event")),
    _s("0.141.1", EVENTS, "lifespan-events", "Lifespan Events", 0),
    _s("0.141.1", EVENTS, "alternative-events-deprecated", "Alternative Events (deprecated)", 5),
    _s("0.141.1", EVENTS, "startup-event", "startup event", 6, STARTUP_TEXT,
       heading=("Lifespan Events", "Alternative Events (deprecated)", "startup event"), level=3),
    _s("0.68.0", QUERY, "add-regular-expressions", "Add regular expressions", 3, "You can define a regular expression.",
       code="from typing import Optional\nfrom fastapi import FastAPI, Query\nq: Optional[str] = Query(None, regex='^x$')"),
    _s("0.141.1", QUERY, "add-regular-expressions", "Add regular expressions", 3, "You can define a regular expression.",
       code="from typing import Annotated\nfrom fastapi import FastAPI, Query\nq: Annotated[str | None, Query(pattern='^x$')] = None"),
    _s("0.68.0", QUERY, "same", "Same", 4, "Nothing changed here at all.", code="from fastapi import Query"),
    _s("0.141.1", QUERY, "same", "Same", 4, "Nothing changed here at all.", code="from fastapi import Query"),
    _s("0.68.0", "docs/en/docs/advanced/async-sql-databases.md", "intro", "Async SQL", 0),
    _s("0.68.0", "docs/en/docs/advanced/conditional-openapi.md", "intro", "Conditional OpenAPI", 0),
    _s("0.141.1", "docs/en/docs/how-to/conditional-openapi.md", "intro", "Conditional OpenAPI", 0),
]  # fmt: skip
LATEST = LatestDocs(SECTIONS, "0.141.1")


def _url(version: str, path: str, anchor: str) -> str:
    return next(s.url for s in SECTIONS if s.version == version and s.path == path and s.anchor == anchor)


def test_a_section_now_under_a_deprecated_heading_says_so_with_the_pages_new_sections() -> None:
    note = LATEST.note("0.68.0", _url("0.68.0", EVENTS, "startup-event"))
    assert note is not None and note.change == "deprecated" and note.under == "Alternative Events (deprecated)"
    assert note.line() == (
        "Since 0.68.0: in the FastAPI 0.141.1 docs, 'startup event' is under 'Alternative Events (deprecated)' "
        f"({NEW}/advanced/events/#startup-event); the page adds 'Lifespan Events' ({NEW}/advanced/events/#lifespan-events), "
        f"'Alternative Events (deprecated)' ({NEW}/advanced/events/#alternative-events-deprecated)."
    )


def test_code_names_no_longer_used_and_used_instead() -> None:
    note = LATEST.note("0.68.0", _url("0.68.0", QUERY, "add-regular-expressions"))
    assert note is not None and note.change == "unchanged"
    assert note.dropped == ("Optional", "regex") and note.instead == ("Annotated", "pattern")
    assert "its examples no longer use `Optional`, `regex` but `Annotated`, `pattern`" in note.line()
    assert "the page adds" not in note.line()  # new sections elsewhere on the page are not news about this one


def test_nothing_is_said_of_a_section_that_reads_the_same_or_of_the_latest_docs() -> None:
    assert LATEST.note("0.68.0", _url("0.68.0", QUERY, "same")) is None
    assert LATEST.note("0.141.1", _url("0.141.1", QUERY, "same")) is None
    assert LATEST.note("0.68.0", "https://example.com/unknown#x") is None


def test_a_page_gone_or_moved() -> None:
    gone = LATEST.note("0.68.0", _url("0.68.0", "docs/en/docs/advanced/async-sql-databases.md", "intro"))
    assert (
        gone is not None
        and gone.line() == "Since 0.68.0: in the FastAPI 0.141.1 docs, the page of 'Async SQL' is gone."
    )
    moved = LATEST.note("0.68.0", _url("0.68.0", "docs/en/docs/advanced/conditional-openapi.md", "intro"))
    assert moved is not None and moved.url == f"{NEW}/how-to/conditional-openapi/#intro"


def test_code_names_are_keyword_arguments_and_imports_line_by_line() -> None:
    code = (
        "from fastapi import (\n  FastAPI,\n  Query,\n)\nfrom typing import Optional\nx = Query(None, regex='a')\ny = 1"
    )
    assert code_names(code) == {"FastAPI", "Query", "Optional", "regex"}


def test_the_answer_from_older_docs_ends_with_the_note_and_reports_it() -> None:
    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Declare a startup event handler [1].", cannot_answer=False)

    passage = Passage(chunk_id="c", url=_url("0.68.0", EVENTS, "startup-event"), heading_path=["Events", "startup event"],
                      text=STARTUP_TEXT, version="0.68.0")  # fmt: skip
    checks = TrustChecks(verify="off", latest_docs=LATEST)
    pred = answer_over(answerer, "I'm on 0.68, how do I run code at startup?", [passage], ["q"], 500, checks=checks)  # type: ignore[arg-type]
    head, _, tail = pred.answer.partition("\n\n")
    assert head == "Declare a startup event handler [1]."
    assert tail.startswith("Since 0.68.0: in the FastAPI 0.141.1 docs, 'startup event' is under")
    assert pred.since[0]["change"] == "deprecated" and pred.since[0]["url"] == f"{NEW}/advanced/events/#startup-event"
    # without the latest docs loaded, the answer is as it was
    plain = answer_over(
        answerer, "how do I run code at startup?", [passage], ["q"], 500, checks=TrustChecks(verify="off")
    )  # type: ignore[arg-type]
    assert plain.answer == "Declare a startup event handler [1]." and not getattr(plain, "since", None)


def test_a_renamed_anchor_or_the_same_heading_is_the_same_section() -> None:
    path = "docs/en/docs/advanced/behind-a-proxy.md"
    sections = [
        _s("0.68.0", path, "providing-the-root_path", "Providing the root_path", 1, "Pass --root-path to uvicorn."),
        _s("0.141.1", path, "providing-the-root-path", "Providing the root_path", 1, "Pass --root-path to uvicorn."),
        _s("0.68.0", path, "old-anchor", "Checking the current root_path", 2, "Read request.scope."),
        _s(
            "0.141.1",
            path,
            "checking-the-current-root-path",
            "Checking the current root_path",
            2,
            "Read request.scope.",
        ),
    ]
    latest = LatestDocs(sections, "0.141.1")
    for s in sections[::2]:
        assert latest.note("0.68.0", s.url) is None  # the same words under a renamed anchor: nothing to say


def test_the_latest_section_cited_for_a_user_on_an_older_version() -> None:
    new_url = _url("0.141.1", QUERY, "add-regular-expressions")
    note = LATEST.before("0.68.0", new_url)
    assert note is not None and note.theirs == ("Optional", "regex") and note.ours == ("Annotated", "pattern")
    assert note.line().startswith("On FastAPI 0.68.0: the docs' example for 'Add regular expressions' uses `Optional`")
    missing = LATEST.before("0.68.0", _url("0.141.1", EVENTS, "lifespan-events"))
    assert missing is not None and missing.url is None and "no section 'Lifespan Events'" in missing.line()
    assert LATEST.before("0.68.0", _url("0.141.1", QUERY, "same")) is None  # the same names: nothing to say


def test_an_answer_citing_the_latest_docs_for_a_user_on_an_older_version_says_what_differs() -> None:
    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Use `pattern` in `Query` [1].", cannot_answer=False)

    new = next(s for s in SECTIONS if s.version == "0.141.1" and s.anchor == "add-regular-expressions")
    old = next(s for s in SECTIONS if s.version == "0.68.0" and s.anchor == "add-regular-expressions")
    passages = [
        Passage(chunk_id="n", url=new.url, heading_path=[new.title], text=new.text, version="0.141.1"),
        Passage(chunk_id="o", url=old.url, heading_path=[old.title], text="Unrelated words.", version="0.68.0"),
    ]
    checks = TrustChecks(verify="off", latest_docs=LATEST)
    pred = answer_over(answerer, "I'm on 0.68: regex for a query?", passages, ["q"], 500, checks=checks)  # type: ignore[arg-type]
    assert pred.answer.endswith(
        f"uses `Optional`, `regex` where the latest docs use `Annotated`, `pattern` ({old.url})."
    )
    assert pred.since[-1]["before"] is True and pred.since[-1]["theirs"] == ["Optional", "regex"]


def test_a_removal_claim_no_shown_passage_refutes_is_answered_from_the_latest_docs_section() -> None:
    deps = "docs/en/docs/tutorial/dependencies/index.md"
    latest = LatestDocs(
        [*SECTIONS, _s("0.141.1", deps, "declare-the-dependency", "Declare the dependency", 1,
                       "You just pass it to `Depends` and FastAPI knows how to do the rest.")],
        "0.141.1",
    )  # fmt: skip

    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Use a dependency that yields a session [1].", cannot_answer=False)

    shown = [Passage(chunk_id="s", url=f"{NEW}/tutorial/sql-databases/#session", heading_path=["Session"],
                     text="Create a session dependency with yield.", version="0.141.1")]  # fmt: skip
    checks = TrustChecks(verify="off", latest_docs=latest)
    question = "Since FastAPI removed `Depends` in 0.100, how do I share a DB session?"
    pred = answer_over(answerer, question, shown, ["q"], 500, checks=checks)  # type: ignore[arg-type]
    assert pred.answer.startswith(
        "You assume that FastAPI removed `Depends` in 0.100. The FastAPI 0.141.1 docs still document `Depends`: "
        '"You just pass it to `Depends` and FastAPI knows how to do the rest." ['
    )
    assert latest.documenting("FastAPI removed `Depends`")[0].url in [c.url for c in pred.citations]  # type: ignore[index]


def test_the_section_added_to_answer_a_claim_gets_no_other_way_note() -> None:
    deps = "docs/en/docs/reference/dependencies.md"
    latest = LatestDocs(
        [*SECTIONS, _s("0.141.1", deps, "depends", "Depends()", 1, "Dependencies are handled with `Depends()`.")],
        "0.141.1",
    )

    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Use a dependency that yields a session [1].", cannot_answer=False)

    old = next(s for s in SECTIONS if s.version == "0.68.0" and s.anchor == "same")
    shown = [Passage(chunk_id="o", url=old.url, heading_path=["Same"], text="Create a session with yield.",
                     version="0.68.0")]  # fmt: skip
    checks = TrustChecks(verify="off", latest_docs=latest)
    pred = answer_over(answerer, "Since FastAPI removed `Depends`, how?", shown, ["q"], 500, checks=checks)  # type: ignore[arg-type]
    assert pred.answer.startswith("You assume that FastAPI removed `Depends`.")
    assert "has no section 'Depends()'" not in pred.answer and "docs have no section" not in pred.answer


BODY = "docs/en/docs/tutorial/body.md"
SECURITY = "docs/en/docs/how-to/conditional-openapi.md"
BODY_TEXT = "To declare a **request** body, you use Pydantic models with all their power and benefits."
THINGS = [
    *SECTIONS,
    _s("0.141.1", SECURITY, "security", "About security", 1,
       "Make sure you have well defined Pydantic models for your request bodies and responses."),
    _s("0.141.1", BODY, "request-body", "Request Body", 0, BODY_TEXT),
    _s("0.68.0", BODY, "request-body", "Request Body", 0, "Old words: Pydantic models declare a request body."),
    _s("0.141.1", "docs/en/docs/tutorial/middleware.md", "middleware", "Middleware", 0, "Some text.\n\n"
       "You can add middleware to **FastAPI** applications."),
    _s("0.141.1", "docs/en/docs/advanced/middleware.md", "other", "Other ASGI middlewares", 3,
       "There are many other ASGI middlewares."),
]  # fmt: skip


def test_a_feature_said_to_be_gone_is_answered_from_the_section_titled_with_it() -> None:
    latest = LatestDocs(THINGS, "0.141.1")
    found = latest.documenting_thing("FastAPI dropped support for Pydantic models in request bodies in 0.100")
    assert found is not None
    passage, said = found
    assert passage.url == f"{NEW}/tutorial/body/#request-body" and passage.version == "0.141.1"  # not the older one
    assert said.sentence == BODY_TEXT and said.name == "Pydantic models in request bodies" and not said.code


def test_a_feature_claim_is_answered_from_the_section_whose_title_says_least_else() -> None:
    latest = LatestDocs(THINGS, "0.141.1")
    found = latest.documenting_thing("FastAPI no longer supports ASGI middlewares")
    assert found is not None and found[0].url == f"{NEW}/advanced/middleware/#other"
    assert latest.documenting_thing("FastAPI no longer supports WSGI middlewares") is None  # no sentence holds both


def test_no_feature_note_when_the_docs_speak_of_its_removal_anywhere() -> None:
    said_gone = _s("0.141.1", "docs/en/docs/how-to/migrate.md", "m", "Migrate", 0,
                   "Pydantic models in a request body were deprecated for some types.")  # fmt: skip
    assert (
        LatestDocs([*THINGS, said_gone], "0.141.1").documenting_thing(
            "FastAPI dropped support for Pydantic models in request bodies"
        )
        is None
    )
    # the same claim without saying when or how it went is no removal claim
    assert LatestDocs(THINGS, "0.141.1").documenting_thing("FastAPI removed Pydantic models in request bodies") is None


@pytest.mark.parametrize(("shown_text", "sources"), [(BODY_TEXT, 1), ("Create a model class.", 2)])
def test_in_the_answer_a_feature_claim_is_corrected_citing_the_section_once(shown_text: str, sources: int) -> None:
    latest = LatestDocs(THINGS, "0.141.1")

    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Declare a Pydantic model as the body [1].", cannot_answer=False)

    body = next(s for s in THINGS if s.version == "0.141.1" and s.path == BODY)
    shown = [Passage(chunk_id="b", url=body.url, heading_path=["Request Body"], text=shown_text, version="0.141.1")]
    question = "Since FastAPI dropped support for Pydantic models in request bodies in 0.100, how do I accept JSON?"
    pred = answer_over(answerer, question, shown, ["q"], 500, checks=TrustChecks(verify="off", latest_docs=latest))  # type: ignore[arg-type]
    assert pred.answer.startswith(
        "You assume that FastAPI dropped support for Pydantic models in request bodies in 0.100. The FastAPI 0.141.1 "
        f'docs still document Pydantic models in request bodies: "{BODY_TEXT}" [1]'
    )
    # the shown chunk is cited for the quote when it holds it; else the whole section joins the sources
    assert [c.url for c in pred.citations] == [body.url] * sources
