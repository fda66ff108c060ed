"""Prometheus metrics, one registry per app (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("fda_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram(
            "fda_request_seconds", "Request latency", ["route"], buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.lm_tokens = Counter("fda_lm_tokens_total", "LM tokens", ["kind"], registry=self.registry)
        self.cache = Counter("fda_cache_total", "Cache lookups", ["cache", "result"], registry=self.registry)
        self.fallbacks = Counter("fda_fallbacks_total", "Retrieval-only answers", ["reason"], registry=self.registry)
        self.rejected = Counter("fda_rejected_total", "Requests refused with 503 (queue full)", registry=self.registry)
        self.cache_entries = Gauge("fda_cache_entries", "Entries held", ["cache"], registry=self.registry)
        self.in_flight = Gauge("fda_lm_in_flight", "LM-bound requests running or waiting", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
