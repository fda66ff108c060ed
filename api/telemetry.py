"""Prometheus metrics, one registry per app (tests build many apps)."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40)


class StageMetrics(SpanProcessor):
    """An OpenTelemetry span processor that feeds each finished span into ``Telemetry.span_ended``: the
    per-stage latency and LM throughput on /metrics come from the same spans as the traces."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def on_end(self, span: ReadableSpan) -> None:
        scope = getattr(span, "instrumentation_scope", None)
        if getattr(scope, "name", "fda") != "fda":  # FastAPI's own request spans: /metrics has those already
            return
        start, end = getattr(span, "start_time", None), getattr(span, "end_time", None)
        if start is None or end is None:
            return
        attributes = dict(getattr(span, "attributes", None) or {})
        self.telemetry.span_ended(str(getattr(span, "name", "")), (end - start) / 1e9, attributes)


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
        self.answers = Counter(
            "fda_answers_total",
            "Answers by outcome: answered, declined (cannot answer from the docs), refused, fallback",
            ["outcome", "cached"],
            registry=self.registry,
        )
        self.stage = Histogram(
            "fda_stage_seconds",
            "Time per stage of a question (the span names of fda/tracing.py)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.lm_seconds = Counter(
            "fda_lm_seconds_total", "Seconds in LM calls the cache did not answer", ["model"], registry=self.registry
        )
        self.lm_completion = Counter(
            "fda_lm_completion_tokens_total", "Completion tokens of those calls", ["model"], registry=self.registry
        )
        self.lm_fallbacks = Counter(
            "fda_lm_fallbacks_total",
            "LM calls handed to the next model of lm.fallback_models (fda/lm/fallback.py), by why and to whom",
            ["reason", "to"],
            registry=self.registry,
        )

    def outcome(self, pred_flags: dict[str, bool], cached: bool) -> None:
        """Count one answer by what it was (the first flag that is set wins)."""
        kind = next((k for k in ("fallback", "refused", "cannot_answer") if pred_flags.get(k)), "answered")
        kind = "declined" if kind == "cannot_answer" else kind
        self.answers.labels(outcome=kind, cached=str(cached).lower()).inc()

    def span_ended(self, name: str, seconds: float, attributes: dict[str, object]) -> None:
        """A finished span: its stage's histogram; an LM call's time and tokens (tokens/s = their rates' ratio)."""
        self.stage.labels(stage=name).observe(seconds)
        if name == "lm.fallback":
            reason, to = attributes.get("lm.fallback.reason", ""), attributes.get("lm.fallback.to", "")
            self.lm_fallbacks.labels(reason=str(reason), to=str(to)).inc()
        if name == "lm" and attributes.get("lm.cached") is False:
            model = str(attributes.get("lm.model", ""))
            self.lm_seconds.labels(model=model).inc(seconds)
            self.lm_completion.labels(model=model).inc(int(attributes.get("lm.completion_tokens", 0) or 0))  # type: ignore[call-overload]

    def render(self) -> bytes:
        return generate_latest(self.registry)
