"""programs/trust/draft.py: the stream's draft goes out a sentence at a time, without markup or foreign links."""

from __future__ import annotations

from fda.types import Passage
from programs.trust.draft import DraftFilter
from programs.trust.verify import LINK_REMOVED

SOURCE = Passage(
    chunk_id="c1",
    url="https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware",
    title="CORS",
    text="Use CORSMiddleware. See https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS for more.",
    score=1.0,
    version="0.141.1",
)


def stream(filter_: DraftFilter, text: str, size: int = 3) -> list[str]:
    out = [filter_.feed(text[i : i + size]) for i in range(0, len(text), size)]
    return [*out, filter_.flush()]


def test_sentences_go_out_whole_and_add_up_to_the_draft() -> None:
    text = "Add CORSMiddleware to the app [1]. Set allow_origins to your frontend's origin [1].\nThat is all."
    parts = stream(DraftFilter([SOURCE]), text)
    sent = [p for p in parts if p]
    assert "".join(parts) == text
    assert sent[0] == "Add CORSMiddleware to the app [1]. "  # nothing before the first sentence ended
    assert all(p.endswith((" ", "\n")) for p in sent[:-1])


def test_a_link_the_sources_do_not_hold_never_goes_out() -> None:
    text = "Log in at https://evil.example/login?token=abc now. The docs link https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS too."
    out = "".join(stream(DraftFilter([SOURCE]), text))
    assert "evil.example" not in out and LINK_REMOVED in out
    assert "https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS" in out  # the passage holds this one


def test_sources_given_later_count() -> None:
    draft = DraftFilter()
    draft.sources([SOURCE])
    assert draft.feed(f"See {SOURCE.url} for it. ") == f"See {SOURCE.url} for it. "


def test_adapter_markup_never_goes_out() -> None:
    text = "[[ ## answer ## ]]\nUse CORSMiddleware [1].\n[[ ## cited ## ]]\n[1]\n[[ ## completed ## ]]"
    out = "".join(stream(DraftFilter([SOURCE]), text, size=5))
    assert "[[" not in out and "cited" not in out and out.strip() == "Use CORSMiddleware [1]."


def test_code_blocks_pass_as_written() -> None:
    text = "Like this:\n```python\napp.add_middleware(CORSMiddleware, allow_origins=['https://my.app'])\n```\n"
    assert "".join(stream(DraftFilter([SOURCE]), text)) == text


def test_a_model_stuck_in_a_loop_stops_the_draft() -> None:
    text = "Use response.delete_cookie [1]. Here's an example: " + "```python " * 60 + "more."
    out = "".join(stream(DraftFilter([SOURCE]), text, size=7))
    assert out.startswith("Use response.delete_cookie [1].") and out.count("```python") < 16


def test_a_wide_table_is_not_a_loop() -> None:
    table = "| a | b |\n" + "|---" * 10 + "|\n"
    assert "".join(stream(DraftFilter([SOURCE]), table)) == table
