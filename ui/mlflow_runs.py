"""Eval runs as MLflow tracked them (``fda eval`` logs each run: params, metrics, report files).

mlflow is imported lazily (seconds); an embedded ``sqlite:///`` store that does not exist yet is reported
as "no runs" instead of being created by the read.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from fda.errors import EvalError

log = logging.getLogger(__name__)

COLUMNS = ["run_name", "mlflow_run_id", "status", "start_time", "fda_run_id"]


def sqlite_path(tracking_uri: str) -> Path | None:
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri.removeprefix("sqlite:///"))


def mlflow_runs(tracking_uri: str, experiment: str, max_results: int = 200) -> pd.DataFrame:
    """Runs of the experiment, newest first: name, id, status, start time, the fda run id, every metric."""
    local = sqlite_path(tracking_uri)
    if local is not None and not local.is_file():
        return pd.DataFrame(columns=COLUMNS)
    try:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri)
        exp = client.get_experiment_by_name(experiment)
        if exp is None:
            return pd.DataFrame(columns=COLUMNS)
        runs = client.search_runs([exp.experiment_id], max_results=max_results, order_by=["attributes.start_time DESC"])
    except Exception as err:  # MLflow raises many types (store, REST, schema); all mean "cannot list"
        raise EvalError(
            f"cannot read MLflow runs at {tracking_uri}: {type(err).__name__}: {str(err)[:300]}",
            hint="Check FDA_EVAL__TRACKING_URI; the DuckDB runs above do not depend on MLflow.",
        ) from err
    rows = [
        {
            "run_name": r.info.run_name,
            "mlflow_run_id": r.info.run_id,
            "status": r.info.status,
            "start_time": pd.Timestamp(r.info.start_time, unit="ms") if r.info.start_time else None,
            "fda_run_id": r.data.tags.get("fda.run_id"),
            **r.data.metrics,
        }
        for r in runs
    ]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=COLUMNS)
