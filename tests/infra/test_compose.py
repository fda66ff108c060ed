"""infra/compose.yaml and infra/Dockerfile stay a faithful mirror of `make run` (no engine needed)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.infra.conftest import INFRA


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((INFRA / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def entrypoint_commands() -> set[str]:
    text = (INFRA / "entrypoint.sh").read_text()
    return set(re.findall(r"^    ([a-z]+)\)$", text, flags=re.M))


MONITORING = {"prometheus", "grafana"}  # upstream images, profile "monitoring" (tests/infra/test_dashboard.py)


def product(compose: dict[str, Any]) -> dict[str, Any]:
    """The services built from our image (the monitoring profile's are upstream images)."""
    return {n: s for n, s in compose["services"].items() if n not in MONITORING}


def test_services_run_entrypoint_commands(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) - MONITORING == {"api", "ui", "mlflow"}
    services = product(compose)
    known = entrypoint_commands()
    assert {"serve", "ui", "mlflow", "prepare"} <= known
    for name, svc in services.items():
        assert svc["command"][0] in known, name
        assert svc["image"] == services["api"]["image"]  # one image, built once by `api`
    assert services["api"]["build"]["dockerfile"] == "infra/Dockerfile"


def test_ports_are_loopback_and_match_the_settings(compose: dict[str, Any]) -> None:
    expected = {"api": "8000", "ui": "8501", "mlflow": "5000"}
    for name, port in expected.items():
        (mapping,) = compose["services"][name]["ports"]
        assert mapping.startswith("127.0.0.1:"), mapping
        assert mapping.endswith(f":{port}"), mapping
    assert compose["services"]["api"]["environment"]["FDA_API__PORT"] == "8000"
    assert compose["services"]["ui"]["environment"]["FDA_UI__PORT"] == "8501"


def test_state_is_shared_and_the_corpus_read_only(compose: dict[str, Any]) -> None:
    assert "fda-state" in compose["volumes"]
    for name, svc in product(compose).items():
        assert "fda-state:/data" in svc["volumes"], name
    api = compose["services"]["api"]
    corpus = [v for v in api["volumes"] if ":/corpus" in v]
    assert len(corpus) == 1 and corpus[0].endswith(":/corpus:ro")
    assert api["environment"]["FDA_CORPUS__SOURCES"] == '["/corpus"]'
    assert not any(":/corpus" in v for n in ("ui", "mlflow") for v in compose["services"][n]["volumes"])


def test_ui_talks_to_the_api_service(compose: dict[str, Any]) -> None:
    ui = compose["services"]["ui"]
    assert ui["environment"]["FDA_UI__API_URL"] == "http://api:8000"
    assert ui["depends_on"]["api"]["condition"] == "service_healthy"
    assert ui["environment"]["FDA_UI__HOST"] == "0.0.0.0"
    # the UI and MLflow listen on other ports than the image's HEALTHCHECK: each has its own
    for name in ("ui", "mlflow"):
        test = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert compose["services"][name]["ports"][0].rsplit(":", 1)[1] in test


def dockerfile_stages() -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {"": []}
    current = ""
    for line in (INFRA / "Dockerfile").read_text().splitlines():
        m = re.match(r"FROM \S+ AS (\w+)", line)
        if m:
            current = m.group(1)
            stages[current] = []
        stages[current].append(line)
    return stages


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    stages = dockerfile_stages()
    assert {"base", "builder", "runtime"} <= set(stages)
    assert any(line.startswith("ARG BASE_IMAGE=python:3.11") for line in stages[""])
    runtime = "\n".join(stages["runtime"])
    assert list(stages)[-1] == "runtime"  # the default target
    assert re.search(r"^USER fda$", runtime, flags=re.M)
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", runtime, flags=re.M)
    assert re.search(r"^EXPOSE 8000\b", runtime, flags=re.M)
    assert 'ENTRYPOINT ["fda-entrypoint"]' in runtime
    assert "FDA_API__HOST=0.0.0.0" in runtime


def test_dockerfile_keeps_torch_on_cpu() -> None:
    builder = "\n".join(dockerfile_stages()["builder"])
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in builder
    assert "grep -i '^nvidia-'" in builder
    assert "torch.version.cuda is None" in builder


def test_build_context_leaves_out_state_venv_and_corpus() -> None:
    ignored = (INFRA / "Dockerfile.dockerignore").read_text().splitlines()
    for entry in (".venv", "state", ".git", "infra", "!infra/entrypoint.sh"):
        assert entry in ignored
