"""Streamlit pieces the pages share: cached loaders (keyed on file stamps), error display, run picker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from eval.gold import GoldQuestion
from eval.results import QuestionResult
from fda.errors import FDAError
from ui import coverage, mlflow_runs, question, runs
from ui.api_client import ApiClient
from ui.config import UiConfig
from ui.db import stamp


def show_error(err: FDAError, what: str = "") -> None:
    """One red box: what failed, the error, and what to do about it."""
    head = f"**{what}**: " if what else ""
    message = str(err.args[0]) if err.args else str(err)
    st.error(f"{head}{message}" + (f"\n\n**What to do:** {err.hint}" if err.hint else ""), icon=":material/error:")


@st.cache_data(ttl=30, show_spinner=False)
def _runs(path: Path, _stamp: float) -> pd.DataFrame:
    return runs.list_runs(path)


def load_runs(cfg: UiConfig) -> pd.DataFrame:
    return _runs(cfg.eval_db, stamp(cfg.eval_db))


@st.cache_data(ttl=30, show_spinner=False)
def _results(path: Path, _stamp: float, run_id: str) -> pd.DataFrame:
    return runs.run_results(path, run_id)


def load_results(cfg: UiConfig, run_id: str) -> pd.DataFrame:
    return _results(cfg.eval_db, stamp(cfg.eval_db), run_id)


@st.cache_data(ttl=300, show_spinner=False)
def load_gold(gold_version: str | None) -> dict[str, GoldQuestion]:
    return question.gold_questions(gold_version)


@st.cache_data(ttl=60, show_spinner=False)
def _full(report_dir: str | None, _stamp: float) -> dict[str, QuestionResult]:
    return question.full_results(report_dir)


def load_full_results(report_dir: str | None) -> dict[str, QuestionResult]:
    path = question.run_results_file(report_dir)
    return _full(report_dir, stamp(path) if path else 0.0)


@st.cache_data(ttl=60, show_spinner="Reading MLflow runs...")
def load_mlflow(tracking_uri: str, experiment: str) -> pd.DataFrame:
    return mlflow_runs.mlflow_runs(tracking_uri, experiment)


@st.cache_data(ttl=60, show_spinner="Counting cited and retrieved sections...")
def _eval_usage(path: Path, _stamp: float) -> tuple[Any, Any]:
    return coverage.eval_usage(path)


def load_eval_usage(cfg: UiConfig) -> tuple[Any, Any]:
    return _eval_usage(cfg.eval_db, stamp(cfg.eval_db))


def client(cfg: UiConfig) -> ApiClient:
    return ApiClient(cfg.api_url, cfg.timeout_s, api_key=cfg.api_key)


def pick_run(frame: pd.DataFrame, label: str, key: str, param: str | None = None, index: int = 0) -> str:
    """A run selectbox that starts from the ``?run=`` query parameter when it names a stored run."""
    ids = list(frame["run_id"])
    wanted = st.query_params.get(param) if param else None
    start = ids.index(wanted) if wanted in ids else min(index, len(ids) - 1)
    titles = {r["run_id"]: runs.run_title(r) for _, r in frame.iterrows()}
    chosen: str = st.selectbox(label, ids, index=start, key=key, format_func=lambda r: titles.get(r, r))
    return chosen


def question_link(run_id: str, question_id: str) -> str:
    """Relative link to the drill-down page of one question (works from any page of the app)."""
    from urllib.parse import urlencode

    return "question?" + urlencode({"run": run_id, "q": question_id})


def no_runs_message(cfg: UiConfig) -> None:
    st.info(
        "No eval runs yet: run `make eval` (or `fda eval --program rag --split dev`), then reload.\n\n"
        f"Looked in `{cfg.eval_db}`.",
        icon=":material/info:",
    )


def runs_or_stop(cfg: UiConfig) -> pd.DataFrame:
    """The eval runs; a page that needs them stops here, saying why, when the store fails or has none."""
    try:
        found = load_runs(cfg)
    except FDAError as err:
        show_error(err, "Cannot read the eval store")
        st.stop()
    if found.empty:
        no_runs_message(cfg)
        st.stop()
    return found
