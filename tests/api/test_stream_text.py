"""api/streaming.py: the answer field's JSON, streamed in chunks, reaches clients as text."""

from __future__ import annotations

import json

import pytest

from api.streaming import JsonStringText

ANSWER = "Set it on the response [1]:\n\n```python\nresponse.set_cookie(key='a', value=\"b\")\n```\nDone \u00e9 \\ end."


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_json_chunks_decode_to_the_answer_whatever_the_cut(size: int) -> None:
    raw = json.dumps(ANSWER) + ',\n  "cannot_answer": false}'  # the field as the model wrote it, and what follows
    text = JsonStringText()
    out = "".join(text.feed(raw[i : i + size]) for i in range(0, len(raw), size))
    assert out == ANSWER


def test_plain_text_passes_through() -> None:
    text = JsonStringText()
    assert (
        text.feed("  Use CORSMiddleware") == "  Use CORSMiddleware" and text.feed(' "quoted" [1].') == ' "quoted" [1].'
    )


BARE = 'Add it [1]:\n```python\napp.add_middleware(CORSMiddleware, allow_origins=["a", "b"], allow_methods=["*"])\n```'


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_a_bare_quote_in_the_text_does_not_end_the_stream(size: int) -> None:
    # the output grammar (fda/lm/grammar.py) lets bare quotes and raw newlines into the text: only the quote that
    # is followed by the next key (or the closing brace) ends it
    raw = '"' + BARE + '",\n  "cannot_answer": false}'
    text = JsonStringText()
    out = "".join(text.feed(raw[i : i + size]) for i in range(0, len(raw), size))
    assert out == BARE and text.done


def test_the_last_field_ends_at_its_brace() -> None:
    text = JsonStringText()
    assert text.feed('"x = "y"') == 'x = "y'  # the quote before y is bare; the one after it may close the field
    assert text.feed("\n}") == "" and text.done
