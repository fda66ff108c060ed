"""A compiled program that ships with the repository (data/programs/<name>/), registered in the local MLflow
store on first start and served as the champion when the store has none.

    data/programs/rag/program.json      # DSPy JSON state (demos, instructions): what `fda programs ship` wrote
    data/programs/rag/manifest.json     # corpus hash, retriever, model, metric, scores, the compile command

    version = ensure_shipped("rag", registry, uri=..., artifact_location=...)   # idempotent

A fresh clone has no MLflow store: serving would fall back to the uncompiled program. With a shipped program
the store is created, the program registered once (a tag holds its content hash, so a second start finds
it), and promoted to champion only when there is no champion yet: a program compiled on this machine and
promoted by hand keeps serving. ``load_champion`` (optimizers/serving.py) then checks its manifest against
the corpus and the retriever as for any champion, and falls back to the uncompiled program with a warning on
a mismatch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from fda.errors import CompileError
from fda.settings import project_root
from optimizers.manifest import MANIFEST, PROGRAM, read_manifest, write_json
from optimizers.mlrun import ensure_experiment
from optimizers.registry import ARTIFACT_PATH, ProgramRegistry

log = logging.getLogger(__name__)

SHIPPED_DIR = project_root() / "data" / "programs"
SHA_TAG = "fda.shipped_sha"
EXPERIMENT = "fda-shipped-programs"


def shipped_folder(name: str, root: Path | None = None) -> Path | None:
    folder = (root or SHIPPED_DIR) / name
    return folder if (folder / PROGRAM).is_file() and (folder / MANIFEST).is_file() else None


def content_sha(folder: Path) -> str:
    h = hashlib.sha256()
    for file in (PROGRAM, MANIFEST):
        h.update((folder / file).read_bytes())
    return h.hexdigest()[:16]


def ensure_shipped(
    name: str, registry: ProgramRegistry, *, artifact_location: str | None, root: Path | None = None
) -> str | None:
    """The registry version of the shipped ``name`` (registered now if it is not yet), promoted to champion
    when there is none; ``None`` when nothing ships for ``name``."""
    from mlflow.tracking import MlflowClient

    folder = shipped_folder(name, root)
    if folder is None:
        return None
    read_manifest(folder)  # a corrupt manifest fails here, with the file named
    sha = content_sha(folder)
    version = next((v.version for v in registry.versions(name) if v.tags.get(SHA_TAG) == sha), None)
    if version is None:
        client = MlflowClient(tracking_uri=registry.tracking_uri)
        exp_id = ensure_experiment(registry.tracking_uri, EXPERIMENT, artifact_location)
        run = client.create_run(exp_id, run_name=f"shipped-{name}-{sha}", tags={SHA_TAG: sha})
        client.log_artifacts(run.info.run_id, str(folder), ARTIFACT_PATH)
        client.set_terminated(run.info.run_id)
        version = registry.register(name, run.info.run_id, tags={SHA_TAG: sha, "fda.source": f"data/programs/{name}"})
        log.info("registered the shipped %s program (%s) as %s/%s", name, sha, registry.model_name(name), version)
    if registry.champion(name) is None:
        registry.promote(name, version, reason=f"shipped with the repository (data/programs/{name}, {sha})")
    return version


def ship(name: str, registry: ProgramRegistry, version: str, root: Path | None = None) -> Path:
    """Copy registry ``version`` of ``name`` (program.json, manifest.json) into data/programs/<name>/ to commit."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fda-ship-") as tmp:
        folder = registry.download(name, version, Path(tmp))
        manifest = read_manifest(folder)
        if manifest.get("program") not in (None, name):
            raise CompileError(f"version {version} holds a {manifest.get('program')!r} program, not {name!r}")
        dest = (root or SHIPPED_DIR) / name
        dest.mkdir(parents=True, exist_ok=True)
        (dest / PROGRAM).write_bytes((folder / PROGRAM).read_bytes())
        write_json(dest / MANIFEST, {**manifest, "shipped_from": f"{registry.model_name(name)}/{version}"})
    json.loads((dest / PROGRAM).read_text(encoding="utf-8"))  # what ships must parse
    return dest
