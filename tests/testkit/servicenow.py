"""Helpers shared by the ServiceNow tests (a uniquely named module: test dirs have no __init__)."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from emulators.servicenow.api import FAULTS_KEY, STORE_KEY
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER

__all__ = ["ADMIN_AUTH", "ENGINEERS", "INTEGRATION_AUTH", "JSON", "Emulator"]

ENGINEERS = (("jdoe", "Jane Doe", "jane.doe@example.com"), ("rroe", "Rick Roe", "rick.roe@example.com"))
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
