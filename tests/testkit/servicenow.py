"""Helpers shared by the ServiceNow emulator tests (tests/emulators_servicenow) and the gateway
tests that run against it (tests/servicenow): the emulator on loopback, raw HTTP to it, its faults.

The fixtures ``emulator`` and ``http`` are defined here once; each folder's conftest.py imports them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulators.servicenow import EmulatorConfig, create_servicenow_emulator
from emulators.servicenow.api import FAULTS_KEY, STORE_KEY
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER

__all__ = [
    "ADMIN_AUTH",
    "ENGINEERS",
    "INTEGRATION_AUTH",
    "JSON",
    "PEOPLE",
    "Emulator",
    "emulator",
    "http",
    "self_signed_cert",
    "set_faults",
]

ENGINEERS = (("jdoe", "Jane Doe", "jane.doe@example.com"), ("rroe", "Rick Roe", "rick.roe@example.com"))
# Everyone else the Teams and Slack emulators would know, in the shapes the sandbox may pass.
PEOPLE = (
    {"name": "Pat Frontdesk", "email": "pat.frontdesk@example.va.gov", "role": "site-staff"},
    {"user_name": "sclerk", "name": "Sam Clerk", "email": "Sam.Clerk@example.va.gov", "role": "site-staff"},
    {"name": "Morgan Manager", "email": "morgan.manager@example.va.gov", "role": "manager"},
)
INTEGRATION_AUTH = {"Authorization": aiohttp.encode_basic_auth(INTEGRATION_USER, INTEGRATION_PASSWORD)}
ADMIN_AUTH = {"Authorization": aiohttp.encode_basic_auth("admin", "admin")}
JSON = {"Accept": "application/json"}


class Emulator:
    """A running emulator plus helpers to reach into it."""

    def __init__(self, server: TestServer):
        self.server = server
        self.app = server.app
        self.base_url = str(server.make_url("")).rstrip("/")

    @property
    def store(self) -> Any:
        return self.app[STORE_KEY]

    @property
    def faults(self) -> Any:
        return self.app[FAULTS_KEY]

    def incidents(self) -> list[dict[str, str]]:
        return self.store.rows("incident")


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files (pysnc only talks https)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "emulator.pem", directory / "emulator.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
async def emulator(aiohttp_server: Callable[..., Any]) -> Emulator:
    app = create_servicenow_emulator(EmulatorConfig(engineers=ENGINEERS, people=PEOPLE))
    return Emulator(await aiohttp_server(app))


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP session to the emulator, signed in as the integration user."""
    async with aiohttp.ClientSession(
        base_url=emulator.base_url, headers={**INTEGRATION_AUTH, **JSON}
    ) as session:
        yield session


async def set_faults(emulator: Emulator, body: dict[str, Any] | None) -> dict[str, Any]:
    """Merge ``body`` into the emulator's faults (None clears them); returns the faults now set."""
    async with aiohttp.ClientSession() as session:
        if body is None:
            async with session.delete(f"{emulator.base_url}/_emulator/faults") as response:
                assert response.status == 200
                return await response.json()
        async with session.post(f"{emulator.base_url}/_emulator/faults", json=body) as response:
            assert response.status == 200
            return await response.json()
