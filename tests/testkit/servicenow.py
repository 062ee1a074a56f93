"""Helpers shared by the ServiceNow tests (a uniquely named module: test dirs have no __init__)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulators.servicenow.api import FAULTS_KEY, STORE_KEY
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER

__all__ = ["ADMIN_AUTH", "ENGINEERS", "INTEGRATION_AUTH", "JSON", "PEOPLE", "Emulator", "self_signed_cert"]

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
