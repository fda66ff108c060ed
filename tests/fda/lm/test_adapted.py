"""Adapted models: a registered base model plus a LoRA adapter, found from data/adapters/ manifests and served with
the adapter applied (the base file assembled once, shared with the base model)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fda.errors import ConfigError
from fda.lm import registry
from fda.lm.registry import MODELS, adapted_models, base_spec, check_adapter, get_spec, known_models
from fda.lm.runtime import LocalRuntime
from fda.lm.server import ServerConfig
from fda.lm.worker import parse_args

BASE = "qwen2.5-coder-0.5b"


def write_adapter(folder: Path, name: str = "tiny-fda", base: str = BASE, body: bytes = b"GGUF-adapter") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.gguf").write_bytes(body)
    manifest = {"name": name, "base": base, "adapter": f"{name}.gguf",
                "adapter_sha256": hashlib.sha256(body).hexdigest(), "title": "test"}  # fmt: skip
    path = folder / f"{name}.json"
    path.write_text(json.dumps(manifest))
    return path


def test_a_manifest_beside_its_adapter_registers_a_model(tmp_path: Path) -> None:
    write_adapter(tmp_path)
    spec = adapted_models(tmp_path)["tiny-fda"]
    assert spec.base == BASE and spec.adapter == tmp_path / "tiny-fda.gguf"
    assert spec.filename == f"{BASE}.gguf"  # the base's file: assembled once, shared
    assert spec.sha256 == MODELS[BASE].sha256 and spec.parts == MODELS[BASE].parts
    assert base_spec(spec) is MODELS[BASE] and base_spec(MODELS[BASE]) is MODELS[BASE]
    assert check_adapter(spec) == tmp_path / "tiny-fda.gguf" and check_adapter(MODELS[BASE]) is None


def test_broken_manifests_are_skipped_and_the_rest_still_work(tmp_path: Path) -> None:
    write_adapter(tmp_path, "unknown-base", base="no-such-model")
    write_adapter(tmp_path, BASE)  # may not shadow a registered model
    (tmp_path / "garbled.json").write_text("{not json")
    (tmp_path / "lost.json").write_text(json.dumps({"name": "lost", "base": BASE, "adapter": "lost.gguf"}))
    write_adapter(tmp_path, "fine")
    assert list(adapted_models(tmp_path)) == ["fine"]
    assert adapted_models(tmp_path / "absent") == {}


def test_a_manifest_may_carry_the_models_own_dry_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fda.lm.factory import dry_multiplier
    from fda.settings import LMSettings

    path = write_adapter(tmp_path, "looper")
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "sampling": {"dry_multiplier": 0.8}}))
    write_adapter(tmp_path, "plain")
    bad = write_adapter(tmp_path, "odd")
    bad.write_text(json.dumps({**json.loads(bad.read_text()), "sampling": {"dry_multiplier": "strong"}}))
    found = adapted_models(tmp_path)
    assert found["looper"].dry_multiplier == 0.8 and found["plain"].dry_multiplier is None
    assert "odd" not in found  # an unreadable value skips the manifest, with a warning, like any broken one
    assert MODELS[BASE].dry_multiplier is None
    # the setting wins over the manifest (0 turns DRY off); a hosted model never gets one
    spec = found["looper"]
    assert dry_multiplier(LMSettings(), spec) == 0.8
    assert dry_multiplier(LMSettings(dry_multiplier=0.0), spec) == 0.0
    assert dry_multiplier(LMSettings(dry_multiplier=1.2), found["plain"]) == 1.2
    assert dry_multiplier(LMSettings(model="openai/gpt-4o-mini", dry_multiplier=0.8)) is None


def test_a_changed_adapter_is_refused_with_what_to_do(tmp_path: Path) -> None:
    write_adapter(tmp_path)
    spec = adapted_models(tmp_path)["tiny-fda"]
    (tmp_path / "tiny-fda.gguf").write_bytes(b"tampered")
    with pytest.raises(ConfigError, match="does not match its manifest"):
        check_adapter(spec)
    (tmp_path / "tiny-fda.gguf").unlink()
    with pytest.raises(ConfigError, match="missing"):
        check_adapter(spec)


def test_settings_and_lookups_know_adapted_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fda.settings import LMSettings

    write_adapter(tmp_path)
    monkeypatch.setattr(registry, "ADAPTERS_DIR", tmp_path)
    assert get_spec("local:tiny-fda").adapter == tmp_path / "tiny-fda.gguf"
    assert "tiny-fda" in known_models()
    assert LMSettings(model="local:tiny-fda").model == "local:tiny-fda"
    with pytest.raises(ConfigError, match="local:tiny-fda"):  # the hint lists it
        get_spec("local:nope")


def test_embedded_adapter_and_routing_apply_to_adapted_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dspy

    from fda.lm.adapter import SchemaJSONAdapter, adapter_for, is_embedded

    write_adapter(tmp_path)
    monkeypatch.setattr(registry, "ADAPTERS_DIR", tmp_path)
    lm = dspy.LM("openai/tiny-fda", api_base="http://127.0.0.1:9/v1", api_key="local")
    assert is_embedded(lm) and isinstance(adapter_for(lm), SchemaJSONAdapter)


def test_the_runtime_passes_the_adapter_to_the_worker(tmp_path: Path) -> None:
    write_adapter(tmp_path)
    spec = adapted_models(tmp_path)["tiny-fda"]
    cfg = LocalRuntime(tmp_path).config_for(spec, tmp_path / f"{BASE}.gguf")
    assert (cfg.alias, cfg.lora_path, cfg.model_path.name) == ("tiny-fda", tmp_path / "tiny-fda.gguf", f"{BASE}.gguf")
    back = parse_args(cfg.argv())  # what the worker process reads
    assert back.lora_path == tmp_path / "tiny-fda.gguf" and back.alias == "tiny-fda"
    assert parse_args(ServerConfig(Path("/m.gguf"), "m").argv()).lora_path is None


def test_the_worker_hands_llama_cpp_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    import xllamacpp

    from fda.lm import worker

    seen: list[object] = []

    class Server:
        def __init__(self, params: object) -> None:
            seen.append(params)
            self.listening_address = "http://127.0.0.1:1/"

    monkeypatch.setattr(xllamacpp, "Server", Server)
    worker.start_llama_server(ServerConfig(Path("/m.gguf"), "m", lora_path=Path("/a.gguf")))
    [adapter] = seen[0].lora_adapters  # type: ignore[attr-defined]
    assert (adapter.path, adapter.scale) == ("/a.gguf", 1.0)


def test_the_worker_refuses_a_missing_adapter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fda.lm.worker import main

    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert main(["--model", str(model), "--alias", "m", "--lora", str(tmp_path / "none.gguf")]) == 2
    assert "LoRA adapter not found" in capsys.readouterr().err


def test_models_list_shows_the_adapted_model_and_its_adapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    write_adapter(tmp_path / "adapters")
    monkeypatch.setattr(registry, "ADAPTERS_DIR", tmp_path / "adapters")
    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path / "state"))
    out = CliRunner().invoke(app, ["models", "list", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)}
    assert rows["tiny-fda"]["adapter"]["base"] == BASE and rows[BASE]["adapter"] is None
    assert rows["tiny-fda"]["path"] == rows[BASE]["path"]  # one base file for both


def test_the_committed_adapters_match_their_manifests() -> None:
    pytest.importorskip("gguf")
    from optimizers.finetune.export import read_adapter

    committed = adapted_models()
    assert "qwen2.5-coder-0.5b-fda" in committed  # docs/finetune.md, docs/model-card.md
    for spec in committed.values():
        path = check_adapter(spec)  # the sha256 in the manifest
        assert path is not None
        meta = read_adapter(path)
        assert (meta["type"], meta["adapter_type"], meta["arch"]) == ("adapter", "lora", "qwen2")
        manifest = json.loads(path.with_suffix(".json").read_text())
        assert meta["alpha"] == manifest["alpha"] and len(meta["tensors"]) == manifest["tensors"]


def test_the_folder_is_read_once_per_state_and_again_when_it_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "garbled.json").write_text("{not json")
    with caplog.at_level("WARNING", logger="fda.lm.registry"):
        for _ in range(5):  # is_embedded asks on every answer
            assert adapted_models(tmp_path) == {}
    assert sum("garbled.json" in r.getMessage() for r in caplog.records) == 1
    write_adapter(tmp_path)  # a new adapter is seen without a restart
    assert list(adapted_models(tmp_path)) == ["tiny-fda"]
    adapted_models(tmp_path)["tiny-fda"] = MODELS[BASE]  # callers get a copy, not the cache
    assert adapted_models(tmp_path)["tiny-fda"].base == BASE
