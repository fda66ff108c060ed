"""infra/azure/main.bicep: it parses (pycep, the Bicep parser checkov uses), holds what the issue lists, names
only settings that exist, keeps secrets out of app settings, and grants each role on one resource only.
`az bicep build` is the authoritative validator (docs/azure.md); it cannot be installed from the registries
reachable here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from fda.azure.keyvault import SECRET_SETTINGS
from fda.settings import AzureSettings, Settings

BICEP = Path(__file__).resolve().parents[2] / "infra" / "azure" / "main.bicep"
PARAMETERS = BICEP.with_name("main.parameters.json")
ROLES = {  # built-in role definition ids
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "1407120a-92aa-4202-b7e9-c0e197c71c8f": "Search Index Data Reader",
    "8ebe5a00-799e-43f5-93ac-243d3dce84a7": "Search Index Data Contributor",
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(BicepParser().parse(file_path=BICEP))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["resources"].items() if r["type"] == kind}


def test_it_holds_every_piece_the_deployment_needs(template: dict[str, Any]) -> None:
    types = {r["type"] for r in template["resources"].values()}
    assert {
        "Microsoft.App/containerApps", "Microsoft.App/managedEnvironments", "Microsoft.Search/searchServices",
        "Microsoft.CognitiveServices/accounts", "Microsoft.CognitiveServices/accounts/deployments",
        "Microsoft.KeyVault/vaults", "Microsoft.Insights/components", "Microsoft.OperationalInsights/workspaces",
        "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.Authorization/roleAssignments",
    } <= types  # fmt: skip
    apps = of_type(template, "Microsoft.App/containerApps")
    assert set(apps) == {"api", "ui"}
    for app in apps.values():
        scale = app["config"]["properties"]["template"]["scale"]
        assert scale["rules"] and scale["maxReplicas"]


def test_the_api_names_only_settings_that_exist(template: dict[str, Any]) -> None:
    env = template["variables"]["apiEnv"]["value"]
    names = [e["name"] for e in env]
    assert "FDA_LM__API_VERSION" in names and "FDA_AZURE__KEY_VAULT_URL" in names
    for name in (n for n in names if n.startswith("FDA_")):
        model: Any = Settings
        for part in name.removeprefix("FDA_").lower().split("__"):
            assert part in model.model_fields, f"{name}: no setting {part!r}"
            model = model.model_fields[part].annotation
            model = getattr(model, "__args__", [model])[0] if not hasattr(model, "model_fields") else model


def test_no_secret_is_an_app_setting(template: dict[str, Any]) -> None:
    text = json.dumps(template["resources"]["api"]) + json.dumps(template["variables"]["apiEnv"])
    assert "secretRef" not in text and "postgresAdminPassword" not in text
    assert not re.search(r'"name": "FDA_[A-Z_]*(KEY|PASSWORD|DSN|SECRET|CONNECTION_STRING)"', text)
    assert "@secure()" in BICEP.read_text() and "postgresAdminPassword" not in PARAMETERS.read_text()


def test_the_vaults_secret_names_are_the_ones_the_service_reads(template: dict[str, Any]) -> None:
    created = {r["config"]["name"] for r in of_type(template, "Microsoft.KeyVault/vaults/secrets").values()}
    defaults = AzureSettings().secrets
    assert set(defaults) == SECRET_SETTINGS
    assert created and created <= set(defaults.values())


def test_each_role_is_a_known_built_in_granted_to_the_identity_on_one_resource(template: dict[str, Any]) -> None:
    variables = template["variables"]["roles"]["value"]
    assignments = of_type(template, "Microsoft.Authorization/roleAssignments")
    granted = set()
    for name, assignment in assignments.items():
        text = json.dumps(assignment)
        assert '"identity"' in text and "principalId" in text, name
        assert assignment["config"]["scope"] in template["resources"], f"{name}: scoped to a resource of this file"
        role = next(v for k, v in variables.items() if f'"{k}"' in text)
        assert role in ROLES, f"{name}: {role} is not a built-in role this deployment means"
        granted.add(ROLES[role])
    assert granted == set(ROLES.values())


def test_every_symbol_used_is_declared(template: dict[str, Any]) -> None:
    declared = set(template["resources"]) | set(template["parameters"]) | set(template["variables"])
    builtins = {"resourceGroup", "subscription", "environment", "storage", "az", "sys"}
    used = set(re.findall(r"\b([a-z][A-Za-z0-9]*)\.(?:properties|id|name|listKeys)\b", BICEP.read_text()))
    assert used - declared - builtins == set()


def test_the_parameters_file_fits_the_parameters(template: dict[str, Any]) -> None:
    given = json.loads(PARAMETERS.read_text())["parameters"]
    assert set(given) <= set(template["parameters"]) and "image" in given
