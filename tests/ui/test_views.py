"""Every page rendered with streamlit.testing's AppTest on fixture state, against the real app with fake
services; plus the empty states and an API that is down."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import UI, ApiServer
from tests.ui.fixtures import FixtureState
from ui.labelling import load_labels

TIMEOUT = 60


def page(name: str) -> AppTest:
    return AppTest.from_file(str(UI / "views" / f"{name}.py"), default_timeout=TIMEOUT)


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def charts(at: AppTest) -> list[object]:
    return list(at.get("vega_lite_chart"))


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_app_navigation_starts_on_runs_and_shows_api_status(ui_env: FixtureState) -> None:
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=TIMEOUT).run()
    no_exceptions(at)
    assert at.title[0].value == "Evaluation runs"
    assert any("API ready" in s.value for s in at.sidebar.success)


def test_runs_page(ui_env: FixtureState) -> None:
    at = page("runs").run()
    no_exceptions(at)
    newest, older = ui_env.run_ids[-1], ui_env.run_ids[0]
    assert at.selectbox(key="run_a").value == newest and at.selectbox(key="run_b").value == older
    overview = at.dataframe[0].value
    assert list(overview["run_id"]) == [newest, older]
    assert {"combined score", "judge score"} <= {m.label for m in at.metric}
    assert "Headline metrics" in texts(at)
    assert len(charts(at)) >= 4  # headline CIs, by type, by category, deltas (+ trend)
    compare = next(df.value for df in at.dataframe if "verdict" in df.value.columns)
    assert set(compare["verdict"]) <= {"better", "worse", "within noise", "n/a"}
    worst = next(df.value for df in at.dataframe if "open" in df.value.columns and "top_passage" in df.value.columns)
    assert worst["error"].notna().iloc[0]  # the failed question is listed first
    assert worst["open"].iloc[0].startswith(f"question?run={newest}")


def test_runs_page_follows_the_run_query_parameter(ui_env: FixtureState) -> None:
    at = page("runs")
    at.query_params["run"] = ui_env.run_ids[0]
    at.run()
    no_exceptions(at)
    assert at.selectbox(key="run_a").value == ui_env.run_ids[0]


def test_question_page_drill_down(ui_env: FixtureState) -> None:
    failed = ui_env.rows[2]
    at = page("question")
    at.query_params.update({"run": ui_env.run_ids[-1], "q": failed.id})
    at.run()
    no_exceptions(at)
    assert at.selectbox(key="q_id").value == failed.id
    body = texts(at)
    assert failed.question[:40] in body
    assert any("failed on this question" in e.value for e in at.error)

    ok = next(r for r in ui_env.rows if r.gold_sections and r.id != failed.id)
    at.selectbox(key="q_id").set_value(ok.id).run()
    no_exceptions(at)
    body = texts(at)
    assert ok.gold_sections[0] in body
    assert "Retrieved passages" in body and "Answer" in body
    passages = next(df.value for df in at.dataframe if "rank" in df.value.columns)
    assert list(passages["rank"])[:3] == [1, 2, 3] and "score" in passages.columns
    assert any(m.label == "judge verdict" for m in at.metric)
    assert any(e.label.startswith("Trace") for e in at.expander)


def test_question_page_problem_filter(ui_env: FixtureState) -> None:
    at = page("question").run()
    everything = len(at.selectbox(key="q_id").options)
    at.toggle(key="q_only").set_value(True).run()
    no_exceptions(at)
    options = at.selectbox(key="q_id").options
    assert 0 < len(options) < everything
    assert any(o.startswith(ui_env.rows[2].id) for o in options)  # the failed question is a problem


@pytest.fixture
def writable_env(ui_env: FixtureState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture state that a test may write (labels)."""
    from fda.settings import get_settings

    target = tmp_path / "state"
    shutil.copytree(ui_env.state_dir, target)
    monkeypatch.setenv("FDA_STATE_DIR", str(target))
    get_settings.cache_clear()
    return target


def test_labelling_page_saves_a_label_and_shows_agreement(writable_env: Path, ui_env: FixtureState) -> None:
    at = page("labelling")
    at.session_state["labeller"] = "carol"
    at.run()
    no_exceptions(at)
    assert "Judge-human agreement" in texts(at)
    n = len(load_labels(ui_env.eval_db))
    assert any(m.label.startswith(f"kappa: judge vs human (n={n})") for m in at.metric)
    assert charts(at)  # the kappa curve
    qid = at.selectbox(key="l_qid").value
    assert "judge verdict" not in texts(at)  # blind by default

    at.button[0].click().run()  # save without a verdict: refused with a message
    assert any("Choose correct, partly or wrong" in e.value for e in at.error)

    at.radio(key=f"verdict-{qid}").set_value("partly")
    at.radio(key=f"cites-{qid}").set_value("no")
    at.text_input(key=f"note-{qid}").input("misses the prefix")
    next(b for b in at.button if b.label == "Save label").click().run()
    no_exceptions(at)
    stored = load_labels(writable_env / "eval.duckdb").query("labeller == 'carol'")
    assert list(stored[["question_id", "answer_label", "citations_ok", "note"]].iloc[0]) == [
        qid,
        "partly",
        False,
        "misses the prefix",
    ]
    assert any(f"Saved: {qid} is partly" in s.value for s in at.success)
    assert at.selectbox(key="l_qid").value != qid  # the next answer is up


def test_labelling_page_shows_the_verdict_when_not_blind(ui_env: FixtureState) -> None:
    at = page("labelling")
    at.session_state["labeller"] = "dave"
    at.run()
    at.toggle(key="blind").set_value(False).run()
    no_exceptions(at)
    assert "judge verdict:" in texts(at)


def test_playground_streams_an_answer_with_citations_and_takes_feedback(
    ui_env: FixtureState, fake_api: ApiServer
) -> None:
    at = page("playground").run()
    no_exceptions(at)
    assert at.selectbox(key="pg_version").value == "0.141.1"
    assert at.selectbox(key="pg_version").options == ["0.68.0", "0.141.1 (latest)"]
    at.text_area(key="pg_question").input("How do I add CORSMiddleware?")
    next(b for b in at.button if b.label == "Ask").click().run()
    no_exceptions(at)
    body = texts(at)
    assert "Answer to: How do I add CORSMiddleware?" in body
    assert "(https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware)" in body  # marker and source are links
    assert "Add CORSMiddleware with allow_origins." in body  # the snippet
    trace = at.session_state["pg_answer"]["response"]["trace_id"]

    next(b for b in at.button if b.label == "Show the whole section").click().run()
    assert "(whole section)" in texts(at)

    spool = sorted(fake_api.spool_dir.glob("spool-*.jsonl"))
    before = sum(p.read_text().count('"feedback"') for p in spool)
    at.text_input(key="pg_comment").input("spot on")
    next(b for b in at.button if b.label == "Helpful").click().run()
    no_exceptions(at)
    assert any("feedback stored (up" in s.value for s in at.success)
    spool = sorted(fake_api.spool_dir.glob("spool-*.jsonl"))
    lines = [ln for p in spool for ln in p.read_text().splitlines() if '"feedback"' in ln]
    assert len(lines) == before + 1 and trace in lines[-1] and "spot on" in lines[-1]


def test_playground_without_streaming_and_an_old_version(ui_env: FixtureState) -> None:
    at = page("playground").run()
    at.toggle(key="pg_stream").set_value(False)
    at.selectbox(key="pg_version").set_value("0.68.0")
    at.text_area(key="pg_question").input("How do I use a startup event?")
    next(b for b in at.button if b.label == "Ask").click().run()
    no_exceptions(at)
    assert at.session_state["pg_answer"]["response"]["version"] == "0.68.0"
    assert "on_event" in texts(at)


def test_playground_query_parameters_prefill_and_ask(ui_env: FixtureState) -> None:
    at = page("playground")
    at.query_params.update({"q": "How do I add CORSMiddleware?", "ask": "1"})
    at.run()
    no_exceptions(at)
    assert at.text_area(key="pg_question").value == "How do I add CORSMiddleware?"
    assert "Sources" in texts(at)


def test_coverage_page(ui_env: FixtureState) -> None:
    at = page("coverage").run()
    no_exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"sections", "cited", "retrieved, never cited", "never retrieved"}
    assert int(metrics["never retrieved"].split()[0]) >= 4  # the filler sections at least
    assert charts(at)
    never = next(df.value for df in at.dataframe if {"area", "title", "url", "path"} == set(df.value.columns))
    assert "https://fastapi.tiangolo.com/how-to/graphql/#graphql-libraries" in set(never["url"])
    gaps = next(df.value for df in at.dataframe if "times" in df.value.columns)
    assert gaps["question"].str.contains("Celery", case=False).any()
    misses = next(df.value for df in at.dataframe if "n_declined" in df.value.columns)
    assert all(misses["question"])

    at.multiselect(key="cov_sources").set_value([]).run()  # counting nothing: everything is never retrieved
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["never retrieved"].split()[0] == metrics["sections"]


@pytest.mark.parametrize("name", ["runs", "question", "labelling"])
def test_eval_pages_without_runs_say_how_to_make_one(empty_env: Path, name: str) -> None:
    at = page(name).run()
    no_exceptions(at)
    assert any("No eval runs yet: run `make eval`" in i.value for i in at.info)


def test_coverage_without_corpus_says_how_to_ingest(empty_env: Path) -> None:
    at = page("coverage").run()
    no_exceptions(at)
    assert any("make ingest" in i.value for i in at.info)


def test_playground_with_the_api_down(empty_env: Path) -> None:
    at = page("playground").run()
    no_exceptions(at)
    error = at.error[0].value
    assert "The API is not reachable" in error and "fda serve" in error
    assert not at.text_area  # no form to fill while nothing can answer


def test_app_sidebar_with_the_api_down(empty_env: Path) -> None:
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=TIMEOUT).run()
    no_exceptions(at)
    assert any("API not ready" in w.value for w in at.sidebar.warning)


def test_a_fresh_clone_shows_the_committed_runs(empty_env: Path) -> None:
    """eval/results/ holds real runs (per-question results + meta): the app stores them at start, so the Runs
    page of a fresh state folder lists them instead of 'No eval runs yet'."""
    from eval.results_export import committed_runs

    committed = [m["meta"]["run_id"] for m, _ in committed_runs()]
    assert committed, "no committed run under eval/results/"
    no_exceptions(AppTest.from_file(str(UI / "app.py"), default_timeout=TIMEOUT).run())
    at = page("runs").run()
    no_exceptions(at)
    assert not any("No eval runs yet" in i.value for i in at.info)
    assert set(committed) <= set(at.dataframe[0].value["run_id"])


def test_service_page(ui_env: FixtureState) -> None:
    at = page("service").run()
    no_exceptions(at)
    assert {"questions", "LM tokens/s", "cache hits", "declined", "errors"} <= {m.label for m in at.metric}
    assert next(m for m in at.metric if m.label == "questions").value == "12"
    assert len(charts(at)) == 2  # questions per minute, latency per stage
    stages = next(df.value for df in at.dataframe if "stage" in df.value.columns)
    assert {"ask", "guard", "retrieve", "retrieve.colbert", "lm", "verify"} <= set(stages["stage"])


def test_service_page_without_traces(empty_env: Path) -> None:
    at = page("service").run()
    no_exceptions(at)
    assert "No traces yet" in texts(at)


def test_playground_agent_shows_its_plan_and_tool_calls(ui_env: FixtureState) -> None:
    at = page("playground").run()
    at.selectbox(key="pg_program").set_value("agent")
    at.text_area(key="pg_question").input("How do I enable CORS?")
    next(b for b in at.button if b.label == "Ask").click().run()
    no_exceptions(at)
    resp = at.session_state["pg_answer"]["response"]
    assert resp["stop_reason"] == "finished" and resp["program"] == "agent"
    body = texts(at)
    assert "Add CORSMiddleware" in body and "1. search_docs: CORS" in body
    assert any(e.label.startswith("Agent: plan and tool calls (stopped: finished)") for e in at.expander)
    frame = at.dataframe[0].value
    assert list(frame["tool"]) == ["search_docs"] and list(frame["found"]) == [1]
