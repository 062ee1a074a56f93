"""Settings of the GitHub emulator: its users, tokens, repositories and clock.

The default sample is the sandbox's: a ``golive-bot`` account (the token the product uses), the
six engineers of the sample roster as users (login ``jane-doe`` and so on, same names and emails),
and one private repository ``golive-bridge/go-live-followups`` where all of them are collaborators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from emulators.sample_engineers import SAMPLE_ENGINEERS

__all__ = [
    "BOT_LOGIN",
    "DEFAULT_REPO",
    "DEFAULT_TOKEN",
    "GitHubEmulatorConfig",
    "GitHubRepo",
    "GitHubUser",
    "sample_repos",
    "sample_users",
]

BOT_LOGIN = "golive-bot"
DEFAULT_TOKEN = "ghp_GoLiveDevelopmentToken000000000000000"
DEFAULT_REPO = "golive-bridge/go-live-followups"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GitHubUser:
    login: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class GitHubRepo:
    """``collaborators`` have push access: they may set labels and assignees, and only they can
    be assigned. A private repository is invisible (404) to everyone else."""

    owner: str
    name: str
    collaborators: tuple[str, ...] = ()
    private: bool = True
    description: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def sample_users() -> tuple[GitHubUser, ...]:
    bot = GitHubUser(BOT_LOGIN, "Go Live Bridge", "")
    return (bot, *(GitHubUser(e.handle, e.name, e.email) for e in SAMPLE_ENGINEERS))


def sample_repos(full_name: str = DEFAULT_REPO) -> tuple[GitHubRepo, ...]:
    owner, _, name = full_name.partition("/")
    members = (BOT_LOGIN, *(e.handle for e in SAMPLE_ENGINEERS))
    return (GitHubRepo(owner, name, members, True, "Follow-up issues from go-live incidents"),)


@dataclass(frozen=True)
class GitHubEmulatorConfig:
    """Everything the emulator needs; every field has a loopback-friendly default.

    - ``tokens``: token -> login (``Authorization: Bearer <token>`` or ``token <token>``).
    - ``users``/``repos``: the accounts and repositories that exist (owners need not be users).
    - ``now()``: stamps ``created_at`` and friends (the sandbox passes its simulated clock).
      Rate-limit windows use the real clock, as clients wait in real time.
    - ``public_api_url``: base of ``url`` links; empty = the scheme and host the call came to.
    - ``html_base_url``: base of ``html_url`` links; empty = the emulator itself, which serves a
      plain page for each issue at ``/{owner}/{repo}/issues/{number}``.
    - ``state_dir``: when set, issues survive a restart (``{state_dir}/github.json``).
    - ``core_limit``/``search_limit``: requests per hour (core) and per minute (search) per user.
    """

    tokens: Mapping[str, str] = field(default_factory=lambda: {DEFAULT_TOKEN: BOT_LOGIN})
    users: tuple[GitHubUser, ...] = field(default_factory=sample_users)
    repos: tuple[GitHubRepo, ...] = field(default_factory=sample_repos)
    now: Callable[[], datetime] = utc_now
    public_api_url: str = ""
    html_base_url: str = ""
    state_dir: Path | str | None = None
    core_limit: int = 5000
    search_limit: int = 30

    def check(self) -> None:
        logins = {u.login for u in self.users}
        if len(logins) != len(self.users):
            raise ValueError("duplicate user login")
        if set(self.tokens.values()) - logins:
            raise ValueError("every token must belong to a known user")
        names = [r.full_name.lower() for r in self.repos]
        if len(names) != len(set(names)):
            raise ValueError("duplicate repository")
        for repo in self.repos:
            if not repo.owner or not repo.name or set(repo.collaborators) - logins:
                raise ValueError(f"repository {repo.full_name}: owner, name and known collaborators needed")
