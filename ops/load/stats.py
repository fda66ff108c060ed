"""Pure numbers of the load test: per-request samples -> RPS, latency percentiles, error rate; RSS samples
-> start/end/max and the growth slope (``fda bench load``, ops/load/suite.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ops.bench.retrieval_latency import percentile


@dataclass(frozen=True)
class Sample:
    """One finished request: when it started (seconds since the scenario began), how long it took, its HTTP
    status (0: no response) and the client-side error, if any."""

    start_s: float
    latency_s: float
    status: int
    error: str | None = None

    def ok(self, ok_statuses: frozenset[int] = frozenset({200})) -> bool:
        return self.error is None and self.status in ok_statuses


@dataclass(frozen=True)
class Summary:
    scenario: str
    users: int
    requests: int
    errors: int
    wall_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def summarize(
    scenario: str,
    users: int,
    samples: Sequence[Sample],
    wall_s: float,
    ok_statuses: frozenset[int] = frozenset({200}),
) -> Summary:
    """RPS = finished requests / wall time; percentiles (nearest rank) over every finished request."""
    latencies = [1000 * s.latency_s for s in samples]
    errors = sum(not s.ok(ok_statuses) for s in samples)
    nan = float("nan")
    return Summary(
        scenario=scenario,
        users=users,
        requests=len(samples),
        errors=errors,
        wall_s=wall_s,
        rps=len(samples) / wall_s if wall_s > 0 else nan,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies) if latencies else nan,
    )


def error_kinds(samples: Sequence[Sample], ok_statuses: frozenset[int] = frozenset({200})) -> dict[str, int]:
    """Failed requests counted by status (``"503"``) or client error text (``"ClientConnectorError"``)."""
    out: dict[str, int] = {}
    for s in samples:
        if not s.ok(ok_statuses):
            key = s.error or str(s.status)
            out[key] = out.get(key, 0) + 1
    return out


@dataclass(frozen=True)
class MemoryTrend:
    samples: int
    start_mb: float
    end_mb: float
    max_mb: float
    slope_mb_per_min: float  # least squares over the samples after the warm-up share


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; 0 for fewer than two distinct x."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def memory_trend(points: Sequence[tuple[float, float]], warmup_share: float = 0.2) -> MemoryTrend:
    """``points`` are (seconds, RSS MB). The slope skips the first ``warmup_share`` of the run, where caches
    and lazily loaded indexes legitimately grow memory."""
    if not points:
        nan = float("nan")
        return MemoryTrend(0, nan, nan, nan, nan)
    t_end = points[-1][0]
    steady = [p for p in points if p[0] >= warmup_share * t_end] or list(points)
    per_s = slope(steady)
    return MemoryTrend(
        samples=len(points),
        start_mb=points[0][1],
        end_mb=points[-1][1],
        max_mb=max(y for _, y in points),
        slope_mb_per_min=60 * per_s if math.isfinite(per_s) else per_s,
    )
