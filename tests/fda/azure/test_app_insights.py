"""Traces to Application Insights (fda/tracing.py, ``azure_monitor``) against a local ingestion endpoint that
speaks its track API (``POST /v2.1/track``, a JSON list of envelopes, answered with itemsAccepted)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fda.tracing import setup_tracing, span, stop_tracing

IKEY = "00000000-0000-0000-0000-0000000000aa"


@pytest.fixture(autouse=True)
def no_side_channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", raising=False)  # setup_tracing turns both off
    monkeypatch.delenv("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", raising=False)
    yield
    stop_tracing()


def envelopes(request: Request) -> list[dict[str, Any]]:
    body = request.get_data()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return list(json.loads(body))


def ingestion(server: HTTPServer) -> tuple[list[dict[str, Any]], str]:
    """The track endpoint on ``server``, accepting every envelope: (what it received, a connection string to it)."""
    received: list[dict[str, Any]] = []

    def track(request: Request) -> Response:
        items = envelopes(request)
        received.extend(items)
        accepted = {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        return Response(json.dumps(accepted), status=200, content_type="application/json")

    server.expect_request("/v2.1/track", method="POST").respond_with_handler(track)
    return received, f"InstrumentationKey={IKEY};IngestionEndpoint={server.url_for('/')}"


def test_a_questions_spans_reach_application_insights(httpserver: HTTPServer) -> None:
    received, connection = ingestion(httpserver)
    provider = setup_tracing(None, azure_monitor=connection, batch=False, service_name="fda-test")
    with span("ask", program="rag"), span("retrieve", queries=1):
        pass
    provider.force_flush()
    assert os.environ["APPLICATIONINSIGHTS_SDKSTATS_DISABLED"] == "true"  # no usage reports to Microsoft
    assert all(r.path == "/v2.1/track" for r, _ in httpserver.log)
    names = {e["data"]["baseData"].get("name") for e in received}
    assert {"ask", "retrieve"} <= names
    assert {e["iKey"] for e in received} == {IKEY}
    ask = next(e for e in received if e["data"]["baseData"].get("name") == "ask")
    assert ask["data"]["baseData"]["properties"]["program"] == "rag"


def test_without_a_connection_string_nothing_is_sent(httpserver: HTTPServer) -> None:
    setup_tracing(None, batch=False)
    with span("ask"):
        pass
    assert httpserver.log == []


def test_the_prometheus_metrics_reach_application_insights(httpserver: HTTPServer) -> None:
    from api.insights import export_metrics
    from api.telemetry import Telemetry

    received, connection = ingestion(httpserver)
    telemetry = Telemetry()
    telemetry.requests.labels(route="/v1/ask", status="200").inc(3)
    telemetry.lm_fallbacks.labels(reason="rate_limited", to="azure/backup").inc()
    telemetry.latency.labels(route="/v1/ask").observe(1.5)
    provider = export_metrics(telemetry, connection, interval_s=3600)
    assert os.environ["APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL"] == "true"  # no usage reports to Microsoft
    provider.force_flush()
    provider.shutdown()
    totals: dict[str, float] = {}  # Azure Monitor takes deltas: an export's values add up to the counter
    labels: dict[str, dict[str, str]] = {}
    for e in received:
        for m in e["data"]["baseData"].get("metrics", []):
            totals[m["name"]] = totals.get(m["name"], 0.0) + m["value"]
            labels[m["name"]] = e["data"]["baseData"].get("properties", {})
    assert totals["fda_requests_total"] == 3.0 and labels["fda_requests_total"] == {"route": "/v1/ask", "status": "200"}
    assert totals["fda_lm_fallbacks_total"] == 1.0
    assert totals["fda_request_seconds_count"] == 1.0 and totals["fda_request_seconds_sum"] == 1.5


def test_the_service_sends_its_traces_and_metrics_when_a_connection_string_is_set(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from fda.settings import Settings
    from tests.api.conftest import make_services

    received, connection = ingestion(httpserver)
    settings = Settings(state_dir=tmp_path, azure={"monitor_connection_string": connection})  # type: ignore[arg-type]
    with TestClient(create_app(settings, lambda s: make_services(s, tmp_path))) as client:
        assert client.post("/v1/ask", json={"question": "How do I enable CORS?"}).status_code == 200
    names = {e["data"]["baseData"].get("name") for e in received}  # spans (requests, dependencies)
    metrics = {m["name"] for e in received for m in e["data"]["baseData"].get("metrics", [])}
    assert "ask" in names and "fda_requests_total" in metrics
    assert connection not in json.dumps(received)  # the connection string itself is never sent as data
