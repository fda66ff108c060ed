"""The CLI end to end on the tiny fixture corpus: exit codes and messages a user sees."""

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fda.cli.app import app
from tests.index.conftest import write_dump

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FDA_CHUNKING__TOKENIZER", "whitespace")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_dump(corpus / "fastapi-0.2.0.jsonl")
    monkeypatch.setenv("FDA_CORPUS__SOURCES", f'["{corpus}"]')
    return tmp_path


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ("ingest", "corpus", "gold", "bench"):
        assert cmd in result.output


def test_ingest_then_stats(env: Path) -> None:
    result = runner.invoke(app, ["ingest", "--json"])
    assert result.exit_code == 0, result.output
    assert '"status": "ingested"' in result.output and '"include_problems": 1' in result.output
    again = runner.invoke(app, ["ingest", "--json"])
    assert '"status": "unchanged"' in again.output
    stats = runner.invoke(app, ["corpus", "stats"])
    assert stats.exit_code == 0 and "0.2.0" in stats.output and "release" in stats.output


def test_missing_source_exits_2_with_hint(env: Path) -> None:
    result = runner.invoke(app, ["ingest", "--source", str(env / "nowhere")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "--source" in result.output


def test_stats_before_ingest_says_what_to_run(env: Path) -> None:
    result = runner.invoke(app, ["corpus", "stats"])
    assert result.exit_code == 2 and "fda ingest" in result.output


def test_invalid_settings_name_each_variable_without_a_traceback(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_ANSWER__RERANK", "1")
    monkeypatch.setenv("FDA_ANSWER__REWRITE", "sometimes")
    result = runner.invoke(app, ["corpus", "stats"])
    assert result.exit_code == 2, result.output
    assert "invalid settings" in result.output and "Traceback" not in result.output
    assert "FDA_ANSWER__RERANK='1': re-ranking one section changes nothing" in result.output
    assert "FDA_ANSWER__REWRITE='sometimes': Input should be 'auto', 'on' or 'off'" in result.output


def test_eval_code_repair_without_a_store_says_what_to_do(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fda.cli.eval import _repair_failed

    with pytest.raises(typer.Exit) as info:  # before any LM starts: the cited passages come from the store
        _repair_failed("a-run", [], [{"question_id": "q", "status": "failed"}], checker=None)
    assert info.value.exit_code == 2
    err = capsys.readouterr().err
    assert "no store at" in err and "fda ingest" in err


def test_finetune_train_uses_every_core_and_bf16_only_where_the_cpu_has_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    import json
    import os

    import optimizers.finetune.pipeline as pipeline
    import optimizers.finetune.train as train
    from fda.errors import FinetuneError

    seen: dict[str, object] = {}

    def fake_train(_s: object, *, config: object, **_: object) -> None:
        seen.update(threads=torch.get_num_threads(), bf16=getattr(config, "bf16", None))
        raise FinetuneError("stopped by the test", hint="none")

    monkeypatch.setattr(pipeline, "train", fake_train)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path / "state"))
    before = torch.get_num_threads()
    try:
        for native in (True, False):  # the default follows the CPU
            monkeypatch.setattr(train, "cpu_has_bf16", lambda native=native: native)
            torch.set_num_threads(1)  # what OMP_NUM_THREADS=1 (fda/env.py) gives every fda process
            result = runner.invoke(app, ["finetune", "train", "--name", "t"])
            assert result.exit_code != 0 and "stopped by the test" in result.output
            assert seen == {"threads": 2, "bf16": native}
        result = runner.invoke(app, ["finetune", "train", "--name", "t", "--threads", "1", "--bf16"])
        assert result.exit_code != 0 and seen == {"threads": 1, "bf16": True}
        # a run being resumed keeps the bf16 it started with, whatever this CPU has
        saved = tmp_path / "state" / "finetune" / "runs" / "old"
        saved.mkdir(parents=True)
        (saved / "config.json").write_text(json.dumps({"bf16": True}), encoding="utf-8")
        runner.invoke(app, ["finetune", "train", "--name", "old"])
        assert seen["bf16"] is True
    finally:
        torch.set_num_threads(before)
