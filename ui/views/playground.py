"""Playground: ask through the API (streamed token by token), read the answer with its citations as links
and snippets, open a cited section, and send feedback. ``?q=...&version=...&ask=1`` pre-fills (and asks)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from fda.errors import ApiError, FDAError
from ui.answer_view import checks_note, code_note, link_markers, sources_markdown, status_line, trajectory_rows
from ui.api_client import ApiClient
from ui.components import client, show_error
from ui.config import load_config

PROGRAMS = ["rag", "multihop", "agent"]  # agent: POST /v1/agent, not streamed (docs/agent.md)

cfg = load_config()
st.title("Playground")
api = client(cfg)

try:
    ready = api.ready()
except ApiError as err:
    show_error(err, "The API is not reachable")
    st.button("Retry", key="pg_retry")
    st.stop()

versions: list[str] = list(ready.get("versions") or [])
latest = ready.get("latest")
if not ready.get("ready"):
    parts = ", ".join(f"{k}: {v}" for k, v in (ready.get("components") or {}).items())
    st.warning(
        f"The API is up but not ready ({parts or 'no components'}): answers may fail.", icon=":material/warning:"
    )

params = st.query_params
with st.form("ask"):
    question = st.text_area(
        "Question", value=params.get("q", ""), placeholder="How do I enable CORS?", key="pg_question"
    )
    c1, c2, c3 = st.columns([2, 2, 1])
    wanted = params.get("version") or latest
    version = c1.selectbox(
        "Docs version",
        versions,
        index=versions.index(wanted) if wanted in versions else 0,
        key="pg_version",
        format_func=lambda v: f"{v} (latest)" if v == latest else v,
    )
    program = c2.selectbox(
        "Program",
        PROGRAMS,
        index=PROGRAMS.index(params.get("program", "rag")) if params.get("program") in PROGRAMS else 0,
        key="pg_program",
    )
    stream = c3.toggle("Stream", value=True, key="pg_stream")
    asked = st.form_submit_button("Ask", type="primary")

if params.get("ask") == "1" and params.get("q") and not st.session_state.get("pg_auto_done"):
    st.session_state["pg_auto_done"] = True
    asked, question = True, params["q"]


def show_trace(trace_id: str) -> None:
    """The answer's spans, read from the file `fda serve` records them to (written in batches: seconds later)."""
    from fda.tracing import read_trace
    from ui.service_stats import trace_frame

    spans = read_trace(cfg.traces_file, trace_id) if cfg.traces_file is not None and trace_id else []
    if not spans:
        st.caption(
            f"No spans of `{trace_id}` in `{cfg.traces_file}` yet: they are written every few seconds (reopen), "
            "and only when the API runs on this machine with tracing on."
        )
        return
    st.dataframe(trace_frame(spans), hide_index=True, width="stretch")
    st.caption(f"`fda trace {trace_id}` prints the same in a terminal.")


def run_stream(api: ApiClient, question: str, version: str | None, program: str) -> dict[str, Any] | None:
    """Show the sources as soon as they are retrieved, then the draft as its tokens arrive; return the final
    (verified) response, which replaces the draft."""
    sources_box = st.empty()
    box = st.empty()
    text, final = "", None
    with st.spinner("Retrieving and answering..."):
        for event, payload in api.ask_stream(question, version, program):
            if event == "sources":
                sources_box.markdown(sources_markdown(payload))
            elif event == "token":
                text += payload.get("text", "")
                box.markdown(text + " ▌")
            elif event == "final":
                final = payload
            elif event == "error":
                raise ApiError(
                    f"the answer failed while streaming: {payload.get('code')}: {payload.get('message')}",
                    hint="Retry, or switch streaming off to get the API's JSON error.",
                )
    box.empty()
    sources_box.empty()
    if final is None:
        raise ApiError("the stream ended without a final answer", hint="Retry; check the API's log.")
    return final


if asked:
    if not question.strip():
        st.error("Write a question first.")
    else:
        try:
            resp: dict[str, Any] | None
            if program == "agent":
                with st.spinner("The agent is planning and calling docs tools..."):
                    resp = api.agent(question, version)
            elif stream:
                resp = run_stream(api, question, version, program)
            else:
                resp = api.ask(question, version, program)
        except FDAError as err:
            show_error(err, "No answer")
        else:
            st.session_state["pg_answer"] = {"question": question, "response": resp}
            st.session_state.pop("pg_feedback", None)

shown = st.session_state.get("pg_answer")
if shown:
    resp = shown["response"]
    citations = resp.get("citations") or []
    st.subheader(shown["question"])
    if resp.get("refused"):
        st.warning("The assistant refused this question (off-topic or unsafe).", icon=":material/block:")
    elif resp.get("cannot_answer"):
        st.info(
            "The docs do not answer this question: the assistant says so instead of guessing.", icon=":material/help:"
        )
    if resp.get("fallback"):
        st.warning("The language model failed or timed out: these are the best sources, without a written answer.")
    with st.container(border=True):
        st.markdown(link_markers(resp.get("answer") or "", citations))
    if resp.get("invalid_citations"):
        st.caption(f"{resp['invalid_citations']} citation marker(s) named no shown passage and were stripped.")
    if note := checks_note(resp):
        st.caption(note)
    if code := code_note(resp):
        st.markdown(code[1])
    st.caption(status_line(resp))

    if citations:
        st.markdown("**Sources**")
    sources: dict[str, Any] = st.session_state.setdefault("pg_sources", {})
    for c in citations:
        with st.container(border=True):
            st.markdown(f"**[{c['number']}]** [{c.get('title') or c['url']}]({c['url']})  ·  docs {c.get('version')}")
            st.caption(c.get("snippet") or "")
            if st.button("Show the whole section", key=f"src-{c['chunk_id']}-{c['number']}"):
                try:
                    sources[c["chunk_id"]] = api.source(c["chunk_id"])
                except FDAError as err:
                    show_error(err, "Cannot load the section")
            if c["chunk_id"] in sources:
                st.markdown(sources[c["chunk_id"]].get("section_text") or "")

    if "trajectory" in resp:
        with st.expander(f"Agent: plan and tool calls (stopped: {resp.get('stop_reason')})", expanded=True):
            st.markdown(
                "\n".join(f"{i}. {step}" for i, step in enumerate(resp.get("plan") or [], start=1)) or "(no plan)"
            )
            if rows := trajectory_rows(resp):
                st.dataframe(rows, hide_index=True)
            else:
                st.caption("No tool was called.")

    with st.expander("Trace: what the service did, stage by stage"):
        show_trace(resp.get("trace_id") or "")

    st.markdown("**Was this helpful?**")
    sent = st.session_state.get("pg_feedback")
    if sent and sent.get("trace_id") == resp.get("trace_id"):
        st.success(f"Thanks: feedback stored ({sent['rating']}, id `{sent['id']}`).", icon=":material/check:")
    else:
        with st.form("feedback"):
            comment = st.text_input("Comment (optional)", key="pg_comment")
            up_col, down_col = st.columns(2)
            up = up_col.form_submit_button("Helpful", icon=":material/thumb_up:")
            down = down_col.form_submit_button("Not helpful", icon=":material/thumb_down:")
        if up or down:
            rating = "up" if up else "down"
            try:
                stored = api.feedback(resp["trace_id"], rating, comment)
            except FDAError as err:
                show_error(err, "Feedback not stored")
            else:
                st.session_state["pg_feedback"] = {
                    "trace_id": resp["trace_id"],
                    "rating": rating,
                    "id": stored.get("id"),
                }
                st.rerun()
