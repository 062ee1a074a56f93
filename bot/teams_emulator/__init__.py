"""A local stand-in for Microsoft Teams: Bot Connector, Graph, a driver API and a console page.

It never imports botbuilder: it is Microsoft's side of the wire. See DESIGN.md section 4.
"""

from bot.teams_emulator.app import create_teams_emulator, run_teams_emulator
from bot.teams_emulator.config import Person, TeamsEmulatorConfig, Throttle
from bot.teams_emulator.keys import EMULATOR
from bot.teams_emulator.service import BOT_UNREACHABLE, TeamsEmulator

__all__ = [
    "BOT_UNREACHABLE",
    "EMULATOR",
    "Person",
    "TeamsEmulator",
    "TeamsEmulatorConfig",
    "Throttle",
    "create_teams_emulator",
    "run_teams_emulator",
]
