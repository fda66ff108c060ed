"""Sentence vectors of a list of texts, encoded once and kept as ``.npy`` named by the model and the texts.

    vectors = encode_cached(encoder, texts, cache_dir, prefix="headings", model_key=index_folder_name)

Used for the heading paths and the generated questions that ``fused`` compares queries with. A changed
model or text list gets another file; an unreadable file is encoded again (with a warning).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class TextEncoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


def cache_key(model_key: str, texts: list[str]) -> str:
    return hashlib.sha256("\n".join([model_key, *texts]).encode()).hexdigest()[:16]


def encode_cached(
    encoder: TextEncoder, texts: list[str], cache_dir: Path | None, prefix: str, model_key: str = ""
) -> np.ndarray:
    """``encoder.encode(texts)``, read from ``cache_dir/<prefix>-<hash>.npy`` when there (``None``: no cache)."""
    path = cache_dir / f"{prefix}-{cache_key(model_key, texts)}.npy" if cache_dir else None
    if path is not None and path.is_file():
        try:
            cached = np.load(path)
            if cached.shape[0] == len(texts):
                return cached
        except (OSError, ValueError) as err:
            log.warning("%s vectors %s unreadable (%s): encoding again", prefix, path, err)
    vectors = encoder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
        except OSError as err:  # a full or read-only disk costs the cache, not the search
            log.warning("%s vectors not cached at %s (%s): they are encoded again next start", prefix, path, err)
    return vectors
