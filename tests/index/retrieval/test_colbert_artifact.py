"""The committed ColBERT weights: small, loadable, and documented by their manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fda.errors import ConfigError, IndexMissingError
from fda.settings import RetrievalSettings
from index.retrieval.colbert_checkpoint import BUILTIN, MANIFEST, WEIGHTS, assemble, checkpoint_id, resolve_checkpoint
from index.retrieval.layout import ARTIFACTS_DIR

ARTIFACT = ARTIFACTS_DIR / RetrievalSettings().artifact


def test_committed_weights_are_small_and_match_the_manifest() -> None:
    from safetensors.torch import load_file

    weights = load_file(str(ARTIFACT / WEIGHTS))
    manifest = json.loads((ARTIFACT / MANIFEST).read_text())
    assert (ARTIFACT / WEIGHTS).stat().st_size < 2_000_000
    assert {k: list(v.shape) for k, v in weights.items()} == manifest["tensors"] == {"linear.weight": [128, 384]}
    assert manifest["colbert"]["dim"] == 128
    assert manifest["data"]["gold_set_used"] is False
    assert (
        manifest["train"]["seed"] == 0
        and manifest["train"]["steps"]
        == len(manifest["loss_curve"]["mean_loss"]) * manifest["loss_curve"]["every_steps"]
    )
    assert manifest["loss_curve"]["mean_loss"][-1] < manifest["loss_curve"]["mean_loss"][0]


def test_checkpoint_settings() -> None:
    assert checkpoint_id(BUILTIN, ARTIFACT).startswith("fda:")
    assert checkpoint_id("colbert-ir/colbertv2.0", ARTIFACT) == "colbert-ir/colbertv2.0"
    hub = resolve_checkpoint("colbert-ir/colbertv2.0", base_model=ARTIFACT, artifact_dir=ARTIFACT, models_dir=ARTIFACT)
    assert hub == "colbert-ir/colbertv2.0"


def test_bad_checkpoint_settings_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown ColBERT checkpoint"):
        resolve_checkpoint("no-such-thing", base_model=tmp_path, artifact_dir=tmp_path, models_dir=tmp_path)
    with pytest.raises(IndexMissingError, match="train-retriever"):
        assemble(tmp_path / "missing", tmp_path, tmp_path / "models")
