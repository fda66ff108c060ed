"""Coverage: which doc sections answers cite or retrieval finds, which are never reached, and the questions
the assistant could not answer (gaps in the docs worth reporting upstream)."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from fda.errors import FDAError
from ui import charts
from ui import coverage as cov
from ui.components import load_eval_usage, load_gold, load_runs, show_error
from ui.config import load_config

cfg = load_config()
st.title("Coverage")

try:
    versions, latest = cov.corpus_versions(cfg.corpus_db)
except FDAError as err:
    show_error(err, "Cannot read the corpus store")
    st.stop()
if not versions:
    st.info(f"No ingested corpus at `{cfg.corpus_db}`: run `make ingest` (or `fda ingest`), then reload.")
    st.stop()

c1, c2, c3 = st.columns([1, 1, 2])
version = c1.selectbox(
    "Docs version",
    versions,
    index=versions.index(latest) if latest in versions else 0,
    key="cov_version",
    format_func=lambda v: f"{v} (latest)" if v == latest else v,
)
with_release = c2.toggle("Include release notes", value=False, key="cov_release")
sources = c3.multiselect(
    "Count citations from", ["eval runs", "query log"], default=["eval runs", "query log"], key="cov_sources"
)

problems: list[str] = []
cited: Counter[str] = Counter()
retrieved: Counter[str] = Counter()
if "eval runs" in sources:
    try:
        eval_cited, retrieved = load_eval_usage(cfg)
        cited.update(eval_cited)
    except FDAError as err:
        show_error(err, "Cannot read the eval store")
if "query log" in sources:
    try:
        cited.update(cov.log_usage(cfg.logs_db))
    except FDAError as err:
        show_error(err, "Cannot read the query log")

try:
    secs = cov.sections(cfg.corpus_db, version, ("doc", "release") if with_release else ("doc",))
except FDAError as err:
    show_error(err, "Cannot read sections")
    st.stop()
table = cov.coverage_table(secs, cited, retrieved)
numbers = cov.summary(table)
if not cited and not retrieved:
    st.info(
        "Nothing cited or retrieved yet: run `make eval` for eval runs, or ask through the API (the query log "
        "fills as people ask). Every section shows as never retrieved until then."
    )

n = max(numbers["sections"], 1)
for col, key in zip(st.columns(4), ("sections", *cov.STATUS_ORDER), strict=True):
    value = numbers[key]
    col.metric(key, f"{value}" if key == "sections" else f"{value}  ({value / n:.0%})")

st.subheader("By docs area")
st.altair_chart(charts.coverage_by_area(cov.by_area(table)), width="stretch")

tab_never, tab_top, tab_gaps = st.tabs(["Never retrieved", "Most cited", "Could not answer"])
link = {"url": st.column_config.LinkColumn("url")}
with tab_never:
    never = table[table["status"] == "never retrieved"][["area", "title", "url", "path"]]
    st.caption(f"{len(never)} sections no eval question retrieved and no answer cited: untested, or hard to find.")
    st.dataframe(never, hide_index=True, column_config=link)
with tab_top:
    top = table[table["n_cited"] > 0].sort_values("n_cited", ascending=False)[
        ["n_cited", "n_retrieved", "area", "title", "url"]
    ]
    if top.empty:
        st.info("No section of this version has been cited yet.")
    else:
        st.dataframe(top.head(50), hide_index=True, column_config=link)
with tab_gaps:
    st.markdown("**Real questions the assistant declined or failed on** (query log)")
    try:
        gaps = cov.unanswered_log(cfg.logs_db)
        down = cov.downvoted(cfg.logs_db)
    except FDAError as err:
        show_error(err, "Cannot read the query log")
    else:
        if gaps.empty:
            st.info("None logged yet (the API logs every question into the query log).")
        else:
            st.dataframe(gaps, hide_index=True)
            st.download_button(
                "Download as CSV (for an upstream docs issue)", gaps.to_csv(index=False), "unanswered.csv", "text/csv"
            )
        if not down.empty:
            st.markdown("**Answers people marked unhelpful**")
            st.dataframe(down, hide_index=True)
    st.markdown("**Gold questions answerable from the docs but declined or judged wrong** (eval runs)")
    try:
        runs = load_runs(cfg)
        text = {}
        for gv in set(runs["gold_version"].dropna()) if not runs.empty else set():
            text.update({q: g.question for q, g in load_gold(str(gv)).items()})
        misses = cov.unanswered_eval(cfg.eval_db, text)
    except FDAError as err:
        show_error(err, "Cannot read the eval store")
    else:
        if misses.empty:
            st.info("None: no stored run declined or got wrong an answerable gold question.")
        else:
            st.dataframe(misses, hide_index=True)
