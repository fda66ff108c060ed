import pytest

from fda.errors import LMError
from fda.lm.jsonparse import loads_lenient


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('{"answer": "line one\nline two"}', {"answer": "line one\nline two"}),  # raw newline in a string
        ('```json\n{"citations": [1, 2]}\n```', {"citations": [1, 2]}),
        ("```\n[1, 2]\n```", [1, 2]),
        ('Here you go: {"a": "b"} -- hope it helps', {"a": "b"}),
        ('{"a": "unterminated', {"a": "unterminated"}),
        ("{'a': 1}", {"a": 1}),  # single quotes
        ('{"a": 1,}', {"a": 1}),  # trailing comma
    ],
)
def test_lenient_parsing(text: str, expected: object) -> None:
    assert loads_lenient(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "```\n```"])
def test_non_json_raises(text: str) -> None:
    with pytest.raises(LMError):
        loads_lenient(text)
