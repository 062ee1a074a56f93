"""Configuration of the Slack emulator: the emulated workspace, its app, people, channels and clocks.

Two clocks on purpose: `now()` stamps message `ts` values and `event_time` (the sandbox passes its
simulated clock), while request signatures always carry the wall clock, as the product checks its
300 s window against the wall clock whatever the simulated time says.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Role = Literal["site-staff", "engineer", "manager"]

# Development defaults for `golive emulate slack` when GOLIVE_SLACK_* are unset; never real secrets.
DEV_SIGNING_SECRET = "golive-dev-signing-secret"
DEV_BOT_TOKEN = "xoxb-golive-dev-token"
DEFAULT_CHANNELS = ("check-in-go-live", "check-in-experience-apm")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def slack_id(prefix: str, seed: str, length: int = 10) -> str:
    """A stable Slack-looking id ("U", "C", "B" ... + uppercase base32) derived from `seed`."""
    digest = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode()
    return prefix + digest[: length - 1].replace("=", "0")


@dataclass(frozen=True)
class Person:
    """Someone in the emulated workspace. `user_id` defaults to a stable id derived from the email."""

    name: str
    email: str
    role: Role = "site-staff"
    user_id: str = ""
    tz: str = "America/New_York"

    def __post_init__(self) -> None:
        if not self.user_id:
            object.__setattr__(self, "user_id", slack_id("U", "person:" + self.email.casefold()))

    @property
    def handle(self) -> str:
        """The Slack `name` (username): the local part of the email."""
        return self.email.split("@", 1)[0] or self.user_id.lower()


def sample_people() -> tuple[Person, ...]:
    """The Teams emulator's sample people, with the emails the Teams emulator reports for them."""
    return (
        Person("Pat Frontdesk", "pat.frontdesk@example.org", "site-staff"),
        Person("Sam Clerk", "sam.clerk@example.org", "site-staff"),
        Person("Alex Engineer", "alex.engineer@example.org", "engineer"),
        Person("Morgan Manager", "morgan.manager@example.org", "manager"),
    )


@dataclass(frozen=True)
class SlackEmulatorConfig:
    """Everything the emulator needs; every field has a loopback-friendly default.

    - `bot_url`: where events, interactivity and slash commands are POSTed (one endpoint, as Bolt
      apps use; nothing needs to listen there yet).
    - `public_url`: the emulator's own base URL, used in `response_url`s and permalinks.
    - `signing_secret`: signs every delivery (v0); `bot_token`: the only accepted Web API token.
    - `channels`: names of the public channels that exist at start (ids derived from the names).
    - `bot_is_member`: the bot starts as a member of those channels (as when someone invited it);
      False makes the bot call `conversations.join` first (posting answers `not_in_channel`, and
      Slack delivers no events from channels the bot is not in).
    - `echo_bot_messages`: deliver the bot's own posts and edits back to it as Slack does (with
      `bot_id` and `bot_profile`, no subtype), so self-filtering is exercised.
    - `ack_timeout_s`: Slack's 3 s: a delivery not answered in time counts as failed.
    - `retry_delays_s`: automatic redeliveries of a failed event (Slack: about 0, 60, 300 s);
      empty = none (redeliver by hand with `POST /_emulator/redeliver`).
    - `duty_for(email, now)`: "primary" | "backup" | ... | None, shown by `/_emulator/people`
      (by email, the key people share across the Teams and Slack emulators and ServiceNow).
    - `now()`: the simulated clock for `ts` and `event_time`; signatures use the wall clock.
    - `state_dir`: when set, channels and messages survive a restart.
    """

    bot_url: str = "http://127.0.0.1:3978/slack/events"
    public_url: str = "http://127.0.0.1:3981/"
    signing_secret: str = DEV_SIGNING_SECRET
    bot_token: str = DEV_BOT_TOKEN
    verification_token: str = "golive0verification0token"
    team_id: str = "T0GOLIVE01"
    team_name: str = "DSVA"
    team_domain: str = "dsva-golive"
    app_id: str = "A0GOLIVE01"
    bot_id: str = "B0GOLIVE01"
    bot_user_id: str = "U0GOLIVEBT"
    bot_name: str = "golive"
    slash_command: str = "/golive"
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    people: tuple[Person, ...] = field(default_factory=sample_people)
    bot_is_member: bool = True
    echo_bot_messages: bool = True
    ack_timeout_s: float = 3.0
    retry_delays_s: tuple[float, ...] = ()
    duty_for: Callable[[str, datetime], str | None] | None = None
    now: Callable[[], datetime] = _utc_now
    state_dir: Path | str | None = None

    @property
    def base_url(self) -> str:
        return self.public_url if self.public_url.endswith("/") else self.public_url + "/"

    def channel_id(self, name: str) -> str:
        """The stable id of a seeded channel (so a restarted emulator keeps the ids the bot saw)."""
        return slack_id("C", f"{self.team_id}:channel:{name}")
