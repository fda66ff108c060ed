"""The UI's data modules on fixture state written by the real eval, API log and store code."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from eval.labels import HumanLabel
from fda.errors import EvalError, StoreError
from tests.ui.fixtures import FILLER, FixtureState
from ui import coverage as cov
from ui import labelling as lab
from ui import runs
from ui.db import query
from ui.question import citations_table, full_results, gold_questions, match_level, passages_table, question_view


def test_list_runs_newest_first_with_parsed_metrics(fixture_state: FixtureState) -> None:
    df = runs.list_runs(fixture_state.eval_db)
    assert list(df["run_id"]) == fixture_state.run_ids[::-1]
    assert isinstance(df["metrics"].iloc[0], dict) and "combined_score" in df["metrics"].iloc[0]


def test_list_runs_empty_without_store(tmp_path: Path) -> None:
    assert runs.list_runs(tmp_path / "eval.duckdb").empty


def test_a_run_with_lm_failures_says_so(fixture_state: FixtureState) -> None:
    run = runs.list_runs(fixture_state.eval_db).iloc[0]
    assert runs.lm_failures_note(run) == ""  # the fixture's runs had none (or predate the count)
    assert "25 LM failures" in runs.lm_failures_note({"params": {"lm_failures": 25}})
    assert "3 LM failures" in runs.lm_failures_note({"params": '{"lm_failures": 3}'})  # as the store keeps it


def test_headline_table_carries_stored_ci(fixture_state: FixtureState) -> None:
    metrics = runs.list_runs(fixture_state.eval_db)["metrics"].iloc[0]
    head = runs.headline_table(metrics).set_index("metric")
    row = head.loc["recall_at_5_section"]
    assert row["low"] <= row["mean"] <= row["high"]
    assert row["low"] == metrics["recall_at_5_section_ci_low"]
    assert bool(head.loc["latency_s", "rate"]) is False and bool(head.loc["judge_score", "rate"]) is True


def test_compare_runs_paired_delta_and_verdict() -> None:
    a = pd.DataFrame({"question_id": list("abcdef"), "m": [1.0, 1, 1, 1, 1, 1], "latency_s": [1.0] * 6})
    b = pd.DataFrame({"question_id": list("abcdef"), "m": [0.0, 0, 0, 0, 0, 0], "latency_s": [2.0] * 6})
    table = runs.compare_runs(a, b, metrics=("m", "latency_s"), n_samples=200).set_index("metric")
    assert table.loc["m", "delta"] == 1.0 and table.loc["m", "verdict"] == "better"
    assert table.loc["latency_s", "delta"] == -1.0 and table.loc["latency_s", "verdict"] == "better"  # lower wins
    noisy = pd.DataFrame({"question_id": list("abcdef"), "m": [1.0, 0, 1, 0, 1, 0]})
    flipped = pd.DataFrame({"question_id": list("abcdef"), "m": [0.0, 1, 0, 1, 0, 1]})
    assert runs.compare_runs(noisy, flipped, metrics=("m",)).iloc[0]["verdict"] == "within noise"
    worse = runs.compare_runs(b, a, metrics=("m",), n_samples=200).iloc[0]
    assert worse["verdict"] == "worse" and worse["n_paired"] == 6


def test_question_changes_worst_first() -> None:
    a = pd.DataFrame({"question_id": ["x", "y", "z"], "type": "t", "category": "c", "m": [0.0, 1.0, 0.5]})
    b = pd.DataFrame({"question_id": ["x", "y", "z"], "m": [1.0, 0.5, 0.5]})
    moved = runs.question_changes(a, b, "m")
    assert list(moved["question_id"]) == ["x", "y"]  # x dropped by 1, y rose; z did not move


def test_group_table_per_type(fixture_state: FixtureState) -> None:
    results = runs.run_results(fixture_state.eval_db, fixture_state.run_ids[-1])
    table = runs.group_table(results, "type")
    assert set(table["type"]) == set(results["type"]) and table["n"].sum() == len(results)


def test_question_view_joins_gold_and_full_result(fixture_state: FixtureState) -> None:
    run = runs.list_runs(fixture_state.eval_db).iloc[0].to_dict()
    results = runs.run_results(fixture_state.eval_db, run["run_id"])
    row = results[results["error"].isna()].iloc[0].to_dict()
    gold = gold_questions("v1")
    view = question_view(row, run, gold, full_results(run["report_dir"]))
    assert view.gold is not None and view.result is not None and not view.problems
    passages = passages_table(view.result, view.gold.gold_sections)
    assert list(passages["rank"]) == list(range(1, len(passages) + 1))
    assert passages["score"].is_monotonic_decreasing
    cites = citations_table(view.result, view.gold.gold_sections)
    assert cites.empty or bool(cites["valid"].all())


def test_question_view_says_what_is_missing() -> None:
    view = question_view({"question_id": "nope"}, {"gold_version": "v1", "report_dir": "/gone"}, {}, {})
    assert view.result is None and len(view.problems) == 2
    assert "results.jsonl" in view.problems[1]


@pytest.mark.parametrize(
    ("url", "level"),
    [("https://a/p/#s", "section"), ("https://a/p/#other", "page"), ("https://a/q/#s", "")],
)
def test_match_level(url: str, level: str) -> None:
    assert match_level(url, ["https://a/p/#s"]) == level


def test_label_queue_skips_answers_already_labelled(fixture_state: FixtureState) -> None:
    results = runs.run_results(fixture_state.eval_db, fixture_state.run_ids[-1])
    labels = lab.load_labels(fixture_state.eval_db)
    answered = int(results["error"].isna().sum())
    assert len(lab.label_queue(results, labels, "alice")) == answered - len(labels)
    assert len(lab.label_queue(results, labels, "bob")) == answered


def test_agreement_pairs_judge_and_human(fixture_state: FixtureState) -> None:
    results = runs.run_results(fixture_state.eval_db, fixture_state.run_ids[-1])
    paired = lab.pairs(results, lab.load_labels(fixture_state.eval_db))
    agree = lab.agreement(paired)
    n = len(lab.load_labels(fixture_state.eval_db))
    assert agree["n_judge"] == n >= 3
    assert (paired["judge"] != paired["human"]).sum() == 1  # the fixture disagrees once
    assert agree["kappa_judge_human"] is not None and 0.0 < agree["kappa_judge_human"] < 1.0
    assert list(lab.kappa_curve(paired)["labels"]) == list(range(1, n + 1))
    assert int(lab.confusion(paired).to_numpy().sum()) == n


def test_pairs_reuse_labels_of_the_same_answer_in_another_run() -> None:
    results = pd.DataFrame(
        {
            "question_id": ["q"],
            "answer": ["same text"],
            "judge_verdict": ["correct"],
            "citation_precision_section": [1.0],
            "error": [None],
        }
    )
    labels = pd.DataFrame(
        [
            HumanLabel(
                run_id="older",
                question_id="q",
                answer_label="wrong",
                citations_ok=True,
                labeller="x",
                answer_sha=lab.with_sha(results)["answer_sha"][0],
            ).model_dump()
        ]
    )
    paired = lab.pairs(results, labels)
    assert list(paired[["judge", "human", "auto_citations", "human_citations"]].iloc[0]) == [
        "correct",
        "wrong",
        "yes",
        "yes",
    ]


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Another process holding DuckDB's write lock on ``path`` for ``seconds``."""
    code = textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r})
        sys.stdout.write("locked\\n"); sys.stdout.flush()
        time.sleep({seconds})
        con.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"locked"
    return proc


def test_save_label_waits_for_a_short_lock(tmp_path: Path, fixture_state: FixtureState) -> None:
    db = tmp_path / "eval.duckdb"
    db.write_bytes(fixture_state.eval_db.read_bytes())
    holder = _hold_lock(db, 1.0)
    label = HumanLabel(run_id="r", question_id="q", answer_label="partly", labeller="bob", answer_sha="s")
    lab.save_label(db, label)  # retried until the other writer let go
    holder.wait(timeout=10)
    assert len(lab.load_labels(db).query("labeller == 'bob'")) == 1


def test_save_label_explains_a_long_lock(tmp_path: Path, fixture_state: FixtureState) -> None:
    db = tmp_path / "eval.duckdb"
    db.write_bytes(fixture_state.eval_db.read_bytes())
    holder = _hold_lock(db, 30.0)
    try:
        label = HumanLabel(run_id="r", question_id="q", answer_label="wrong", labeller="bob", answer_sha="s")
        with pytest.raises(EvalError, match="label not saved") as info:
            lab.save_label(db, label)
        assert "Press Save again" in info.value.hint
    finally:
        holder.kill()
        holder.wait()


def test_read_reports_a_lock_it_cannot_wait_out(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    holder = _hold_lock(db, 30.0)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked by another process") as info:
            query(db, "SELECT 1", retries=2, wait_s=0.01)
        assert "reload the page" in info.value.hint
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


def test_read_missing_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no DuckDB file"):
        query(tmp_path / "absent.duckdb", "SELECT 1")


def test_coverage_statuses(fixture_state: FixtureState) -> None:
    versions, latest = cov.corpus_versions(fixture_state.corpus_db)
    assert latest == "0.141.1" and versions[0] == "0.141.1"
    secs = cov.sections(fixture_state.corpus_db, latest, ("doc", "release"))
    cited, retrieved = cov.eval_usage(fixture_state.eval_db)
    cited.update(cov.log_usage(fixture_state.logs_db))
    table = cov.coverage_table(secs, cited, retrieved).set_index("url")
    for url, _, _ in FILLER:
        assert table.loc[url, "status"] == "never retrieved"
    assert (table["status"] == "cited").any()
    assert set(table["status"]) <= set(cov.STATUS_ORDER)
    total = cov.summary(table.reset_index())
    assert total["sections"] == sum(total[s] for s in cov.STATUS_ORDER)
    areas = cov.by_area(table.reset_index())
    assert areas["sections"].sum() == len(table)


def test_coverage_table_counts() -> None:
    secs = pd.DataFrame({"url": ["u1", "u2", "u3"], "title": "t", "area": "a", "kind": "doc", "path": "p"})
    table = cov.coverage_table(secs, Counter({"u1": 2}), Counter({"u2": 1}))
    assert list(table["status"]) == ["cited", "retrieved, never cited", "never retrieved"]
    assert list(table["n_retrieved"]) == [2, 1, 0]  # a cited section was retrieved at least as often


def test_unanswered_log_groups_repeats_and_feedback(fixture_state: FixtureState) -> None:
    gaps = cov.unanswered_log(fixture_state.logs_db)
    celery = gaps[gaps["question"].str.lower().str.contains("celery")]
    assert len(celery) == 1 and int(celery["times"].iloc[0]) == 2
    assert "CORS" not in " ".join(gaps["question"])  # answered questions are not gaps
    down = cov.downvoted(fixture_state.logs_db)
    assert list(down["comment"]) == ["cited the wrong page"]


def test_unanswered_eval_lists_declined_answerable_questions(fixture_state: FixtureState) -> None:
    misses = cov.unanswered_eval(fixture_state.eval_db, {r.id: r.question for r in fixture_state.rows})
    assert not misses.empty
    assert (misses["n_declined"] + misses["n_judged_wrong"] > 0).all()
    assert all(misses["question"])
    refusals = {r.id for r in fixture_state.rows if r.expect_refusal}
    assert not refusals & set(misses["question_id"])  # a correct refusal is no gap


def test_empty_stores_give_empty_tables(tmp_path: Path) -> None:
    assert cov.unanswered_log(tmp_path / "logs.duckdb").empty
    assert cov.downvoted(tmp_path / "logs.duckdb").empty
    assert cov.unanswered_eval(tmp_path / "eval.duckdb", {}).empty
    assert cov.eval_usage(tmp_path / "eval.duckdb") == (Counter(), Counter())
    assert cov.corpus_versions(tmp_path / "fda.duckdb") == ([], None)
    assert lab.load_labels(tmp_path / "eval.duckdb").empty
