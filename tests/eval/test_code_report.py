"""`fda eval code RUN [--repair]` (eval/code_report.py): which answers' code runs, and what the repair loop changes,
over a run's rows with a scripted checker and repairer (the real sandbox and repair: tests/programs/execution/)."""

from __future__ import annotations

from typing import Any, cast

from eval.code_report import check_run, repair_run, report_of, summarize, summarize_repairs
from fda.types import Passage
from programs.execution.check import CodeChecker, CodeReport
from programs.execution.repair import CodeRepairer, RepairOutcome


class ScriptedChecker:
    """verified when the answer says ``ok``, failed on ``boom``, not runnable on ``frag``, None without code."""

    def check(self, answer: str, version: str | None = None) -> CodeReport | None:
        if "```" not in answer:
            return None
        if "boom" in answer:
            return CodeReport("failed", "ZeroDivisionError: division by zero", stage="routes", blocks=1, ms=300)
        if "frag" in answer:
            return CodeReport("not_runnable", "an excerpt", blocks=1)
        return CodeReport("verified", blocks=1, ms=250)


class ScriptedRepairer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def repair(
        self, question: str, answer: str, report: CodeReport, passages: Any = (), version: str | None = None
    ) -> RepairOutcome:
        self.calls.append((question, [p.chunk_id for p in passages]))
        if "fixable" in question:
            info = {"tried": True, "accepted": True, "error": "routes: ZeroDivisionError", "lm_ms": 4000.0}
            return RepairOutcome(True, answer.replace("boom", "ok"), CodeReport("verified", repair=info), info)
        info = {"tried": True, "accepted": False, "why": "the fixed code does not run either", "lm_ms": 6000.0}
        return RepairOutcome(False, answer, CodeReport("failed", repair=info), info)


def row(qid: str, answer: str, **extra: Any) -> dict[str, Any]:
    return {"question_id": qid, "type": "howto", "version": None, "answer": answer, "cited": [], **extra}


ROWS = [
    row("a", "```python\nok\n```"),
    row("b", "```python\nboom\n```", cited=[{"number": 1, "chunk_id": "c1"}, {"number": 2, "chunk_id": "gone"}]),
    row("c", "```python\nboom\n```"),
    row("d", "```python\nfrag\n```"),
    row("e", "No code here [1]."),
    row("f", "```python\nboom\n```", declined=True),  # a decline's code is never run
    row("g", "```python\nboom\n```"),  # not in the gold set
]
QUESTIONS = {"a": "q a", "b": "fixable b", "c": "hopeless c", "d": "q d", "e": "q e", "f": "q f"}


def lookup(chunk_id: str) -> Passage | None:
    if chunk_id == "gone":
        return None
    return Passage(chunk_id=chunk_id, url="https://x/#y", text="t", version="0.141.1")


def test_check_run_and_its_summary() -> None:
    checked = check_run(ROWS, cast(CodeChecker, ScriptedChecker()))
    assert [c["question_id"] for c in checked] == ["a", "b", "c", "d", "g"]
    s = summarize(ROWS, checked)
    assert (s.answers, s.with_code) == (6, 5)
    assert s.statuses["verified"] == 1 and s.statuses["failed"] == 3 and s.statuses["not_runnable"] == 1
    assert s.run_share == 0.25 and s.verified_share == 0.2 and s.p50_ms == 300
    assert report_of(checked[1]).detail.startswith("ZeroDivisionError")


def test_repair_run_tries_each_failed_answer_once_with_its_cited_passages() -> None:
    checked = check_run(ROWS, cast(CodeChecker, ScriptedChecker()))
    repairer = ScriptedRepairer()
    out = repair_run(ROWS, checked, cast(CodeRepairer, repairer), QUESTIONS, lookup)
    assert repairer.calls == [("fixable b", ["c1"]), ("hopeless c", [])]
    by_id = {r["question_id"]: r for r in out}
    assert by_id["b"]["status_after"] == "verified" and by_id["b"]["repair"]["accepted"]
    assert by_id["c"]["status_after"] == "failed" and not by_id["c"]["repair"]["accepted"]
    assert (
        by_id["g"]["repair"]["why"] == "the question is not in the gold set" and by_id["g"]["status_after"] == "failed"
    )
    assert by_id["a"]["status_after"] == "verified" and by_id["a"]["repair"] is None
    assert "status_after" not in checked[0]  # the check's records are not changed
    r = summarize_repairs(out)
    assert (r.failed, r.tried, r.accepted) == (3, 2, 1)
    assert r.why == {"the fixed code does not run either": 1, "the question is not in the gold set": 1}
    assert (r.verified_before, r.verified_after, r.ran) == (1, 2, 4)
    assert r.run_share_before == 0.25 and r.run_share_after == 0.5 and r.lm_p50_ms == 5000.0
