"""``fda bench retrieval``: query latency per backend (one thread, latest corpus), index build time for
all versions, and peak memory.

    fda bench retrieval                     # latency over the gold questions, using the built indexes
    fda bench retrieval --build             # also rebuild every index into a temporary folder, timed

Latency is per ``search(question, k=10)`` after one warm-up query (the first query of a backend loads
its index and model: reported separately as ``load_s``). Peak memory is the process RSS sampled every
20 ms during each phase (indexes stay loaded, so later backends include earlier ones' memory).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from index.retrieval.base import Retriever
from ops.bench.sampling import every


@dataclass
class Peak:
    rss_mb: float = 0.0


@contextmanager
def peak_rss(interval: float = 0.02) -> Iterator[Peak]:
    """Highest resident set size of this process while the block runs."""
    import psutil

    proc = psutil.Process()
    peak = Peak(proc.memory_info().rss / 2**20)

    def sample() -> None:
        peak.rss_mb = max(peak.rss_mb, proc.memory_info().rss / 2**20)

    with every(interval, sample):
        yield peak


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def latency(
    open_backend: Callable[[str], Retriever], backends: Sequence[str], queries: Sequence[str], k: int = 10
) -> pd.DataFrame:
    import torch

    torch.set_num_threads(1)
    rows = []
    for name in backends:
        with peak_rss() as peak:
            t0 = time.perf_counter()
            retriever = open_backend(name)
            retriever.search(queries[0], k=k)
            load_s = time.perf_counter() - t0
            times = []
            for q in queries:
                start = time.perf_counter()
                retriever.search(q, k=k)
                times.append(1000 * (time.perf_counter() - start))
        rows.append(
            {
                "backend": name,
                "queries": len(times),
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
                "load_s": round(load_s, 1),
                "peak_rss_mb": round(peak.rss_mb),
            }
        )
    return pd.DataFrame(rows)


def build_times(build: Callable[[str], float], backends: Sequence[str]) -> pd.DataFrame:
    """``build(backend)`` builds one backend for all versions and returns the chunks it indexed."""
    rows = []
    for name in backends:
        with peak_rss() as peak:
            t0 = time.perf_counter()
            chunks = build(name)
            seconds = time.perf_counter() - t0
        rows.append(
            {"backend": name, "chunks": int(chunks), "build_s": round(seconds, 1), "peak_rss_mb": round(peak.rss_mb)}
        )
    return pd.DataFrame(rows)
