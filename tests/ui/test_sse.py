from __future__ import annotations

import pytest

from ui.sse import iter_events


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["event: token", 'data: {"text": "a"}', ""], [("token", '{"text": "a"}')]),
        (["data: x", "", "data: y", ""], [("message", "x"), ("message", "y")]),
        ([": ping - 2024", "", "event: final", "data: {}", ""], [("final", "{}")]),
        (["event: meta\r\n", "data: 1\r\n", "\r\n"], [("meta", "1")]),
        (["data: line one", "data: line two", ""], [("message", "line one\nline two")]),
        (["event: final", "data:{}"], [("final", "{}")]),  # no trailing blank line, no space after the colon
        (["event: token", "id: 7", "retry: 10", "data: z", ""], [("token", "z")]),
        (["event: lonely", ""], []),  # an event without data dispatches nothing
    ],
)
def test_iter_events(lines: list[str], expected: list[tuple[str, str]]) -> None:
    assert list(iter_events(lines)) == expected
