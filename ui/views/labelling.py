"""Labelling: grade a run's answers by hand (correct / partly / wrong; citations right?), stored in the eval
store, and watch judge-human agreement (Cohen's kappa) settle as labels accumulate."""

from __future__ import annotations

import getpass

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from eval.labels import HumanLabel
from fda.errors import FDAError
from ui import charts
from ui.components import load_full_results, load_gold, load_results, pick_run, runs_or_stop, show_error
from ui.config import load_config
from ui.labelling import VERDICTS, agreement, confusion, kappa_curve, label_queue, load_labels, pairs, save_label
from ui.question import clean_row

CITATION_CHOICES = {"yes": True, "no": False, "not sure": None}

cfg = load_config()
st.title("Labelling")
st.caption(
    "Spot-check answers by hand. Labels key on the question and the exact answer text, so a later run that "
    "gives the same answer reuses them; reports pick them up with `fda eval report RUN_ID`."
)

runs = runs_or_stop(cfg)

answering = runs[
    [
        bool((p or {}).get("answers", True)) and r != "retrieval"
        for p, r in zip(runs["params"], runs["program"], strict=True)
    ]
]
if answering.empty:
    st.info("Only retrieval runs are stored: there are no answers to label. Run `fda eval --program rag`.")
    st.stop()

left, right = st.columns([3, 1])
with left:
    run_id = pick_run(answering, "Run", key="l_run", param="run")
with right:
    if "labeller" not in st.session_state:
        st.session_state["labeller"] = getpass.getuser()
    labeller = st.text_input("Your name", key="labeller").strip()
blind = st.toggle("Hide the judge's verdict until I have labelled", value=True, key="blind")
run = answering[answering["run_id"] == run_id].iloc[0].to_dict()

try:
    results = load_results(cfg, run_id)
    labels = load_labels(cfg.eval_db)
except FDAError as err:
    show_error(err, "Cannot read the eval store")
    st.stop()
gold = load_gold(run.get("gold_version"))
full = load_full_results(run.get("report_dir"))

if flash := st.session_state.pop("label_flash", None):
    st.success(flash, icon=":material/check:")

todo = label_queue(results, labels, labeller) if labeller else results.iloc[0:0]
answered = int(results["error"].isna().sum())
done = answered - len(todo)
st.progress(done / answered if answered else 1.0, text=f"{done} of {answered} answers labelled by {labeller or '?'}")

if not labeller:
    st.warning("Enter your name to label.")
elif todo.empty:
    st.success(f"All {answered} answers of this run are labelled by {labeller}.", icon=":material/task_alt:")
else:
    ids = list(todo["question_id"])
    qid = st.selectbox(
        "Next answer",
        ids,
        key="l_qid",
        format_func=lambda q: f"{q} — {gold[q].question.splitlines()[0][:80]}" if q in gold else q,
    )
    row = clean_row(todo[todo["question_id"] == qid].iloc[0].to_dict())
    g = gold.get(qid)
    with st.container(border=True):
        st.markdown(f"**Question** ({row['type']}, {row['category']}): {g.question if g else qid}")
        if g is not None and g.reference_answer:
            with st.expander("Reference answer (from the gold set)"):
                st.markdown(g.reference_answer)
        st.markdown("**Answer**")
        st.markdown(row.get("answer") or "_(empty)_")
        result = full.get(qid)
        if result is not None and result.output.citations:
            st.markdown("**Citations**")
            for c in result.output.citations:
                st.markdown(f"[{c.number}] [{c.title or c.url}]({c.url})  \n> {c.snippet}")
        elif row.get("cited"):
            st.markdown("**Cited:** " + " ".join(f"[{u}]({u})" for u in str(row["cited"]).split()))
        if not blind:
            st.caption(f"judge verdict: **{row.get('judge_verdict') or 'n/a'}**")

    with st.form(f"label-{run_id}-{qid}", clear_on_submit=False):
        verdict = st.radio("The answer is", VERDICTS, index=None, horizontal=True, key=f"verdict-{qid}")
        cites = st.radio(
            "Do the citations support it?", list(CITATION_CHOICES), index=None, horizontal=True, key=f"cites-{qid}"
        )
        note = st.text_input("Note (optional)", key=f"note-{qid}")
        submitted = st.form_submit_button("Save label", type="primary")
    if submitted:
        if verdict is None:
            st.error("Choose correct, partly or wrong before saving.")
        else:
            try:
                label = HumanLabel(
                    run_id=run_id,
                    question_id=qid,
                    answer_label=verdict,
                    citations_ok=CITATION_CHOICES.get(cites or "not sure"),
                    note=note,
                    labeller=labeller,
                    answer_sha=row["answer_sha"],
                )
                save_label(cfg.eval_db, label)
            except ValidationError as err:
                st.error(f"Label not valid: {err}")
            except FDAError as err:
                show_error(err, "Label not saved")
            else:
                st.session_state["label_flash"] = f"Saved: {qid} is {verdict} ({labeller})."
                st.rerun()

st.subheader("Judge-human agreement")
paired = pairs(results, labels)
agree = agreement(paired)
c1, c2 = st.columns(2)
kj, kc = agree["kappa_judge_human"], agree["kappa_citations_human"]
c1.metric(f"kappa: judge vs human (n={agree['n_judge']})", "n/a" if kj is None else f"{kj:.2f}")
c2.metric(f"kappa: citation check vs human (n={agree['n_citations']})", "n/a" if kc is None else f"{kc:.2f}")
if agree["n_judge"] == 0:
    st.info("No labelled answer with a judge verdict yet: agreement appears as labels accumulate.")
else:
    st.caption("Above 0.6 (dashed) is usually read as substantial agreement; a few labels give a wide, jumpy estimate.")
    chart_col, table_col = st.columns([3, 2])
    chart_col.altair_chart(charts.kappa_curve(kappa_curve(paired)), width="stretch")
    table_col.markdown("**judge (rows) vs human (columns)**")
    table_col.dataframe(confusion(paired))

run_labels = labels[labels["run_id"] == run_id]
if not run_labels.empty:
    with st.expander(f"Labels stored for this run ({len(run_labels)})"):
        st.dataframe(run_labels.drop(columns=["answer_sha"]), hide_index=True)
        st.download_button(
            "Download CSV", pd.DataFrame(run_labels).to_csv(index=False), f"labels-{run_id}.csv", "text/csv"
        )
