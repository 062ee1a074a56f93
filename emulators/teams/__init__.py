"""A local stand-in for Microsoft Teams: Bot Connector, Graph, a driver API and a console page.

It never imports botbuilder: it is Microsoft's side of the wire. See docs/CONTRACTS.md section 8.
"""

from emulators.teams.app import create_teams_emulator, run_teams_emulator
from emulators.teams.config import Person, TeamsEmulatorConfig, Throttle
from emulators.teams.keys import EMULATOR
from emulators.teams.service import BOT_UNREACHABLE, TeamsEmulator

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
