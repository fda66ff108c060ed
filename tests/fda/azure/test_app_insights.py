"""Traces to Application Insights (fda/tracing.py, ``azure_monitor``) against a local ingestion endpoint that
speaks its track API (``POST /v2.1/track``, a JSON list of envelopes, answered with itemsAccepted)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
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


def test_a_questions_spans_reach_application_insights(httpserver: HTTPServer) -> None:
    received: list[dict[str, Any]] = []

    def track(request: Request) -> Response:
        items = envelopes(request)
        received.extend(items)
        accepted = {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        return Response(json.dumps(accepted), status=200, content_type="application/json")

    httpserver.expect_request("/v2.1/track", method="POST").respond_with_handler(track)
    connection = f"InstrumentationKey={IKEY};IngestionEndpoint={httpserver.url_for('/')}"
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
