"""The chat platform port over Teams: posts, card updates and direct messages through the Bot
Connector (``bot.teams.messenger``), addressed with the stored Teams context (``bot.teams.places``).

Views are rendered as Adaptive Cards here; ``<at>Name</at>`` in a text gets a mention entity with
the person's Entra object id. The messenger's errors become the ports' ``Transient`` (throttled,
unavailable: retried) and ``Permanent`` (rejected). Every call is timed for ``/metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from bot.ports import Mention, Message, Permanent, Person, PersonContact, Platform, ThreadRef, Transient
from bot.teams.cards import render_card
from bot.teams.directory import TeamsChannelDirectory
from bot.teams.messenger import OutgoingMessage, TeamsMessenger, TeamsRejected, TeamsUnavailable
from bot.teams.parsing import html_to_text
from bot.teams.places import TeamsPlaces

T = TypeVar("T")
Observe = Callable[[str, str, float], None]


def _no_observer(op: str, status: str, seconds: float) -> None:
    return None


KEY_PREFIX = "golive:"


def outgoing(message: Message) -> OutgoingMessage:
    """A port message as the messenger's: the view rendered as a card (carrying the message's key
    in a hidden block, so the post can be recognised later), mentions by Entra object id."""
    mentions = tuple((m.aad_object_id, m.name) for m in message.mentions if m.aad_object_id)
    card = render_card(message.view) if message.view is not None else None
    if card is not None and message.key:
        marker = {
            "type": "TextBlock",
            "id": "golive-key",
            "text": KEY_PREFIX + message.key,
            "isVisible": False,
        }
        card = {**card, "body": [*card.get("body", []), marker]}
    return OutgoingMessage(text=message.text, card=card, mentions=mentions)


def _plain(text: str | None) -> str:
    return " ".join(html_to_text(text or "").split())


def is_post_of(found: dict[str, Any], message: Message) -> bool:
    """Whether a Graph chatMessage the bot posted is ``message``: by the key its card carries, else
    (a text without a card) by its text."""
    if message.view is not None and message.key:
        marker = KEY_PREFIX + message.key
        return any(
            marker in (attachment.get("content") or "") for attachment in found.get("attachments") or []
        )
    body = found.get("body") or {}
    return bool(message.text) and _plain(body.get("content")) == _plain(message.text)


CONTACT_TTL_S = 3600.0
CONTACT_CACHE_SIZE = 10_000


class TeamsChat:
    """``ChatPlatform`` for Teams."""

    def __init__(
        self,
        messenger: TeamsMessenger,
        places: TeamsPlaces,
        observe: Observe = _no_observer,
        history: TeamsChannelDirectory | None = None,
    ) -> None:
        self._messenger = messenger
        self._places = places
        self._observe = observe
        self._history = history
        # Member lookups, remembered: a site's few posters ask many questions, and the lookup sits
        # before the incident's creation. Keyed by member id: (expires at, contact).
        self._contacts: dict[str, tuple[float, PersonContact]] = {}

    @property
    def platform(self) -> Platform:
        return "teams"

    async def _call(self, op: str, work: Callable[[], Awaitable[T]]) -> T:
        started = time.perf_counter()
        try:
            result = await work()
        except TeamsUnavailable as error:
            self._observe(op, str(error.status or "unavailable"), time.perf_counter() - started)
            raise Transient(f"Teams unavailable (status {error.status})", error.retry_after) from None
        except TeamsRejected as error:
            self._observe(op, str(error.status or "rejected"), time.perf_counter() - started)
            raise Permanent(f"Teams rejected the post (status {error.status}, {error.code})") from None
        self._observe(op, "ok", time.perf_counter() - started)
        return result

    async def post_in_thread(self, thread: ThreadRef, message: Message) -> str:
        place = await self._places.require()
        activity_id = await self._call(
            "reply_in_thread",
            lambda: self._messenger.reply_in_thread(place.service_url, thread.key, outgoing(message)),
        )
        return activity_id or ""

    async def start_thread(self, channel_id: str, message: Message) -> ThreadRef:
        place = await self._places.require()
        _, activity_id = await self._call(
            "post_new_thread",
            lambda: self._messenger.post_new_thread(
                place.service_url, channel_id, outgoing(message), place.tenant_id
            ),
        )
        return ThreadRef("teams", channel_id, activity_id)

    async def update_message(self, thread: ThreadRef, message_id: str, message: Message) -> None:
        place = await self._places.require()
        await self._call(
            "update_message",
            lambda: self._messenger.update_message(
                place.service_url, thread.key, message_id, outgoing(message)
            ),
        )

    async def send_direct(self, person: Mention, message: Message) -> None:
        if not person.aad_object_id:
            raise Permanent("the person has no Entra object id to message in Teams")
        place = await self._places.require()
        await self._call(
            "send_direct",
            lambda: self._messenger.send_direct(
                place.service_url, person.aad_object_id, outgoing(message), place.tenant_id
            ),
        )

    async def reply_direct(self, conversation_id: str, message: Message) -> None:
        place = await self._places.require()
        await self._call(
            "reply_in_thread",
            lambda: self._messenger.reply_in_thread(place.service_url, conversation_id, outgoing(message)),
        )

    async def find_posted(self, channel_id: str, thread_root: str | None, message: Message) -> str | None:
        """Read the channel (or thread) through Graph for the bot's post of ``message``."""
        if self._history is None:
            return None
        for found in await self._history.bot_messages(channel_id, thread_root):
            if is_post_of(found, message):
                return str(found.get("id") or "")
        return None

    async def thread_link(self, thread: ThreadRef, channel_name: str | None = None) -> str | None:
        """The Teams deep link to a channel thread (``/l/message/{channel}/{root}`` with the tenant
        and the Graph team id); None until the bot has heard from its team."""
        place = await self._places.latest()
        if place is None:
            return None
        return teams_message_link(
            thread.channel_id,
            thread.root_id,
            tenant_id=place.tenant_id,
            group_id=place.graph_team_id,
            channel_name=channel_name,
        )

    async def person_contact(self, thread: ThreadRef, person: Person) -> PersonContact | None:
        """The poster's e-mail and UPN from the Bot Connector's member lookup in the thread's channel."""
        member_id = person.aad_object_id or person.id
        if not member_id:
            return None
        now = time.monotonic()
        cached = self._contacts.get(member_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        place = await self._places.require()
        member = await self._call(
            "get_member", lambda: self._messenger.get_member(place.service_url, thread.channel_id, member_id)
        )
        if not member:
            return None
        contact = PersonContact(
            email=str(member.get("email") or ""),
            user_principal_name=str(member.get("userPrincipalName") or ""),
        )
        if len(self._contacts) >= CONTACT_CACHE_SIZE:
            self._contacts = {key: entry for key, entry in self._contacts.items() if entry[0] > now}
            if len(self._contacts) >= CONTACT_CACHE_SIZE:
                self._contacts.clear()
        self._contacts[member_id] = (now + CONTACT_TTL_S, contact)
        return contact


TEAMS_WEB = "https://teams.microsoft.com"


def teams_message_link(
    channel_id: str,
    message_id: str,
    *,
    tenant_id: str | None,
    group_id: str | None,
    parent_message_id: str | None = None,
    team_name: str | None = None,
    channel_name: str | None = None,
) -> str:
    """A Teams deep link to a channel message (Microsoft's "deep link to a channel conversation"):
    ``https://teams.microsoft.com/l/message/{channelId}/{messageId}?tenantId=&groupId=
    &parentMessageId=&teamName=&channelName=&createdTime=``; a root post is its own parent, and its
    id (epoch milliseconds in Teams) is its creation time."""
    parent = parent_message_id or message_id
    query = {
        "tenantId": tenant_id or "",
        "groupId": group_id or "",
        "parentMessageId": parent,
        "teamName": team_name or "",
        "channelName": channel_name or "",
        "createdTime": message_id if message_id.isdigit() else "",
    }
    path = f"{TEAMS_WEB}/l/message/{quote(channel_id, safe='')}/{quote(message_id, safe='')}"
    return path + "?" + urlencode({k: v for k, v in query.items() if v})
