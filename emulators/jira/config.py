"""Settings of the Jira Cloud emulator: accounts (email + API token), users, projects, clock.

The default sample is the sandbox's: a ``golive.bot@example.va.gov`` account (the credentials the
product uses), the six engineers of the sample roster as users (same names and emails), one
project ``GOLIVE`` ("Go Live follow-ups") and the issue types Task, Bug and Story.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from emulators.sample_engineers import SAMPLE_ENGINEERS

__all__ = [
    "BOT_EMAIL",
    "DEFAULT_API_TOKEN",
    "DEFAULT_PROJECT",
    "JiraEmulatorConfig",
    "JiraIssueType",
    "JiraProject",
    "JiraUser",
    "account_id_for",
    "sample_projects",
    "sample_users",
]

BOT_EMAIL = "golive.bot@example.va.gov"
DEFAULT_API_TOKEN = "golive-dev-jira-token"
DEFAULT_PROJECT = "GOLIVE"
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")


def utc_now() -> datetime:
    return datetime.now(UTC)


def account_id_for(email: str) -> str:
    """A stable Atlassian-style account id (``712020:`` + a uuid-like hex) for a sample email."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    return f"712020:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


@dataclass(frozen=True)
class JiraUser:
    account_id: str
    display_name: str
    email: str
    time_zone: str = "UTC"


@dataclass(frozen=True)
class JiraProject:
    key: str
    name: str
    id: str


@dataclass(frozen=True)
class JiraIssueType:
    id: str
    name: str
    description: str = ""
    subtask: bool = False


def sample_users() -> tuple[JiraUser, ...]:
    bot = JiraUser(account_id_for(BOT_EMAIL), "Go Live Bridge", BOT_EMAIL, "UTC")
    return (bot, *(JiraUser(account_id_for(e.email), e.name, e.email, e.time_zone) for e in SAMPLE_ENGINEERS))


def sample_projects(key: str = DEFAULT_PROJECT) -> tuple[JiraProject, ...]:
    return (JiraProject(key, "Go Live follow-ups", "10000"),)


def _sample_issue_types() -> tuple[JiraIssueType, ...]:
    return (
        JiraIssueType("10001", "Task", "A small, distinct piece of work."),
        JiraIssueType("10002", "Bug", "A problem or error."),
        JiraIssueType("10003", "Story", "Functionality or a feature expressed as a user goal."),
    )


@dataclass(frozen=True)
class JiraEmulatorConfig:
    """Everything the emulator needs; every field has a loopback-friendly default.

    - ``accounts``: email -> API token (HTTP basic auth ``email:token``); each email needs a user.
    - ``now()``: stamps ``created``/``updated`` (the sandbox passes its simulated clock).
    - ``public_base_url``: the site URL used in ``self`` links; empty = the host the call came to.
      The emulator serves a plain page for each issue at ``/browse/{key}``.
    - ``state_dir``: when set, issues survive a restart (``{state_dir}/jira.json``).
    """

    accounts: Mapping[str, str] = field(default_factory=lambda: {BOT_EMAIL: DEFAULT_API_TOKEN})
    users: tuple[JiraUser, ...] = field(default_factory=sample_users)
    projects: tuple[JiraProject, ...] = field(default_factory=sample_projects)
    issue_types: tuple[JiraIssueType, ...] = field(default_factory=_sample_issue_types)
    now: Callable[[], datetime] = utc_now
    public_base_url: str = ""
    state_dir: Path | str | None = None

    def check(self) -> None:
        emails = {u.email.lower() for u in self.users}
        if {e.lower() for e in self.accounts} - emails:
            raise ValueError("every account email needs a user")
        if len({u.account_id for u in self.users}) != len(self.users):
            raise ValueError("duplicate account id")
        keys = [p.key.upper() for p in self.projects]
        if len(keys) != len(set(keys)) or not all(k.isalnum() and k[:1].isalpha() for k in keys):
            raise ValueError("project keys must be unique, start with a letter and be letters or digits")
