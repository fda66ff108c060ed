"""Log an eval run to MLflow: params, metrics (means and CI bounds) and the report files as artifacts.

Embedded store by default (``sqlite:///<state_dir>/mlflow.db``, artifacts under ``<state_dir>/mlartifacts``);
a tracking server when settings give an ``http(s)://`` URI. An explicit ``MlflowClient`` is used instead of
mlflow's global active-run state, so nothing leaks between runs or tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fda.errors import EvalError

log = logging.getLogger(__name__)


def default_tracking_uri(state_dir: Path) -> str:
    return f"sqlite:///{(state_dir / 'mlflow.db').resolve()}"


def default_artifact_location(state_dir: Path) -> str:
    return (state_dir / "mlartifacts").resolve().as_uri()


def flat_metrics(summary: Mapping[str, Any]) -> dict[str, float]:
    """Headline means with CI bounds, every other mean, baseline means, counts: one flat dict."""
    out: dict[str, float] = {}
    for name, value in summary.get("means", {}).items():
        if value is not None:
            out[name] = float(value)
    for name, ci in summary.get("headline", {}).items():
        for key in ("low", "high"):
            if ci.get(key) is not None:
                out[f"{name}_ci_{key}"] = float(ci[key])
    for name, value in (summary.get("baseline") or {}).items():
        if isinstance(value, float):
            out[f"baseline_{name}"] = value
    for key in ("n_questions", "n_errors", "latency_p50_s", "latency_p95_s"):
        if summary.get(key) is not None:
            out[key] = float(summary[key])
    agree = summary.get("agreement") or {}
    for key in ("kappa_judge_human", "kappa_citations_human"):
        if agree.get(key) is not None:
            out[key] = float(agree[key])
    return out


def log_run(
    *,
    tracking_uri: str,
    experiment: str,
    artifact_location: str | None,
    run_name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    artifacts: Sequence[Path],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Create one finished MLflow run; returns its id. Failures raise EvalError (the report is already on disk)."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        exp = client.get_experiment_by_name(experiment)
        exp_id = exp.experiment_id if exp else client.create_experiment(experiment, artifact_location=artifact_location)
        run = client.create_run(exp_id, run_name=run_name, tags=dict(tags or {}))
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in sorted(metrics.items())],
            params=[Param(k, str(v)[:5000]) for k, v in sorted(params.items())],
        )
        for path in artifacts:
            client.log_artifact(run_id, str(path))
        client.set_terminated(run_id)
    except Exception as err:  # MLflow raises many types (store, REST, filesystem); all mean "not tracked"
        raise EvalError(
            f"could not log the run to MLflow at {tracking_uri}: {type(err).__name__}: {str(err)[:300]}",
            hint="Check FDA_EVAL__TRACKING_URI, or pass --no-track; the report files are written anyway.",
        ) from err
    log.info("logged to MLflow %s (experiment %s, run %s)", tracking_uri, experiment, run_id)
    return str(run_id)
