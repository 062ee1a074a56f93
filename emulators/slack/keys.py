"""Typed application keys shared by the emulator's route modules."""

from aiohttp import web

from emulators.slack.service import SlackEmulator

EMULATOR = web.AppKey("slack_emulator", SlackEmulator)
