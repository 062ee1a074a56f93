"""Fixtures for the ServiceNow emulator tests: the emulator on loopback and raw HTTP to it
(defined once in testkit.servicenow, shared with the gateway tests in tests/servicenow)."""

from __future__ import annotations

from testkit.servicenow import emulator, http

__all__ = ["emulator", "http"]
