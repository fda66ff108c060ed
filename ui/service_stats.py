"""The Service page's numbers, from the spans ``fda serve`` records (fda/tracing.py): pure functions over the
span records, so they are table-tested without Streamlit.

Per question (an ``ask`` span): latency, cache hit, declined, fallback, error. Per stage: p50 / p95 / max of
each span name (guard, retrieve and each fused signal, lm, answer, verify). LM: tokens per second of the calls
the cache did not answer. Requests per minute from the ``ask`` spans' start times.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

STAGES = (
    "ask",
    "guard",
    "rewrite",
    "retrieve",
    "retrieve.dense",
    "retrieve.bm25",
    "retrieve.colbert",
    "retrieve.headings",
    "follow_up",
    "answer",
    "lm",
    "verify",
)


def load_spans(path: Path | None, last: int = 20_000) -> pd.DataFrame:
    """The newest ``last`` spans (one row each; empty frame when there is no file). Unreadable lines are skipped."""
    cols = ["trace_id", "span_id", "parent_id", "name", "start_ns", "duration_ms", "status", "attributes"]
    if path is None or not path.is_file():
        return pd.DataFrame(columns=[*cols, "start"])
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    frame = pd.DataFrame(rows[-last:], columns=cols)
    frame["attributes"] = frame["attributes"].apply(lambda a: a if isinstance(a, dict) else {})
    frame["start"] = pd.to_datetime(frame["start_ns"], unit="ns", utc=True)
    return frame


def questions(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per question (``ask`` span): when, ms, program, stream, cached, declined, fallback, error."""
    cols = ["trace_id", "start", "ms", "program", "stream", "cached", "declined", "fallback", "error"]
    rows = [
        [
            r.trace_id,
            r.start,
            float(r.duration_ms),
            r.attributes.get("program", ""),
            bool(r.attributes.get("stream", False)),
            bool(r.attributes.get("cached", False)),
            bool(r.attributes.get("refused") or r.attributes.get("cannot_answer")),
            bool(r.attributes.get("fallback", False)),
            r.status == "ERROR",
        ]
        for r in spans[spans["name"] == "ask"].itertuples()
    ]
    return pd.DataFrame(rows, columns=cols)


def headline(spans: pd.DataFrame) -> dict[str, float | int | None]:
    """Questions, rates (cache hits, declined, fallbacks, errors) and LM tokens/s; None where nothing applies."""
    q = questions(spans)
    n = len(q)
    lm = lm_calls(spans)
    fresh = lm[~lm["cached"].astype(bool)]
    seconds = fresh["ms"].sum() / 1000
    tokens = fresh["completion_tokens"].sum()
    return {
        "questions": n,
        "cache_hit_rate": float(q["cached"].mean()) if n else None,
        "declined_rate": float(q["declined"].mean()) if n else None,
        "fallback_rate": float(q["fallback"].mean()) if n else None,
        "error_rate": float(q["error"].mean()) if n else None,
        "p50_ms": float(q["ms"].median()) if n else None,
        "p95_ms": float(q["ms"].quantile(0.95)) if n else None,
        "lm_calls": len(lm),
        "lm_tokens_per_s": float(tokens / seconds) if seconds > 0 else None,
    }


def lm_calls(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per LM call: ms, model, cached, prompt and completion tokens."""
    rows = [
        [
            float(r.duration_ms),
            r.attributes.get("lm.model", ""),
            bool(r.attributes.get("lm.cached", False)),
            int(r.attributes.get("lm.prompt_tokens", 0) or 0),
            int(r.attributes.get("lm.completion_tokens", 0) or 0),
        ]
        for r in spans[spans["name"] == "lm"].itertuples()
    ]
    return pd.DataFrame(rows, columns=["ms", "model", "cached", "prompt_tokens", "completion_tokens"])


def stage_latency(spans: pd.DataFrame) -> pd.DataFrame:
    """Per stage of the pipeline (:data:`STAGES`, in order): count, p50, p95, max (ms); stages never seen are left
    out, and so are FastAPI's own request spans (their latency is on /metrics per route)."""
    rows = []
    for name in STAGES:
        ms = spans.loc[spans["name"] == name, "duration_ms"].astype(float)
        if ms.empty:
            continue
        rows.append(
            {
                "stage": name,
                "count": int(ms.size),
                "p50_ms": round(float(ms.median()), 1),
                "p95_ms": round(float(ms.quantile(0.95)), 1),
                "max_ms": round(float(ms.max()), 1),
            }
        )
    return pd.DataFrame(rows, columns=["stage", "count", "p50_ms", "p95_ms", "max_ms"])


def per_minute(spans: pd.DataFrame) -> pd.DataFrame:
    """Questions per minute (all, declined, errors), for a line chart."""
    q = questions(spans)
    if q.empty:
        return pd.DataFrame(columns=["minute", "questions", "declined", "errors"])
    q["minute"] = q["start"].dt.floor("min")
    grouped = q.groupby("minute").agg(
        questions=("trace_id", "size"), declined=("declined", "sum"), errors=("error", "sum")
    )
    return grouped.reset_index()


def trace_frame(spans: list[dict[str, Any]]) -> pd.DataFrame:
    """One question's spans (fda.tracing.read_trace) as rows in tree order: the stage indented under its
    parent, ms, and the attributes worth reading (tokens, passages, what was declined or removed)."""
    from fda.tracing import tree_lines

    keep = (
        "lm.prompt_tokens",
        "lm.completion_tokens",
        "lm.cached",
        "passages",
        "candidates",
        "declined",
        "sentences",
        "removed",
        "reason",
        "cached",
    )
    rows = []
    for depth, s in tree_lines(spans):
        attrs = s.get("attributes") or {}
        detail = ", ".join(f"{k.removeprefix('lm.')}={attrs[k]}" for k in keep if attrs.get(k) not in (None, ""))
        rows.append({"stage": "\u2003" * depth + s["name"], "ms": round(float(s["duration_ms"]), 1), "details": detail})
    return pd.DataFrame(rows, columns=["stage", "ms", "details"])
