"""A real Prometheus (Debian package, `make prometheus-bin`) scrapes the real app's /metrics, and every query of
the Grafana dashboard (infra/grafana/dashboards/fda.json) parses and runs against it. Slow tier."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from fda.settings import Settings
from tests.api.conftest import make_services
from tests.infra.test_dashboard import dashboard_exprs
from tests.ui.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    settings = Settings(state_dir=tmp_path / "state")
    app = create_app(settings, lambda s: make_services(s, tmp_path))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_prometheus_scrapes_the_service_and_runs_the_dashboard_queries(app_url: str, tmp_path: Path) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run `make prometheus-bin` (ops/install-debian-package.sh prometheus)")
    for question in ("How do I enable CORS?", "How do I add a middleware?"):
        assert httpx.post(f"{app_url}/v1/ask", json={"question": question}, timeout=10).status_code == 200
    config = tmp_path / "prometheus.yml"
    target = app_url.removeprefix("http://")
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fda\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1/query"
    try:
        deadline, value = time.monotonic() + 60, None
        while time.monotonic() < deadline and value is None:
            time.sleep(1)
            try:
                got = httpx.get(api, params={"query": 'sum(fda_requests_total{route="/v1/ask"})'}, timeout=5).json()
            except httpx.HTTPError:
                continue
            if got.get("data", {}).get("result"):
                value = float(got["data"]["result"][0]["value"][1])
        assert value == 2.0, "Prometheus did not scrape the service's /metrics within 60 s"
        stage = httpx.get(api, params={"query": "fda_stage_seconds_count"}, timeout=5).json()["data"]["result"]
        assert {"ask"} <= {r["metric"]["stage"] for r in stage}  # the spans reached /metrics
        for expr in dashboard_exprs():
            body = httpx.get(api, params={"query": expr}, timeout=5).json()
            assert body["status"] == "success", (expr, body)
    finally:
        proc.terminate()
        proc.wait(10)
