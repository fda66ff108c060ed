"""programs/trust/assumption.py: a claim the question takes for granted is found by the shape of its sentence,
kept from the answering LM, and set against the docs' own sentence, quoted before the answer."""

from __future__ import annotations

from typing import Any

import dspy
import pytest

from fda.types import Passage
from programs.answering import answer_over
from programs.trust.assumption import assumption_note, evidence, find_assumption, passage_sentences
from programs.trust.checks import TrustChecks


@pytest.mark.parametrize(
    ("question", "claim", "asked"),
    [
        ("Since FastAPI requires every path operation to be async def, how do I call a blocking driver?",
         "FastAPI requires every path operation to be async def", "How do I call a blocking driver?"),
        # what is left points back at the claim ("them"): the LM gets the whole question, the quote still leads
        ("Given that BackgroundTasks run before the response is sent, how do I make them run after?",
         "BackgroundTasks run before the response is sent",
         "Given that BackgroundTasks run before the response is sent, how do I make them run after?"),
        ("Given that BackgroundTasks run before the response is sent, how do I send an email after it?",
         "BackgroundTasks run before the response is sent",
         "Given that BackgroundTasks run before the response is sent, how do I send an email after it?"),
        ("Depends() caches nothing between requests, so how do I share a DB pool?",
         "Depends() caches nothing between requests", "How do I share a DB pool?"),
        # a statement closed by a tag question: the whole question is the claim, nothing else is asked
        ("APIRouter cannot have its own dependencies, right?", "APIRouter cannot have its own dependencies",
         "APIRouter cannot have its own dependencies, right?"),
        ("I use Form fields. Since FastAPI accepts Form and JSON Body together, which content type do I send?",
         "FastAPI accepts Form and JSON Body together", "I use Form fields. Which content type do I send?"),
        # a why-question that presupposes a demand (session 31's newcomer check): the LM gets it without the
        # presupposition, as a yes/no question that keeps the why
        ("Why does FastAPI require every path operation function to be async def?",
         "FastAPI requires every path operation function to be async def",
         "Does FastAPI require every path operation function to be async def? If so, why?"),
        ("why does FastAPI only accept JSON request bodies?", "FastAPI only accepts JSON request bodies",
         "Does FastAPI only accept JSON request bodies? If so, why?"),
        ("Why do APIRouter instances have to share one prefix?", "APIRouter instances have to share one prefix",
         "Do APIRouter instances have to share one prefix? If so, why?"),
        ("Why does FastAPI insist on Pydantic models for every body?",
         "FastAPI insists on Pydantic models for every body",
         "Does FastAPI insist on Pydantic models for every body? If so, why?"),
        ("Why is `response_model` required on every route?", "`response_model` is required on every route",
         "Is `response_model` required on every route? If so, why?"),
        ("Why must `Depends` return a value?", "`Depends` must return a value",
         "Must `Depends` return a value? If so, why?"),
        ("Why does FastAPI only work with Pydantic models??", "FastAPI only works with Pydantic models",
         "Does FastAPI only work with Pydantic models? If so, why?"),
        ("Why are dependencies required to be async in FastAPI?", "dependencies are required to be async in FastAPI",
         "Are dependencies required to be async in FastAPI? If so, why?"),
        ("why does fastapi require pydantic v2 models?", "fastapi requires pydantic v2 models",
         "Does fastapi require pydantic v2 models? If so, why?"),
    ],
)  # fmt: skip
def test_claims_found_by_the_shape_of_the_sentence(question: str, claim: str, asked: str) -> None:
    found = find_assumption(question)
    assert found is not None
    assert found.claim == claim
    assert found.asked == asked


@pytest.mark.parametrize(
    "question",
    [
        "How do I enable CORS?",
        "Why does my UploadFile come back empty?",  # a why-question about the user's own code
        "Since I added my middleware first, why does it run last?",  # the user's own setup, not a FastAPI claim
        "Since the weather is nice, how should I spend the afternoon?",  # no API named
        "Show me how to read a header with Header(), so I can log it?",  # an instruction
        "```python\napp = FastAPI()\n# since app.state is global, so how?\n```\nWhat does this do?",  # code is not prose
        "Since moving to the new `templates.TemplateResponse(, how do I pass the request?",  # broken clause
        # why-questions: about the user's own code or setup, a demand on nothing API-shaped, no demand at all, or
        # one sentence among others (what else is asked stays the LM's)
        "Why does my endpoint need a token?",
        "Why do I have to restart uvicorn after every change?",
        "why do path operations have to be async?",
        "Why does FastAPI return 422 for this body?",
        "Why does /users/me have to be declared before /users/{user_id}? Does route order matter?",
        # a reviewer's cases: the demand word is not the verb the question turns on, a negation, a hedge, people,
        # the user's own app, a comma where the demand should be
        "Why does FastAPI return 422 for a required query parameter?",
        'Why does FastAPI raise "Field required" for `item_id` with `Path`?',
        "Why is FastAPI so slow when `BaseModel` validation is required?",
        "Why does FastAPI mark my Optional field as required?",
        "Why is there a required field in my FastAPI model?",
        "Why does FastAPI not require async def?",
        "Why does FastAPI seem to require async?",
        "Why do you need `response_model` in FastAPI?",
        "Why does FastAPI need so much memory in my app?",
        "Why does FastAPI require, for bodies, a Pydantic model?",
    ],
)
def test_no_claim(question: str) -> None:
    assert find_assumption(question) is None


DOCS = [
    "## Use TrustedHostMiddleware\nEnforces that all incoming requests have a correctly set `Host` header.\n"
    "Wildcard domains such as `*.example.com` are supported for matching subdomains.\n"
    "```python\napp.add_middleware(TrustedHostMiddleware, allowed_hosts=['example.com'])\n```",
    "You can add a middleware with add_middleware. The TrustedHostMiddleware and the GZipMiddleware are two of them.",
]


def test_evidence_is_the_sentence_covering_the_claim_with_its_passages_api_names() -> None:
    # "TrustedHostMiddleware" is not in the quoted sentence but in its passage: it counts as covered there
    assert evidence("TrustedHostMiddleware doesn't support wildcards", DOCS) == (
        0,
        "Wildcard domains such as `*.example.com` are supported for matching subdomains.",
    )


def test_no_evidence_when_no_sentence_covers_enough_of_the_claim() -> None:
    assert evidence("HTTP headers are case-sensitive in FastAPI", DOCS) is None
    assert evidence("FastAPI is fast", DOCS) is None  # too few words to judge once "FastAPI" is set aside


def test_passage_sentences_skip_code_headings_and_lead_ins() -> None:
    sentences = passage_sentences(DOCS[0] + "\nIf you send two headers like:\n| a | b |")
    assert sentences == [
        "Enforces that all incoming requests have a correctly set `Host` header.",
        "Wildcard domains such as `*.example.com` are supported for matching subdomains.",
    ]


def test_note_reads_on_and_keeps_api_names() -> None:
    assert assumption_note("Setting x=None hides it", "It disables it.", 2) == (
        'You assume that setting x=None hides it. What the docs say: "It disables it." [2]'
    )
    assert assumption_note("TestClient needs await", "No await.", 1).startswith("You assume that TestClient needs")


PASSAGES = [
    Passage(
        chunk_id="c-th",
        url="https://fastapi.tiangolo.com/advanced/middleware/#trustedhostmiddleware",
        heading_path=["Advanced Middleware", "TrustedHostMiddleware"],
        text=DOCS[0],
        version="0.141.1",
    ),
    Passage(
        chunk_id="c-mw",
        url="https://fastapi.tiangolo.com/advanced/middleware/#adding-asgi-middlewares",
        heading_path=["Advanced Middleware", "Adding ASGI middlewares"],
        text=DOCS[1],
        version="0.141.1",
    ),
]


def test_the_lm_never_sees_the_claim_and_the_docs_sentence_leads_the_answer() -> None:
    seen: list[str] = []

    def answerer(**kwargs: Any) -> dspy.Prediction:
        seen.append(kwargs["question"])
        return dspy.Prediction(
            cited=[1], answer="Add TrustedHostMiddleware with allowed_hosts [1].", cannot_answer=False
        )

    question = "TrustedHostMiddleware doesn't support wildcards, so how do I allow every subdomain?"
    pred = answer_over(answerer, question, PASSAGES, ["trusted host"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    assert seen == ["How do I allow every subdomain?"]
    assert pred.answer.startswith(
        "You assume that TrustedHostMiddleware doesn't support wildcards. What the docs say: "
        '"Wildcard domains such as `*.example.com` are supported for matching subdomains." [1]'
    )
    assert "Add TrustedHostMiddleware with allowed_hosts [1]." in pred.answer
    assert pred.verification["assumption"] == "TrustedHostMiddleware doesn't support wildcards"


def test_a_why_question_reaches_the_lm_without_its_presupposition() -> None:
    """Session 30's newcomer check: "Why does FastAPI require every path operation function to be async def?" came
    back restating the claim, citing the page that says a plain def works."""
    seen: list[str] = []
    async_page = Passage(
        chunk_id="c-async",
        url="https://fastapi.tiangolo.com/async/#path-operation-functions",
        heading_path=["Concurrency and async / await", "Path operation functions"],
        text="When you declare a *path operation function* with normal `def` instead of `async def`, it is run in "
        "an external threadpool that is then awaited, instead of being called directly.",
        version="0.141.1",
    )

    def answerer(**kwargs: Any) -> dspy.Prediction:
        seen.append(kwargs["question"])
        return dspy.Prediction(cited=[1], answer="No: a normal def works too [1].", cannot_answer=False)

    question = "Why does FastAPI require every path operation function to be async def?"
    pred = answer_over(answerer, question, [async_page], ["async def"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    assert seen == ["Does FastAPI require every path operation function to be async def? If so, why?"]
    assert pred.answer.startswith(
        "You assume that FastAPI requires every path operation function to be async def. What the docs say: "
        '"When you declare a *path operation function* with normal `def` instead of `async def`'
    )
    assert pred.verification["assumption"] == "FastAPI requires every path operation function to be async def"


def test_the_answer_does_not_restate_the_claim_under_the_docs_quote() -> None:
    """What the 1.5B wrote in session 31's newcomer check, asked the yes/no question: the claim as a fact and the
    question's own tail. Both go; the sentences with words of their own, and a denial of the claim, stay."""
    async_page = Passage(
        chunk_id="c-async",
        url="https://fastapi.tiangolo.com/async/#path-operation-functions",
        text="When you declare a *path operation function* with normal `def` instead of `async def`, it is run in "
        "an external threadpool that is then awaited, instead of being called directly.",
        version="0.141.1",
    )
    written = (
        "FastAPI requires every path operation function to be async def [1]. If so, why? A normal `def` path "
        "operation function is run in an external threadpool [1]. FastAPI does not require every path operation "
        "function to be async def [1]."
    )

    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer=written, cannot_answer=False)

    question = "Why does FastAPI require every path operation function to be async def?"
    pred = answer_over(answerer, question, [async_page], ["async"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    body = pred.answer.split("\n\n", 1)[1]
    assert body == (
        "A normal `def` path operation function is run in an external threadpool [1]. FastAPI does not require "
        "every path operation function to be async def [1]."
    )
    assert pred.verification["echoes_removed"] == 2


def test_with_the_premise_check_off_the_question_goes_as_asked() -> None:
    seen: list[str] = []

    def answerer(**kwargs: Any) -> dspy.Prediction:
        seen.append(kwargs["question"])
        return dspy.Prediction(cited=[1], answer="Add TrustedHostMiddleware [1].", cannot_answer=False)

    question = "TrustedHostMiddleware doesn't support wildcards, so how do I allow every subdomain?"
    checks = TrustChecks(verify="off", premise=False)
    pred = answer_over(answerer, question, PASSAGES, ["x"], 500, checks=checks)  # type: ignore[arg-type]
    assert seen == [question]
    assert not pred.answer.startswith("You assume")


def test_an_answer_that_only_restated_the_claim_becomes_the_docs_sentence() -> None:
    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(
            cited=[1], answer="TrustedHostMiddleware doesn't support wildcards, right [1]?", cannot_answer=False
        )

    question = "TrustedHostMiddleware doesn't support wildcards, right?"
    pred = answer_over(answerer, question, PASSAGES, ["trusted host"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    assert not pred.cannot_answer
    assert pred.answer == (
        "You assume that TrustedHostMiddleware doesn't support wildcards. What the docs say: "
        '"Wildcard domains such as `*.example.com` are supported for matching subdomains." [1]'
    )
    assert pred.verification["echoes_removed"] == 1


@pytest.mark.parametrize(
    "declined", ["The sources do not say.", "Sorry, the provided documentation has nothing on this."]
)
def test_a_model_that_declined_still_declines(declined: str) -> None:
    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[], answer=declined, cannot_answer=True)

    question = "TrustedHostMiddleware doesn't support wildcards, so how do I allow every subdomain?"
    for verify in ("off", "remove"):
        checks = TrustChecks(verify=verify)  # type: ignore[arg-type]
        pred = answer_over(answerer, question, PASSAGES, ["trusted host"], 500, checks=checks)  # type: ignore[arg-type]
        assert pred.cannot_answer and "You assume" not in pred.answer


BG_DOCS = (
    "## Using `BackgroundTasks`\n\nFirst, import `BackgroundTasks` and define a parameter in your *path operation "
    "function* with a type declaration of `BackgroundTasks`:\n\n```python\nfrom fastapi import BackgroundTasks\n```"
)


def test_a_claim_that_an_api_is_gone_meets_the_docs_still_documenting_it() -> None:
    from programs.trust.assumption import still_documented, still_documented_note

    claim = find_assumption("Since FastAPI removed BackgroundTasks in 0.100, how do I send an email later?")
    assert claim is not None and claim.claim == "FastAPI removed BackgroundTasks in 0.100"
    found = still_documented(claim.claim, ["Unrelated text about `Depends`.", BG_DOCS])
    assert found is not None and found.index == 1 and found.name == "BackgroundTasks"
    assert still_documented_note(claim.claim, found, 2, "0.141.1") == (
        "You assume that FastAPI removed BackgroundTasks in 0.100. The FastAPI 0.141.1 docs still document "
        '`BackgroundTasks`: "First, import `BackgroundTasks` and define a parameter in your *path operation '
        'function* with a type declaration of `BackgroundTasks`." [2]'
    )


def test_a_plain_capitalised_name_counts_when_the_docs_export_it() -> None:
    from programs.trust.assumption import still_documented

    docs = ["You just pass it to `Depends` and FastAPI knows how to do the rest."]
    assert still_documented("FastAPI removed Depends", docs) is None  # not known to be an API name
    found = still_documented("FastAPI removed Depends", docs, exported=lambda w: w == "Depends")
    assert found is not None and found.name == "Depends"


@pytest.mark.parametrize(
    ("claim", "docs"),
    [
        # the docs speak of its removal or deprecation: they may agree, so nothing is said
        ("FastAPI no longer supports `on_event`", ["`on_event` is deprecated, use `lifespan` instead."]),
        ("FastAPI removed `regex` from Query", ["The `regex` parameter was removed; use `pattern`."]),
        # not a removal claim
        ("FastAPI requires `BackgroundTasks` to be async", [BG_DOCS]),
        # the name only in code, never in the prose
        ("FastAPI dropped `UploadFile`", ["```python\nfrom fastapi import UploadFile\n```"]),
    ],
)
def test_no_still_documented_note(claim: str, docs: list[str]) -> None:
    from programs.trust.assumption import still_documented

    assert still_documented(claim, docs) is None


def test_now_that_is_a_presupposition_too() -> None:
    found = find_assumption("Now that FastAPI removed `Form`, how do I read form fields?")
    assert found is not None and found.claim == "FastAPI removed `Form`"


def test_in_the_answer_the_still_documented_note_leads() -> None:
    def answerer(**_: Any) -> dspy.Prediction:
        return dspy.Prediction(cited=[1], answer="Use `BackgroundTasks` [1].", cannot_answer=False)

    passages = [
        Passage(
            chunk_id="bg",
            url="https://fastapi.tiangolo.com/tutorial/background-tasks/#using-backgroundtasks",
            heading_path=["Background Tasks", "Using BackgroundTasks"],
            text=BG_DOCS,
            version="0.141.1",
        )
    ]
    question = "Since FastAPI removed BackgroundTasks in 0.100, how do I send an email after the response?"
    pred = answer_over(answerer, question, passages, ["bg"], 500, checks=TrustChecks(verify="off"))  # type: ignore[arg-type]
    assert pred.answer.startswith(
        "You assume that FastAPI removed BackgroundTasks in 0.100. The FastAPI 0.141.1 docs still document "
        "`BackgroundTasks`:"
    )
    assert pred.answer.endswith("Use `BackgroundTasks` [1].")
    assert pred.verification["assumption"] == "FastAPI removed BackgroundTasks in 0.100"


@pytest.mark.parametrize(
    ("claim", "name"),
    [
        ("FastAPI removed BackgroundTasks in 0.100", "BackgroundTasks"),
        ("`Form` no longer exists", "Form"),
        ("the `UploadFile` class was removed in 0.100", "UploadFile"),
        ("FastAPI no longer supports `Body`", "Body"),
        # found by a review: a removal of something else, the user's own code, the replacement named beside it
        ("`HTTPException` is raised when the user is deleted", None),
        ("HTTPException is gone from my handler", None),
        ("FastAPI replaced `on_event` with `lifespan` and removed the old hooks", None),
    ],
)
def test_only_the_api_said_to_be_gone_is_looked_for(claim: str, name: str | None) -> None:
    from programs.trust.assumption import still_documented

    docs = [f"Use `{n}` to do the thing you need here." for n in ("BackgroundTasks", "Form", "UploadFile", "Body",
                                                                  "HTTPException", "lifespan", "on_event")]  # fmt: skip
    found = still_documented(claim, docs)
    assert (found.name if found else None) == name


@pytest.mark.parametrize(
    ("claim", "thing", "words"),
    [
        ("FastAPI removed dependency injection in 0.100", "dependency injection", {"dependency", "injection"}),
        ("FastAPI removed DI in 0.100", "DI", {"dependency", "injection"}),  # the abbreviation, spelled out
        (
            "FastAPI dropped support for Pydantic models in request bodies in 0.100",
            "Pydantic models in request bodies",
            {"pydantic", "model", "request", "body"},  # "bodies" meets the docs' "body"
        ),
        ("FastAPI no longer supports background tasks", "background tasks", {"background", "task"}),
        ("Dependency injection was removed in the latest version", "Dependency injection", {"dependency", "injection"}),
        ("FastAPI no longer supports a built-in test client", "built-in test client", {"built", "test", "client"}),
    ],
)
def test_a_feature_said_to_be_gone_is_found_in_words(claim: str, thing: str, words: set[str]) -> None:
    from programs.trust.assumption import gone_thing

    found = gone_thing(claim)
    assert found is not None and found.thing == thing and found.words == words


@pytest.mark.parametrize(
    "claim",
    [
        "FastAPI dropped support for Python 3.6",  # a version, not a feature
        "FastAPI removed my custom middleware",  # the user's own code
        "FastAPI requires every path operation to be async def",  # not a removal
        "FastAPI removed support",  # nothing but filler
        "FastAPI removed the feature in 0.100",  # filler
        "FastAPI removed in 0.100 the docs UI",  # no feature right after the verb
        "FastAPI removed dependency injection",  # says neither when nor how: a removal claim needs that
        "FastAPI removed the password from the response in 0.100",  # data removed from something, not a feature
        "Starlette removed the startup event handlers in 0.100",  # not FastAPI
        "FastAPI removed the need for async def in 0.100",  # no feature
        "FastAPI no longer includes the uvicorn server",  # what ships, not a feature (and can be true)
        "FastAPI dropped CORS support in 0.100",  # one word is too loose a key ("sessions" meets SQLModel's Session)
        "FastAPI removed the ability to configure a very long list of options for the docs in 0.100",  # runs on
    ],
)
def test_no_feature_is_taken_from_these_claims(claim: str) -> None:
    from programs.trust.assumption import gone_thing

    assert gone_thing(claim) is None


def test_a_feature_still_documented_is_named_in_words_not_as_code() -> None:
    from programs.trust.assumption import StillDocumented, still_documented_note

    found = StillDocumented(name="dependency injection", index=0, sentence="FastAPI has a DI system.", code=False)
    assert still_documented_note("FastAPI removed dependency injection", found, 3, "0.141.1") == (
        "You assume that FastAPI removed dependency injection. The FastAPI 0.141.1 docs still document dependency "
        'injection: "FastAPI has a DI system." [3]'
    )
