"""Eval results in DuckDB for the UI: ``state/eval.duckdb`` with tables eval_runs, eval_results, labels.

A file of its own, apart from the corpus store (state/fda.duckdb): DuckDB allows one writer per file,
so an eval run never fights a running server or ingest for the corpus lock. Runs write once, at the end.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from eval.labels import HumanLabel
from eval.scoring import ALL_METRICS
from fda.errors import EvalError

log = logging.getLogger(__name__)

RESULT_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR",
    "question_id": "VARCHAR",
    "type": "VARCHAR",
    "category": "VARCHAR",
    "split": "VARCHAR",
    "version": "VARCHAR",
    "error": "VARCHAR",
    "refused": "BOOLEAN",
    "cannot_answer": "BOOLEAN",
    "invalid_citations": "INTEGER",
    "n_citations": "INTEGER",
    "judge_verdict": "VARCHAR",
    "group": "VARCHAR",
    **dict.fromkeys(ALL_METRICS, "DOUBLE"),
    "top_passage": "VARCHAR",
    "cited": "VARCHAR",
    "answer": "VARCHAR",
}
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS eval_runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, program VARCHAR, backend VARCHAR,
    split VARCHAR, gold_version VARCHAR, gold_hash VARCHAR, corpus_hash VARCHAR, n_questions INTEGER,
    n_errors INTEGER, params VARCHAR, metrics VARCHAR, report_dir VARCHAR, mlflow_run_id VARCHAR);
CREATE TABLE IF NOT EXISTS eval_results ({", ".join(f'"{c}" {t}' for c, t in RESULT_COLUMNS.items())},
    PRIMARY KEY (run_id, question_id));
CREATE TABLE IF NOT EXISTS labels (
    run_id VARCHAR, question_id VARCHAR, answer_sha VARCHAR, answer_label VARCHAR, citations_ok BOOLEAN,
    note VARCHAR, labeller VARCHAR, labelled_at TIMESTAMP, PRIMARY KEY (run_id, question_id, labeller));
"""


@contextmanager
def open_eval_store(path: Path, read_only: bool = False, retries: int = 5) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (and create) the eval store; a lock held elsewhere is retried briefly, then reported."""
    if read_only and not path.is_file():
        raise EvalError(f"no eval store at {path}", hint="Run `fda eval` (or `make eval`) first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = None
    for attempt in range(retries + 1):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or attempt == retries:
                raise EvalError(
                    f"cannot open {path}: {str(err).splitlines()[0]}",
                    hint="Another process (the UI?) holds the eval store: close it and retry.",
                ) from err
            time.sleep(0.5 * (attempt + 1))
    assert con is not None
    try:
        if not read_only:
            con.execute(SCHEMA)
            _add_new_columns(con)
        yield con
    finally:
        con.close()


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A store made by an older version lacks columns added since (new metrics): add them, empty."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'eval_results'"
        ).fetchall()
    }
    for column, kind in RESULT_COLUMNS.items():
        if column not in have:
            con.execute(f'ALTER TABLE eval_results ADD COLUMN "{column}" {kind}')


def save_run(path: Path, run: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Replace one run (its row in eval_runs and all its results) in one transaction."""
    frame = pd.DataFrame([{c: row.get(c) for c in RESULT_COLUMNS} | {"run_id": run["run_id"]} for row in rows])
    frame = frame.reindex(columns=list(RESULT_COLUMNS))
    record = {**run, "params": json.dumps(run.get("params", {})), "metrics": json.dumps(run.get("metrics", {}))}
    run_cols = [
        "run_id", "started_at", "finished_at", "program", "backend", "split", "gold_version", "gold_hash",
        "corpus_hash", "n_questions", "n_errors", "params", "metrics", "report_dir", "mlflow_run_id",
    ]  # fmt: skip
    with open_eval_store(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM eval_results WHERE run_id = ?", [run["run_id"]])
            con.execute("DELETE FROM eval_runs WHERE run_id = ?", [run["run_id"]])
            con.execute(
                f"INSERT INTO eval_runs ({', '.join(run_cols)}) VALUES ({', '.join('?' * len(run_cols))})",
                [record.get(c) for c in run_cols],
            )
            if not frame.empty:
                con.register("_incoming", frame)
                cols = ", ".join(f'"{c}"' for c in RESULT_COLUMNS)
                con.execute(f"INSERT INTO eval_results ({cols}) SELECT {cols} FROM _incoming")
                con.unregister("_incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def stored_answers(path: Path, run_id: str) -> dict[str, str]:
    """question id -> answer text of one stored run."""
    with open_eval_store(path, read_only=True) as con:
        rows = con.execute("SELECT question_id, answer FROM eval_results WHERE run_id = ?", [run_id]).fetchall()
    return {qid: answer or "" for qid, answer in rows}


def save_labels(path: Path, labels: list[HumanLabel]) -> int:
    """Upsert labels (one per run, question and labeller)."""
    if not labels:
        return 0
    frame = pd.DataFrame([lab.model_dump() for lab in labels])
    cols = ["run_id", "question_id", "answer_sha", "answer_label", "citations_ok", "note", "labeller", "labelled_at"]
    with open_eval_store(path) as con:
        con.register("_labels", frame[cols])
        con.execute(f"INSERT OR REPLACE INTO labels ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _labels")
        con.unregister("_labels")
    return len(labels)


def load_labels_frame(path: Path) -> pd.DataFrame | None:
    """Every stored label (None when the store does not exist yet)."""
    if not path.is_file():
        return None
    with open_eval_store(path, read_only=True) as con:
        has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'labels'").fetchone()
        if not has or not has[0]:
            return None
        return con.execute("SELECT * FROM labels").fetchdf()


def stored_run_ids(path: Path) -> set[str]:
    """Run ids already in the eval store (empty when it does not exist yet)."""
    if not path.is_file():
        return set()
    with open_eval_store(path, read_only=True) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "eval_runs" not in tables:
            return set()
        return {r[0] for r in con.execute("SELECT run_id FROM eval_runs").fetchall()}
