"""A compiled program shipped in data/programs/ is registered on a fresh store and served as the champion,
once (idempotent), never over a champion promoted on this machine, and not when its manifest does not fit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from eval.run import Tracking
from fda.settings import CompileSettings, Settings
from optimizers import UNCOMPILED
from optimizers.compile import CompileOutcome
from optimizers.registry import ProgramRegistry
from optimizers.shipped import SHA_TAG, ensure_shipped, ship
from tests.optimizers.conftest import CORS
from tests.optimizers.test_serving import QUESTION, compiled, serve  # noqa: F401  (fixture)


@pytest.fixture
def shipped_root(
    compiled: CompileOutcome,  # noqa: F811
    tracking: Tracking,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    root = tmp_path / "programs"
    ship("rag", ProgramRegistry(tracking.tracking_uri), compiled.version or "1", root)
    monkeypatch.setattr("optimizers.shipped.SHIPPED_DIR", root)
    return root


def fresh_store(tmp_path: Path, compile_settings: CompileSettings) -> Settings:
    state = tmp_path / "fresh-clone-state"
    state.mkdir()
    return Settings(state_dir=state, compile=compile_settings.model_dump())  # no MLflow store yet


def test_ship_writes_program_and_manifest(shipped_root: Path) -> None:
    manifest = json.loads((shipped_root / "rag" / "manifest.json").read_text())
    assert manifest["shipped_from"] == "fda-rag/1" and manifest["program"] == "rag"
    assert json.loads((shipped_root / "rag" / "program.json").read_text())


def test_a_fresh_clone_serves_the_shipped_program(
    shipped_root: Path, tmp_path: Path, compile_settings: CompileSettings
) -> None:
    settings = fresh_store(tmp_path, compile_settings)
    for _ in range(2):  # a second start finds it registered: no new version
        with serve(settings, tmp_path) as client:
            ready = client.get("/readyz").json()
            answer = client.post("/v1/ask", json={"question": QUESTION}).json()
        assert ready["program_versions"] == {"rag": "fda-rag/1", "multihop": UNCOMPILED}
        assert answer["program_version"] == "fda-rag/1" and [c["url"] for c in answer["citations"]] == [CORS]
    registry = ProgramRegistry(f"sqlite:///{settings.state_dir / 'mlflow.db'}")
    assert [v.version for v in registry.versions("rag")] == ["1"] and registry.champion("rag") == "1"
    assert registry.versions("rag")[0].tags[SHA_TAG]


def test_a_local_champion_is_not_replaced(shipped_root: Path, tracking: Tracking) -> None:
    registry = ProgramRegistry(tracking.tracking_uri)  # the compile's store: version 1 is the champion
    (shipped_root / "rag" / "manifest.json").write_text(
        json.dumps({**json.loads((shipped_root / "rag" / "manifest.json").read_text()), "note": "newer"})
    )
    version = ensure_shipped("rag", registry, artifact_location=tracking.artifact_location)
    assert version == "2" and registry.champion("rag") == "1"
    assert ensure_shipped("rag", registry, artifact_location=tracking.artifact_location) == "2"  # idempotent


def test_a_shipped_program_for_another_corpus_falls_back(
    shipped_root: Path,
    tmp_path: Path,
    compile_settings: CompileSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("index.ingest.pipeline.corpus_hash", lambda db: "corpus-b")
    with caplog.at_level(logging.WARNING), serve(fresh_store(tmp_path, compile_settings), tmp_path) as client:
        ready = client.get("/readyz").json()
    assert ready["program_versions"]["rag"] == UNCOMPILED
    assert "the ingested corpus is 'corpus-b'" in caplog.text
