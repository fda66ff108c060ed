"""Secrets from Azure Key Vault: at start-up, the settings that hold secrets and are still unset are filled
from the vault named by ``azure.key_vault_url`` (``get_settings`` calls this once per process).

    FDA_AZURE__KEY_VAULT_URL=https://fda-kv.vault.azure.net fda serve
    # lm.api_key <- secret fda-lm-api-key, api.log_store_dsn <- fda-postgres-dsn, ... (azure.secrets)

The credential is ``DefaultAzureCredential``: the user-assigned managed identity in Container Apps
(``AZURE_CLIENT_ID``), the environment or ``az login`` locally; it needs the "Key Vault Secrets User" role. A
setting already set (environment, ``.env``) wins over the vault. A secret the vault does not hold is skipped
(logged by name); a vault that refuses the identity stops the start with a clear error. Values are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from fda.errors import ConfigError

if TYPE_CHECKING:
    from fda.settings import Settings

log = logging.getLogger(__name__)

# the settings that may come from the vault (each a SecretStr | None field)
SECRET_SETTINGS = frozenset(
    {"lm.api_key", "azure.search.api_key", "api.log_store_dsn", "azure.monitor_connection_string"}
)

ClientFactory = Callable[[str], Any]  # vault URL -> an object with get_secret(name).value


def default_client(vault_url: str) -> Any:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    return SecretClient(vault_url=vault_url, credential=DefaultAzureCredential())


def _holder(settings: Settings, path: str) -> tuple[Any, str]:
    obj: Any = settings
    *parents, last = path.split(".")
    for part in parents:
        obj = getattr(obj, part)
    return obj, last


def apply_vault_secrets(settings: Settings, client_factory: ClientFactory = default_client) -> list[str]:
    """Fill ``settings``' unset secret settings from the vault (in place); returns the settings filled."""
    url = settings.azure.key_vault_url
    if not url:
        return []
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    unknown = set(settings.azure.secrets) - SECRET_SETTINGS
    if unknown:
        raise ConfigError(
            f"FDA_AZURE__SECRETS names settings that are not secrets: {', '.join(sorted(unknown))}",
            hint=f"Map only {', '.join(sorted(SECRET_SETTINGS))} to Key Vault secret names.",
        )
    client = client_factory(url)
    filled: list[str] = []
    for path, name in sorted(settings.azure.secrets.items()):
        holder, field = _holder(settings, path)
        if getattr(holder, field) is not None:
            continue  # set in the environment: it wins
        try:
            value = client.get_secret(name).value
        except ResourceNotFoundError:
            log.info("Key Vault %s holds no secret %r (%s stays unset)", url, name, path)
            continue
        except ClientAuthenticationError as err:
            raise ConfigError(
                f"Key Vault {url}: no credential could sign in ({type(err).__name__})",
                hint="In Azure: assign the app's managed identity (AZURE_CLIENT_ID); locally: `az login` or "
                "AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET.",
            ) from err
        except HttpResponseError as err:
            if err.status_code in (401, 403):
                raise ConfigError(
                    f"Key Vault {url} refused to read secret {name!r} (HTTP {err.status_code})",
                    hint="Give the identity the 'Key Vault Secrets User' role on the vault (infra/azure/main.bicep does).",
                ) from err
            raise ConfigError(
                f"Key Vault {url} failed reading {name!r}: HTTP {err.status_code}",
                hint="Retry; if it persists, check the vault's health and network rules.",
            ) from err
        if value:
            setattr(holder, field, SecretStr(value))
            filled.append(path)
    if filled:
        log.info("settings from Key Vault %s: %s", url, ", ".join(filled))
    return filled
