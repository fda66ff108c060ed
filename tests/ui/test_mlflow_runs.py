"""Eval runs as MLflow tracked them: the embedded store written by eval.tracking.log_run, read by the UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fda.errors import EvalError
from tests.ui.conftest import UI
from tests.ui.fixtures import FixtureState
from ui.mlflow_runs import mlflow_runs


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> str:
    from eval.tracking import log_run

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    log_run(
        tracking_uri=uri, experiment="fda-eval", artifact_location=(root / "art").as_uri(), run_name="run-a",
        params={"program": "rag"}, metrics={"combined_score": 0.75}, artifacts=[], tags={"fda.run_id": "run-a"},
    )  # fmt: skip
    return uri


def test_lists_tracked_runs(tracked: str) -> None:
    df = mlflow_runs(tracked, "fda-eval")
    assert list(df["run_name"]) == ["run-a"] and list(df["fda_run_id"]) == ["run-a"]
    assert df["combined_score"].iloc[0] == 0.75
    assert mlflow_runs(tracked, "no-such-experiment").empty


def test_missing_embedded_store_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    assert mlflow_runs(f"sqlite:///{db}", "fda-eval").empty
    assert not db.exists()


def test_unreadable_store_is_an_eval_error(tmp_path: Path) -> None:
    bad = tmp_path / "mlflow.db"
    bad.write_text("not a database")
    with pytest.raises(EvalError, match="cannot read MLflow runs"):
        mlflow_runs(f"sqlite:///{bad}", "fda-eval")


def test_runs_page_mlflow_tab(ui_env: FixtureState, tracked: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fda.settings import get_settings

    monkeypatch.setenv("FDA_EVAL__TRACKING_URI", tracked)
    get_settings.cache_clear()
    at = AppTest.from_file(str(UI / "views" / "runs.py"), default_timeout=120).run()
    at.toggle(key="read_mlflow").set_value(True).run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "mlflow_run_id" in df.value.columns)
    assert list(table["run_name"]) == ["run-a"]
