"""programs/trust/verify.py: each sentence against the passage it cites; markup and made-up APIs out."""

from __future__ import annotations

import pytest

from programs.trust.verify import rule_lines, strip_markup, tidy, verify_answer
from programs.trust.vocabulary import ApiVocabulary
from signatures.answer import CitedAnswer
from tests.programs.trust.test_vocabulary import DOCS

VOCAB = ApiVocabulary.from_texts(DOCS)
SHOWN = [
    "Add CORSMiddleware and pass allow_origins with the list of allowed origins.",
    "Background tasks run after returning a response: declare BackgroundTasks and call add_task.",
]
RULES = rule_lines(CitedAnswer.__doc__ or "")


def test_supported_sentences_stay_and_keep_their_markers() -> None:
    text = "Add CORSMiddleware with allow_origins listing the allowed origins [1]."
    out = verify_answer(text, SHOWN, VOCAB)
    assert out.text == text and out.removed == 0 and out.sentences == 1


def test_unsupported_sentence_is_removed_and_counted() -> None:
    out = verify_answer("Add CORSMiddleware with allow_origins [1]. The moon is made of green cheese [2].", SHOWN)
    assert out.text == "Add CORSMiddleware with allow_origins [1]."
    assert (out.sentences, out.removed, out.removed_share) == (2, 1, 0.5)


def test_mark_mode_keeps_and_flags_it() -> None:
    out = verify_answer("The moon is made of green cheese [2].", SHOWN, mode="mark")
    assert out.text.endswith("(not found in the cited docs)") and out.removed == 1


def test_wrong_marker_moves_to_the_supporting_passage() -> None:
    out = verify_answer("Declare BackgroundTasks and call add_task after returning a response [1].", SHOWN)
    assert out.text.endswith("[2].") and out.recited == 1


def test_lumped_markers_are_spread_to_the_sentences_they_support() -> None:
    text = "Add CORSMiddleware with allow_origins. Declare BackgroundTasks and call add_task. [1][2]"
    out = verify_answer(text, SHOWN)
    assert out.text == "Add CORSMiddleware with allow_origins [1]. Declare BackgroundTasks and call add_task [2]."
    assert out.attributed == 1


def test_code_with_a_made_up_api_is_removed() -> None:
    text = "Add CORSMiddleware with allow_origins [1].\n\n```python\napp.enable_cors(origins=['*'])\n```"
    out = verify_answer(text, SHOWN, VOCAB)
    assert "enable_cors" not in out.text and out.code_removed == 1 and out.unknown_apis == ("app.enable_cors",)


def test_a_method_is_judged_on_its_object() -> None:
    """`cache` is a name of the docs' code (`use_cache`'s neighbour in DOCS-like text), but never a method of the
    app; `app.redoc_url` is no docs name here, but the installed FastAPI's app has it."""
    vocab = ApiVocabulary.from_texts([*DOCS, "```python\ncache = {}\nsettings.cache = cache\n```"])
    made_up = "```python\n@app.cache(ttl=60)\nasync def read(): ...\n```"
    out = verify_answer(f"Add CORSMiddleware with allow_origins [1].\n\n{made_up}", SHOWN, vocab)
    assert "app.cache" not in out.text and out.unknown_apis == ("app.cache",)
    real = "```python\nprint(app.redoc_url)\n```"
    out = verify_answer(f"Add CORSMiddleware with allow_origins [1].\n\n{real}", SHOWN, vocab)
    assert real in out.text and out.code_removed == 0


def test_code_in_a_language_the_docs_never_use_is_removed() -> None:
    """A ```nasm or ```csharp block cannot come from docs whose code is Python, shell, JSON and YAML (a
    vocabulary learns the languages from the docs' fences); blocks in the docs' languages, untagged blocks and
    info strings that name no language are judged as before."""
    vocab = ApiVocabulary.from_texts([*DOCS, "```yaml\nservices: {}\n```", "```console\n$ fastapi dev\n```"])
    assert {"python", "yaml", "shell"} <= vocab.languages
    prose = "Add CORSMiddleware with allow_origins [1]."
    for block, language in (("```nasm\nmov eax, 1\nint 0x80\n```", "assembly"), ("```c#\nvar x = 1;\n```", "csharp")):
        out = verify_answer(f"{prose}\n\n{block}", SHOWN, vocab)
        assert out.text == prose and out.code_removed == 1 and out.unknown_apis == (f"code in {language}",)
        marked = verify_answer(f"{prose}\n\n{block}", SHOWN, vocab, mode="mark")
        assert f"# not in the docs: code in {language}" in marked.text
    for block in (
        "```yaml\nservices:\n  api: {}\n```",
        "```bash\npip install fastapi\n```",
        "```\nmov eax, 1\n```",
        "```import os\n```",
        "```text\nhello\n```",
    ):
        out = verify_answer(f"{prose}\n\n{block}", SHOWN, vocab)
        assert block in out.text and out.code_removed == 0, block
    assert verify_answer(f"{prose}\n\n```nasm\nmov eax, 1\n```", SHOWN).code_removed == 0  # no vocabulary: no check


def test_code_the_docs_show_is_kept() -> None:
    code = "```python\napp.add_middleware(CORSMiddleware, allow_origins=['*'])\n```"
    out = verify_answer(f"Add CORSMiddleware with allow_origins [1].\n\n{code}", SHOWN, VOCAB)
    assert code in out.text and out.code_removed == 0


def test_adapter_markup_and_echoed_rules_never_reach_the_user() -> None:
    leaked = (
        "[[ ## answer ## ]]\nAdd CORSMiddleware with allow_origins [1].\n"
        "Every sentence that states a fact ends with the number of the source it comes from, like [2].\n"
        "[[ ## cited ## ]]\n[1]\n[[ ## completed ## ]]\nignored"
    )
    out = verify_answer(leaked, SHOWN, VOCAB, rules=RULES)
    assert out.text == "Add CORSMiddleware with allow_origins [1]." and out.leaked_markup
    assert "[[" not in out.text and "completed" not in out.text


def test_field_lines_are_markup() -> None:
    text, leaked = strip_markup("answer: Use CORSMiddleware [1].\ncited: [1]\ncannot_answer: false")
    assert text == "Use CORSMiddleware [1]." and leaked


def test_off_still_strips_markup_and_checks_nothing_else() -> None:
    out = verify_answer("[[ ## answer ## ]]\nThe moon is cheese [2].", SHOWN, mode="off")
    assert out.text == "The moon is cheese [2]." and out.removed == 0 and out.leaked_markup


def test_sentences_without_content_words_pass_untouched() -> None:
    out = verify_answer("Here it is:\n\n```python\nx = 1\n```", SHOWN, VOCAB)
    assert out.text == "Here it is:\n\n```python\nx = 1\n```" and out.sentences == 0


def test_a_repeated_code_block_is_kept_once() -> None:
    block = "```python\nx = 1\n```"
    out = verify_answer(f"Here:\n\n{block}\n\nAgain:\n\n{block}", SHOWN, VOCAB)
    assert out.text.count("x = 1") == 1


def test_a_docs_example_class_presented_as_fastapis_own_is_caught() -> None:
    shown = ["class Settings(BaseSettings): app_name: str. Declare BackgroundTasks and call add_task."]
    out = verify_answer("FastAPI provides a built-in `Settings` class for app_name [1].", shown, VOCAB)
    assert out.removed == 1 and out.unknown_apis == ("fastapi.Settings",)
    kept = verify_answer("FastAPI provides `BackgroundTasks` to call add_task [1].", shown, VOCAB)
    assert kept.removed == 0


UPLOAD = [
    "To upload a file and save it to disk, declare the file object as UploadFile. Read the contents with its "
    "async methods `read()`, `write()`, `seek()` and `close()`; the user, the cookie and the response come from "
    "your own function.\n\n"
    "```python\nasync def create_upload_file(file: UploadFile):\n    contents = await file.read()\n```",
]


@pytest.mark.parametrize(
    ("sentence", "flagged"),
    [
        ("Save the file to disk with the file object's `save` method [1].", ("save (method)",)),
        ("Read the cookie with the `get_cookie()` method of the response [1].", ("get_cookie (method)",)),
        ("Save the file to disk with the method called `.save()` [1].", ("save (method)",)),
        ("Read the contents of the file with its async `read()` method [1].", ()),  # in the shown code
        ("The file object's `content_type` attribute says what the upload is [1].", ()),  # real, though not shown
        ("Read the user with the `get_current_user` function [1].", ()),  # defined by the docs' code
        ("Save the file to disk with your own `store_upload` function [1].", ()),  # the question names it
        ("The file object's `__init__` method sets up the upload [1].", ()),  # Python's own
        ("Read the contents of the upload in an `async` function [1].", ()),  # a keyword
        ("Save the file to disk with the `open` function [1].", ()),  # a builtin
        ("Save the file to disk with the `PUT` method [1].", ()),  # an HTTP method
        ("Read the user from the file with the `create_engine` function [1].", ()),  # imported by the docs' code
        (
            "Read the user from your own function with the `dependency_overrides` attribute [1].",
            (),
        ),  # a multi-line annotation
    ],
)
def test_a_name_presented_as_a_method_must_be_shown_real_or_the_users(sentence: str, flagged: tuple[str, ...]) -> None:
    """`save` is read off another object in the docs (`db_user.save()`): that does not make it an upload's
    method, and "save it to disk" in the question names no method. A name passes when the shown code has it,
    FastAPI's classes have it, the docs' code defines it, or the question writes it as code."""
    vocab = ApiVocabulary.from_texts(
        [
            *DOCS,
            "```python\ndb_user.save()\n```",
            "```python\nasync def get_current_user(token): ...\n```",
            "```python\nfrom sqlmodel import Session, create_engine\n```",
        ]
    )
    question = "How do I upload a file with my store_upload helper and save it to disk?"
    out = verify_answer(sentence, UPLOAD, vocab, question=question)
    assert out.unknown_apis == flagged
    assert out.removed == len(flagged) and (out.text == "") == bool(flagged)


def test_a_function_the_answers_own_code_defines_may_be_explained() -> None:
    code = "```python\nasync def persist_upload(file: UploadFile):\n    contents = await file.read()\n```"
    text = f"{code}\n\nThe `persist_upload` function reads the contents of the file object [1]."
    out = verify_answer(text, UPLOAD, VOCAB)
    assert out.unknown_apis == () and out.removed == 0


SHOWN_LINKS = "Add CORSMiddleware to the app. The docs UI is at http://127.0.0.1:8000/docs and https://example.com."
PAGE = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"


@pytest.mark.parametrize(
    ("text", "expected", "removed"),
    [
        ("Read [the guide](https://evil.example/x) now.", "Read the guide now.", 1),
        (
            "Go to www.evil.example/steal?t=1, then log in.",
            "Go to (link removed: not in the cited docs), then log in.",
            1,
        ),
        ("Open https://example.com.", "Open https://example.com.", 0),  # a passage holds it
        ("Open http://localhost:8000/docs.", "Open http://localhost:8000/docs.", 0),  # loopback
        ("See https://fastapi.tiangolo.com/tutorial/cors/.", "See https://fastapi.tiangolo.com/tutorial/cors/.", 0),
        ("See https://fastapi.tiangolo.com/tutorial/made-up/.", "See (link removed: not in the cited docs).", 1),
        (
            "```python\nallow_origins=['https://myapp.example']\n```",
            "```python\nallow_origins=['https://myapp.example']\n```",
            0,
        ),
    ],
)
def test_links_only_from_the_sources(text: str, expected: str, removed: int) -> None:
    from programs.trust.verify import drop_foreign_links

    assert drop_foreign_links(text, SHOWN_LINKS, [PAGE]) == (expected, removed)


@pytest.mark.parametrize("mode", ["remove", "mark", "off"])
def test_foreign_links_go_in_every_mode(mode: str) -> None:
    checked = verify_answer(
        "Add CORSMiddleware to the app [1]. Details: https://evil.example/cors", [SHOWN_LINKS], mode=mode
    )  # type: ignore[arg-type]
    assert "evil.example" not in checked.text and checked.report()["links_removed"] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a label whose code verification removed: its citations move to the sentence before
        (
            "Raise HTTPException with status_code=404 [1]. Here's an example [2]:",
            "Raise HTTPException with status_code=404 [1][2].",
        ),
        ("Use CORSMiddleware. For example, like this: [1][2]", "Use CORSMiddleware [1][2]."),
        # debris of list items that went, a sign-off copied from a forum post, an ellipsis on its own line
        ("Steps [1].\n\n1. Install it [1].\n\n2.\n\n3.", "Steps [1].\n\n1. Install it [1]."),
        ("Use Depends [1].\n\nBest Regards [1]", "Use Depends [1]."),
        ("Use Depends [1].\n\n… [1]\n\nThen call it [1].", "Use Depends [1].\n\nThen call it [1]."),
        # the prompt's cut marker opening a line, or twice in a row (session 31's newcomer check); code keeps its own
        (
            "… If you come from X [1]. It uses disk… … But not here [1].",
            "If you come from X [1]. It uses disk… But not here [1].",
        ),
        ("Use it [1].\n\n- … then call it [2].", "Use it [1].\n\n- then call it [2]."),
        ("```python\n… x = 1\n```\nOk [1].", "```python\n… x = 1\n```\nOk [1]."),
        # code blocks holding only the prompt's ellipsis, inline or on lines of their own
        ("Use a normal def [2]: ```python … ``` Then add it [2].", "Use a normal def [2]: Then add it [2]."),
        ("Use a normal def [2]:\n```python\n…\n```\nThen add it [2].", "Use a normal def [2]:\n\nThen add it [2]."),
        # an admonition's title copied from a passage as a sentence of its own, mid-line or on a line of its own
        (
            "It reads the proxy headers [2]. Note: Technical Details [2]",
            "It reads the proxy headers [2].",
        ),
        (
            "Receive and send messages [1]. \nNote: Technical Details [1]\n\nYou can close it [1].",
            "Receive and send messages [1]. \n\nYou can close it [1].",
        ),
        # a title whose citation is cited nowhere else keeps the source, not the dangling heading (session 30)
        ("Use workers [1]. Note: Technical Details [2]", "Use workers [1]. See also [2]."),
        ("Return a Response [1][2].\n\nNote: Technical Details [3]", "Return a Response [1][2].\n\nSee also [3]."),
        ("Use it [1]. Note: Technical Details [1][3]", "Use it [1]. See also [3]."),
        # a title cited again on a later line goes: the text under it keeps the source (a reviewer's case)
        (
            "Use Cookie [1].\n\nNote: Technical Details [2]\n\nStarlette's request is used [2].",
            "Use Cookie [1].\n\nStarlette's request is used [2].",
        ),
        # kept: another title whose citation is cited nowhere else, a note that says something, one inside code
        ("Use it [1]. Tip: Use Depends [2]", "Use it [1]. Tip: Use Depends [2]"),
        ("Use it [1]. Note: Webhooks need OpenAPI 3.1.0 [1].", "Use it [1]. Note: Webhooks need OpenAPI 3.1.0 [1]."),
        ("```text\nNote: Technical Details [1]\n```\nSee [1].", "```text\nNote: Technical Details [1]\n```\nSee [1]."),
        # kept: a label that is the whole answer, content that ends with a colon, a citation cited nowhere else
        ("You can use the following code [1]:", "You can use the following code [1]:"),
        ("Pass it on the command line like [2]:", "Pass it on the command line like [2]:"),
        ("```python\napp = FastAPI()\n```\n[1][2]", "```python\napp = FastAPI()\n```\n[1][2]"),
    ],
)
def test_tidy_removes_the_debris_a_removal_leaves(text: str, expected: str) -> None:
    assert tidy(text)[0] == expected


def test_an_answer_of_nothing_but_markers_is_empty_and_so_declined() -> None:
    assert tidy("[1][2][3]")[0] == "" and tidy("Best Regards [1]")[0] == ""


def test_a_clause_looped_to_the_token_cap_is_said_once_with_its_citations() -> None:
    from programs.trust.verify import collapse_repeats

    loop = "the docs don't say it returns a Response parameter"
    text = (
        "Set the cookie on the Response you return [1]. The docs don't say it returns a Response parameter; "
        + (f"{loop}; " * 5)
        + "[2]"
    )
    out, removed = collapse_repeats(text)
    assert removed == 5 and out.count("Response parameter") == 1
    assert out.endswith("Response parameter [2].")  # the loop's marker stays, and the line ends as a sentence
    mid, n = collapse_repeats(f"{loop}; {loop} [2]; {loop} [3]; then set samesite [1].")
    assert n == 2 and mid == f"{loop} [2][3]; then set samesite [1]."
    # twice is not a loop; short clauses ("yes, yes, yes") and code blocks are left alone
    assert collapse_repeats(f"{loop}; {loop}.") == (f"{loop}; {loop}.", 0)
    assert collapse_repeats("Yes, yes, yes, it does [1].")[1] == 0
    code = "```python\nx = 1; x = 1; x = 1; x = 1; x = 1\n```"
    assert collapse_repeats(code) == (code, 0)


def test_the_verifier_tidies_a_looping_answer() -> None:
    passage = "Set cookies on a Response parameter: response.set_cookie(key, value). Cookies need the domain."
    looped = "Use response.set_cookie on the Response parameter [1]; " * 6
    v = verify_answer(looped.strip(), [passage])
    assert v.text.count("set_cookie") == 1 and v.debris_removed == 5
