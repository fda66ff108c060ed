"""What the pages need from settings, resolved once: the API's URL and the stores' paths.

Pages call :func:`load_config` (the app's entry point, like the CLI); data modules take paths as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fda.settings import Settings, get_settings


@dataclass(frozen=True)
class UiConfig:
    api_url: str
    timeout_s: float
    eval_db: Path
    logs_db: Path
    corpus_db: Path
    tracking_uri: str
    experiment: str
    load_committed_runs: bool = True
    traces_file: Path | None = None  # the service's spans (fda/tracing.py); the Service page reads them
    api_key: str | None = field(default=None, repr=False)  # never shown


def from_settings(s: Settings) -> UiConfig:
    from eval.tracking import default_tracking_uri

    return UiConfig(
        api_url=s.ui.api_url.rstrip("/"),
        timeout_s=s.ui.request_timeout_s,
        eval_db=s.ui.eval_db or s.state_dir / "eval.duckdb",
        logs_db=s.ui.logs_db or s.state_dir / "logs.duckdb",
        corpus_db=s.db_path,
        tracking_uri=s.eval.tracking_uri or default_tracking_uri(s.state_dir),
        experiment=s.eval.experiment,
        load_committed_runs=s.ui.load_committed_runs,
        traces_file=s.traces_file,
        api_key=ui_api_key(s),
    )


def ui_api_key(s: Settings) -> str | None:
    """The key the UI sends: its own, else the first of the API it runs next to (none: the API needs none)."""
    key = s.ui.api_key or next(iter(s.api.api_keys), None)
    return key.get_secret_value() if key is not None else None


def load_config() -> UiConfig:
    return from_settings(get_settings())
