"""The product's own events: what a Teams activity means, free of botbuilder types.

Handlers parse activities into these; use cases take only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    aad_object_id: str | None


@dataclass(frozen=True)
class TeamsPlace:
    """Where an activity came from, enough to answer it proactively later."""

    service_url: str
    tenant_id: str | None
    team_thread_id: str | None
    graph_team_id: str | None
    bot_id: str
    bot_name: str | None


@dataclass(frozen=True)
class ChannelPost:
    place: TeamsPlace
    conversation_id: str
    channel_id: str
    root_id: str
    message_id: str
    author: Person
    text: str
    posted_at: datetime
    mentions_bot: bool
    from_bot: bool

    @property
    def is_root(self) -> bool:
        return self.root_id == self.message_id


@dataclass(frozen=True)
class MessageEdited:
    place: TeamsPlace
    conversation_id: str
    channel_id: str | None
    root_id: str
    message_id: str
    author: Person
    text: str
    at: datetime


@dataclass(frozen=True)
class MessageDeleted:
    place: TeamsPlace
    conversation_id: str
    channel_id: str | None
    root_id: str
    message_id: str
    author: Person
    at: datetime


@dataclass(frozen=True)
class CardAction:
    place: TeamsPlace
    conversation_id: str
    card_activity_id: str | None
    verb: str
    data: dict = field(default_factory=dict)
    actor: Person | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class PersonalMessage:
    place: TeamsPlace
    conversation_id: str
    message_id: str
    author: Person
    text: str
    at: datetime


@dataclass(frozen=True)
class TeamChange:
    """Install/uninstall of the bot, channel and team lifecycle events."""

    place: TeamsPlace
    kind: str  # installed, removed, channel_created, channel_renamed, channel_deleted, channel_restored, team_archived
    channel_id: str | None = None
    channel_name: str | None = None
    at: datetime | None = None
