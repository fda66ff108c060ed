"""No committed answer of a program run with the trust checks carries adapter markup or an echoed rule
(issue #19: "no adapter markup or echoed instructions in any answer of the eval runs")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.results_export import RESULTS_DIR
from programs.trust.verify import rule_lines, strip_markup
from signatures.answer import CitedAnswer

RULES = rule_lines(CitedAnswer.__doc__ or "")
VERIFIED_RUNS = [
    p
    for p in sorted(RESULTS_DIR.glob("*.jsonl"))
    if any(json.loads(line).get("verification") for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
]


def test_a_verified_run_is_committed() -> None:
    assert VERIFIED_RUNS, "no committed run made with the trust checks (programs/trust/)"


@pytest.mark.parametrize("path", VERIFIED_RUNS, ids=[p.stem for p in VERIFIED_RUNS])
def test_no_markup_or_echoed_rules_in_answers(path: Path) -> None:
    leaks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        answer = row.get("answer") or ""
        if "[[ ##" in answer or strip_markup(answer, RULES)[1]:
            leaks.append(row["question_id"])
    assert leaks == []
