"""eval/agent_report.py: steps, stops and tools of the agent's rows; rows without a trajectory are not counted."""

from __future__ import annotations

from eval.agent_report import summarize


def step(tool: str, error: str = "") -> dict[str, object]:
    return {"tool": tool, "error": error}


def test_summary_of_agent_rows() -> None:
    rows = [
        {"stop_reason": "finished", "trajectory": [step("search_docs"), step("read_section")]},
        {"stop_reason": "max_steps", "trajectory": [step("search_docs")] * 5},
        {"stop_reason": "repeated_call", "trajectory": [step("search_docs"), step("read_section", "no docs section")]},
        {"stop_reason": "declined before any tool", "trajectory": []},
        {"answer": "a rag row"},  # no trajectory: not an agent row
    ]
    s = summarize(rows)
    assert s.runs == 4 and s.median_steps == 2.0 and s.max_steps == 5
    assert s.budget_stops == 1 and s.stuck_stops == 1 and s.tool_errors == 1
    assert s.tools == {"search_docs": 7, "read_section": 2}
    assert s.stops["finished"] == 1
    assert summarize([{"answer": "x"}]).median_steps is None
