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


def test_tool_recall_counts_repeats_and_order_does_not_matter() -> None:
    from eval.agent_report import tool_recall

    assert tool_recall(["search_docs", "search_docs"], ["search_docs"]) == 0.5
    assert tool_recall(["compare_versions", "search_docs"], ["search_docs", "read_section", "compare_versions"]) == 1.0
    assert tool_recall(["check_deprecations"], ["search_docs"]) == 0.0


def test_summary_with_expected_tools() -> None:
    rows = [
        {"question_id": "q1", "stop_reason": "finished", "trajectory": [step("search_docs"), step("search_docs")]},
        {"question_id": "q2", "stop_reason": "finished", "trajectory": [step("search_docs")] * 3},
        {"question_id": "q3", "stop_reason": "finished", "trajectory": [step("search_docs")]},  # not labelled
    ]
    expected = {"q1": ["search_docs", "search_docs"], "q2": ["compare_versions"]}
    s = summarize(rows, expected)
    assert s.labelled == 2 and s.tool_recall == 0.5  # (1.0 + 0.0) / 2
    assert s.step_ratio == 2.0  # median of 2/2 and 3/1


def test_label_agreement_of_two_labellings() -> None:
    from eval.agent_report import label_agreement

    a = {"q1": ["search_docs", "search_docs"], "q2": ["compare_versions"], "q3": ["check_deprecations", "search_docs"],
         "only-a": ["search_docs"]}  # fmt: skip
    b = {"q1": ["search_docs", "search_docs"], "q2": ["search_docs", "compare_versions"],
         "q3": ["search_docs", "check_deprecations"]}  # fmt: skip
    rows = {r.what: r for r in label_agreement(a, b)}
    assert rows["same calls in order"].n == 3 and rows["same calls in order"].observed == 1 / 3
    assert rows["same calls in any order"].observed == 2 / 3
    assert rows["same first call"].observed == 1 / 3
    assert rows["same number of calls"].observed == 2 / 3
    assert rows["needs compare_versions"].observed == 1.0 and rows["needs compare_versions"].kappa == 1.0
    assert rows["needs read_section"].observed == 1.0 and rows["needs read_section"].kappa is None  # never needed
