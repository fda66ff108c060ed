"""programs/trust/vocabulary.py: what the docs' code shows, per callable."""

from __future__ import annotations

from programs.trust.vocabulary import ApiVocabulary, balanced, calls, code_parts, top_level

DOCS = [
    "Use `Depends(get_db, use_cache=False)` to skip the cache.\n\n"
    "```python\nfrom fastapi import BackgroundTasks, FastAPI\napp = FastAPI(title='x', lifespan=lifespan)\n"
    "app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)\n```",
    "Prose mentioning a timeout without code.",
]


def test_balanced_and_top_level_keep_only_outer_keywords() -> None:
    code = "f(a, b=g(c=1), d='e=f')"
    inner = balanced(code, 1)
    assert inner == "a, b=g(c=1), d='e=f'"
    assert next(c.kwargs for c in calls(code)) == ("b", "d")  # c is g's, the string's e is data
    assert "c=" not in top_level(inner)


def test_code_parts_are_fences_and_inline_spans() -> None:
    parts = code_parts("Text `Query(max_length=3)` then\n```py\nx = 1\n```\nand `y`.")
    assert parts == ["x = 1\n", "Query(max_length=3)", "y"]


def test_vocabulary_knows_kwargs_per_callable() -> None:
    vocab = ApiVocabulary.from_texts(DOCS)
    assert vocab.knows("BackgroundTasks") and vocab.knows_callable("FastAPI")
    assert vocab.knows_kwarg("Depends", "use_cache") and not vocab.knows_kwarg("Depends", "timeout")
    assert vocab.knows_kwarg("add_middleware", "allow_origins")
    assert vocab.knows_attribute("add_middleware") and not vocab.knows_attribute("enable_graphql")
    assert vocab.mentions("timeout") and not vocab.knows("timeout")  # prose words are not API names


def test_vocabulary_knows_what_is_read_off_each_object() -> None:
    vocab = ApiVocabulary.from_texts([*DOCS, "```python\napplication.include_router(r)\nrequest.state.user\n```"])
    assert vocab.knows_member("app", "add_middleware") and vocab.knows_member("FastAPI", "add_middleware")
    assert vocab.knows_member("app", "include_router")  # `application` is the same object as `app`
    assert vocab.knows_member("request", "state") and vocab.knows_member("req", "state")
    assert not vocab.knows_member("router", "add_middleware")  # shown on the app, not on a router
    assert not vocab.knows_member("app", "state")  # shown on the request only


def test_vocabulary_knows_what_the_docs_code_defines() -> None:
    vocab = ApiVocabulary.from_texts(["```python\nasync def get_db():\n    db_user.save()\nclass Settings: ...\n```"])
    assert vocab.defines("get_db") and vocab.defines("Settings")
    assert not vocab.defines("save") and vocab.knows_attribute("save")  # only read off an object


def test_code_languages_are_read_off_the_fences_with_aliases_folded() -> None:
    from programs.trust.vocabulary import fence_language

    assert (
        fence_language("```py\nx = 1\n```") == "python" and fence_language("```Python3 hl_lines='2'\n```") == "python"
    )
    assert fence_language("```console\n$ pip\n```") == "shell" and fence_language("```NASM\nmov\n```") == "assembly"
    assert fence_language("```{.python}\n```") is None  # an attribute list, no language word
    assert fence_language("```\nx\n```") is None and fence_language("```import os\n```") is None
    vocab = ApiVocabulary.from_texts(["Run it:\n\n```console\n$ fastapi dev\n```\n\nand\n```py\nimport fastapi\n```"])
    assert vocab.languages == {"shell", "python"}
    assert vocab.foreign_language("```rust\nfn main() {}\n```") == "rust"
    assert vocab.foreign_language("```json\n{}\n```") is None  # python, shell and json always count as the docs' own
