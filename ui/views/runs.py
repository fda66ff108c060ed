"""Runs: every stored eval run, headline metrics with 95% CIs, per type and category, two runs compared."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fda.errors import FDAError
from ui import charts
from ui.components import load_mlflow, load_results, pick_run, question_link, runs_or_stop, show_error
from ui.config import load_config
from ui.runs import (
    RUN_COLUMNS,
    compare_runs,
    group_table,
    headline_table,
    label,
    lm_failures_note,
    question_changes,
    runs_overview,
)

cfg = load_config()
st.title("Evaluation runs")

runs = runs_or_stop(cfg)

overview = runs_overview(runs)
metric_columns = [c for c in overview.columns if c not in RUN_COLUMNS]
st.dataframe(
    overview,
    hide_index=True,
    column_config={c: st.column_config.NumberColumn(label(c), format="%.3f") for c in metric_columns},
    key="runs_table",
)

left, right = st.columns(2)
with left:
    run_id = pick_run(runs, "Run", key="run_a", param="run")
others = runs[runs["run_id"] != run_id]
with right:
    base_id = pick_run(others, "Compare with", key="run_b") if not others.empty else None
st.query_params["run"] = run_id
run = runs[runs["run_id"] == run_id].iloc[0]

st.caption(
    f"program **{run['program']}** · backend **{run['backend']}** · split **{run['split']}** · "
    f"gold **{run['gold_version']}** (`{run['gold_hash']}`) · corpus `{run['corpus_hash'] or 'n/a'}` · "
    f"{run['n_questions']} questions, {run['n_errors']} errors{lm_failures_note(run)} · finished {run['finished_at']}"
    + (f" · MLflow run `{run['mlflow_run_id']}`" if run["mlflow_run_id"] else "")
)

try:
    results = load_results(cfg, run_id)
    base_results = load_results(cfg, base_id) if base_id else None
except FDAError as err:
    show_error(err, "Cannot read the run's results")
    st.stop()

metrics = run["metrics"]
head = headline_table(metrics)
st.subheader("Headline metrics")
cards = [m for m in ("combined_score", "judge_score", "recall_at_5_section", "citation_validity") if m in metrics]
cols = st.columns(len(cards) + 1)
base_metrics = runs[runs["run_id"] == base_id].iloc[0]["metrics"] if base_id else {}
for col, name in zip(cols, cards, strict=False):
    delta = metrics[name] - base_metrics[name] if base_metrics.get(name) is not None else None
    col.metric(label(name), f"{metrics[name]:.3f}", None if delta is None else f"{delta:+.3f}")
if metrics.get("latency_p50_s") is not None:
    cols[-1].metric("latency p50 / p95 (s)", f"{metrics['latency_p50_s']:.2f} / {metrics.get('latency_p95_s', 0):.2f}")
if head.empty:
    st.info("This run stored no headline metrics.")
else:
    chart_col, table_col = st.columns([3, 2])
    chart_col.altair_chart(charts.headline_ci(head), width="stretch")
    shown = head.assign(
        ci=[f"{lo:.3f} – {hi:.3f}" if pd.notna(lo) else "n/a" for lo, hi in zip(head["low"], head["high"], strict=True)]
    )
    table_col.dataframe(
        shown[["label", "mean", "ci"]].rename(columns={"label": "metric", "ci": "95% CI"}),
        hide_index=True,
        column_config={"mean": st.column_config.NumberColumn(format="%.3f")},
    )

tab_groups, tab_compare, tab_worst, tab_trend, tab_mlflow = st.tabs(
    ["By type and category", "Compare runs", "Worst questions", "Over time", "MLflow"]
)

with tab_groups:
    by_type = group_table(results, "type")
    metric_choices = [c for c in by_type.columns if c not in ("type", "n")]
    if not metric_choices:
        st.info("No per-question metrics in this run.")
    else:
        default = metric_choices.index("combined_score") if "combined_score" in metric_choices else 0
        metric = st.selectbox("Metric", metric_choices, index=default, format_func=label, key="group_metric")
        for column in ("type", "category"):
            frames = [group_table(results, column).assign(run="current")]
            if base_results is not None and not base_results.empty:
                frames.append(group_table(base_results, column).assign(run="compared"))
            frame = pd.concat(frames, ignore_index=True)
            if metric in frame:
                st.markdown(f"**{label(metric)} by {column}**")
                st.altair_chart(
                    charts.by_group(
                        frame.dropna(subset=[metric]), column, metric, "run" if len(frames) > 1 else None, label(metric)
                    ),
                    width="stretch",
                )

with tab_compare:
    if base_results is None:
        st.info("Only one run is stored: run another evaluation to compare.")
    else:
        table = compare_runs(results, base_results)
        st.caption(
            f"Current **{run_id}** against **{base_id}**: delta = current − compared; the 95% interval is a paired "
            "bootstrap over the questions both runs answered. 'within noise' when it contains 0."
        )
        if table.empty:
            st.info("The two runs share no metric.")
        else:
            st.altair_chart(charts.deltas(table), width="stretch")
            st.dataframe(
                table.drop(columns=["metric"]),
                hide_index=True,
                column_config={
                    c: st.column_config.NumberColumn(format="%+.3f" if "delta" in c or "ci" in c else "%.3f")
                    for c in ("current", "baseline", "delta", "paired_delta", "ci_low", "ci_high")
                },
            )
            moved_metric = st.selectbox(
                "Questions that moved on", list(table["metric"]), format_func=label, key="moved_metric"
            )
            moved = question_changes(results, base_results, moved_metric)
            moved["open"] = [question_link(run_id, q) for q in moved["question_id"]]
            st.dataframe(
                moved,
                hide_index=True,
                column_config={"open": st.column_config.LinkColumn("drill-down", display_text="open")},
            )

with tab_worst:
    key = "combined_score" if results["combined_score"].notna().any() else "mrr_at_10_section"
    worst = results.assign(_err=results["error"].notna()).sort_values(["_err", key], ascending=[False, True])
    cols_worst = ["question_id", "type", "category", key, "judge_verdict", "recall_at_10_page", "top_passage", "error"]
    worst = worst[cols_worst].head(25).copy()
    worst["open"] = [question_link(run_id, q) for q in worst["question_id"]]
    st.caption(f"Lowest {label(key)} first; failed questions on top.")
    st.dataframe(
        worst,
        hide_index=True,
        column_config={
            "open": st.column_config.LinkColumn("drill-down", display_text="open"),
            "top_passage": st.column_config.LinkColumn("top passage"),
        },
    )

with tab_trend:
    if len(runs) < 2:
        st.info("One run so far: the trend appears with the second.")
    else:
        trend_metric = st.selectbox("Metric", metric_columns, format_func=label, key="trend_metric")
        st.altair_chart(
            charts.trend(overview.dropna(subset=[trend_metric]), trend_metric, label(trend_metric)), width="stretch"
        )

with tab_mlflow:
    st.caption(f"Experiment `{cfg.experiment}` at `{cfg.tracking_uri}`")
    if st.toggle("Read MLflow runs", value=False, key="read_mlflow", help="Imports mlflow: a few seconds."):
        try:
            tracked = load_mlflow(cfg.tracking_uri, cfg.experiment)
        except FDAError as err:
            show_error(err, "Cannot read MLflow")
        else:
            if tracked.empty:
                st.info("No MLflow runs yet: `fda eval` logs one per run (unless --no-track).")
            else:
                st.dataframe(tracked, hide_index=True)
