"""Typed application keys shared by the emulator's route modules."""

from aiohttp import web

from emulators.teams.service import TeamsEmulator

EMULATOR = web.AppKey("teams_emulator", TeamsEmulator)
