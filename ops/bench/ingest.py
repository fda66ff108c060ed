"""Ingest benchmark: wall time and peak memory (process max RSS) for all configured versions,
into a throwaway store.

fda bench ingest --repeat 3
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from fda.settings import ChunkingSettings
from index.ingest.pipeline import ingest


def run_bench(sources: list[str], chunking: ChunkingSettings, repeat: int = 1) -> pd.DataFrame:
    rows = []
    for run in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            t0 = time.perf_counter()
            summary = ingest(sources, db, Path(tmp) / "cache", chunking, progress=False)
            wall = time.perf_counter() - t0
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows.append(
                {
                    "run": run + 1,
                    "versions": ",".join(r.version for r in summary.reports),
                    "sections": sum(r.n_sections for r in summary.reports),
                    "chunks": sum(r.n_chunks for r in summary.reports),
                    "seconds": round(wall, 2),
                    "process_peak_rss_mb": round(rss_mb, 1),
                    "db_mb": round(db.stat().st_size / 2**20, 1),
                }
            )
    return pd.DataFrame(rows)
