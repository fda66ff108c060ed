"""The manifest beside every compiled program: what it was compiled from, and the check before serving it.

    manifest = build_manifest(...)                       # written as manifest.json next to program.json
    problems = mismatches(manifest, program="rag", corpus_hash=..., retriever="bm25")
    check_manifest(manifest, ...)                        # ManifestMismatchError naming every difference

A compiled program's demos quote passages of one corpus as one retriever ranked them, and its scores were
measured there: served over another corpus or index, both are stale. The LM is recorded by its model
string only (``local:qwen2.5-coder-0.5b``, ``openai/gpt-4o-mini``): never a key, never an LM object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fda.errors import ManifestMismatchError

MANIFEST = "manifest.json"
PROGRAM = "program.json"
DEV_SCORES = "dev_scores.json"
FORMAT = 1
SECRET_LIKE = re.compile(r"(sk-[A-Za-z0-9]{8,}|api[_-]?key\s*[=:])", re.IGNORECASE)


def predictors_of(program: Any) -> dict[str, dict[str, Any]]:
    """Per predictor: its demo count and the field names of its signature (what a loaded state must fit)."""
    return {
        name: {
            "demos": len(getattr(p, "demos", []) or []),
            "fields": list(p.signature.fields),
        }
        for name, p in program.named_predictors()
    }


def build_manifest(
    *,
    program: str,
    program_module: Any,
    optimizer: str,
    gold_version: str,
    gold_hash: str,
    corpus_hash: str,
    retriever: str,
    lm: str,
    teacher_lm: str | None,
    seed: int,
    settings: Mapping[str, Any],
    scores: Mapping[str, Any],
    train_ids: list[str],
    dev_ids: list[str],
    run_id: str,
) -> dict[str, Any]:
    import dspy

    for model in (lm, teacher_lm):
        if model and SECRET_LIKE.search(model):
            raise ValueError("an LM model string looks like it carries a key; record the model name only")
    return {
        "format": FORMAT,
        "program": program,
        "optimizer": optimizer,
        "gold": {"version": gold_version, "hash": gold_hash, "train_ids": train_ids, "dev_ids": dev_ids},
        "index": {"corpus_hash": corpus_hash, "retriever": retriever},
        "lm": {"model": lm, "teacher": teacher_lm},
        "seed": seed,
        "settings": dict(settings),
        "scores": dict(scores),
        "predictors": predictors_of(program_module),
        "dspy_version": dspy.__version__,
        "mlflow_run_id": run_id,
        "command": _command_line(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _command_line() -> str:
    """The command that compiled it (``fda compile ...``), as this process was started."""
    import shlex
    import sys

    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("fda", "__main__.py"):
        argv[0] = "fda"
    return shlex.join(argv)


def mismatches(manifest: Mapping[str, Any], *, program: str, corpus_hash: str, retriever: str) -> list[str]:
    """Every reason this artifact does not fit the program, corpus and index being served (empty: it fits)."""
    problems: list[str] = []
    if manifest.get("format") != FORMAT:
        problems.append(f"manifest format {manifest.get('format')!r}, expected {FORMAT}")
    if manifest.get("program") != program:
        problems.append(f"compiled for program {manifest.get('program')!r}, serving {program!r}")
    index = manifest.get("index") or {}
    if index.get("corpus_hash") != corpus_hash:
        problems.append(
            f"compiled on corpus {index.get('corpus_hash')!r}, the ingested corpus is {corpus_hash!r} (re-ingested?)"
        )
    if index.get("retriever") != retriever:
        problems.append(f"compiled with retriever {index.get('retriever')!r}, serving {retriever!r}")
    return problems


def check_manifest(manifest: Mapping[str, Any], *, program: str, corpus_hash: str, retriever: str) -> None:
    problems = mismatches(manifest, program=program, corpus_hash=corpus_hash, retriever=retriever)
    if problems:
        raise ManifestMismatchError("the compiled program does not match what is served: " + "; ".join(problems))


def check_fits(manifest: Mapping[str, Any], program_module: Any) -> None:
    """The fresh program has the predictors (and signature fields) the compiled state was saved from."""
    saved = manifest.get("predictors") or {}
    fresh = predictors_of(program_module)
    problems = [
        f"predictor {name!r}: saved fields {saved[name]['fields']}, program has {fresh[name]['fields']}"
        for name in sorted(set(saved) & set(fresh))
        if saved[name].get("fields") != fresh[name]["fields"]
    ]
    if set(saved) != set(fresh):
        problems.append(f"saved predictors {sorted(saved)}, program has {sorted(fresh)}")
    if problems:
        raise ManifestMismatchError("the compiled state does not fit this program: " + "; ".join(problems))


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise ManifestMismatchError(f"no {MANIFEST} beside the compiled program in {folder}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
