"""Question drill-down: the question and its gold sections, what retrieval ranked (with scores), the answer
and its citations (valid? gold?), the judge's verdict, latency and tokens, and the whole stored trace."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from eval.scoring import ALL_METRICS
from fda.errors import FDAError
from ui.components import load_full_results, load_gold, load_results, pick_run, runs_or_stop, show_error
from ui.config import load_config
from ui.labelling import load_labels, with_sha
from ui.question import citations_table, clean_row, match_level, metrics_of, passages_table, question_view
from ui.runs import label

cfg = load_config()
st.title("Question drill-down")

runs = runs_or_stop(cfg)

run_id = pick_run(runs, "Run", key="q_run", param="run")
run = runs[runs["run_id"] == run_id].iloc[0].to_dict()
try:
    results = load_results(cfg, run_id)
except FDAError as err:
    show_error(err, "Cannot read the run's results")
    st.stop()
if results.empty:
    st.info(f"Run {run_id} stored no per-question results.")
    st.stop()

gold = load_gold(run.get("gold_version"))
only_problems = st.toggle(
    "Only questions with a problem (error, wrong verdict, combined score below 1, gold not all in the top 10)",
    key="q_only",
)
rows = results
if only_problems:
    retrieval_miss = rows["combined_score"].isna() & (rows["recall_at_10_section"] < 1)
    bad = rows["error"].notna() | (rows["judge_verdict"] == "wrong") | (rows["combined_score"] < 1) | retrieval_miss
    rows = rows[bad]
ids = list(rows["question_id"])
if not ids:
    st.success("No question of this run has a problem.")
    st.stop()
wanted = st.query_params.get("q")
qid = st.selectbox(
    "Question",
    ids,
    index=ids.index(wanted) if wanted in ids else 0,
    key="q_id",
    format_func=lambda q: f"{q} — {gold[q].question.splitlines()[0][:90]}" if q in gold else q,
)
st.query_params.update({"run": run_id, "q": qid})
row = clean_row(results[results["question_id"] == qid].iloc[0].to_dict())
view = question_view(row, run, gold, load_full_results(run.get("report_dir")))

with st.container(border=True):
    st.markdown(view.gold.question if view.gold else f"`{qid}` (question text not in the gold set)")
st.caption(
    f"`{qid}` · type **{row['type']}** · category **{row['category']}** · split **{row['split']}** · "
    f"docs version **{row.get('version') or 'latest'}**"
)
for problem in view.problems:
    st.warning(problem, icon=":material/warning:")
if row.get("error"):
    st.error(f"The program failed on this question: {row['error']}")

answers = row.get("combined_score") is not None or bool(row.get("answer"))
cards = (
    [
        ("combined_score", "{:.2f}"),
        ("citation_validity", "{:.2f}"),
        ("latency_s", "{:.2f} s"),
        ("completion_tokens", "{:.0f}"),
    ]
    if answers
    else [
        ("recall_at_5_section", "{:.2f}"),
        ("mrr_at_10_section", "{:.2f}"),
        ("recall_at_10_page", "{:.2f}"),
        ("latency_s", "{:.2f} s"),
    ]
)
cols = st.columns(len(cards) + 1)
cols[0].metric("judge verdict", row.get("judge_verdict") or "n/a")
for col, (name, fmt) in zip(cols[1:], cards, strict=True):
    value = row.get(name)
    col.metric(label(name), "n/a" if value is None else fmt.format(value))

gold_sections = view.gold.gold_sections if view.gold else []
st.subheader("Gold")
if view.gold is None:
    st.info("Gold row not available.")
else:
    ranked = [p.url for p in view.result.output.passages] if view.result else []
    if gold_sections:
        for url in gold_sections:
            rank = ranked.index(url) + 1 if url in ranked else None
            st.markdown(f"- [{url}]({url}) — " + (f"retrieved at rank **{rank}**" if rank else "**not retrieved**"))
    elif view.gold.expect_refusal:
        st.markdown("The right answer is to **refuse** (no gold section).")
    if view.gold.reference_answer:
        st.markdown(f"**Reference answer:** {view.gold.reference_answer}")
    if view.gold.must_mention:
        st.markdown("**Must mention:** " + "; ".join(" / ".join(g) for g in view.gold.must_mention))

st.subheader("Answer")
flags = [name for name in ("refused", "cannot_answer") if row.get(name)]
if row.get("invalid_citations"):
    flags.append(f"{int(row['invalid_citations'])} invalid citation marker(s) stripped")
if view.result and view.result.output.fallback:
    flags.append("fallback (LM failed: sources only)")
if flags:
    st.caption("flags: " + ", ".join(flags))
with st.container(border=True):
    st.markdown(row.get("answer") or "_(no answer: a retrieval-only program, or the program failed)_")

if view.result is not None:
    cites = citations_table(view.result, gold_sections)
    if not cites.empty:
        st.markdown("**Citations** (valid: the cited chunk was among the passages shown to the answer step)")
        st.dataframe(cites, hide_index=True, column_config={"url": st.column_config.LinkColumn("url")})
    st.subheader("Retrieved passages")
    passages = passages_table(view.result, gold_sections)
    if passages.empty:
        st.info("No passages were stored for this question.")
    else:
        st.dataframe(
            passages.drop(columns=["chunk_id"]),
            hide_index=True,
            column_config={
                "url": st.column_config.LinkColumn("url"),
                "score": st.column_config.NumberColumn(format="%.4f"),
            },
        )
    if view.result.judge is not None:
        st.subheader("Judge")
        st.markdown(f"**{view.result.judge.verdict}** — {view.result.judge.justification or '(no justification)'}")
    elif view.result.judge_error:
        st.warning(f"judge failed: {view.result.judge_error}")
elif row.get("cited"):
    st.markdown(
        "**Cited:** "
        + " ".join(f"[{u}]({u}) ({match_level(u, gold_sections) or 'not gold'})" for u in str(row["cited"]).split())
    )

with st.expander("Metrics of this question"):
    st.dataframe(metrics_of(row, ALL_METRICS), hide_index=True)

with st.expander("Trace (the stored result, as the harness recorded it)"):
    if view.result is None:
        st.json({k: v for k, v in row.items() if not (isinstance(v, float) and pd.isna(v))})
    else:
        st.json(view.result.model_dump(mode="json"))

try:
    labels = load_labels(cfg.eval_db)
except FDAError as err:
    show_error(err, "Cannot read labels")
else:
    sha = with_sha(pd.DataFrame([row]))["answer_sha"].iloc[0]
    mine = labels[(labels["question_id"] == qid) & (labels["answer_sha"] == sha)]
    if not mine.empty:
        st.subheader("Human labels of this answer")
        st.dataframe(mine[["labeller", "answer_label", "citations_ok", "note", "labelled_at"]], hide_index=True)

if view.gold is not None:
    params = {"q": view.gold.question, **({"version": row["version"]} if row.get("version") else {})}
    st.markdown(f"[Ask this question in the playground](playground?{urlencode(params)})")
