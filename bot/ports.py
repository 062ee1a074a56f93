"""The ports: everything the use cases (``bot.bridge``) know about the world outside the database.

One module, Protocols and value objects only (in the manner of APScheduler 4's ``abc.py``). Adapters
implement the Protocols at the edge: Teams (``bot.teams``), Slack (``bot.slack``), ServiceNow
(``bot.servicenow_tracker``), PagerDuty and GitHub/Jira. Fakes of each live in the test kit, and one
contract suite runs a fake and its real adapter through the same cases.

Inbound, a chat platform turns what arrives into the events below (``ChannelPost``,
``MessageEdited``...) and hands them to the use cases. Outbound, the use cases speak to a
:class:`ChatPlatform` in neutral terms: a :class:`ThreadRef` to post in, a :class:`Message` with
text, mentions and a view (``bot.views``) that each platform renders in its own way (an Adaptive
Card, Block Kit).

Error tree (every adapter translates its own errors into these, once)::

    PortError                 anything an adapter could not do
    ├── Transient             worth retrying: throttled, down, timed out (``retry_after`` seconds or None)
    └── Permanent             retrying cannot help: rejected, not found, misconfigured (``reason``)

Messages of these errors carry ids, statuses and codes, never message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

from servicenow.model import IncidentDraft, IncidentRecord, JournalEntry, UserRef

__all__ = [
    "ActionOutcome",
    "CardAction",
    "ChannelChange",
    "ChannelDirectory",
    "ChannelPost",
    "ChatChannel",
    "ChatPlatform",
    "FollowUp",
    "FollowUpRequest",
    "FollowUpTracker",
    "IncidentDraft",
    "IncidentRecord",
    "IncidentTracker",
    "JournalEntry",
    "Mention",
    "Message",
    "MessageDeleted",
    "MessageEdited",
    "OnCallEntry",
    "Permanent",
    "Person",
    "PersonContact",
    "PersonalMessage",
    "Platform",
    "PortError",
    "RosterSource",
    "ThreadRef",
    "Transient",
    "UserRef",
]

Platform = Literal["teams", "slack"]


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class PortError(Exception):
    """Base of every error an adapter raises through a port."""


class Transient(PortError):
    """The call may succeed later (throttled, unavailable, timed out)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Permanent(PortError):
    """The call can never succeed as it is (rejected, not found, misconfigured)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------------------
# People, places, messages
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone who posted or pressed a button: the platform's id, a display name, and whatever
    identifies them across systems (Entra object id in Teams, email where the platform gives one)."""

    id: str
    name: str
    aad_object_id: str | None = None
    email: str | None = None
    platform: Platform = "teams"

    def __repr__(self) -> str:
        return f"Person(id={self.id!r}, platform={self.platform!r})"


@dataclass(frozen=True)
class ThreadRef:
    """A thread of a channel: its root message is the inquiry (Teams: the ``;messageid=`` root;
    Slack: the root message's ``ts``)."""

    platform: Platform
    channel_id: str
    root_id: str

    @property
    def key(self) -> str:
        """The thread's stored identity (``inquiries.conversation_id``)."""
        return f"{self.channel_id};messageid={self.root_id}"


@dataclass(frozen=True)
class Mention:
    """Someone to @mention or message directly, by every identity the roster knows: Teams mentions
    by Entra object id, Slack by user id (looked up by email when not known)."""

    name: str
    aad_object_id: str = ""
    email: str = ""
    slack_user_id: str = ""


@dataclass(frozen=True)
class Message:
    """Something to post. ``view`` is a view model of ``bot.views`` that the platform renders (an
    Adaptive Card, Block Kit); ``text`` may say ``<at>Name</at>`` for each of ``mentions``.
    ``key`` identifies the post for idempotency: a platform that can look for an earlier post
    carrying the key (after an uncertain attempt) does, before posting again."""

    text: str | None = None
    view: Any = None
    mentions: tuple[Mention, ...] = ()
    key: str | None = None


@dataclass(frozen=True)
class PersonContact:
    """How a person of a chat platform is known elsewhere (Teams: the member's ``email`` and
    ``userPrincipalName``), to find them in the incident tracker. Kept out of ``repr``."""

    email: str = field(default="", repr=False)
    user_principal_name: str = field(default="", repr=False)


@dataclass(frozen=True)
class ChatChannel:
    id: str
    name: str
    archived: bool = False


# --------------------------------------------------------------------------------------------------
# Inbound events (what a chat platform hands to the use cases)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelPost:
    """A message in a channel: a thread's root (an inquiry, perhaps) or a reply in a thread.

    ``watched``: the platform watches this channel for inquiries on its own (Slack's DSVA channels):
    it is no go-live channel of one site, so an inquiry's site comes from its text (or a picker).
    """

    thread: ThreadRef
    message_id: str
    author: Person
    text: str = field(repr=False)
    posted_at: datetime
    mentions_bot: bool
    from_bot: bool
    watched: bool = False

    @property
    def is_root(self) -> bool:
        return self.thread.root_id == self.message_id


@dataclass(frozen=True)
class MessageEdited:
    thread: ThreadRef
    message_id: str
    author: Person
    text: str = field(repr=False)
    at: datetime


@dataclass(frozen=True)
class MessageDeleted:
    thread: ThreadRef
    message_id: str
    author: Person
    at: datetime


@dataclass(frozen=True)
class CardAction:
    """A button pressed on a card the bot posted (Teams ``Action.Execute``, Slack ``block_actions``)."""

    platform: Platform
    conversation_id: str
    card_message_id: str | None
    verb: str
    data: dict[str, Any] = field(default_factory=dict)
    actor: Person | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class ActionOutcome:
    """The answer to a card action: an HTTP-like status, and a message or the card to show now."""

    status: int
    message: str | None = None
    view: Any = None


@dataclass(frozen=True)
class PersonalMessage:
    """A direct (1:1) message to the bot; ``conversation_id`` is where the answer goes."""

    platform: Platform
    conversation_id: str
    message_id: str
    author: Person
    text: str = field(repr=False)
    at: datetime


@dataclass(frozen=True)
class ChannelChange:
    """A channel of the Go Live team was created, renamed, deleted or restored."""

    platform: Platform
    kind: Literal["created", "renamed", "deleted", "restored"]
    channel_id: str
    channel_name: str | None = None
    at: datetime | None = None


# --------------------------------------------------------------------------------------------------
# Outbound ports
# --------------------------------------------------------------------------------------------------


class ChatPlatform(Protocol):
    """Posting into a chat platform (Teams, Slack). Every method raises only :class:`PortError`."""

    @property
    def platform(self) -> Platform: ...

    async def post_in_thread(self, thread: ThreadRef, message: Message) -> str:
        """Post a reply in ``thread``; returns the new message's id."""
        ...

    async def start_thread(self, channel_id: str, message: Message) -> ThreadRef:
        """Post a new top-level message in a channel; returns its thread."""
        ...

    async def update_message(self, thread: ThreadRef, message_id: str, message: Message) -> None:
        """Replace a message the bot posted (a card updated in place)."""
        ...

    async def send_direct(self, person: Mention, message: Message) -> None:
        """A direct (1:1) message to a person the bot may never have talked to."""
        ...

    async def reply_direct(self, conversation_id: str, message: Message) -> None:
        """Answer in a direct conversation the person started."""
        ...

    async def find_posted(self, channel_id: str, thread_root: str | None, message: Message) -> str | None:
        """The id of an earlier bot post of ``message`` (its ``key``) among a channel's top-level
        posts (``thread_root`` None) or a thread's replies, if one landed: asked after an attempt
        whose outcome is unknown (a crash between posting and recording), before posting again."""
        ...

    async def thread_link(self, thread: ThreadRef, channel_name: str | None = None) -> str | None:
        """A link that opens ``thread`` in the platform's client (Teams: a ``/l/message`` deep link
        with the tenant and team ids), or None while the platform cannot say yet."""
        ...

    async def person_contact(self, thread: ThreadRef, person: Person) -> PersonContact | None:
        """The e-mail and sign-in name of someone who posted in ``thread`` (Teams: the member's
        account), or None when the platform does not know them."""
        ...


class ChannelDirectory(Protocol):
    """Creating and archiving the go-live channels (Teams through Graph)."""

    async def ensure_channel(self, display_name: str, description: str) -> ChatChannel:
        """The channel of that name, created or unarchived as needed."""
        ...

    async def find_channel(self, display_name: str) -> ChatChannel | None: ...

    async def rename_channel(self, channel_id: str, display_name: str) -> None: ...

    async def archive_channel(self, channel_id: str) -> None: ...


class IncidentTracker(Protocol):
    """The incident system (ServiceNow). Creates are idempotent by ``correlation_id``; writes return
    the incident as the tracker holds it after the write (people as user names and display names).
    ``actor``/``resolved_by`` are the acting engineer's user name in the tracker."""

    async def create_incident(self, draft: IncidentDraft, *, known_new: bool = False) -> IncidentRecord: ...

    async def find_by_correlation_id(self, correlation_id: str) -> IncidentRecord | None: ...

    async def get_incident(self, sys_id: str) -> IncidentRecord: ...

    async def add_comment(self, sys_id: str, text: str) -> None: ...

    async def add_work_note(self, sys_id: str, text: str) -> None: ...

    async def set_assignment_group(
        self, sys_id: str, group_name: str, *, actor: str | None = None
    ) -> IncidentRecord: ...

    async def assign_to(
        self, sys_id: str, user_name: str | None, *, actor: str | None = None
    ) -> IncidentRecord:
        """Assign to ``user_name`` (None: nobody); ``refused_fields`` holds ``assigned_to`` when the
        tracker would not take it."""
        ...

    async def set_state(
        self, sys_id: str, state: int, hold_reason: str = "", *, actor: str | None = None
    ) -> IncidentRecord:
        """``actor`` (the acting engineer's user name) becomes ``resolved_by`` when the state is
        Resolved; elsewhere the caller names the actor in its work note."""
        ...

    async def resolve(
        self, sys_id: str, close_code: str, close_notes: str, *, resolved_by: str | None = None
    ) -> IncidentRecord:
        """Resolve; ``resolved_by`` (a user name) is recorded where the tracker accepts it, else the
        record's ``refused_fields`` holds ``resolved_by``."""
        ...

    async def update_description(
        self, sys_id: str, short_description: str, description: str
    ) -> IncidentRecord:
        """Replace the incident's text (an edited post); the old text is not copied anywhere."""
        ...

    async def find_user(self, email: str | None = None, user_name: str | None = None) -> UserRef | None:
        """The tracker's user with this e-mail, else this user name; None when neither is known."""
        ...

    async def incidents_updated_since(
        self, since: datetime, correlation_display: str
    ) -> list[IncidentRecord]: ...

    async def journal_since(self, incident_sys_ids: Sequence[str], since: datetime) -> list[JournalEntry]: ...


@dataclass(frozen=True)
class OnCallEntry:
    """One on-call shift of an external rota (PagerDuty): who, which schedule, from when to when.

    ``start``/``end`` lie within the window asked about (a permanent on-call is clamped to it);
    ``email`` is empty when the rota does not say (the person is then named by ``name``)."""

    email: str
    name: str
    schedule_id: str
    start: datetime
    end: datetime


class RosterSource(Protocol):
    """Where duty comes from besides the CSV (PagerDuty's on-call schedules)."""

    async def on_call(self, since: datetime, until: datetime) -> list[OnCallEntry]:
        """Every on-call entry of the source's schedules that overlaps ``[since, until)``."""
        ...


@dataclass(frozen=True)
class FollowUpRequest:
    """A follow-up issue to file for an incident; ``marker`` is looked for before creating."""

    marker: str
    title: str
    body: str = field(repr=False)
    labels: tuple[str, ...] = ()
    assignee: str | None = None


@dataclass(frozen=True)
class FollowUp:
    """A filed follow-up issue as its tracker holds it; ``state`` is the tracker's word (GitHub
    ``open``/``closed``, a Jira status name); ``assignee`` whom it is assigned to, if anyone."""

    key: str  # "#42" or "GOLIVE-7"
    url: str
    state: str
    opened_on: date | None = None
    assignee: str | None = None


class FollowUpTracker(Protocol):
    """Where follow-up work is filed (GitHub issues or Jira). ``create`` is not idempotent by
    itself: a caller that is unsure whether an earlier create landed calls ``find`` first, with
    the request's ``marker`` (the tracker finds it in the issue's body)."""

    async def find(self, marker: str) -> FollowUp | None: ...

    async def create(self, request: FollowUpRequest) -> FollowUp: ...

    async def get(self, key: str) -> FollowUp:
        """The issue as it is now (``Permanent`` when there is no such issue)."""
        ...
