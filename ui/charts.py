"""Altair charts for the pages (pure: frames in, charts out)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

VERDICT_COLORS = {"better": "#2e7d32", "worse": "#c62828", "within noise": "#9e9e9e", "n/a": "#bdbdbd"}
SERIES_COLORS = ["#1f4e9c", "#9ab8e8", "#7f7f7f"]
STATUS_COLORS = {"cited": "#2e7d32", "retrieved, never cited": "#f9a825", "never retrieved": "#c62828"}


def headline_ci(table: pd.DataFrame) -> Any:
    """Mean (point) and 95% bootstrap CI (bar) of each rate metric, on one 0-1 axis."""
    data = table[table["rate"]].copy()
    data["low"] = data["low"].fillna(data["mean"])
    data["high"] = data["high"].fillna(data["mean"])
    y = alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=240))
    scale = alt.Scale(domain=[0, 1])
    rule = (
        alt.Chart(data)
        .mark_rule(strokeWidth=3, opacity=0.5)
        .encode(x=alt.X("low:Q", scale=scale, title="mean and 95% CI"), x2="high:Q", y=y)
    )
    tooltip = [
        "label",
        alt.Tooltip("mean:Q", format=".3f"),
        alt.Tooltip("low:Q", format=".3f"),
        alt.Tooltip("high:Q", format=".3f"),
    ]
    point = alt.Chart(data).mark_point(filled=True, size=70).encode(x="mean:Q", y=y, tooltip=tooltip)
    return (rule + point).properties(height=80 + 26 * len(data))


def deltas(table: pd.DataFrame) -> Any:
    """Paired delta (current - baseline) per metric with its 95% CI, coloured by the verdict."""
    data = table.dropna(subset=["paired_delta"]).copy()
    y = alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=240))
    color = alt.Color(
        "verdict:N",
        scale=alt.Scale(domain=list(VERDICT_COLORS), range=list(VERDICT_COLORS.values())),
        legend=alt.Legend(title=None),
    )
    tooltip = ["label", "verdict", alt.Tooltip("paired_delta:Q", format="+.3f"), "n_paired"]
    bars = (
        alt.Chart(data)
        .mark_bar(opacity=0.75)
        .encode(
            x=alt.X("paired_delta:Q", title="delta (current - baseline), paired 95% CI"),
            y=y,
            color=color,
            tooltip=tooltip,
        )
    )
    rule = alt.Chart(data).mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q", y=y)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (bars + rule + zero).properties(height=80 + 26 * len(data))


def by_group(frame: pd.DataFrame, column: str, metric: str, series: str | None = None, title: str = "") -> Any:
    """Mean of ``metric`` per type/category; one bar per run when ``series`` names the run column."""
    enc: dict[str, Any] = {
        "x": alt.X(f"{metric}:Q", title=title or metric),
        "y": alt.Y(f"{column}:N", sort="-x", title=None),
        "tooltip": [column, alt.Tooltip(f"{metric}:Q", format=".3f"), "n"],
    }
    if series:
        names = list(dict.fromkeys(frame[series]))  # first series (the current run) gets the strong colour
        enc["color"] = alt.Color(
            f"{series}:N",
            scale=alt.Scale(domain=names, range=SERIES_COLORS[: len(names)]),
            legend=alt.Legend(title=None),
        )
        enc["yOffset"] = f"{series}:N"
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(**enc)
        .properties(height=80 + 22 * frame[column].nunique() * (2 if series else 1))
    )


def kappa_curve(curve: pd.DataFrame) -> Any:
    line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("labels:Q", title="labels so far"),
            y=alt.Y("kappa:Q", scale=alt.Scale(domain=[-1, 1]), title="kappa"),
            tooltip=["labels", alt.Tooltip("kappa:Q", format=".3f")],
        )
    )
    good = alt.Chart(pd.DataFrame({"y": [0.6]})).mark_rule(strokeDash=[4, 4], color="#2e7d32").encode(y="y:Q")
    return (line + good).properties(height=260)


def coverage_by_area(counts: pd.DataFrame) -> Any:
    """Sections per docs area, stacked by status (cited / retrieved, never cited / never retrieved)."""
    areas = list(counts.groupby("area")["sections"].sum().sort_values(ascending=False).index)
    rank = {s: i for i, s in enumerate(STATUS_COLORS)}
    data = counts.assign(status_rank=[rank.get(s, len(rank)) for s in counts["status"]])
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(sections):Q", title="sections"),
            y=alt.Y("area:N", sort=areas, title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
                legend=alt.Legend(title=None),
            ),
            order=alt.Order("status_rank:Q"),
            tooltip=["area", "status", "sections"],
        )
        .properties(height=90 + 40 * len(areas))  # the height includes the axes when Streamlit fits the width
    )


def trend(runs: pd.DataFrame, metric: str, title: str = "") -> Any:
    """One metric across runs in time order (a point per run)."""
    return (
        alt.Chart(runs)
        .mark_line(point=True)
        .encode(
            x=alt.X("started_at:T", title=None),
            y=alt.Y(f"{metric}:Q", title=title or metric),
            color=alt.Color("program:N", legend=alt.Legend(title=None)),
            tooltip=["run_id", "program", "backend", alt.Tooltip(f"{metric}:Q", format=".3f")],
        )
        .properties(height=260)
    )


def stage_latency(table: pd.DataFrame) -> Any:
    """p50 (dot) to p95 (end of the line) per stage, in pipeline order, on a log scale (ms): stages span 0.1 ms
    (a heading lookup) to tens of seconds (an LM call), which bars from zero cannot show on a log axis."""
    data = table.assign(p50_ms=table["p50_ms"].clip(lower=0.01), p95_ms=table["p95_ms"].clip(lower=0.01))
    y = alt.Y("stage:N", sort=list(table["stage"]), title=None)
    x = alt.X("p50_ms:Q", scale=alt.Scale(type="log"), title="ms (dot: p50, line to p95)")
    tooltip = ["stage", "count", "p50_ms", "p95_ms", "max_ms"]
    line = alt.Chart(data).mark_rule(color=SERIES_COLORS[1], strokeWidth=3).encode(x=x, x2="p95_ms:Q", y=y)
    dots = alt.Chart(data).mark_point(filled=True, size=70, color=SERIES_COLORS[0]).encode(x=x, y=y, tooltip=tooltip)
    return (line + dots).properties(height=40 + 24 * len(table))


def per_minute(frame: pd.DataFrame) -> Any:
    """Questions per minute, with the declined and failed ones."""
    long = frame.melt("minute", ["questions", "declined", "errors"], var_name="series", value_name="count")
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("minute:T", title=None),
            y=alt.Y("count:Q", title="per minute"),
            color=alt.Color("series:N", scale=alt.Scale(range=[*SERIES_COLORS[:2], "#c62828"])),
            tooltip=["minute:T", "series", "count"],
        )
        .properties(height=220)
    )
