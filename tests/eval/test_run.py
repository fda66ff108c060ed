import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from eval.gold import GoldQuestion
from eval.retrieval_program import RetrievalProgram
from eval.run import RunSpec, Tracking, ensure_gold_in_corpus, execute, new_run_id, report_run
from eval.tracking import default_artifact_location, default_tracking_uri
from fda.errors import EvalError, GoldSetError
from index.ingest.store import open_store
from tests.eval.conftest import BG, COOKIE, CORS, MW, ScriptedProgram, ScriptedRetriever


def _spec(program: str = "retrieval", **kw: object) -> RunSpec:
    return RunSpec(program=program, backend="fake", split="dev", gold_version="v1", gold_hash="g1", **kw)  # type: ignore[arg-type]


def _retriever() -> ScriptedRetriever:
    return ScriptedRetriever(
        {
            "question q-cors?": [MW, CORS],
            "question q-bg?": [BG],
            "question q-inject?": [CORS],
            "question q-oos?": [CORS],
        }
    )


def test_retrieval_run_writes_report_duckdb_and_mlflow(
    eval_paths: dict[str, Path], gold_rows: list[GoldQuestion]
) -> None:
    state = eval_paths["state"]
    tracking = Tracking(default_tracking_uri(state), "test-eval", default_artifact_location(state))
    run_dir = eval_paths["reports"] / "run1"
    outcome = execute(
        _spec(bootstrap_samples=200),
        RetrievalProgram(_retriever()),
        gold_rows,
        run_dir=run_dir,
        eval_db=eval_paths["db"],
        tracking=tracking,
    )
    for name in ("meta.json", "results.jsonl", "summary.md", "summary.json", "results.csv"):
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    head = summary["headline"]
    assert head["recall_at_5_section"]["mean"] == pytest.approx(2 / 3)  # q-inject retrieves the wrong page
    assert head["recall_at_5_section"]["n"] == 3  # q-oos has no gold section: n/a, not zero
    assert "combined_score" not in head  # answer metrics do not apply to retrieval only
    assert summary["baseline"]["recall_at_5_section"] == pytest.approx(2 / 3)  # retrieval is its own baseline
    md = (run_dir / "summary.md").read_text()
    assert "## By type" in md and "## By category" in md and "## Worst questions" in md and "BM25 baseline" in md
    assert "q-inject" in md.split("## Worst questions")[1]

    with duckdb.connect(str(eval_paths["db"]), read_only=True) as con:
        runs = con.execute("SELECT run_id, program, n_questions, mlflow_run_id FROM eval_runs").fetchall()
        n_results = con.execute("SELECT count(*) FROM eval_results WHERE run_id = 'run1'").fetchone()
    assert runs == [("run1", "retrieval", 4, outcome.mlflow_run_id)]
    assert n_results == (4,)

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking.tracking_uri)
    run = client.get_run(outcome.mlflow_run_id or "")
    assert run.data.params["program"] == "retrieval"
    assert run.data.metrics["recall_at_5_section"] == pytest.approx(2 / 3)
    assert "recall_at_5_section_ci_low" in run.data.metrics
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"summary.md", "summary.json", "results.csv"}
    assert run.info.artifact_uri.startswith((state / "mlartifacts").resolve().as_uri())


def test_answer_run_with_bm25_baseline_and_resume(eval_paths: dict[str, Path], gold_rows: list[GoldQuestion]) -> None:
    calls: list[str] = []

    def flaky() -> None:
        calls.append("x")
        raise KeyboardInterrupt

    program = ScriptedProgram({"question q-oos?": flaky})
    run_dir = eval_paths["reports"] / "run2"
    with pytest.raises(KeyboardInterrupt):
        execute(_spec("rag", workers=1), program, gold_rows, run_dir=run_dir, eval_db=eval_paths["db"])
    assert json.loads((run_dir / "meta.json").read_text())["status"] == "running"
    finished = len((run_dir / "results.jsonl").read_text().splitlines())
    assert finished == 3

    program.script["question q-oos?"] = {"answer": "I can't answer that from the docs.", "cannot_answer": True}
    program.calls.clear()
    outcome = execute(
        _spec("rag", workers=2),
        program,
        gold_rows,
        run_dir=run_dir,
        eval_db=eval_paths["db"],
        baseline_program=RetrievalProgram(_retriever()),
    )
    assert program.calls == ["question q-oos?"]  # only the unfinished question ran again
    assert outcome.meta["status"] == "done"
    s = outcome.summary
    assert s["headline"]["refusal_correct"]["mean"] == 1.0
    assert s["baseline"]["recall_at_5_section"] == pytest.approx(2 / 3)  # the BM25 stand-in, same questions
    assert s["headline"]["citation_recall_section"]["mean"] == 0.0  # the program shows no passages
    assert (run_dir / "baseline.jsonl").is_file()


def test_resume_refuses_a_different_run(eval_paths: dict[str, Path], gold_rows: list[GoldQuestion]) -> None:
    run_dir = eval_paths["reports"] / "run3"
    execute(_spec(), RetrievalProgram(_retriever()), gold_rows[:1], run_dir=run_dir, eval_db=eval_paths["db"])
    with pytest.raises(EvalError, match="cannot resume"):
        execute(_spec("rag"), RetrievalProgram(_retriever()), gold_rows[:1], run_dir=run_dir, eval_db=eval_paths["db"])


def test_report_can_be_rebuilt(eval_paths: dict[str, Path], gold_rows: list[GoldQuestion]) -> None:
    run_dir = eval_paths["reports"] / "run4"
    execute(_spec(), RetrievalProgram(_retriever()), gold_rows, run_dir=run_dir, eval_db=eval_paths["db"])
    (run_dir / "summary.md").unlink()
    again = report_run(run_dir, eval_paths["db"])
    assert (run_dir / "summary.md").is_file()
    assert again.summary["headline"]["recall_at_5_section"]["n"] == 3


def test_no_questions_is_an_error(eval_paths: dict[str, Path]) -> None:
    with pytest.raises(EvalError, match="no gold questions"):
        execute(
            _spec(), RetrievalProgram(_retriever()), [], run_dir=eval_paths["reports"] / "x", eval_db=eval_paths["db"]
        )


def test_run_ids_do_not_collide(tmp_path: Path) -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    first = new_run_id(_spec(), tmp_path, now)
    assert first == "20261130-120000-retrieval-fake-dev"
    (tmp_path / first).mkdir()
    assert new_run_id(_spec(), tmp_path, now) == f"{first}-2"


def test_gold_sections_missing_from_the_corpus_fail_loudly(tmp_path: Path, gold_rows: list[GoldQuestion]) -> None:
    db = tmp_path / "fda.duckdb"
    with open_store(db) as con:
        for url in (CORS, BG):
            con.execute("INSERT INTO sections (section_id, url) VALUES (?, ?)", [url, url])
    with pytest.raises(GoldSetError, match=r"1 gold section\(s\).*q-inject: " + COOKIE.replace("?", r"\?")):
        ensure_gold_in_corpus(gold_rows, db)
    ensure_gold_in_corpus(gold_rows[:2], db)  # all present: no error


def test_a_run_exported_to_results_loads_into_a_fresh_eval_store(
    eval_paths: dict[str, Path], gold_rows: list[GoldQuestion], tmp_path: Path
) -> None:
    from eval.results_export import committed_runs, export_run, import_committed

    run_dir = eval_paths["reports"] / "run-export"
    execute(
        _spec(bootstrap_samples=50),
        RetrievalProgram(_retriever()),
        gold_rows,
        run_dir=run_dir,
        eval_db=eval_paths["db"],
    )
    dest = tmp_path / "results"
    path = export_run(run_dir, dest)
    assert path.name == "run-export.jsonl" and len(path.read_text().splitlines()) == 4
    ((meta, _rows),) = committed_runs(dest)
    assert meta["meta"]["program"] == "retrieval" and "recall_at_5_section" in meta["headline"]
    fresh_db = tmp_path / "fresh.duckdb"
    assert import_committed(fresh_db, dest) == ["run-export"]
    assert import_committed(fresh_db, dest) == []  # once
    with duckdb.connect(str(fresh_db), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM eval_results WHERE run_id = 'run-export'").fetchone()
        mean = con.execute("SELECT avg(recall_at_5_section) FROM eval_results WHERE run_id = 'run-export'").fetchone()
    assert n == (4,) and mean is not None and mean[0] == pytest.approx(2 / 3)
