"""Settings of the ServiceNow emulator, and the people it seeds as ``sys_user`` rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LOGINS",
    "INTEGRATION_PASSWORD",
    "INTEGRATION_USER",
    "EmulatorConfig",
    "ServiceNowPerson",
    "person_from",
    "utc_now",
]

INTEGRATION_USER = "golive.integration"
INTEGRATION_PASSWORD = "golive-dev-password"
DEFAULT_LOGINS: Mapping[str, str] = {"admin": "admin", INTEGRATION_USER: INTEGRATION_PASSWORD}
# Roles (as the Teams and Slack emulators name them) whose people may act on the queue page.
ACTING_ROLES = frozenset({"engineer", "manager"})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceNowPerson:
    """One ``sys_user`` to seed: login name, display name, e-mail and (optionally) a role."""

    user_name: str
    name: str
    email: str = ""
    role: str = ""


def _user_name_for(name: str, email: str) -> str:
    # The product finds callers by e-mail, else by the part of the UPN before "@": seed the same.
    if email:
        return email.partition("@")[0]
    return re.sub(r"\s+", ".", name.strip().lower())


def person_from(value: Any) -> ServiceNowPerson:
    """A person given as a :class:`ServiceNowPerson`, a ``(user_name, name, email)`` tuple, a
    mapping with ``name`` and optional ``user_name``/``email``/``role``, or any object with ``name``
    and ``email`` attributes (the Teams emulator's ``Person``, say). A missing user name is the
    e-mail's local part, else the name in lower case with dots for spaces."""
    if isinstance(value, ServiceNowPerson):
        person = value
    elif isinstance(value, tuple | list) and len(value) in (3, 4):
        person = ServiceNowPerson(*(str(part) for part in value))
    elif isinstance(value, Mapping):
        name = str(value.get("name") or "")
        email = str(value.get("email") or "")
        user_name = str(value.get("user_name") or _user_name_for(name, email))
        person = ServiceNowPerson(user_name, name, email, str(value.get("role") or ""))
    elif hasattr(value, "name") and hasattr(value, "email"):
        name, email = str(value.name or ""), str(value.email or "")
        user_name = str(getattr(value, "user_name", "") or _user_name_for(name, email))
        person = ServiceNowPerson(user_name, name, email, str(getattr(value, "role", "") or ""))
    else:
        raise ValueError("a person must be (user_name, name, email), a mapping or have name and email")
    if not person.user_name or not person.name:
        raise ValueError("a person needs a name (and a user name or an e-mail to derive one from)")
    return person


@dataclass(frozen=True)
class EmulatorConfig:
    """What the emulated instance looks like.

    ``logins`` are the basic-auth accounts (user name -> password); each also gets a ``sys_user``
    row. ``admin`` is a person (an engineer); ``golive.integration`` is the account the bot signs in
    with. ``engineers`` are ``(user_name, display name, email)`` seeded as ``sys_user`` rows and
    offered on the queue page. ``people`` are everyone else the instance should know (site staff,
    engineers, managers: whoever the Teams and Slack emulators know), each in any form
    :func:`person_from` reads; each becomes a ``sys_user`` with its e-mail, and those with the role
    ``engineer`` or ``manager`` may also act on the queue page. ``state_dir=None`` keeps everything
    in memory; otherwise the records live in ``{state_dir}/servicenow.db`` (the directory is created
    when missing). ``clock`` stamps ``sys_created_on`` and friends (aware UTC). ``public_base_url``
    is used for record links and ``Location`` headers; empty means "the scheme and host the request
    came to". ``batch_max_requests`` caps how many requests one Batch API call services (0: no
    cap); the rest come back in ``unserviced_requests``, as when a real instance hits its limits.
    """

    logins: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LOGINS))
    tier2_group: str = "Scheduling Support"
    product_group: str = "eCheck-in Vet Facing Apps"
    extra_groups: tuple[str, ...] = ()
    engineers: tuple[tuple[str, str, str], ...] = ()
    people: Iterable[Any] = ()
    state_dir: Path | str | None = None
    clock: Callable[[], datetime] = utc_now
    public_base_url: str = ""
    integration_user: str = INTEGRATION_USER
    batch_max_requests: int = 0

    def __post_init__(self) -> None:
        # Read once (people may come as a generator) and fail at start-up, not at first request.
        object.__setattr__(self, "people", tuple(person_from(p) for p in self.people))
        if self.batch_max_requests < 0:
            raise ValueError("batch_max_requests must be 0 (no cap) or more")

    @property
    def groups(self) -> tuple[str, ...]:
        seen: list[str] = []
        for name in (self.tier2_group, self.product_group, *self.extra_groups):
            if name and name not in seen:
                seen.append(name)
        return tuple(seen)

    @property
    def seeded_people(self) -> tuple[ServiceNowPerson, ...]:
        """Engineers and people as one list, first mention of a user name first."""
        seen: dict[str, ServiceNowPerson] = {}
        for person in (*(person_from(e) for e in self.engineers), *self.people):
            if person.user_name == self.integration_user:
                continue
            seen.setdefault(person.user_name, person)
        return tuple(seen.values())

    @property
    def acting_user_names(self) -> tuple[str, ...]:
        """Who may act on the queue page: human logins, engineers, and people who are engineers or
        managers."""
        names = [login for login in self.logins if login != self.integration_user]
        for user_name, _, _ in self.engineers:
            names.append(user_name)
        for person in self.people:
            if isinstance(person, ServiceNowPerson) and person.role in ACTING_ROLES:
                names.append(person.user_name)
        return tuple(dict.fromkeys(names))

    @property
    def database_path(self) -> Path | None:
        return None if self.state_dir is None else Path(self.state_dir) / "servicenow.db"
