"""A local stand-in for Slack: the Web API, signed event/interactivity/slash deliveries, a driver
API and a console page, all on one port. See docs/CONTRACTS.md section 8 ("Slack").

It imports nothing of the product; it is Slack's side of the wire.
"""

from emulators.slack.app import create_slack_emulator, run_slack_emulator
from emulators.slack.config import (
    DEV_BOT_TOKEN,
    DEV_SIGNING_SECRET,
    Person,
    SlackEmulatorConfig,
    sample_people,
)
from emulators.slack.delivery import BOT_TIMEOUT, BOT_UNREACHABLE
from emulators.slack.keys import EMULATOR
from emulators.slack.service import SlackEmulator
from emulators.slack.signing import signature, signed_headers

__all__ = [
    "BOT_TIMEOUT",
    "BOT_UNREACHABLE",
    "DEV_BOT_TOKEN",
    "DEV_SIGNING_SECRET",
    "EMULATOR",
    "Person",
    "SlackEmulator",
    "SlackEmulatorConfig",
    "create_slack_emulator",
    "run_slack_emulator",
    "sample_people",
    "signature",
    "signed_headers",
]
