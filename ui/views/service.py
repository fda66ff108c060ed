"""Service: what `fda serve` has been doing, from the spans it records (fda/tracing.py): questions per minute,
latency per stage, LM tokens per second, cache hits, declines, fallbacks and errors. The offline default
dashboard; compose users also get Prometheus' view of /metrics."""

from __future__ import annotations

import streamlit as st

from ui import charts
from ui import service_stats as stats
from ui.config import load_config

cfg = load_config()
st.title("Service")
st.caption(
    f"From the spans `fda serve` records (`{cfg.traces_file}`; `fda trace TRACE_ID` prints one question). "
    "Live counters: the API's `/metrics`."
)

last = st.slider("Newest spans read", 1_000, 50_000, 20_000, step=1_000, key="svc_last")
spans = stats.load_spans(cfg.traces_file, last=last)
if spans.empty:
    st.info(
        "No traces yet: start the service (`make run` or `fda serve`; tracing is on by default) and ask "
        "something, e.g. in the Playground."
    )
    st.stop()

head = stats.headline(spans)


def pct(value: float | int | None) -> str:
    return "n/a" if value is None else f"{100 * float(value):.0f}%"


def ms(value: float | int | None) -> str:
    return "n/a" if value is None else f"{float(value) / 1000:.1f} s"


c = st.columns(4)
c[0].metric("questions", head["questions"])
c[1].metric("p50 / p95", f"{ms(head['p50_ms'])} / {ms(head['p95_ms'])}")
c[2].metric("LM tokens/s", "n/a" if head["lm_tokens_per_s"] is None else f"{head['lm_tokens_per_s']:.1f}")
c[3].metric("LM calls", head["lm_calls"])
c = st.columns(4)
c[0].metric("cache hits", pct(head["cache_hit_rate"]))
c[1].metric("declined", pct(head["declined_rate"]))
c[2].metric("fallbacks", pct(head["fallback_rate"]))
c[3].metric("errors", pct(head["error_rate"]))

st.subheader("Questions per minute")
st.altair_chart(charts.per_minute(stats.per_minute(spans)), width="stretch")

st.subheader("Latency per stage")
table = stats.stage_latency(spans)
st.altair_chart(charts.stage_latency(table), width="stretch")
st.dataframe(table, hide_index=True, width="stretch")

st.subheader("Latest questions")
latest = stats.questions(spans).sort_values("start", ascending=False).head(50)
st.dataframe(latest, hide_index=True, width="stretch")
