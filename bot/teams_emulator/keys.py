"""Typed application keys shared by the emulator's route modules."""

from aiohttp import web

from bot.teams_emulator.service import TeamsEmulator

EMULATOR = web.AppKey("teams_emulator", TeamsEmulator)
