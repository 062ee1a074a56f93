"""Fixtures for the Teams emulator tests: a fake bot and the emulator wired to it on loopback
(defined once in testkit.teams_emulator, shared with the Graph client tests in tests/teams)."""

from __future__ import annotations

from testkit.teams_emulator import emulator, fake_bot, make_emulator

__all__ = ["emulator", "fake_bot", "make_emulator"]
