"""Duty from PagerDuty: the ``RosterSource`` port over the REST API v2 (``GET /oncalls``).

It talks to the API directly with aiohttp: the official ``pagerduty`` client refuses any base URL
that is not ``https://`` (so no emulator on loopback) and retries a 429 forever without reading
``ratelimit-reset``. What it sends and reads (PagerDuty REST API v2,
https://developer.pagerduty.com/api-reference/):

- ``Authorization: Token token=<GOLIVE_PAGERDUTY_TOKEN>``, ``Accept:
  application/vnd.pagerduty+json;version=2``;
- ``GET /oncalls?include[]=users&schedule_ids[]=P&schedule_ids[]=B&since&until&limit=100&offset=N``,
  following ``more`` from the ``offset`` PagerDuty echoes (offset + limit stays under 10 000);
- with ``include[]=users`` an on-call's ``user`` is the full user (with ``email``); a user that still
  comes as a reference is read once with ``GET /users/{id}``;
- an on-call with a null ``schedule`` (a user targeted directly) is left out; a null ``start`` or
  ``end`` (a permanent on-call) is clamped to the window asked about.

Errors (the ports'), each naming the setting at fault and never a body of ours::

    Permanent   401 "GOLIVE_PAGERDUTY_TOKEN was refused (401)", 403 (the token may not read it),
                400 or 404 about the schedules (GOLIVE_PAGERDUTY_SCHEDULE_IDS), an unreadable answer
    Transient   429 (``retry_after`` = ``ratelimit-reset`` seconds), 5xx, unreachable or timed out
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.ports import OnCallEntry, Permanent, PortError, Transient
from bot.restapi import ApiAnswer, RestApi

__all__ = ["PagerDutyConfig", "PagerDutyRoster"]

ACCEPT = "application/vnd.pagerduty+json;version=2"
MAX_RECORDS = 10_000  # PagerDuty's classic pagination stops at offset + limit = 10 000
TOKEN_SETTING = "GOLIVE_PAGERDUTY_TOKEN"
SCHEDULES_SETTING = "GOLIVE_PAGERDUTY_SCHEDULE_IDS"
URL_SETTING = "GOLIVE_PAGERDUTY_API_URL"


@dataclass(frozen=True)
class PagerDutyConfig:
    api_url: str
    token: str = field(repr=False)
    schedule_ids: tuple[str, ...]
    timeout_s: float = 15.0
    page_size: int = 100


class PagerDutyRoster:
    """On-call entries of the configured schedules, read from PagerDuty."""

    def __init__(self, config: PagerDutyConfig) -> None:
        self._config = config
        self._api = RestApi(
            config.api_url,
            {"Authorization": f"Token token={config.token}", "Accept": ACCEPT},
            service="PagerDuty",
            url_setting=URL_SETTING,
            timeout_s=config.timeout_s,
        )

    async def close(self) -> None:
        await self._api.close()

    async def on_call(self, since: datetime, until: datetime) -> list[OnCallEntry]:
        users: dict[str, tuple[str, str]] = {}  # user id -> (name, email), read once per call
        entries: list[OnCallEntry] = []
        offset, limit = 0, self._config.page_size
        while True:
            params = [
                ("include[]", "users"),
                *(("schedule_ids[]", schedule) for schedule in self._config.schedule_ids),
                ("since", _iso(since)),
                ("until", _iso(until)),
                ("time_zone", "UTC"),
                ("limit", str(limit)),
                ("offset", str(offset)),
            ]
            answer = await self._api.call("GET", "/oncalls", params=params)
            if not answer.ok:
                raise _refusal(answer, "the on-calls")
            body = answer.body if isinstance(answer.body, dict) else {}
            page = body.get("oncalls")
            if not isinstance(page, list):
                raise Permanent("PagerDuty answered GET /oncalls without an oncalls list")
            for item in page:
                entry = await self._entry(item, since, until, users)
                if entry is not None:
                    entries.append(entry)
            echoed = body.get("offset")
            offset = (echoed if isinstance(echoed, int) else offset) + len(page)
            if body.get("more") is not True or not page:
                return entries
            if offset + limit > MAX_RECORDS:
                raise Permanent(
                    f"PagerDuty lists more than {MAX_RECORDS} on-calls for this window; "
                    "sync a shorter one (--since/--until)"
                )

    async def _entry(
        self, item: Any, since: datetime, until: datetime, users: dict[str, tuple[str, str]]
    ) -> OnCallEntry | None:
        if not isinstance(item, dict):
            return None
        schedule = item.get("schedule")
        user = item.get("user")
        if not isinstance(schedule, dict) or not isinstance(user, dict):
            return None  # a user targeted directly (no schedule) is not a rota we sync
        schedule_id = str(schedule.get("id", ""))
        if schedule_id not in self._config.schedule_ids:
            return None
        name, email = await self._person(user, users)
        start = max(_instant(item.get("start")) or since, since)
        end = min(_instant(item.get("end")) or until, until)
        if end <= start:
            return None  # outside the window asked about
        return OnCallEntry(email=email, name=name, schedule_id=schedule_id, start=start, end=end)

    async def _person(self, user: dict[str, Any], users: dict[str, tuple[str, str]]) -> tuple[str, str]:
        user_id = str(user.get("id", ""))
        name = str(user.get("name") or user.get("summary") or user_id)
        email = user.get("email")
        if isinstance(email, str) and email:
            return name, email
        if not user_id:
            return name, ""
        if user_id not in users:
            users[user_id] = await self.user(user_id)
        return users[user_id]

    async def user(self, user_id: str) -> tuple[str, str]:
        """(name, email) of one PagerDuty user (``GET /users/{id}``)."""
        answer = await self._api.call("GET", f"/users/{user_id}")
        if not answer.ok:
            raise _refusal(answer, f"user {user_id}")
        user = answer.body.get("user") if isinstance(answer.body, dict) else None
        if not isinstance(user, dict):
            raise Permanent(f"PagerDuty answered GET /users/{user_id} without a user")
        return str(user.get("name") or user.get("summary") or user_id), str(user.get("email") or "")

    async def check(self) -> str:
        """Reads each configured schedule: proves the token and the schedule ids (``golive check``)."""
        if len(self._config.schedule_ids) != 2:
            raise Permanent(f"{SCHEDULES_SETTING} must name the primary schedule, then the backup schedule")
        names = []
        for role, schedule_id in zip(("primary", "backup"), self._config.schedule_ids, strict=True):
            answer = await self._api.call("GET", f"/schedules/{schedule_id}")
            if not answer.ok:
                raise _refusal(answer, f"the {role} schedule {schedule_id}")
            schedule = answer.body.get("schedule") if isinstance(answer.body, dict) else None
            name = schedule.get("name") if isinstance(schedule, dict) else None
            names.append(f"{role} {name or '?'} ({schedule_id})")
        return "schedules " + ", ".join(names)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Permanent("PagerDuty sent an on-call time that is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _reason(answer: ApiAnswer) -> str:
    """PagerDuty's own words for a refusal: ``error.message`` and its ``errors`` list."""
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    if not isinstance(error, dict):
        return ""
    words = [str(error.get("message") or "")]
    details = error.get("errors")
    if isinstance(details, list):
        words += [str(detail) for detail in details[:3]]
    return "; ".join(word for word in words if word)[:240]


def _refusal(answer: ApiAnswer, what: str) -> PortError:
    status = answer.status
    said = _reason(answer)
    said = f": {said}" if said else ""
    if status == 401:
        return Permanent(f"{TOKEN_SETTING} was refused ({status}){said}")
    if status in (402, 403):
        return Permanent(f"{TOKEN_SETTING} may not read {what} ({status}){said}")
    if status == 404:
        return Permanent(f"PagerDuty has no {what} ({status}): check {SCHEDULES_SETTING}")
    if status == 429:
        reset = answer.header("ratelimit-reset")
        delay = float(reset) if reset.replace(".", "", 1).isdigit() else None
        return Transient(f"PagerDuty rate limit reached (429){said}", retry_after=delay)
    if status >= 500 or status == 408:
        return Transient(f"PagerDuty is unavailable ({status})")
    return Permanent(f"PagerDuty refused the request for {what} ({status}){said}; check {SCHEDULES_SETTING}")
