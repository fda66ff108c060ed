"""``fda compile`` and ``fda programs`` end to end with the scripted LM, the fixture gold rows and a
fake retriever (no index, no local model), against a temporary MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import optimizers.session as opt_session
from fda.cli.app import app
from tests.optimizers.conftest import DEV, TRAIN, ScriptedLM
from tests.programs.conftest import FakeRetriever

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    import eval.run
    import eval.session
    import index.ingest.pipeline
    import optimizers.examples
    import optimizers.serving

    @contextmanager
    def scripted_lms(s: Any, lm: str | None, teacher: str | None) -> Iterator[tuple[Any, Any, str, str | None]]:
        yield ScriptedLM(easy={g.question for g in TRAIN}), None, lm or "dummy/scripted", None

    asked: list[str | None] = []

    def fixture_splits(gold: str, **kw: Any) -> tuple[list[Any], list[Any]]:
        asked.append(gold)
        return TRAIN, DEV

    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FDA_COMPILE__CANDIDATES", "1")
    monkeypatch.setenv("FDA_COMPILE__PROMOTE_MIN_PAIRS", "2")
    monkeypatch.setenv("FDA_COMPILE__AUTOLOG", "false")
    monkeypatch.setenv("FDA_EVAL__TRACK", "false")
    monkeypatch.setattr(eval.session, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setattr(opt_session, "open_lms", scripted_lms)
    monkeypatch.setattr(eval.session, "open_or_build", lambda backend, s, build: FakeRetriever())
    monkeypatch.setattr(eval.run, "ensure_gold_in_corpus", lambda rows, db: None)
    monkeypatch.setattr(index.ingest.pipeline, "corpus_hash", lambda db: "c0ffee")
    monkeypatch.setattr(optimizers.serving, "program_versions", lambda s: ([], None))
    monkeypatch.setattr(optimizers.examples, "load_splits", fixture_splits)
    return tmp_path


def test_compile_then_list_promote_rollback(cli_env: Path) -> None:
    result = runner.invoke(app, ["compile", "--program", "rag", "--optimizer", "bootstrap", "--lm", "dummy/x"])
    assert result.exit_code == 0, result.output
    assert "promoted to champion" in result.output and "fda-rag version 1" in result.output
    assert (cli_env / "state" / "mlflow.db").is_file()

    listed = runner.invoke(app, ["programs", "list", "--backend", "fake"])
    assert listed.exit_code == 0, listed.output
    assert "champion" in listed.output and "dummy/x" in listed.output and "yes" in listed.output

    assert runner.invoke(app, ["programs", "promote", "1"]).exit_code == 0
    missing = runner.invoke(app, ["programs", "promote", "7"])
    assert missing.exit_code == 2 and "has no version '7'" in missing.output
    rollback = runner.invoke(app, ["programs", "rollback"])
    assert rollback.exit_code == 2 and "no earlier champion" in rollback.output

    evaluated = runner.invoke(app, ["programs", "eval", "champion", "--split", "dev", "--limit", "2"])
    assert evaluated.exit_code == 0, evaluated.output
    (report,) = (cli_env / "reports").iterdir()
    assert report.name.endswith("-rag@v1-fake-dev") and (report / "summary.md").is_file()


def test_unknown_optimizer_is_a_clear_error(cli_env: Path) -> None:
    result = runner.invoke(app, ["compile", "--optimizer", "magic"])
    assert result.exit_code == 2 and "unknown program 'rag' or optimizer 'magic'" in result.output
