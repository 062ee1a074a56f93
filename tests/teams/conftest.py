"""Fixtures for the Teams adapter tests that run against the Teams emulator (defined once in
testkit.teams_emulator, shared with tests/emulators_teams)."""

from __future__ import annotations

from testkit.teams_emulator import emulator, fake_bot, make_emulator

__all__ = ["emulator", "fake_bot", "make_emulator"]
