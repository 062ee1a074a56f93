"""Settings of the ServiceNow emulator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["DEFAULT_LOGINS", "INTEGRATION_PASSWORD", "INTEGRATION_USER", "EmulatorConfig", "utc_now"]

INTEGRATION_USER = "golive.integration"
INTEGRATION_PASSWORD = "golive-dev-password"
DEFAULT_LOGINS: Mapping[str, str] = {"admin": "admin", INTEGRATION_USER: INTEGRATION_PASSWORD}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EmulatorConfig:
    """What the emulated instance looks like.

    ``logins`` are the basic-auth accounts (user name -> password); each also gets a ``sys_user``
    row. ``admin`` is a person (an engineer); ``golive.integration`` is the account the bot signs in
    with. ``engineers`` are ``(user_name, display name, email)`` seeded as ``sys_user`` rows and
    offered on the queue page. ``state_dir=None`` keeps everything in memory; otherwise the records
    live in ``{state_dir}/servicenow.db`` (the directory is created when missing). ``clock`` stamps
    ``sys_created_on`` and friends (aware UTC). ``public_base_url`` is used for record links and
    ``Location`` headers; empty means "the scheme and host the request came to".
    """

    logins: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LOGINS))
    tier2_group: str = "Scheduling Support"
    product_group: str = "eCheck-in Vet Facing Apps"
    extra_groups: tuple[str, ...] = ()
    engineers: tuple[tuple[str, str, str], ...] = ()
    state_dir: Path | str | None = None
    clock: Callable[[], datetime] = utc_now
    public_base_url: str = ""
    integration_user: str = INTEGRATION_USER

    @property
    def groups(self) -> tuple[str, ...]:
        seen: list[str] = []
        for name in (self.tier2_group, self.product_group, *self.extra_groups):
            if name and name not in seen:
                seen.append(name)
        return tuple(seen)

    @property
    def database_path(self) -> Path | None:
        return None if self.state_dir is None else Path(self.state_dir) / "servicenow.db"
