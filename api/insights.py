"""The service's Prometheus metrics (api/telemetry.py) also to Application Insights, when
``azure.monitor_connection_string`` is set (docs/azure.md): Container Apps does not scrape ``/metrics``.

    provider = export_metrics(services.telemetry, connection_string)   # api/main.py; provider.shutdown() at stop

Each counter and gauge of the app's registry becomes an OpenTelemetry observable instrument of the same name
whose callback reads the registry at export time (every ``interval_s``), so the numbers in Azure are the ones on
``/metrics``; a histogram goes as its ``_count`` and ``_sum``. Nothing is counted twice: the instruments only
read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from api.telemetry import Telemetry
from fda.tracing import no_sdk_reports

log = logging.getLogger(__name__)


def _reader(telemetry: Telemetry, family: str, suffixes: tuple[str, ...]) -> Callable[[Any], Iterable[Any]]:
    from opentelemetry.metrics import Observation

    def observe(options: Any) -> Iterable[Any]:
        for metric in telemetry.registry.collect():
            if metric.name != family:
                continue
            for sample in metric.samples:
                if sample.name.endswith(suffixes):
                    yield Observation(sample.value, dict(sample.labels))

    return observe


def export_metrics(telemetry: Telemetry, connection_string: str, interval_s: float = 60.0) -> Any:
    """An OpenTelemetry MeterProvider exporting ``telemetry``'s registry to Application Insights (None when the
    exporter is not installed: the service still serves)."""
    try:
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter
    except ImportError:
        log.error("azure.monitor_connection_string is set but azure-monitor-opentelemetry-exporter is not installed")
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    no_sdk_reports()
    exporter = AzureMonitorMetricExporter(connection_string=connection_string, disable_offline_storage=True)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=interval_s * 1000)
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("fda")
    for metric in telemetry.registry.collect():
        if metric.type == "counter":
            meter.create_observable_counter(f"{metric.name}_total", [_reader(telemetry, metric.name, ("_total",))],
                                            description=metric.documentation)  # fmt: skip
        elif metric.type == "gauge":
            meter.create_observable_gauge(metric.name, [_reader(telemetry, metric.name, ("",))],
                                          description=metric.documentation)  # fmt: skip
        elif metric.type == "histogram":
            for part in ("_count", "_sum"):
                meter.create_observable_counter(f"{metric.name}{part}", [_reader(telemetry, metric.name, (part,))],
                                                description=metric.documentation)  # fmt: skip
    log.info("metrics also go to Application Insights every %.0f s", interval_s)
    return provider
