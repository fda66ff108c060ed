import pytest

from programs.citations import snippet, validate_citations
from tests.programs.conftest import PASSAGES

P3 = PASSAGES[:3]


@pytest.mark.parametrize(
    ("answer", "cited", "text", "urls", "invalid"),
    [
        ("Use CORSMiddleware [1].", [], "Use CORSMiddleware [1].", [P3[0].url], 0),
        ("A [2]. B [1].", [], "A [1]. B [2].", [P3[1].url, P3[0].url], 0),  # renumbered by first use
        ("A [1, 3].", [], "A [1][2].", [P3[0].url, P3[2].url], 0),
        ("A [1][1]. B [1].", [], "A [1][1]. B [1].", [P3[0].url], 0),
        ("A [7]. B [2].", [], "A. B [1].", [P3[1].url], 1),  # made-up number stripped and counted
        ("A [0] [4].", [], "A.", [], 2),
        ("No markers at all.", [2], "No markers at all. [1]", [P3[1].url], 0),  # cited list used
        ("No markers.", [9, 1], "No markers. [1]", [P3[0].url], 1),
        ("", [1], "", [], 0),
        ("Version 0.95 [x] and list[int] stay.", [], "Version 0.95 [x] and list[int] stay.", [], 0),
    ],
)
def test_validate_citations(answer: str, cited: list[int], text: str, urls: list[str], invalid: int) -> None:
    checked = validate_citations(answer, P3, cited)
    assert checked.text == text
    assert [c.url for c in checked.citations] == urls
    assert [c.number for c in checked.citations] == list(range(1, len(urls) + 1))
    assert checked.invalid == invalid


def test_citation_carries_title_snippet_version() -> None:
    (c,) = validate_citations("x [1]", P3).citations
    assert c.title == "CORS > Use CORSMiddleware" and c.version == "0.141.1" and c.chunk_id == "c-cors"
    assert c.snippet.startswith("Add CORSMiddleware")


def test_snippet_cuts_at_word() -> None:
    assert snippet("a " * 200, 20).endswith("…") and len(snippet("a " * 200, 20)) <= 20
    assert snippet("short  text\n here") == "short text here"
