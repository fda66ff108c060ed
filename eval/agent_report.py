"""What the docs agent did across a run: steps, why it stopped, which tools it called (issue #22's agent
metrics that need no expected tools). Reads a committed run's rows (eval/results/<run>.jsonl).

    fda eval agent RUN_ID
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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


def summarize(rows: Sequence[dict[str, Any]]) -> AgentSummary:
    out = AgentSummary()
    steps: list[int] = []
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
    if steps:
        out.median_steps = float(statistics.median(steps))
        out.max_steps = max(steps)
    return out
