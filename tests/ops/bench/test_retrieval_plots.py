"""ops/bench/retrieval_plots.py and the benches' --plot: a readable PNG of the tables, targets drawn in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ops.bench.retrieval_plots import LATENCY_TARGETS_MS, QUALITY_TARGETS, latency_figure, quality_figure, save


def quality_rows() -> pd.DataFrame:
    rows = []
    for split in ("dev", "test"):
        for backend, v in (("bm25", 0.6), ("fused", 0.8), ("(ceiling)", 0.9)):
            rows.append({"backend": backend, "split": split, "n": 40, "page R@1": v, "page R@5": 1.0, "section R@5": v})
    return pd.DataFrame(rows)


def test_quality_chart_has_a_panel_per_split_with_bars_targets_and_ceiling(tmp_path: Path) -> None:
    fig = quality_figure(quality_rows())
    assert [ax.get_title() for ax in fig.axes] == ["gold dev split (40 rows)", "gold test split (40 rows)"]
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 3  # two backends (not the ceiling) x three metrics
    heights = sorted(round(p.get_height(), 2) for p in ax.patches)
    assert heights == [0.6, 0.6, 0.8, 0.8, 1.0, 1.0]
    lines = [seg for coll in ax.collections for seg in coll.get_segments()]
    ys = sorted({round(float(seg[0][1]), 2) for seg in lines})
    assert set(QUALITY_TARGETS.values()) <= set(ys) and 0.9 in ys  # targets; the ceiling below 1 is drawn
    out = save(fig, tmp_path / "charts" / "quality.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_latency_chart_draws_each_backends_target(tmp_path: Path) -> None:
    df = pd.DataFrame(
        [{"backend": "bm25", "p50_ms": 0.3, "p95_ms": 0.4}, {"backend": "fused", "p50_ms": 17.8, "p95_ms": 24.8}]
    )
    fig = latency_figure(df)
    ax = fig.axes[0]
    assert sorted(p.get_height() for p in ax.patches) == [0.3, 0.4, 17.8, 24.8]
    ys = sorted(float(seg[0][1]) for coll in ax.collections for seg in coll.get_segments())
    assert ys == [LATENCY_TARGETS_MS["bm25"], LATENCY_TARGETS_MS["fused"]]
    assert save(fig, tmp_path / "latency.png").stat().st_size > 5_000
