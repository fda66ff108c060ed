"""ui/answer_view.py: what the trust checks did, said in one caption."""

from __future__ import annotations

import pytest

from ui.answer_view import checks_note


@pytest.mark.parametrize(
    ("resp", "expected"),
    [
        ({"reason": "out_of_scope (p=0.02)"}, "not look like it is about FastAPI"),
        ({"reason": "premise: not in the docs: `timeout` for `Depends`"}, "never show"),
        ({"reason": "verification: no sentence of the answer is supported"}, "no sentence"),
        ({"reason": "coverage: never in the docs: Brotli"}, "a tool the FastAPI docs never mention"),
        (
            {"verification": {"sentences": 4, "removed": 1, "code_removed": 2}},
            "Removed 1 of 4 sentences and 2 code blocks",
        ),
        ({"verification": {"sentences": 4, "removed": 0, "code_removed": 0}}, ""),
        ({"reason": "unsafe (harm classifier p_harmless=0.05)"}, "causing harm"),
        ({"reason": "unsafe (LM intent check, p_harmless=0.41)"}, "language model read the request"),
        ({"reason": "verification: the answer held only what an instruction in the question asked for"}, "instruction"),
        (
            {"verification": {"sentences": 2, "removed": 0, "links_removed": 2}},
            "Removed 2 links the cited docs do not hold",
        ),
        (
            {"verification": {"sentences": 2, "removed": 1, "requested_removed": 1}},
            "Removed 1 of 2 sentences that the cited docs do not support. Removed 1 piece only",
        ),
        ({}, ""),
    ],
)
def test_checks_note(resp: dict[str, object], expected: str) -> None:
    note = checks_note(resp)
    assert (expected in note) if expected else note == ""


def test_trajectory_rows() -> None:
    from ui.answer_view import trajectory_rows

    resp = {
        "trajectory": [
            {"step": 1, "tool": "compare_versions", "argument": "regex", "version": "0.68.0", "to_version": "0.100.0",
             "found": ["a", "b"], "new": 2, "error": "", "ms": 12.0},
            {"step": 2, "tool": "read_section", "argument": "x", "version": "", "to_version": "", "found": [],
             "new": 0, "error": "no docs section has the URL", "ms": 1.0},
        ]
    }  # fmt: skip
    rows = trajectory_rows(resp)
    assert rows[0]["arguments"] == "argument=regex, version=0.68.0, to_version=0.100.0" and rows[0]["found"] == 2
    assert rows[1]["arguments"] == "argument=x" and rows[1]["error"].startswith("no docs section")
    assert trajectory_rows({"answer": "rag"}) == []


def test_code_note_says_what_the_sandbox_found() -> None:
    from ui.answer_view import code_note

    assert code_note({"code": None}) is None and code_note({}) is None
    verified = code_note(
        {
            "code": {
                "status": "verified",
                "routes": [{"method": "GET", "path": "/", "status": 200}],
                "added": ["from fastapi import FastAPI"],
                "imports_shown": ["from fastapi import FastAPI"],
                "docs_example": {"path": "docs_src/cors/tutorial001.py", "url": "https://x/y.py", "version": "0.141.1"},
            }
        }
    )
    assert verified is not None and verified[0] == "green"
    assert "`GET /` 200" in verified[1] and "does not prove" in verified[1]
    assert "Completed with: `from fastapi import FastAPI`" in verified[1]
    assert "Imports added to the code above: `from fastapi import FastAPI`" in verified[1]
    assert "[docs_src/cors/tutorial001.py](https://x/y.py)" in verified[1]
    failed = code_note({"code": {"status": "failed", "detail": "ImportError: cannot import name 'GzipMiddleware'"}})
    assert failed == (
        "red",
        ":red-badge[:material/error: Code failed] `ImportError: cannot import name 'GzipMiddleware'`",
    )
    fragment = code_note({"code": {"status": "not_runnable", "detail": "an excerpt (indented, or with omitted parts)"}})
    assert fragment is not None and fragment[0] == "orange" and fragment[1].endswith("omitted parts)")
    error = "import: ImportError: cannot import name 'GzipMiddleware'"
    repaired = code_note({"code": {"status": "verified", "repair": {"tried": True, "accepted": True, "error": error}}})
    assert repaired is not None and repaired[0] == "green"
    assert repaired[1].endswith(f"Repaired once: the answer's first code failed with `{error}`.")
    kept = {"tried": True, "accepted": False, "error": error, "why": "the fixed code does not run either"}
    tried = code_note({"code": {"status": "failed", "detail": "ImportError", "repair": kept}})
    assert tried is not None and tried[1].endswith(
        "A repair was tried and not kept: the fixed code does not run either."
    )


def test_status_line_names_every_docs_version_the_answer_used() -> None:
    from ui.answer_view import status_line

    line = status_line({"version": "0.141.1", "versions": ["0.68.0", "0.141.1"], "program": "rag", "trace_id": "t"})
    assert line.startswith("docs 0.68.0, 0.141.1 · program rag")
    assert status_line({"version": "0.141.1", "program": "rag", "trace_id": "t"}).startswith("docs 0.141.1 ·")
