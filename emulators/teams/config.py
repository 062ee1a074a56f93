"""Configuration of the Teams emulator: the emulated tenant, its people and its clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Role = Literal["site-staff", "engineer", "manager"]

# Stable defaults so a restarted emulator keeps the ids the bot was configured with (GOLIVE_TEAM_ID).
DEFAULT_TEAM_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "golive-bridge/teams-emulator/team"))
DEFAULT_TENANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "golive-bridge/teams-emulator/tenant"))
# Used as the bot's "28:" id when the bot runs without an app id (anonymous development mode).
ANONYMOUS_BOT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "golive-bridge/teams-emulator/bot"))


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Person:
    """Someone in the emulated tenant who can post in the console or through the driver API."""

    name: str
    aad_object_id: str
    role: Role = "site-staff"
    email: str = ""


@dataclass(frozen=True)
class Throttle:
    """Answer the next `count` calls with 429 and `Retry-After: retry_after` (count < 0: until cleared)."""

    count: int = 1
    retry_after: float = 1.0


def sample_people() -> tuple[Person, ...]:
    return (
        Person("Pat Frontdesk", "a1b2c3d4-0000-4000-8000-000000000001", "site-staff"),
        Person("Sam Clerk", "a1b2c3d4-0000-4000-8000-000000000002", "site-staff"),
        Person("Alex Engineer", "a1b2c3d4-0000-4000-8000-000000000003", "engineer"),
        Person("Morgan Manager", "a1b2c3d4-0000-4000-8000-000000000004", "manager"),
    )


@dataclass(frozen=True)
class TeamsEmulatorConfig:
    """Everything the emulator needs; all fields have loopback-friendly defaults.

    - `bot_url`: the bot's `/api/messages` URL (nothing needs to listen there yet).
    - `public_url`: the emulator's own base URL; it is the `serviceUrl` of every activity.
    - `bot_app_id`: None/"" = anonymous (no Authorization header to the bot, none required from it);
      set = every delivery carries a channel JWT signed by the emulator's key, and the connector and
      Graph require a non-empty bearer token.
    - `duty_for(aad_object_id, now)`: "primary" | "backup" | ... | None, shown by `/_emulator/people`.
    - `now()`: the clock activities are stamped with (the sandbox passes its simulated clock).
    - `state_dir`: when set, channels, posts and the signing key survive a restart.
    - `graph_operation_polls`: how many GETs of an archive operation answer `inProgress` first.
    - `tab_sso_resource`: the app's API (the manifest's `webApplicationInfo.resource`), the `aud` of
      the tab sign-in tokens the emulated Teams JS SDK hands out (see `emulators.teams.tab_sso`).
    - `channels`: standard channels the team has besides General (created at start when missing),
      e.g. the sandbox's "Go Live Management" channel.
    """

    bot_url: str = "http://127.0.0.1:3978/api/messages"
    public_url: str = "http://127.0.0.1:3980/"
    team_name: str = "Go Live"
    team_id: str = DEFAULT_TEAM_ID
    tenant_id: str = DEFAULT_TENANT_ID
    bot_app_id: str | None = None
    bot_name: str = "Go Live Bridge"
    people: tuple[Person, ...] = field(default_factory=sample_people)
    duty_for: Callable[[str, datetime], str | None] | None = None
    now: Callable[[], datetime] = _utc_now
    state_dir: Path | str | None = None
    connector_throttle: Throttle | None = None
    graph_throttle: Throttle | None = None
    graph_operation_polls: int = 0
    delivery_timeout_s: float = 15.0
    go_live_prefix: str = "Go Live - "
    tab_sso_resource: str = f"api://localhost/{ANONYMOUS_BOT_ID}"
    channels: tuple[str, ...] = ()

    @property
    def service_url(self) -> str:
        return self.public_url if self.public_url.endswith("/") else self.public_url + "/"

    @property
    def bot_id(self) -> str:
        """The bot's channel account id, "28:<app id>"."""
        return "28:" + (self.bot_app_id or ANONYMOUS_BOT_ID)

    @property
    def anonymous(self) -> bool:
        return not self.bot_app_id
