"""One trace per question, a span per stage, through OpenTelemetry.

    with span("retrieve", queries=3) as s:
        ...
        s.set_attribute("passages", len(found))

The service (api/main.py) calls :func:`setup_tracing` once: spans then go to ``state/logs/traces.jsonl``
(one JSON object per finished span; ``fda trace TRACE_ID`` prints a question's tree) and, when
``tracing.otlp_endpoint`` is set, to an OTLP/HTTP collector (Jaeger, Tempo, an OpenTelemetry Collector).
Without it (tests, most CLI commands) :func:`span` is OpenTelemetry's no-op: about a microsecond.

Stages: ``ask`` (the request: program, version, cache hit), ``guard`` (question screen, scope and harm
gates), ``rewrite``, ``retrieve`` and one span per fused signal (``retrieve.bm25``, ``.dense``, ``.colbert``,
``.headings``), ``lm`` per LM call with its tokens (fda/lm/spans.py), ``answer`` and ``verify``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

log = logging.getLogger(__name__)

_tracer: trace.Tracer = trace.get_tracer("fda")
_provider: Any = None  # the SDK TracerProvider setup_tracing made (None: spans are no-ops)

Attribute = str | bool | int | float


def _clean(attributes: dict[str, Any]) -> dict[str, Attribute]:
    """OpenTelemetry takes str, bool, int, float (and lists of them): anything else as its str, None dropped."""
    out: dict[str, Attribute] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, str | bool | int | float) else str(value)
    return out


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child of the current span (or a new trace's root) for the ``with`` block; an exception is recorded on
    it and raised on."""
    with _tracer.start_as_current_span(name, attributes=_clean(attributes)) as current:
        yield current


def annotate(**attributes: Any) -> None:
    """Attributes on the current span (nothing when there is none)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(_clean(attributes))


def current_trace_id() -> str:
    """The current trace's id as 32 hex digits; "" outside a recorded trace."""
    return trace_id_of(trace.get_current_span())


def trace_id_of(current: trace.Span) -> str:
    """``current``'s trace id as 32 hex digits; "" when it is not recorded (a no-op span, or a trace not sampled
    under tracing.sample_ratio < 1: no id that leads nowhere)."""
    context = current.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid and context.trace_flags.sampled else ""


def tracer() -> trace.Tracer:
    return _tracer


class JsonlSpanExporter:
    """Finished spans appended to a JSONL file, one object per span (what ``fda trace`` reads). Implements
    OpenTelemetry's ``SpanExporter`` interface (export, shutdown, force_flush)."""

    def __init__(self, path: Path, max_bytes: int = 50 * 2**20) -> None:
        self.path = path
        self.max_bytes = max_bytes  # past it the file becomes <name>.1 (the one before is dropped)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        lines = [json.dumps(span_record(s), ensure_ascii=False) for s in spans]
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self.max_bytes and self.path.is_file() and self.path.stat().st_size > self.max_bytes:
                    self.path.replace(rotated(self.path))
                with self.path.open("a", encoding="utf-8") as out:
                    out.write("".join(line + "\n" for line in lines))
        except OSError as err:  # a trace is never worth a failed request
            log.warning("could not write %d spans to %s: %s", len(lines), self.path, err)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def span_record(s: Any) -> dict[str, Any]:
    """A finished SDK span as the JSON object stored per line."""
    context = s.get_span_context()
    parent = s.parent
    start, end = int(s.start_time or 0), int(s.end_time or 0)
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(parent.span_id, "016x") if parent is not None else None,
        "name": s.name,
        "start_ns": start,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": s.status.status_code.name,
        "attributes": dict(s.attributes or {}),
        "events": [e.name for e in s.events],
    }


PROBES = frozenset({"GET /healthz", "GET /readyz", "GET /metrics"})


class SkipProbes(Sampler):
    """A sampler that records nothing for health probes and scrapes (FastAPI names their root spans
    ``GET /readyz``...): one every few seconds would be most of the file. Everything else goes to ``inner``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> Any:
        parent = trace.get_current_span(parent_context).get_span_context()
        if not parent.is_valid and name in PROBES:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"SkipProbes({self.inner.get_description()})"


def setup_tracing(
    file: Path | None,
    otlp_endpoint: str | None = None,
    sample_ratio: float = 1.0,
    service_name: str = "fda",
    *,
    batch: bool = True,
    max_file_mb: float = 50.0,
    azure_monitor: str | None = None,
) -> Any:
    """Record spans: to ``file`` (JSONL) and/or an OTLP/HTTP ``otlp_endpoint`` and/or Application Insights
    (``azure_monitor``: its connection string; azure-monitor-opentelemetry-exporter). Returns the SDK provider
    (``shutdown()`` flushes it). Also installed as OpenTelemetry's global provider when none is set yet, so other
    instrumentation joins the same traces."""
    global _tracer, _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=SkipProbes(ParentBased(TraceIdRatioBased(sample_ratio))),
    )
    processor = BatchSpanProcessor if batch else SimpleSpanProcessor
    if file is not None:
        exporter = JsonlSpanExporter(file, int(max_file_mb * 2**20))
        provider.add_span_processor(processor(exporter))  # type: ignore[arg-type]
    if otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:  # pinned in pyproject.toml; an environment without it still serves
            log.error("tracing.otlp_endpoint is set but opentelemetry-exporter-otlp-proto-http is not installed")
        else:
            provider.add_span_processor(processor(OTLPSpanExporter(endpoint=otlp_endpoint)))
            log.info("traces also go to %s (OTLP/HTTP)", otlp_endpoint)
    if azure_monitor:
        try:
            from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter
        except ImportError:  # the `azure` extra; an environment without it still serves
            log.error(
                "azure.monitor_connection_string is set but azure-monitor-opentelemetry-exporter is not installed"
            )
        else:
            no_sdk_reports()
            insights = AzureMonitorTraceExporter(connection_string=azure_monitor, disable_offline_storage=True)
            provider.add_span_processor(processor(insights))
            log.info("traces also go to Application Insights")
    if _provider is not None:
        _provider.shutdown()
    _provider = provider
    _tracer = provider.get_tracer("fda")
    if type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider":
        trace.set_tracer_provider(provider)
    return provider


def no_sdk_reports() -> None:
    """The Azure Monitor SDK's own usage reports to Microsoft (statsbeat, SDK stats): off unless the operator
    turned them on in the environment. Call before creating an Azure Monitor exporter."""
    import os

    os.environ.setdefault("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
    os.environ.setdefault("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")


def stop_tracing() -> None:
    """Flush and stop recording (spans become no-ops again)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None
    _tracer = trace.NoOpTracer()


def rotated(file: Path) -> Path:
    return file.with_name(file.name + ".1")


def read_trace(file: Path, trace_id: str) -> list[dict[str, Any]]:
    """The stored spans of one trace (in ``file`` and the rotated ``file.1``), in start order ([] if none)."""
    found = []
    for path in (rotated(file), file):
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if trace_id in line:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:  # a line cut by a crash: skip it
                        continue
                    if record.get("trace_id") == trace_id:
                        found.append(record)
    return sorted(found, key=lambda r: r["start_ns"])


def tree_lines(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, span) in tree order: each span under its parent, siblings by start time."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    ids = {s["span_id"] for s in spans}
    for s in spans:
        parent = s["parent_id"] if s["parent_id"] in ids else None
        children.setdefault(parent, []).append(s)
    out: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda r: r["start_ns"]):
            out.append((depth, s))
            walk(s["span_id"], depth + 1)

    walk(None, 0)
    return out
