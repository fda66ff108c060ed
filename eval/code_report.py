"""Does the code in a run's answers run? Each answer of a committed run (eval/results/<run>.jsonl) through the
sandboxed code check (programs/execution/), without any LM call: the per-question verdicts go to
eval/results/code/<run>.jsonl and the summary says what share of the code-bearing answers run.

    fda eval code RUN_ID                      # writes eval/results/code/RUN_ID.jsonl, prints the table
    fda eval code RUN_ID --repair             # also repairs each failed answer's code: the error's suggestion, then
                                              # the LM once (programs/execution/repair.py): eval/results/code/RUN_ID-repair.jsonl
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fda.types import Passage
from programs.execution.check import CodeChecker, CodeReport
from programs.execution.repair import CodeRepairer

CODE_RESULTS = Path(__file__).resolve().parent / "results" / "code"
STATUSES = ("verified", "failed", "not_runnable", "not_run")


@dataclass
class CodeSummary:
    answers: int = 0  # answered (not declined, no fallback)
    with_code: int = 0  # answers showing Python
    statuses: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)  # where the failed ones failed
    docs_examples: int = 0  # code recognised as a docs_src example
    p50_ms: float | None = None  # sandbox wall time of the answers that ran

    @property
    def run_share(self) -> float | None:
        """Verified among the answers whose code could be run (verified + failed)."""
        ran = self.statuses["verified"] + self.statuses["failed"]
        return self.statuses["verified"] / ran if ran else None

    @property
    def verified_share(self) -> float | None:
        """Verified among all code-bearing answers (fragments count against)."""
        return self.statuses["verified"] / self.with_code if self.with_code else None


def check_run(
    rows: Sequence[dict[str, Any]],
    checker: CodeChecker,
    progress: Callable[[Iterable[dict[str, Any]]], Iterable[dict[str, Any]]] = iter,
) -> list[dict[str, Any]]:
    """One record per answered question with Python in its answer: id, type, version and the code report."""
    out = []
    for row in progress(rows):
        if row.get("declined") or row.get("fallback") or row.get("error"):
            continue
        report = checker.check(str(row.get("answer") or ""), row.get("version"))
        if report is None:
            continue
        out.append(
            {
                "question_id": row["question_id"],
                "type": row.get("type"),
                "version": row.get("version"),
                **report.to_dict(),
            }
        )
    return out


def summarize(rows: Sequence[dict[str, Any]], checked: Sequence[dict[str, Any]]) -> CodeSummary:
    s = CodeSummary(answers=sum(1 for r in rows if not (r.get("declined") or r.get("fallback") or r.get("error"))))
    s.with_code = len(checked)
    s.statuses = Counter(c["status"] for c in checked)
    s.stages = Counter(c["stage"] for c in checked if c["status"] == "failed")
    s.docs_examples = sum(1 for c in checked if c.get("docs_example"))
    times = [c["ms"] for c in checked if c["ms"] > 0]
    s.p50_ms = statistics.median(times) if times else None
    return s


def write(run_id: str, checked: Sequence[dict[str, Any]], folder: Path = CODE_RESULTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}.jsonl"
    path.write_text("".join(json.dumps(c, sort_keys=True) + "\n" for c in checked), encoding="utf-8")
    return path


def report_of(record: dict[str, Any]) -> CodeReport:
    """A stored record back as a report (the UI and tests read them)."""
    fields = {k: record[k] for k in CodeReport.__dataclass_fields__ if k in record}
    return CodeReport(**fields)


@dataclass
class RepairSummary:
    failed: int = 0  # answers whose code failed: each is a repair candidate
    tried: int = 0  # the block to repair was known: the error's suggestion, then maybe the LM, was tried
    accepted: int = 0  # the fix kept the routes and names, and ran
    how: Counter[str] = field(default_factory=Counter)  # accepted by: suggestion (no LM) | lm
    why: Counter[str] = field(default_factory=Counter)  # why the others were not kept
    lm_p50_ms: float | None = None
    verified_before: int = 0
    verified_after: int = 0
    ran: int = 0  # verified + failed (the code that could be run)

    @property
    def run_share_before(self) -> float | None:
        return self.verified_before / self.ran if self.ran else None

    @property
    def run_share_after(self) -> float | None:
        return self.verified_after / self.ran if self.ran else None


def repair_run(
    rows: Sequence[dict[str, Any]],
    checked: Sequence[dict[str, Any]],
    repairer: CodeRepairer,
    questions: Mapping[str, str],
    lookup: Callable[[str], Passage | None],
    progress: Callable[[Iterable[dict[str, Any]]], Iterable[dict[str, Any]]] = iter,
) -> list[dict[str, Any]]:
    """``checked`` (check_run's records) with each failed one's repair: ``repair`` (what was tried, kept or why
    not, LM and sandbox ms) and ``status_after``. The repair sees the question (gold), the answer and the passages
    the answer cited (``lookup``: chunk id -> passage), as the service's repair does."""
    by_id = {r["question_id"]: r for r in rows}
    out = [dict(c) for c in checked]
    for rec in progress([c for c in out if c["status"] == "failed"]):
        row = by_id[rec["question_id"]]
        question = questions.get(rec["question_id"])
        if question is None:
            rec["repair"] = {"tried": False, "accepted": False, "why": "the question is not in the gold set"}
            rec["status_after"] = rec["status"]
            continue
        passages = [p for c in row.get("cited") or [] if (p := lookup(str(c.get("chunk_id"))))]
        outcome = repairer.repair(question, str(row.get("answer") or ""), report_of(rec), passages, row.get("version"))
        rec["repair"] = outcome.info
        rec["status_after"] = outcome.report.status
    for rec in out:
        rec.setdefault("status_after", rec["status"])
    return out


def summarize_repairs(repaired: Sequence[dict[str, Any]]) -> RepairSummary:
    s = RepairSummary()
    times = []
    for rec in repaired:
        if rec["status"] in ("verified", "failed"):
            s.ran += 1
            s.verified_before += rec["status"] == "verified"
            s.verified_after += rec["status_after"] == "verified"
        info = rec.get("repair")
        if rec["status"] != "failed" or not info:
            continue
        s.failed += 1
        s.tried += bool(info.get("tried"))
        s.accepted += bool(info.get("accepted"))
        if info.get("accepted"):
            s.how[str(info.get("how", ""))] += 1
        else:
            s.why[str(info.get("why", "")).split(":")[0].split(" (")[0]] += 1
        if "lm_ms" in info:
            times.append(float(info["lm_ms"]))
    s.lm_p50_ms = statistics.median(times) if times else None
    return s
