"""Statistics over many questions: bootstrap confidence intervals and Cohen's kappa (pure functions).

    bootstrap_ci([1, 0, 1, 1], n_samples=1000, seed=0)   # (mean, low, high)

Values that are ``None`` or NaN are "not applicable" and are dropped before anything is computed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    mean: float | None
    low: float | None
    high: float | None
    n: int

    @property
    def half_width(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2


def applicable(values: Sequence[float | None]) -> list[float]:
    """The values that apply: ``None`` and NaN dropped."""
    return [float(v) for v in values if v is not None and not math.isnan(v)]


def bootstrap_ci(
    values: Sequence[float | None], n_samples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Interval:
    """Mean with a percentile-bootstrap interval (fixed seed: the same input gives the same interval)."""
    xs = np.asarray(applicable(values), dtype=float)
    if xs.size == 0:
        return Interval(None, None, None, 0)
    mean = float(xs.mean())
    if xs.size == 1 or n_samples <= 0:
        return Interval(mean, mean, mean, int(xs.size))
    rng = np.random.default_rng(seed)
    means = xs[rng.integers(0, xs.size, size=(n_samples, xs.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(mean, float(low), float(high), int(xs.size))


def clustered_bootstrap_ci(
    values: Sequence[float | None],
    clusters: Sequence[Hashable],
    n_samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Interval:
    """Mean with a cluster bootstrap: whole clusters (question groups: near-duplicates, or one question's
    several seeds) are resampled, so correlated rows do not narrow the interval. With every cluster of
    size one it is the plain bootstrap. The mean is the plain mean over the applicable values."""
    if len(values) != len(clusters):
        raise ValueError(f"values and clusters need equal lengths, got {len(values)} and {len(clusters)}")
    kept = [(c, float(v)) for v, c in zip(values, clusters, strict=True) if v is not None and not math.isnan(v)]
    if not kept:
        return Interval(None, None, None, 0)
    order = list(dict.fromkeys(c for c, _ in kept))
    index = {c: i for i, c in enumerate(order)}
    sums = np.zeros(len(order))
    counts = np.zeros(len(order))
    for c, v in kept:
        sums[index[c]] += v
        counts[index[c]] += 1
    mean = float(sums.sum() / counts.sum())
    if len(order) == 1 or n_samples <= 0:
        return Interval(mean, mean, mean, len(kept))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(order), size=(n_samples, len(order)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(mean, float(low), float(high), len(kept))


def paired_bootstrap_ci(
    current: Sequence[float | None],
    baseline: Sequence[float | None],
    n_samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Interval:
    """Interval of mean(current - baseline) over the pairs where both values apply."""
    if len(current) != len(baseline):
        raise ValueError(f"paired values need equal lengths, got {len(current)} and {len(baseline)}")
    diffs = [
        float(c) - float(b)
        for c, b in zip(current, baseline, strict=True)
        if c is not None and b is not None and not math.isnan(c) and not math.isnan(b)
    ]
    return bootstrap_ci(diffs, n_samples=n_samples, seed=seed, confidence=confidence)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa between two raters over the same items: (p_o - p_e) / (1 - p_e).

    ``None`` without items. When both raters use a single identical label throughout, agreement is
    perfect but chance agreement is 1 too: kappa is defined as 1.0 then.
    """
    if len(a) != len(b):
        raise ValueError(f"two raters need the same number of items, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None
    labels = set(a) | set(b)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    expected = sum((list(a).count(label) / n) * (list(b).count(label) / n) for label in labels)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1 - expected)
