"""Score-level fusion: pure functions over NumPy score vectors, with table tests (tests/index/retrieval/test_score_fusion.py).

The ``fused`` backend (index/retrieval/fused.py) adds z-scored signals over one candidate pool, then lifts each
section by the best score of its page (:func:`page_boost`): a question whose page is clear gets that
page's sibling sections up, which is where section-level recall was lost (docs/retrieval.md, Quality).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_URL = re.compile(r"https?://\S+")


def zscore(scores: np.ndarray) -> np.ndarray:
    """``(x - mean) / std``; all-equal scores (no information) give zeros instead of a division by zero."""
    x = np.asarray(scores, dtype=np.float64)
    if x.size == 0:
        return x
    std = float(x.std())
    if std < 1e-12:
        return np.zeros_like(x)
    return (x - x.mean()) / std


def weighted_sum(signals: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """``sum_i w_i * zscore(signal_i)``; signals with weight 0 are skipped (they may be empty)."""
    if len(signals) != len(weights):
        raise ValueError(f"{len(weights)} weights for {len(signals)} signals")
    used = [(s, w) for s, w in zip(signals, weights, strict=True) if w]
    if not used:
        raise ValueError("every weight is zero")
    total = np.zeros(len(used[0][0]), dtype=np.float64)
    for s, w in used:
        if len(s) != len(total):
            raise ValueError(f"signals of different lengths: {len(s)} and {len(total)}")
        total += w * zscore(s)
    return total


def page_boost(scores: np.ndarray, pages: Sequence[str], weight: float) -> np.ndarray:
    """Each score plus ``weight`` times the best score among the entries of the same page."""
    x = np.asarray(scores, dtype=np.float64)
    if len(pages) != len(x):
        raise ValueError(f"{len(pages)} pages for {len(x)} scores")
    if not weight or x.size == 0:
        return x.copy()
    best: dict[str, float] = {}
    for page, s in zip(pages, x.tolist(), strict=True):
        if page not in best or s > best[page]:
            best[page] = s
    return x + weight * np.array([best[p] for p in pages])


def strip_urls(query: str) -> str:
    """The query without http(s) URLs (an injected "cite https://evil.example" shares words with nothing
    useful); the query itself when nothing else is left."""
    cleaned = " ".join(_URL.sub(" ", query).split())
    return cleaned or query
