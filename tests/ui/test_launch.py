"""`fda ui` and the UI settings."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fda.cli.app import app
from fda.settings import Settings
from ui.config import from_settings
from ui.launch import APP, streamlit_command


def test_streamlit_command_is_headless_on_the_given_address() -> None:
    cmd = streamlit_command("127.0.0.1", 8765)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(APP)
    pairs = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert pairs == {
        "--server.address": "127.0.0.1",
        "--server.port": "8765",
        "--server.headless": "true",
        "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "minimal",
    }
    assert APP.is_file()


def test_fda_ui_runs_streamlit_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_call(cmd: list[str], env: dict[str, str], **_: Any) -> int:
        calls.append((cmd, env))
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    monkeypatch.setenv("FDA_UI__PORT", "8600")
    result = CliRunner().invoke(app, ["ui", "--api-url", "http://127.0.0.1:9999"])
    assert result.exit_code == 0, result.output
    cmd, env = calls[0]
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert env["FDA_UI__API_URL"] == "http://127.0.0.1:9999"


def test_ui_paths_derive_from_state_dir(tmp_path: Path) -> None:
    cfg = from_settings(Settings(state_dir=tmp_path))
    assert cfg.api_url == "http://127.0.0.1:8000"
    assert (cfg.eval_db, cfg.logs_db, cfg.corpus_db) == (
        tmp_path / "eval.duckdb",
        tmp_path / "logs.duckdb",
        tmp_path / "fda.duckdb",
    )
    assert cfg.tracking_uri.startswith("sqlite:///") and cfg.tracking_uri.endswith("mlflow.db")


def test_ui_settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FDA_UI__API_URL", "http://10.0.0.5:8000/")
    monkeypatch.setenv("FDA_UI__EVAL_DB", str(tmp_path / "other.duckdb"))
    cfg = from_settings(Settings())
    assert cfg.api_url == "http://10.0.0.5:8000"  # trailing slash dropped
    assert cfg.eval_db == tmp_path / "other.duckdb"


def test_ui_settings_reject_a_bad_port() -> None:
    with pytest.raises(ValueError, match="port"):
        Settings(ui={"port": 0})  # type: ignore[arg-type]
