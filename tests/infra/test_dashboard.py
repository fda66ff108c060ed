"""infra/grafana and infra/prometheus: the dashboard only asks for metrics the service exports, and both
configs point where the service and the datasource are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from api.telemetry import Telemetry

INFRA = Path(__file__).resolve().parents[2] / "infra"
DASHBOARD = INFRA / "grafana" / "dashboards" / "fda.json"


def exported() -> set[str]:
    """Every sample name /metrics can carry (histograms with _bucket, _count, _sum; counters with _total)."""
    t = Telemetry()
    names: set[str] = set()
    for family in t.registry.collect():
        names.add(family.name)
        for suffix in ("_total", "_bucket", "_count", "_sum", "_created"):
            names.add(family.name + suffix)
    return names


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]


def test_every_dashboard_query_names_exported_metrics() -> None:
    have = exported()
    used = {m for expr in dashboard_exprs() for m in re.findall(r"\bfda_[a-z_]+", expr)}
    assert used and used <= have, sorted(used - have)
    for needed in ("fda_stage_seconds_bucket", "fda_lm_completion_tokens_total", "fda_answers_total"):
        assert needed in used  # per-stage latency, LM tokens/s, refusals: what the dashboard is for


def test_panels_are_unique_and_use_the_provisioned_datasource() -> None:
    board = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    source = yaml.safe_load((INFRA / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    assert {p["datasource"]["uid"] for p in board["panels"]} == {uid}
    assert source["datasources"][0]["url"] == "http://prometheus:9090"


def test_prometheus_configs_scrape_the_service() -> None:
    host = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text())
    compose = yaml.safe_load((INFRA / "prometheus" / "prometheus-compose.yml").read_text())
    assert host["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:8000"]
    assert compose["scrape_configs"][0]["static_configs"][0]["targets"] == ["api:8000"]
    services = yaml.safe_load((INFRA / "compose.yaml").read_text())["services"]
    assert services["prometheus"]["profiles"] == ["monitoring"] and services["grafana"]["profiles"] == ["monitoring"]
