"""The committed ColBERT weights: small, loadable, and documented by their manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from fda.errors import ConfigError, IndexMissingError
from fda.settings import RetrievalSettings
from index.retrieval.colbert_checkpoint import BUILTIN, MANIFEST, WEIGHTS, assemble, checkpoint_id, resolve_checkpoint
from index.retrieval.layout import ARTIFACTS_DIR

ARTIFACT = ARTIFACTS_DIR / RetrievalSettings().artifact
ROOT = Path(__file__).resolve().parents[3]
GOLD = ROOT / "data" / "gold"
SHA256 = re.compile(r"[0-9a-f]{64}")


def test_committed_weights_are_small_and_match_the_manifest() -> None:
    from safetensors.torch import load_file

    weights = load_file(str(ARTIFACT / WEIGHTS))
    manifest = json.loads((ARTIFACT / MANIFEST).read_text())
    assert (ARTIFACT / WEIGHTS).stat().st_size < 2_000_000
    assert {k: list(v.shape) for k, v in weights.items()} == manifest["tensors"] == {"linear.weight": [128, 384]}
    assert manifest["colbert"]["dim"] == 128
    assert (
        manifest["train"]["seed"] == 0
        and manifest["train"]["steps"]
        == len(manifest["loss_curve"]["mean_loss"]) * manifest["loss_curve"]["every_steps"]
    )
    assert manifest["loss_curve"]["mean_loss"][-1] < manifest["loss_curve"]["mean_loss"][0]


def test_the_manifest_records_its_training_inputs_and_no_gold_file_is_among_them() -> None:
    data = json.loads((ARTIFACT / MANIFEST).read_text())["data"]
    inputs = data["inputs"]
    assert {"corpus", "pairs"} <= set(inputs)
    assert all(SHA256.fullmatch(entry["sha256"]) for entry in inputs.values()), inputs
    assert inputs["pairs"]["count"] == sum(data["pairs"].values())
    gold_files = [f for f in GOLD.rglob("*") if f.is_file()]
    assert gold_files, f"no gold files under {GOLD}: this check would prove nothing"
    gold = {hashlib.sha256(f.read_bytes()).hexdigest(): f for f in gold_files}
    assert not [name for name, entry in inputs.items() if entry["sha256"] in gold]
    for entry in inputs.values():
        if "path" in entry:
            path = (ROOT / entry["path"]).resolve()
            assert not path.is_relative_to(GOLD.resolve()), entry
            assert path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry


def test_no_committed_projection_claims_an_unrecorded_fact() -> None:
    """An input is recorded with its hash or the manifest says why not; no bare "gold set used: false"."""
    for manifest in ARTIFACTS_DIR.glob("colbert-*/" + MANIFEST):
        data = json.loads(manifest.read_text())["data"]
        assert "gold_set_used" not in data, manifest
        assert "inputs" in data or data.get("inputs_recorded", "").startswith("not backfilled"), manifest


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
