"""Passages -> the numbered sources: cutting at a boundary, and keeping the lines that match the question."""

from __future__ import annotations

import pytest

from fda.types import Passage
from programs.context import cut_chars, drop_source_headers, focused, format_sources, terms

INTRO = "You can configure it in several ways, described below in order."
LINES = [INTRO] * 6 + ["Use CORSMiddleware and pass allow_origins=['*'].", "app.add_middleware(CORSMiddleware)"]
TEXT = "\n".join(LINES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I set allow_origins?", {"set", "allow_origins", "allow", "origins"}),
        ("CORSMiddleware", {"corsmiddleware", "cors", "middleware"}),
        ("HTTPException in a dependency", {"httpexception", "http", "exception", "dependency"}),
        ("What is the use of it?", set()),  # only stop words
    ],
)
def test_terms_split_identifiers_and_drop_stop_words(text: str, expected: set[str]) -> None:
    assert terms(text) == expected


def test_cut_chars_keeps_short_text_and_cuts_long_text_at_a_boundary() -> None:
    assert cut_chars("short", 100) == "short"
    cut = cut_chars(TEXT, 100)
    assert len(cut) <= 102 and cut.endswith(" …") and TEXT.startswith(cut[:-2].rstrip())


def test_focused_keeps_the_matching_lines_that_cut_chars_loses() -> None:
    limit = 150
    assert "CORSMiddleware" not in cut_chars(TEXT, limit)
    kept = focused("How do I enable CORS with allow_origins?")(TEXT, limit)
    assert "allow_origins=['*']" in kept and "app.add_middleware(CORSMiddleware)" in kept
    assert kept.startswith("… ")  # says that text before it was left out
    assert len(kept) <= limit + 4


def test_focused_fills_the_budget_backwards_when_the_match_is_at_the_end() -> None:
    kept = focused("allow_origins")(TEXT, 200)
    assert kept.count(INTRO) == 1  # 2 intro lines would not fit beside the match


def test_focused_keeps_the_start_when_nothing_matches() -> None:
    assert focused("websockets")(TEXT, 150) == cut_chars(TEXT, 150)
    assert focused("")(TEXT, 150) == cut_chars(TEXT, 150)


def test_focused_prefers_the_window_with_more_distinct_terms() -> None:
    text = "\n".join(["alpha one", "filler " * 20, "alpha beta gamma", "filler " * 20])
    assert "alpha beta gamma" in focused("alpha beta gamma")(text, 60)


def test_focused_cuts_a_single_long_line() -> None:
    text = "intro\n" + "word " * 100 + "CORSMiddleware " + "word " * 100
    kept = focused("CORSMiddleware")(text, 120)
    assert len(kept) <= 124


def test_format_sources_numbers_titles_and_uses_the_shortener() -> None:
    p = Passage(
        chunk_id="c1",
        url="https://x/tutorial/cors/#use",
        heading_path=["CORS", "Use"],
        text=TEXT,
        version="0.141.1",
        score=1.0,
    )
    out = format_sources([p, p], max_chars=150, shorten=focused("allow_origins"))
    assert out.startswith("[1] CORS > Use (FastAPI 0.141.1)\n") and "\n\n[2] CORS > Use" in out
    assert out.count("allow_origins=['*']") == 2


def test_focused_fills_the_budget_with_the_start_of_the_next_line() -> None:
    text = "\n".join(["Enable CORS with the middleware.", "The following arguments are supported:", "x " * 200])
    kept = focused("enable CORS")(text, 150)
    assert kept.startswith("Enable CORS") and "supported:\nx x" in kept and kept.endswith(" …")
    assert len(kept) <= 152


def test_source_headers_the_model_copied_are_dropped_with_their_marker() -> None:
    p = Passage(
        chunk_id="c1",
        url="https://x/a/#b",
        heading_path=["Handling Errors", "Add custom headers"],
        text="t",
        version="0.141.1",
    )
    answer = "Use headers= [1]. [2] Handling Errors > Add custom headers (FastAPI 0.141.1) and more [1]."
    assert drop_source_headers(answer, [p]) == (
        "Use headers= [1]. and more [1].",
        1,
    )
    # code keeps its indentation; a header inside a code block is code, left alone
    code = "See [1] Handling Errors > Add custom headers (FastAPI 0.141.1) now.\n```python\nif x:\n    y()  # (FastAPI 0.141.1)\n```"
    assert drop_source_headers(code, [p]) == ("See now.\n```python\nif x:\n    y()  # (FastAPI 0.141.1)\n```", 1)
    # the model lower-cased the title's first word
    assert drop_source_headers("To handling errors > add custom headers (FastAPI 0.141.1)", [p]) == ("To", 1)
    # a header used as the sentence's subject is replaced, so the rest still reads as a sentence
    said = "Steps: [2] Handling Errors > Add custom headers (FastAPI 0.141.1) states that headers= works [2]."
    assert drop_source_headers(said, [p]) == ("Steps: The docs section states that headers= works [2].", 1)
    # the title alone, without the header's version, is ordinary prose
    assert drop_source_headers("See Handling Errors > Add custom headers [1].", [p]) == (
        "See Handling Errors > Add custom headers [1].",
        0,
    )
    # a header line inside a code block: the model went on copying the prompt there; the block ends before it
    copied = (
        "Like this [1]:\n```python\napp = FastAPI()\n\n[2] Handling Errors > Add custom headers (FastAPI 0.141.1)\n"
        "… raise HTTPException(status_code=404)\n```\nDone [1]."
    )
    assert drop_source_headers(copied, [p]) == ("Like this [1]:\n```python\napp = FastAPI()\n```\nDone [1].", 1)
    # a block that held nothing before the header but a cut marker goes whole
    empty = "Like this:\n```json\n…\n[2] Handling Errors > Add custom headers (FastAPI 0.141.1)\ntext\n```\nDone."
    assert drop_source_headers(empty, [p]) == ("Like this:\n\nDone.", 1)


CODE_SECTION = "\n".join(
    [INTRO] * 4
    + [
        "```python",
        "from fastapi import FastAPI",
        "from fastapi.middleware.cors import CORSMiddleware",
        "",
        "app = FastAPI()",
    ]
    + ["origins = ['http://localhost:3000']", "app.add_middleware(CORSMiddleware, allow_origins=origins)", "```"]
    + [INTRO] * 4
)


def test_whole_code_gives_a_cut_code_block_its_fences_back() -> None:
    question = "How do I add CORSMiddleware with allow_origins?"
    plain = focused(question)(CODE_SECTION, 120)
    whole = focused(question, whole_code=True)(CODE_SECTION, 120)
    assert "add_middleware" in plain and not plain.lstrip("… ").startswith("```")  # code whose block never opened
    assert whole.startswith("…\n```python\n") and whole.count("```") % 2 == 0
    assert "add_middleware" in whole


def test_whole_code_closes_a_block_the_cut_stops_inside() -> None:
    kept = focused("FastAPI CORSMiddleware import", whole_code=True)(CODE_SECTION, 110)
    assert kept.count("```") % 2 == 0 and "import CORSMiddleware" in kept


def test_whole_code_leaves_a_cut_outside_code_alone() -> None:
    assert focused("allow_origins", whole_code=True)(TEXT, 200) == focused("allow_origins")(TEXT, 200)
