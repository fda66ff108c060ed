"""ui/service_stats.py: the Service page's numbers from recorded spans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ui import service_stats as stats


def _span(name: str, trace: str, ms: float, start_s: float, **attributes: Any) -> dict[str, Any]:
    return {
        "trace_id": trace,
        "span_id": f"{trace}-{name}",
        "parent_id": None if name == "ask" else f"{trace}-ask",
        "name": name,
        "start_ns": int(start_s * 1e9),
        "duration_ms": ms,
        "status": attributes.pop("status", "UNSET"),
        "attributes": attributes,
        "events": [],
    }


@pytest.fixture
def spans(tmp_path: Path) -> Any:
    rows = [
        _span("ask", "t1", 10_000, 0, program="rag", cached=False),
        _span("lm", "t1", 8_000, 1, **{"lm.cached": False, "lm.completion_tokens": 100}),
        _span("retrieve", "t1", 200, 0.5),
        _span("ask", "t2", 2, 30, program="rag", cached=True),
        _span("ask", "t3", 300, 70, program="rag", cannot_answer=True),
        _span("lm", "t3", 50, 70.1, **{"lm.cached": True}),
        _span("ask", "t4", 20_000, 75, program="multihop", fallback=True, status="ERROR"),
        _span("lm", "t4", 2_000, 76, **{"lm.cached": False, "lm.completion_tokens": 20}),
    ]
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    return stats.load_spans(path)


def test_headline_rates_and_tokens_per_second(spans: Any) -> None:
    head = stats.headline(spans)
    assert head["questions"] == 4 and head["lm_calls"] == 3
    assert head["cache_hit_rate"] == 0.25 and head["declined_rate"] == 0.25
    assert head["fallback_rate"] == 0.25 and head["error_rate"] == 0.25
    assert head["lm_tokens_per_s"] == pytest.approx(120 / 10.0)  # the cached call's time is not LM time
    assert head["p50_ms"] == pytest.approx((300 + 10_000) / 2)


def test_stage_latency_in_pipeline_order(spans: Any) -> None:
    table = stats.stage_latency(spans)
    assert list(table["stage"]) == ["ask", "retrieve", "lm"]
    assert table.set_index("stage").loc["lm", "count"] == 3 and table.set_index("stage").loc["ask", "max_ms"] == 20_000


def test_per_minute_counts_questions_declines_and_errors(spans: Any) -> None:
    minutes = stats.per_minute(spans)
    assert list(minutes["questions"]) == [2, 2] and list(minutes["declined"]) == [0, 1]
    assert list(minutes["errors"]) == [0, 1]


def test_no_file_is_an_empty_frame(tmp_path: Path) -> None:
    empty = stats.load_spans(tmp_path / "none.jsonl")
    assert empty.empty and stats.headline(empty)["questions"] == 0 and stats.headline(empty)["p50_ms"] is None
    assert stats.per_minute(empty).empty and stats.stage_latency(empty).empty


def test_trace_frame_indents_stages_under_their_parents() -> None:
    spans = [
        {
            "trace_id": "t",
            "span_id": "1",
            "parent_id": None,
            "name": "ask",
            "start_ns": 0,
            "duration_ms": 900.0,
            "attributes": {"cached": False},
        },
        {
            "trace_id": "t",
            "span_id": "2",
            "parent_id": "1",
            "name": "answer",
            "start_ns": 5,
            "duration_ms": 800.0,
            "attributes": {"passages": 3},
        },
        {
            "trace_id": "t",
            "span_id": "3",
            "parent_id": "2",
            "name": "lm",
            "start_ns": 6,
            "duration_ms": 700.0,
            "attributes": {"lm.prompt_tokens": 900, "lm.completion_tokens": 80, "lm.cached": False, "lm.model": "m"},
        },
    ]
    frame = stats.trace_frame(spans)
    assert list(frame["stage"]) == ["ask", "\u2003answer", "\u2003\u2003lm"]
    assert frame["details"].iloc[2] == "prompt_tokens=900, completion_tokens=80, cached=False"
    assert frame["details"].iloc[0] == "cached=False" and list(frame["ms"]) == [900.0, 800.0, 700.0]
