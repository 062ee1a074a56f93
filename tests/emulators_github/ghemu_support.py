"""Helpers for the GitHub emulator tests (a uniquely named module: test dirs have no __init__)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulators.github import BOT_LOGIN, GitHubEmulatorConfig, GitHubUser, sample_users

__all__ = [
    "AUTH",
    "FIXTURES",
    "NOW",
    "OUTSIDER_AUTH",
    "OUTSIDER_TOKEN",
    "REPO",
    "TOKEN",
    "emulator_config",
    "new_issue",
    "recorded",
    "shape_mismatches",
]

TOKEN = "ghp_test0000000000000000000000000000000"
OUTSIDER_TOKEN = "ghp_outsider00000000000000000000000000"
AUTH = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
OUTSIDER_AUTH = {"Authorization": f"token {OUTSIDER_TOKEN}"}
REPO = "golive-bridge/go-live-followups"
NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"


def emulator_config(**overrides: Any) -> GitHubEmulatorConfig:
    """The sample GitHub plus an "outsider" account, on the fixed clock; keywords override."""
    settings: dict[str, Any] = {
        "tokens": {TOKEN: BOT_LOGIN, OUTSIDER_TOKEN: "outsider"},
        "users": (*sample_users(), GitHubUser("outsider", "Out Sider")),
        "now": lambda: NOW,
    }
    settings.update(overrides)
    return GitHubEmulatorConfig(**settings)


async def new_issue(client: Any, **fields: Any) -> dict[str, Any]:
    """Create an issue in REPO as the bot and return GitHub's answer (asserting the 201)."""
    resp = await client.post(f"/repos/{REPO}/issues", json={"title": "Follow-up", **fields}, headers=AUTH)
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


def recorded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_mismatches(recorded_value: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` lacks the structure of the recorded answer: every recorded key must be
    there; lists compare their first items; null on either side matches anything (nullable)."""
    if recorded_value is None or actual is None:
        return []
    if isinstance(recorded_value, dict):
        if not isinstance(actual, dict):
            return [f"{path}: object expected, got {_kind(actual)}"]
        problems = [f"{path}.{key}: missing" for key in recorded_value if key not in actual]
        for key, value in recorded_value.items():
            if key in actual:
                problems += shape_mismatches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(recorded_value, list):
        if not isinstance(actual, list):
            return [f"{path}: array expected, got {_kind(actual)}"]
        if recorded_value and actual:
            return shape_mismatches(recorded_value[0], actual[0], f"{path}[0]")
        return []
    if _kind(recorded_value) != _kind(actual):
        return [f"{path}: {_kind(recorded_value)} expected, got {_kind(actual)}"]
    return []
