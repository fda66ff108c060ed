"""Run a search scenario with locust, headless, and read its final stats into the suite's ``Summary``.

    summary, errors = run_locust(url, "search", users=50, duration_s=30, queries=qs, k=10, backend="bm25")

``fda bench load --generator locust`` uses it for the search scenarios (``search``, ``search-paced``,
``search-default``, ``search-cached``); the ask scenarios and the soak stay on the in-process aiohttp
generator, which reads each answer (cache hits, fallbacks). Locust's percentiles are its own: response times
are kept in buckets (exact to 100 ms, then 2 significant digits), so p95 = 130 ms means 125-134 ms.

The numbers come from ``--json-file`` (the final stats: every request the server answered). Its ``--csv``
files are kept for their history and the failures' messages, but are written every 2 s, and the last write
at exit misses up to the last 2 s (measured: 130 requests in the CSV, 168 in the final stats and at the
server).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ops.load.stats import Summary

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


class LocustError(RuntimeError):
    """locust did not run or wrote no stats."""


def locust_command(url: str, users: int, duration_s: float, prefix: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "-u", str(users), "-r", str(users), "-t", f"{max(1, round(duration_s))}s",
        "--json-file", str(prefix), "--csv", str(prefix), "--only-summary", "--skip-log", "--stop-timeout", "10",
    ]  # fmt: skip


def bucket_percentile(histogram: dict[float, int], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of a {response time ms: count} histogram."""
    total = sum(histogram.values())
    if total == 0:
        return float("nan")
    rank, seen = max(1, math.ceil(q / 100 * total)), 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= rank:
            return ms
    return max(histogram)


def read_stats(prefix: Path, scenario: str, users: int, duration_s: float) -> tuple[Summary, dict[str, int]]:
    """``<prefix>.json`` (locust's final stats, every endpoint) as a ``Summary``: RPS over the run's wall time
    (first request to last), percentiles from its response-time buckets; and the error kinds of
    ``<prefix>_failures.csv``."""
    path = Path(f"{prefix}.json")
    if not path.is_file():
        raise LocustError(f"locust wrote no stats ({path} is missing)")
    entries = json.loads(path.read_text())
    if not entries:
        raise LocustError(f"{path} holds no requests: nothing reached the server")
    histogram: dict[float, int] = {}
    for e in entries:
        for ms, n in e["response_times"].items():
            histogram[float(ms)] = histogram.get(float(ms), 0) + int(n)
    requests = sum(int(e["num_requests"]) for e in entries)
    wall = max(e["last_request_timestamp"] for e in entries) - min(e["start_time"] for e in entries)
    wall = wall if wall > 0 else duration_s
    summary = Summary(
        scenario=scenario,
        users=users,
        requests=requests,
        errors=sum(int(e["num_failures"]) for e in entries),
        wall_s=wall,
        rps=requests / wall,
        p50_ms=bucket_percentile(histogram, 50),
        p95_ms=bucket_percentile(histogram, 95),
        p99_ms=bucket_percentile(histogram, 99),
        max_ms=max(float(e["max_response_time"]) for e in entries),
    )
    errors: dict[str, int] = {}
    failures = Path(f"{prefix}_failures.csv")
    if failures.is_file():
        with failures.open(newline="") as fh:
            for r in csv.DictReader(fh):
                errors[r.get("Error", "?")[:120]] = errors.get(r.get("Error", "?")[:120], 0) + int(
                    r.get("Occurrences") or 0
                )
    return summary, errors


def run_locust(
    url: str,
    scenario: str,
    *,
    users: int,
    duration_s: float,
    queries: Sequence[str],
    k: int = 10,
    backend: str | None = None,
    unique: bool = True,
    pace_s: float = 0.0,
    workdir: Path | None = None,
) -> tuple[Summary, dict[str, int]]:
    """One headless locust run of the search user against ``url``; raises ``LocustError`` when it fails."""
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        raise LocustError("locust is not installed (it comes with the dev extra): pip install -e '.[dev]'")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        qfile = Path(tmp) / "queries.json"
        qfile.write_text(json.dumps(list(queries)), encoding="utf-8")  # JSON: no line separator can split a query
        env = {
            **os.environ,
            "FDA_LOAD_QUERIES": str(qfile),
            "FDA_LOAD_K": str(k),
            "FDA_LOAD_BACKEND": backend or "",
            "FDA_LOAD_UNIQUE": "1" if unique else "0",
            "FDA_LOAD_PACE_S": str(pace_s),
        }
        prefix = Path(tmp) / "run"
        try:
            proc = subprocess.run(
                locust_command(url, users, duration_s, prefix), env=env, capture_output=True, text=True,
                timeout=duration_s + 120,
            )  # fmt: skip
        except subprocess.TimeoutExpired as err:
            raise LocustError(f"locust did not stop within {duration_s + 120:.0f} s") from err
        if proc.returncode not in (0, 1):  # 1: some requests failed, the stats still stand
            raise LocustError(f"locust exited {proc.returncode}: {(proc.stderr or proc.stdout)[-500:]}")
        try:
            return read_stats(prefix, scenario, users, duration_s)
        except LocustError as err:  # e.g. the locustfile failed to import: say what locust said
            raise LocustError(f"{err}; locust said: {(proc.stderr or proc.stdout)[-500:]}") from err
