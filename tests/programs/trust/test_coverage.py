"""programs/trust/coverage.py: a short question about a tool the docs never mention is declined, by name; ordinary
words, typos, the user's own names, code, links and long pasted reports are not judged."""

from __future__ import annotations

import pytest

from programs.trust.coverage import MAX_WORDS, DocsWords, coverage_note, unmentioned
from programs.trust.vocabulary import ApiVocabulary

DOCS = [
    "Use `Depends(get_db, use_cache=False)` to skip the cache. Add middleware for GZip compression and CORS.\n\n"
    "```python\nfrom fastapi import BackgroundTasks, FastAPI, status\napp = FastAPI(title='x', lifespan=lifespan)\n"
    "raise HTTPException(status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)\n```",
    "Schedule background tasks after returning a response. Declare a dependency with a class. Items, users, "
    "a line item may require one role per item. Deploy with Docker or run a server manually with Uvicorn.",
]
WORDS = DocsWords(ApiVocabulary.from_texts(DOCS))


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("How do I enable Brotli compression for responses in FastAPI?", ["Brotli"]),
        ("How do I schedule a job every 10 minutes inside FastAPI with APScheduler?", ["APScheduler"]),
        ("can fastapi serve grpc services on the same port as REST endpoints?", ["grpc"]),
        ("We use Keycloak and keycloak realms. How do I check its tokens?", ["Keycloak"]),  # once, as first written
        ("How do I enable gzip compression?", []),  # in the docs (any case)
        ("How do I add pagination to a tenant's endpoints?", []),  # ordinary English, though not in these docs
        ("How do I make a dependecy that returns 401?", []),  # one edit from a docs word: a typo
        ("How do I return a list of LineItem objects from RequireRole?", []),  # the user's classes, of docs words
        ("Why does HTTP_422_UNPROCESSABLE_ENTITY come back? Unprocessable what?", []),  # split identifiers count
        ("My app at https://myapp.qzxvbnk.com/docs is blank, why?", []),  # hosts and URLs are not names
        ("How do I call `qzxvbnkfetch()` inside a dependency?", []),  # backticked code is the user's
        ('<img src=x qzxvbnkerror="go()"> How do I read cookies?', []),  # a pasted tag's attributes: markup
        ('How do I read cookies? <qzxvbnk-widget data-x="1"></qzxvbnk-widget>', []),  # custom elements too
        ("<b> How do I enable Brotli compression?</b>", ["Brotli"]),  # the question inside tags is still read
        ("Why is count<limit and Qzxvbnk >0 slow?", ["Qzxvbnk"]),  # comparisons are not tags
        ("Comment déclarer un paramètre de chemin de type int uniquement ?", []),  # not English: not judged
        ("Does FastAPI work with Qzxvbnk, Wplmrtq and Zqfhgkd together?", []),  # three: garbled, not a tool
    ],
)
def test_unmentioned(question: str, names: list[str]) -> None:
    assert unmentioned(question, WORDS) == names


def test_long_questions_are_not_judged() -> None:
    """A name in a pasted report is usually context ("I also use chainlit"), not what is asked."""
    short = "How do I enable Brotli compression in FastAPI?"
    padded = short + " " + " ".join(["It has worked well for our items and users so far."] * 4)
    assert len(padded.split()) > MAX_WORDS
    assert unmentioned(short, WORDS) == ["Brotli"] and unmentioned(padded, WORDS) == []


def test_a_vocabulary_is_taken_as_it_is() -> None:
    assert unmentioned("How do I use Brotli?", ApiVocabulary.from_texts(DOCS)) == ["Brotli"]


def test_the_note_names_the_tool_and_where_to_look() -> None:
    note = coverage_note(["Brotli", "QUIC"])
    assert note.startswith("The FastAPI docs do not mention Brotli or QUIC") and "can't answer" in note


@pytest.mark.parametrize(
    "question",
    [
        "Coming from Litestar, how do dependency scopes differ?",  # the other tool is context
        "Express multer file uploads -> UploadFile?",
        "Is Qzxvbnk worth using instead of BackgroundTasks?",
        "Porting from Flask: what replaces Qzxvbnk?",
        "Ich bekomme 422 bei einem Form-Upload, need help",  # a common German word, not a tool
        "My background task fails with DetachedInstanceError, why?",  # an exception: the question is the error
        "Our JWTs expire, how do I refresh them?",  # "JWT" inflected (the docs say JWT)
        "How do I write a healthcheck for items?",  # two docs words run together
    ],
)
def test_context_names_are_not_judged(question: str) -> None:
    words = DocsWords(ApiVocabulary.from_texts([*DOCS, "Use a JWT token. Health check your users and items."]))
    assert unmentioned(question, words) == []
