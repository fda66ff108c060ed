"""The MLflow run of one compile: a fluent run (``mlflow.dspy.autolog`` logs into the active run), child
runs per candidate, and the global state both need, restored on the way out.

    with compile_run(tracking, "rag-bootstrap", tags) as run_id:        # FAILED on any exception
        with autolog(enabled=True, log_traces=False):
            with child_run("bootstrap-0"): ...

The eval helpers (eval/tracking.py) use an explicit client; autolog cannot: it patches DSPy's optimizers
and logs to ``mlflow``'s active run, so the tracking URI is set for the run and put back after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)


def ensure_experiment(tracking_uri: str, name: str, artifact_location: str | None) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(name)
    return str(exp.experiment_id) if exp else str(client.create_experiment(name, artifact_location=artifact_location))


@contextmanager
def tracking_uri(uri: str) -> Iterator[None]:
    import mlflow
    from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

    previous = mlflow.get_tracking_uri() if is_tracking_uri_set() else None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None: unset again


@contextmanager
def compile_run(
    uri: str, experiment: str, artifact_location: str | None, run_name: str, tags: Mapping[str, str]
) -> Iterator[str]:
    """A fluent MLflow run; an exception inside marks it FAILED (and propagates)."""
    import mlflow

    with tracking_uri(uri):
        exp_id = ensure_experiment(uri, experiment, artifact_location)
        with mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=dict(tags)) as run:
            try:
                yield str(run.info.run_id)
            except BaseException as err:
                mlflow.set_tag("fda.error", f"{type(err).__name__}: {str(err)[:480]}")
                raise


@contextmanager
def child_run(name: str) -> Iterator[Callable[[Mapping[str, float]], None]]:
    """A nested run of the active one (same experiment); yields a function logging metrics into it."""
    import mlflow

    parent = mlflow.active_run()
    exp_id = parent.info.experiment_id if parent else None
    with mlflow.start_run(experiment_id=exp_id, run_name=name, nested=True):
        yield log_metrics


@contextmanager
def autolog(enabled: bool, log_traces: bool) -> Iterator[bool]:
    """``mlflow.dspy.autolog`` (optimizer params, datasets, best program state, evaluations; traces if asked)
    for the duration, then off again. Autologging trouble never fails a compile: it is logged and skipped."""
    if not enabled:
        yield False
        return
    import dspy
    import mlflow.dspy

    track_usage = dspy.settings.track_usage
    try:
        mlflow.dspy.autolog(
            log_traces=log_traces, log_traces_from_compile=log_traces, log_traces_from_eval=log_traces,
            log_compiles=True, log_evals=True, silent=True,
        )  # fmt: skip
    except Exception as err:  # an MLflow/DSPy version quirk: compile without the optimizer trace
        log.warning("mlflow.dspy.autolog unavailable (%s: %s); compiling without it", type(err).__name__, err)
        yield False
        return
    try:
        yield True
    finally:
        try:
            mlflow.dspy.autolog(disable=True, silent=True)
            dspy.settings.configure(track_usage=track_usage)
        except Exception as err:  # e.g. DSPy settings owned by another thread: leave them, say so
            log.warning("could not switch mlflow.dspy.autolog off (%s: %s)", type(err).__name__, err)


def log_metrics(metrics: Mapping[str, float]) -> None:
    import mlflow

    clean = {k.replace("@", "_"): float(v) for k, v in metrics.items() if v is not None}
    if clean:
        mlflow.log_metrics(clean)


def log_params(params: Mapping[str, Any]) -> None:
    import mlflow

    mlflow.log_params({k: str(v)[:5000] for k, v in params.items()})
