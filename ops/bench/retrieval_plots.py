"""Charts for the retrieval benches: what ``--plot PATH`` writes (PNG), for people who would rather look.

    fda bench retrieval-quality --plot docs/img/retrieval-quality.png
    fda bench retrieval --plot docs/img/retrieval-latency.png

``quality_figure``: per split, the three target metrics of every backend as grouped bars, the issue's
targets as dashed lines and the gold set's own ceiling as a dotted one. ``latency_figure``: p50 and p95 per
backend against each backend's p95 target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

# the retrieval issue's targets: quality for the best backend, p95 latency per backend (ms, one thread)
QUALITY_TARGETS: Mapping[str, float] = {"page R@1": 0.85, "page R@5": 0.97, "section R@5": 0.90}
LATENCY_TARGETS_MS: Mapping[str, float] = {
    "bm25": 20,
    "dense": 20,
    "colbert": 30,
    "hybrid": 30,
    "rerank": 30,
    "fused": 30,
}
CEILING = "(ceiling)"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display here or on servers
    import matplotlib.pyplot as plt

    return plt


def quality_figure(df: pd.DataFrame, metrics: Sequence[str] = tuple(QUALITY_TARGETS)) -> Any:
    """``df``: eval.retrieval_quality.evaluate's rows (plus an optional ``(ceiling)`` row per split)."""
    plt = _pyplot()
    splits = list(dict.fromkeys(df["split"]))
    fig, axes = plt.subplots(1, len(splits), figsize=(6.5 * len(splits), 4.2), squeeze=False, sharey=True)
    for ax, split in zip(axes[0], splits, strict=True):
        part = df[df["split"] == split]
        bars = part[part["backend"] != CEILING]
        ceiling = part[part["backend"] == CEILING]
        width = 0.8 / max(1, len(bars))
        for i, (_, row) in enumerate(bars.iterrows()):
            xs = [m + (i - (len(bars) - 1) / 2) * width for m in range(len(metrics))]
            ax.bar(xs, [row[m] for m in metrics], width, label=row["backend"])
        for m, metric in enumerate(metrics):
            if metric in QUALITY_TARGETS:
                ax.hlines(QUALITY_TARGETS[metric], m - 0.45, m + 0.45, colors="black", linestyles="dashed")
            if not ceiling.empty and float(ceiling[metric].iloc[0]) < 1:
                ax.hlines(float(ceiling[metric].iloc[0]), m - 0.45, m + 0.45, colors="grey", linestyles="dotted")
        n = int(bars["n"].iloc[0]) if len(bars) else 0
        ax.set_title(f"gold {split} split ({n} rows)")
        ax.set_xticks(range(len(metrics)), list(metrics))
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("mean over rows")
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.suptitle("retrieval quality: dashed = target, dotted = the gold set's ceiling (fda bench retrieval-quality)")
    fig.tight_layout()
    return fig


def latency_figure(df: pd.DataFrame) -> Any:
    """``df``: ops.bench.retrieval_latency.latency's rows (``backend``, ``p50_ms``, ``p95_ms``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = range(len(df))
    ax.bar([x - 0.2 for x in xs], df["p50_ms"], 0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], df["p95_ms"], 0.4, label="p95")
    for x, backend in zip(xs, df["backend"], strict=True):
        target = LATENCY_TARGETS_MS.get(str(backend))
        if target is not None:
            ax.hlines(target, x - 0.45, x + 0.45, colors="black", linestyles="dashed")
    ax.set_xticks(list(xs), list(df["backend"]))
    ax.set_ylabel("ms per query, one thread")
    ax.set_title("search latency, latest docs: dashed = p95 target (fda bench retrieval)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path
