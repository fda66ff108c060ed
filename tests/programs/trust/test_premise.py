"""programs/trust/premise.py: an API the docs never show is named, never echoed."""

from __future__ import annotations

import pytest

from programs.trust.premise import premise_note, prose, unknown_apis
from programs.trust.vocabulary import ApiVocabulary
from tests.programs.trust.test_vocabulary import DOCS

VOCAB = ApiVocabulary.from_texts(DOCS)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What happens when Depends(get_db, timeout=5) runs over?", ["timeout"]),
        ("what does FastAPI(strict_mode=True) change?", ["strict_mode"]),
        ("app.enable_graphql(schema) works, how do I add GraphiQL?", ["enable_graphql"]),
        ("Can I do from fastapi import RateLimiter?", ["RateLimiter"]),
        ("How do I use Depends(get_db, use_cache=False)?", []),  # shown in the docs
        ("How do I add CORS with app.add_middleware(CORSMiddleware, allow_origins=['*'])?", []),
        ("My helper my_client.fetch(retries=3) hangs in an endpoint", []),  # a user's own object: not judged
        ("Why is FastAPI so fast?", []),  # no code at all
        ("Since 0.100 added the @app.cache(ttl=60) decorator, how do I clear it?", ["cache"]),  # a known word
        ("Does app.add_api_route(path, endpoint) take dependencies?", []),  # undocumented here, but real
        ("How do I validate Query(ge=1, le=100)?", []),  # the installed Query names both parameters
        ("What's the FastAPI equivalent of Express's app.use() middleware?", []),  # Express's app
        ("Porting from Flask: what replaces @app.before_request?", []),  # Flask's app
    ],
)
def test_unknown_apis(question: str, names: list[str]) -> None:
    assert [u.name for u in unknown_apis(question, VOCAB)] == names


def test_pasted_code_is_not_a_claim() -> None:
    question = "Moving from Flask. I had:\n\n@app.route('/', methods=['GET'])\ndef index():\n    return x\n\nWhat now?"
    assert "methods" not in prose(question) and unknown_apis(question, VOCAB) == []


def test_the_note_names_what_the_docs_do_not_show() -> None:
    note = premise_note(unknown_apis("Depends(get_db, timeout=5)?", VOCAB))
    assert "`timeout` for `Depends`" in note and "can't confirm" in note


@pytest.mark.parametrize(
    "question",
    [
        "My app at https://myapp.herokuapp.com/docs shows a blank page, why?",
        "Deployed to myapp.herokuapp.com and app.example.com both 404 on /items",
    ],
)
def test_host_names_are_not_attributes_of_an_app(question: str) -> None:
    assert unknown_apis(question, VOCAB) == []
