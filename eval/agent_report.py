"""What the docs agent did across a run: steps, why it stopped, which tools it called, and, for the questions
with labelled expected tools (data/agent/expected_tools.jsonl: the minimal ordered tool calls per gold v2 train
and dev-select multi-hop and version row), tool-selection recall and step efficiency. Reads a committed run's
rows (eval/results/<run>.jsonl).

    fda eval agent RUN_ID
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPECTED_TOOLS = Path(__file__).resolve().parent.parent / "data" / "agent" / "expected_tools.jsonl"

BUDGET_STOPS = frozenset({"max_steps", "token_budget", "time_budget"})
STUCK_STOPS = frozenset({"repeated_call", "no_new_evidence"})


@dataclass
class AgentSummary:
    runs: int = 0  # rows with a trajectory (declined-before-any-tool rows included, with zero steps)
    median_steps: float | None = None
    max_steps: int = 0
    budget_stops: int = 0
    stuck_stops: int = 0
    tool_errors: int = 0
    stops: Counter[str] = field(default_factory=Counter)
    tools: Counter[str] = field(default_factory=Counter)
    labelled: int = 0  # rows with expected tools
    tool_recall: float | None = None  # mean share of the expected calls (as a multiset) the agent made
    step_ratio: float | None = None  # median steps used / minimal steps, over the labelled rows


def load_expected(path: Path = EXPECTED_TOOLS) -> dict[str, list[str]]:
    """question id -> the minimal ordered tool calls; empty when the file is absent."""
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["question_id"]: list(r["expected_tools"]) for r in rows}


def tool_recall(expected: Sequence[str], used: Sequence[str]) -> float:
    """Share of the expected calls the agent made, counting repeats (two searches expected, one made: 0.5)."""
    if not expected:
        return 1.0
    hit = Counter(expected) & Counter(used)
    return sum(hit.values()) / len(expected)


def summarize(rows: Sequence[dict[str, Any]], expected: Mapping[str, Sequence[str]] | None = None) -> AgentSummary:
    out = AgentSummary()
    steps: list[int] = []
    recalls: list[float] = []
    ratios: list[float] = []
    for row in rows:
        trajectory = row.get("trajectory")
        if trajectory is None:
            continue
        out.runs += 1
        steps.append(len(trajectory))
        stop = str(row.get("stop_reason") or "")
        out.stops[stop] += 1
        out.budget_stops += stop in BUDGET_STOPS
        out.stuck_stops += stop in STUCK_STOPS
        for step in trajectory:
            out.tools[str(step.get("tool"))] += 1
            out.tool_errors += bool(step.get("error"))
        wanted = (expected or {}).get(str(row.get("question_id")))
        if wanted:
            out.labelled += 1
            recalls.append(tool_recall(wanted, [str(s.get("tool")) for s in trajectory]))
            ratios.append(len(trajectory) / len(wanted))
    if recalls:
        out.tool_recall = sum(recalls) / len(recalls)
        out.step_ratio = float(statistics.median(ratios))
    if steps:
        out.median_steps = float(statistics.median(steps))
        out.max_steps = max(steps)
    return out


SECOND_LABELS = EXPECTED_TOOLS.with_name("expected_tools-b.jsonl")  # an independent second labelling pass
TOOLS = ("search_docs", "read_section", "compare_versions", "check_deprecations", "find_related_docs")


@dataclass(frozen=True)
class ToolAgreement:
    what: str  # "same calls in order", "same calls in any order", "same first call", "same step count", or a tool
    n: int
    observed: float | None
    kappa: float | None  # Cohen's kappa (None when one side never varies)


def label_agreement(a: Mapping[str, Sequence[str]], b: Mapping[str, Sequence[str]]) -> list[ToolAgreement]:
    """How two labellings of expected tools agree over the questions both labelled: whole sequences (in order,
    as multisets), the first call, the number of calls; and per tool, whether it is needed at all (kappa)."""
    from eval.stats import cohen_kappa

    ids = sorted(set(a) & set(b))
    rows = []

    def add(what: str, xs: list[Any], ys: list[Any], kappa: bool = True) -> None:
        observed = sum(x == y for x, y in zip(xs, ys, strict=True)) / len(xs) if xs else None
        varies = len({*xs, *ys}) > 1  # a tool neither labelling ever uses: agreement says nothing, no kappa
        rows.append(ToolAgreement(what, len(xs), observed, cohen_kappa(xs, ys) if kappa and varies else None))

    add("same calls in order", [tuple(a[i]) for i in ids], [tuple(b[i]) for i in ids], kappa=False)
    add("same calls in any order", [tuple(sorted(a[i])) for i in ids], [tuple(sorted(b[i])) for i in ids], False)
    add("same first call", [a[i][0] if a[i] else "" for i in ids], [b[i][0] if b[i] else "" for i in ids])
    add("same number of calls", [len(a[i]) for i in ids], [len(b[i]) for i in ids])
    for tool in TOOLS:
        add(f"needs {tool}", [tool in a[i] for i in ids], [tool in b[i] for i in ids])
    return rows
