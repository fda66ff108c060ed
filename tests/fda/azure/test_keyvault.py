"""fda/azure/keyvault.py against a local HTTPS server that speaks Key Vault's REST contract: the SDK's challenge
(401 + ``WWW-Authenticate: Bearer authorization=..., resource=...``), then ``GET /secrets/<name>`` with the
bearer token; 404 SecretNotFound, 403 Forbidden."""

from __future__ import annotations

import datetime
import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fda.azure.keyvault import apply_vault_secrets
from fda.errors import ConfigError
from fda.settings import Settings

TOKEN = "fake-entra-token"
SECRETS = {"fda-lm-api-key": "lm-key-from-vault", "fda-postgres-dsn": "postgresql://u:p@db:5432/fda"}


def self_signed(tmp: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context


class FakeVault:
    """Key Vault's data plane, as far as reading a secret goes."""

    def __init__(self, server: HTTPServer, secrets: dict[str, str], forbidden: bool = False) -> None:
        self.server, self.secrets, self.forbidden = server, secrets, forbidden
        self.reads: list[str] = []
        server.expect_request(re.compile(r"^/secrets/[^/]+/?$")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {TOKEN}":  # the SDK's first, unauthenticated request: the challenge
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/tenant-1", resource="https://vault.azure.net"'
            )
            return Response(status=401, headers={"WWW-Authenticate": challenge})
        name = request.path.split("/")[2]
        self.reads.append(name)
        if self.forbidden:
            return _error(403, "Forbidden", "The user does not have secrets get permission")
        if name not in self.secrets:
            return _error(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
        body = {"value": self.secrets[name], "id": f"{self.server.url_for('/')}secrets/{name}/v1", "attributes": {}}
        return Response(json.dumps(body), status=200, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"error": {"code": code, "message": message}}), status=status,
                    content_type="application/json")  # fmt: skip


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken(TOKEN, 4_102_444_800)


@pytest.fixture
def vault_server(tmp_path: Path) -> Iterator[HTTPServer]:
    server = HTTPServer(host="localhost", ssl_context=self_signed(tmp_path))
    server.start()
    yield server
    server.clear()
    server.stop()


def factory(credential: FakeCredential) -> Any:
    def make(url: str) -> SecretClient:
        return SecretClient(url, credential, connection_verify=False, verify_challenge_resource=False)  # type: ignore[arg-type]

    return make


def settings_for(server: HTTPServer, **env: Any) -> Settings:
    return Settings(azure={"key_vault_url": server.url_for("/").rstrip("/")}, **env)


def test_unset_secrets_come_from_the_vault_and_set_ones_win(vault_server: HTTPServer) -> None:
    vault = FakeVault(vault_server, SECRETS)
    credential = FakeCredential()
    settings = settings_for(vault_server, api={"log_store_dsn": "postgresql://from-env/fda"})
    filled = apply_vault_secrets(settings, factory(credential))
    assert filled == ["lm.api_key"]
    assert settings.lm.api_key is not None and settings.lm.api_key.get_secret_value() == "lm-key-from-vault"
    assert settings.api.log_store_dsn is not None
    assert settings.api.log_store_dsn.get_secret_value() == "postgresql://from-env/fda"  # the environment won
    assert "fda-postgres-dsn" not in vault.reads  # not even read
    assert set(vault.reads) == {"fda-lm-api-key", "fda-search-api-key", "fda-appinsights-connection-string"}
    assert credential.scopes == ["https://vault.azure.net/.default"]
    assert settings.azure.search.api_key is None  # the vault holds none: left unset


def test_a_vault_that_refuses_the_identity_stops_with_the_role_to_grant(vault_server: HTTPServer) -> None:
    FakeVault(vault_server, SECRETS, forbidden=True)
    with pytest.raises(ConfigError, match="HTTP 403") as raised:
        apply_vault_secrets(settings_for(vault_server), factory(FakeCredential()))
    assert "Key Vault Secrets User" in (raised.value.hint or "")


def test_values_are_never_logged(vault_server: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    FakeVault(vault_server, SECRETS)
    caplog.set_level("DEBUG")
    apply_vault_secrets(settings_for(vault_server), factory(FakeCredential()))
    assert "lm.api_key" in caplog.text
    assert not any(value in caplog.text for value in SECRETS.values())


def test_only_secret_settings_may_be_mapped(vault_server: HTTPServer) -> None:
    settings = Settings(azure={"key_vault_url": "https://kv.vault.azure.net", "secrets": {"lm.model": "x"}})
    with pytest.raises(ConfigError, match="not secrets"):
        apply_vault_secrets(settings, factory(FakeCredential()))


def test_without_a_vault_nothing_is_read() -> None:
    def never(url: str) -> Any:
        raise AssertionError("no vault configured, none may be opened")

    assert apply_vault_secrets(Settings(), never) == []
