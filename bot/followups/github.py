"""Follow-ups as GitHub issues: the ``FollowUpTracker`` port over the REST API (aiohttp directly).

What it sends and reads (https://docs.github.com/rest/issues/issues):

- ``Authorization: Bearer <GOLIVE_GITHUB_TOKEN>``, ``Accept: application/vnd.github+json``,
  ``X-GitHub-Api-Version: 2022-11-28``;
- create: ``POST /repos/{owner}/{repo}/issues`` ``{title, body, labels, assignees}`` -> 201. An
  assignee GitHub refuses (422 on ``assignees``: not a collaborator) is dropped and the create is
  sent again without it: an unassigned issue beats none;
- find: the repository's newest issues first (``GET .../issues?state=all&sort=created``: a listing
  sees an issue at once, where search can lag behind a create), then ``GET /search/issues`` with
  ``repo:owner/name in:body "<marker>"`` for older ones; either way the marker must be a whole line
  of the body;
- get: ``GET /repos/{owner}/{repo}/issues/{number}`` (``key`` is ``#number``).

Errors (the ports'), naming the setting at fault::

    Permanent   401 "GOLIVE_GITHUB_TOKEN was refused (401): Bad credentials"; 403 without a rate
                limit (the token may not write to GOLIVE_GITHUB_REPO); 404 (GOLIVE_GITHUB_REPO not
                found or not visible); 410 (issues disabled); 422 (the fields GitHub refused)
    Transient   403/429 rate limits: ``retry-after`` seconds, else until ``x-ratelimit-reset``
                (primary limit: ``x-ratelimit-remaining: 0``), else 60 s for a "secondary rate
                limit"; 5xx; unreachable or timed out
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.followups.body import carries_marker
from bot.ports import FollowUp, FollowUpRequest, Permanent, PortError, Transient
from bot.restapi import ApiAnswer, RestApi

__all__ = ["GitHubConfig", "GitHubFollowUps", "rate_limit_delay"]

API_VERSION = "2022-11-28"
TOKEN_SETTING = "GOLIVE_GITHUB_TOKEN"
REPO_SETTING = "GOLIVE_GITHUB_REPO"
URL_SETTING = "GOLIVE_GITHUB_API_URL"
SECONDARY_WAIT_S = 60.0
MAX_WAIT_S = 3600.0
NEWEST_PAGE = 100


@dataclass(frozen=True)
class GitHubConfig:
    api_url: str
    token: str = field(repr=False)
    repo: str  # owner/name
    timeout_s: float = 15.0


class GitHubFollowUps:
    """Follow-up issues in one GitHub repository."""

    def __init__(self, config: GitHubConfig, wall_clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = wall_clock
        self._api = RestApi(
            config.api_url,
            {
                "Authorization": f"Bearer {config.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "golive-bridge",
            },
            service="GitHub",
            url_setting=URL_SETTING,
            timeout_s=config.timeout_s,
        )
        self._issues = f"/repos/{config.repo}/issues"

    async def close(self) -> None:
        await self._api.close()

    async def find(self, marker: str) -> FollowUp | None:
        newest = await self._api.call(
            "GET",
            self._issues,
            params={"state": "all", "sort": "created", "direction": "desc", "per_page": str(NEWEST_PAGE)},
        )
        if not newest.ok:
            raise self._refusal(newest, "list issues")
        for issue in newest.body if isinstance(newest.body, list) else []:
            if isinstance(issue, dict) and carries_marker(issue.get("body"), marker):
                return _follow_up(issue)
        query = f'repo:{self._config.repo} in:body "{marker}"'
        found = await self._api.call("GET", "/search/issues", params={"q": query, "per_page": "20"})
        if not found.ok:
            raise self._refusal(found, "search issues")
        items = found.body.get("items") if isinstance(found.body, dict) else None
        for issue in items if isinstance(items, list) else []:
            if isinstance(issue, dict) and carries_marker(issue.get("body"), marker):
                return _follow_up(issue)
        return None

    async def create(self, request: FollowUpRequest) -> FollowUp:
        payload: dict[str, Any] = {
            "title": request.title,
            "body": request.body,
            "labels": list(request.labels),
        }
        if request.assignee:
            payload["assignees"] = [request.assignee]
        answer = await self._api.call("POST", self._issues, json_body=payload)
        if answer.status == 422 and request.assignee and "assignees" in _refused_fields(answer):
            # Nothing was created; the login is not a collaborator. File it unassigned.
            del payload["assignees"]
            answer = await self._api.call("POST", self._issues, json_body=payload)
        if answer.status != 201 or not isinstance(answer.body, dict):
            raise self._refusal(answer, "create issues")
        return _follow_up(answer.body)

    async def get(self, key: str) -> FollowUp:
        number = key.lstrip("#")
        if not number.isdigit():
            raise Permanent(f"{key!r} is not a GitHub issue number")
        answer = await self._api.call("GET", f"{self._issues}/{number}")
        if answer.status == 404:
            raise Permanent(f"GitHub issue {key} is not in {self._config.repo} (404)")
        if not answer.ok or not isinstance(answer.body, dict):
            raise self._refusal(answer, "read issues")
        return _follow_up(answer.body)

    async def check(self) -> str:
        """Who the token is and whether it may file issues in the repository (``golive check``)."""
        me = await self._api.call("GET", "/user")
        if not me.ok:
            raise self._refusal(me, "read its own account")
        login = me.body.get("login") if isinstance(me.body, dict) else None
        repo = await self._api.call("GET", f"/repos/{self._config.repo}")
        if not repo.ok:
            raise self._refusal(repo, "read the repository")
        permissions = repo.body.get("permissions") if isinstance(repo.body, dict) else None
        if isinstance(permissions, dict) and not (permissions.get("push") or permissions.get("triage")):
            raise Permanent(
                f"{TOKEN_SETTING} ({login}) may read {self._config.repo} but not label or assign its "
                f"issues: give it triage or write access ({REPO_SETTING})"
            )
        return f"signed in as {login}; issues go to {self._config.repo}"

    def _refusal(self, answer: ApiAnswer, what: str) -> PortError:
        status = answer.status
        message = _message(answer)
        said = f": {message}" if message else ""
        if status in (403, 429):
            delay = rate_limit_delay(answer, self._clock())
            if delay is not None:
                return Transient(f"GitHub rate limit reached ({status})", retry_after=delay)
        if status == 401:
            return Permanent(f"{TOKEN_SETTING} was refused ({status}){said}")
        if status == 403:
            return Permanent(f"{TOKEN_SETTING} may not {what} in {self._config.repo} ({status}){said}")
        if status == 404:
            return Permanent(
                f"{REPO_SETTING} {self._config.repo} was not found, or {TOKEN_SETTING} cannot see it ({status})"
            )
        if status == 410:
            return Permanent(f"issues are disabled in {REPO_SETTING} {self._config.repo} ({status})")
        if status == 422:
            fields = _refused_fields(answer)
            hints = []
            if "labels" in fields or "name" in fields:
                hints.append("check GOLIVE_FOLLOWUP_LABELS")
            if "assignees" in fields:
                hints.append("check the roster's github_login")
            hint = f" ({'; '.join(hints)})" if hints else ""
            refused = ", ".join(sorted(fields)) or "the request"
            return Permanent(f"GitHub refused {refused} ({status}){said}{hint}")
        if status >= 500:
            return Transient(f"GitHub is unavailable ({status})")
        return Permanent(f"GitHub refused to {what} ({status}){said}")


def rate_limit_delay(answer: ApiAnswer, now: float) -> float | None:
    """How long a 403/429 says to wait, or None when it is not a rate limit (GitHub's rules:
    ``retry-after`` first, then the primary limit's reset, then 60 s for a secondary limit)."""
    retry_after = answer.header("retry-after")
    if retry_after.isdigit():
        return min(MAX_WAIT_S, float(retry_after))
    if answer.header("x-ratelimit-remaining") == "0":
        reset = answer.header("x-ratelimit-reset")
        if reset.isdigit():
            at = int(reset)
            if at > 10**11:  # milliseconds (as octokit's recordings normalise it), not GitHub's seconds
                at //= 1000
            return min(MAX_WAIT_S, max(1.0, at - now))
        return SECONDARY_WAIT_S
    if "secondary rate limit" in _message(answer).lower() or answer.status == 429:
        return SECONDARY_WAIT_S
    return None


def _message(answer: ApiAnswer) -> str:
    message = answer.body.get("message") if isinstance(answer.body, dict) else None
    return str(message)[:200] if message else ""


def _refused_fields(answer: ApiAnswer) -> set[str]:
    errors = answer.body.get("errors") if isinstance(answer.body, dict) else None
    return {
        str(error.get("field")) for error in errors or () if isinstance(error, dict) and error.get("field")
    }


def _follow_up(issue: dict[str, Any]) -> FollowUp:
    number = issue.get("number")
    if not isinstance(number, int):
        raise Permanent("GitHub answered without an issue number")
    assignees = issue.get("assignees")
    first = assignees[0] if isinstance(assignees, list) and assignees else issue.get("assignee")
    return FollowUp(
        key=f"#{number}",
        url=str(issue.get("html_url") or ""),
        state=str(issue.get("state") or "open"),
        opened_on=_day(issue.get("created_at")),
        assignee=str(first["login"]) if isinstance(first, dict) and first.get("login") else None,
    )


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None
