"""Who and where, in the Slack workspace: people by user id (with their e-mail, so engineers are
recognised by the roster), Slack ids by e-mail (for mentions and direct messages), channel names
and ids, and the bot's own identity.

Every answer is cached for :data:`CACHE_TTL_S` (people and channels rarely change; lookups cost a
Web API call each). The caches are in memory on purpose: losing them on a restart only costs calls.
Errors are the ports' (``bot.slack.api``); a person or channel Slack does not know is an answer
(a person known only by id, no channel), not an error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.ports import Mention, Permanent, Person
from bot.slack.api import SlackApi

CACHE_TTL_S = 3600.0
CACHE_MAX = 5000
MAX_NAME = 200
#: A Slack channel id (names are lower case, ids upper case).
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

T = TypeVar("T")


class TtlCache(Generic[T]):
    """A bounded map whose entries expire."""

    def __init__(self, ttl_s: float = CACHE_TTL_S, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> tuple[bool, T | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: str, value: T) -> T:
        if len(self._entries) >= CACHE_MAX:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (self._monotonic() + self._ttl, value)
        return value


@dataclass(frozen=True)
class BotIdentity:
    user_id: str
    bot_id: str


class SlackWorkspace:
    def __init__(self, api: SlackApi, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._api = api
        self._people: TtlCache[Person] = TtlCache(monotonic=monotonic)
        self._user_ids: TtlCache[str | None] = TtlCache(monotonic=monotonic)
        self._channel_names: TtlCache[str | None] = TtlCache(monotonic=monotonic)
        self._channel_ids: TtlCache[str] = TtlCache(monotonic=monotonic)
        self._bot: BotIdentity | None = None

    async def bot(self) -> BotIdentity:
        """The bot's own user and bot ids (``auth.test``), asked once."""
        if self._bot is None:
            answer = await self._api.call("auth.test")
            self._bot = BotIdentity(str(answer.get("user_id") or ""), str(answer.get("bot_id") or ""))
        return self._bot

    def learn_bot_user(self, user_id: str | None) -> None:
        """The bot's user id as an event's ``authorizations`` gives it (saves an ``auth.test``)."""
        if user_id and self._bot is None:
            self._bot = BotIdentity(user_id, "")

    async def person(self, user_id: str) -> Person:
        """A Slack user as the product knows people: name and e-mail (``users.info``)."""
        found, cached = self._people.get(user_id)
        if found and cached is not None:
            return cached
        try:
            answer = await self._api.call("users.info", read=True, user=user_id)
        except Permanent:  # user_not_found, user_not_visible: known by id only
            return self._people.put(user_id, Person(user_id, user_id, platform="slack"))
        return self._people.put(user_id, person_of(answer.get("user") or {}, user_id))

    async def user_id_for(self, mention: Mention) -> str | None:
        """The Slack user id of someone to mention or message: given, else found by e-mail."""
        if mention.slack_user_id:
            return mention.slack_user_id
        email = mention.email.strip().lower()
        if not email:
            return None
        found, cached = self._user_ids.get(email)
        if found:
            return cached
        try:
            answer = await self._api.call("users.lookupByEmail", read=True, email=email)
        except Permanent:  # users_not_found: nobody in the workspace has that address
            return self._user_ids.put(email, None)
        user = answer.get("user") or {}
        return self._user_ids.put(email, str(user.get("id") or "") or None)

    async def channel_name(self, channel_id: str) -> str | None:
        """A channel's name (``conversations.info``); None for one the bot cannot see."""
        found, cached = self._channel_names.get(channel_id)
        if found:
            return cached
        try:
            answer = await self._api.call("conversations.info", read=True, channel=channel_id)
        except Permanent:
            return self._channel_names.put(channel_id, None)
        channel = answer.get("channel") or {}
        return self._channel_names.put(channel_id, str(channel.get("name") or "") or None)

    async def channel_id(self, name_or_id: str) -> str:
        """A channel's id from its name (``conversations.list``); an id is returned as it is."""
        name = name_or_id.lstrip("#")
        if CHANNEL_ID.match(name):
            return name
        found, cached = self._channel_ids.get(name)
        if found and cached:
            return cached
        cursor: str | None = None
        for _ in range(50):  # 50 pages of 200: far more public channels than a workspace has
            answer = await self._api.call(
                "conversations.list",
                read=True,
                types="public_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            for channel in answer.get("channels") or []:
                if isinstance(channel, dict) and channel.get("name") and channel.get("id"):
                    self._channel_ids.put(str(channel["name"]), str(channel["id"]))
                    self._channel_names.put(str(channel["id"]), str(channel["name"]))
            cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                break
        found, cached = self._channel_ids.get(name)
        if not found or not cached:
            raise Permanent("Slack channel not found by name")
        return cached


def person_of(user: dict[str, Any], user_id: str) -> Person:
    """A ``users.info`` user as a :class:`Person` (e-mail from ``profile.email``)."""
    raw_profile = user.get("profile")
    profile: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or user_id
    )
    raw_email = profile.get("email")
    email = raw_email if isinstance(raw_email, str) else None
    return Person(user_id, str(name)[:MAX_NAME], email=email or None, platform="slack")


__all__ = ["BotIdentity", "SlackWorkspace", "TtlCache", "person_of"]
