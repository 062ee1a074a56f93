"""Every kind of outbox job and the type of its payload: what the outbox can be asked to do.

The composition root registers one handler per kind (``JobRegistry``); a test checks that every kind
declared here has exactly one. Payloads are small dataclasses stored as JSON, so a job can be
retried after a restart; they hold references and decisions, never a rendered card (cards are
rendered when the job runs, from the state at that moment).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.bridge.outbox import JobKind
from bot.ports import Mention, Platform, ThreadRef
from bot.views import HandoffView, RotationReportView


@dataclass(frozen=True)
class Nothing:
    """A job whose inquiry is all it needs."""


@dataclass(frozen=True)
class Note:
    text: str = field(repr=False)


# ``actor`` is the name of the engineer who acted (for work notes), ``actor_user`` their user name in
# the incident tracker (for ``assigned_to`` / ``resolved_by``), empty when the roster has none.


@dataclass(frozen=True)
class Acknowledgement:
    actor: str
    where: str = "Teams"
    actor_user: str = ""


@dataclass(frozen=True)
class GroupChange:
    group: str
    actor: str = "an engineer"
    where: str = "Teams"
    actor_user: str = ""


@dataclass(frozen=True)
class Assignment:
    user: str | None
    actor: str = ""
    where: str = "Teams"


@dataclass(frozen=True)
class Resolution:
    close_code: str
    close_notes: str = field(repr=False)
    actor: str = ""
    where: str = "Teams"
    actor_user: str = ""


@dataclass(frozen=True)
class DescriptionUpdate:
    """The root post was edited: the incident's text becomes the post's current text (read from the
    inquiry when the job runs, so the last of several edits wins)."""

    editor: str = ""
    where: str = "Teams"


@dataclass(frozen=True)
class ThreadReply:
    """A reply in a thread: plain text (with mentions), or a template rendered when it is sent
    (``help``, ``duty``, ``status``, ``personal_data``, ``personal_data_thanks``); ``proposal`` adds a
    plan change's preview card."""

    thread: ThreadRef
    text: str | None = field(default=None, repr=False)
    mentions: tuple[Mention, ...] = ()
    template: str | None = None
    proposal: str | None = None


@dataclass(frozen=True)
class DirectReply:
    """An answer in a direct conversation; ``form_week`` adds the add-week form for that week,
    ``proposal`` the preview card of a plan change (rendered from its stored row when sent)."""

    platform: Platform
    conversation_id: str
    text: str | None = field(default=None, repr=False)
    form_week: str | None = None
    proposal: str | None = None


@dataclass(frozen=True)
class DirectMessage:
    """A message to a person who did not write first (an escalation told directly)."""

    platform: Platform
    person: Mention
    text: str = field(repr=False)


@dataclass(frozen=True)
class ChannelNotice:
    """A new thread in a channel: a hand-off notice, a rotation report or plain text."""

    platform: Platform
    channel_id: str
    text: str | None = field(default=None, repr=False)
    handoff: HandoffView | None = None
    report: RotationReportView | None = None
    only_if_open: bool = True


@dataclass(frozen=True)
class ChannelStep:
    """A go-live channel's lifecycle step; ``notice_posted`` remembers progress within the job."""

    station: str
    display_name: str | None = None
    name: str | None = None
    notice_posted: bool = False


@dataclass(frozen=True)
class AlertRef:
    """An alert group's (or storm's) row: the job brings its incident and posts up to date."""

    alert_id: int


@dataclass(frozen=True)
class AlertAction:
    """An engineer acknowledged or routed an alert (from a card); ``group`` for a route."""

    alert_id: int
    actor: str
    where: str = "Teams"
    group: str | None = None


@dataclass(frozen=True)
class AlertReply:
    """A reply in the thread of an alert's post on one platform."""

    alert_id: int
    platform: Platform
    text: str = field(repr=False)
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class FollowUpFiling:
    """File the follow-up issue claimed for an incident (``followups`` row of ``correlation_id``);
    ``subject`` is the card data key that named the incident (``inquiry``, ``alert``)."""

    correlation_id: str
    subject: str = "inquiry"


CREATE_INCIDENT = JobKind("create_incident", Nothing)
COMMENT = JobKind("comment", Note)
WORK_NOTE = JobKind("work_note", Note)
ACKNOWLEDGE = JobKind("acknowledge", Acknowledgement)
SET_GROUP = JobKind("set_group", GroupChange)
ASSIGN = JobKind("assign", Assignment)
RESOLVE = JobKind("resolve", Resolution)
REOPEN = JobKind("reopen", Nothing)
UPDATE_DESCRIPTION = JobKind("update_description", DescriptionUpdate)
UPDATE_CARD = JobKind("update_card", Nothing)
REPLY = JobKind("reply", ThreadReply)
REPLY_DIRECT = JobKind("reply_direct", DirectReply)
DIRECT_MESSAGE = JobKind("direct_message", DirectMessage)
CHANNEL_NOTICE = JobKind("post_channel_card", ChannelNotice)
CHANNEL_OPEN = JobKind("channel_open", ChannelStep)
CHANNEL_RETIRE = JobKind("channel_retire", ChannelStep)
CHANNEL_RENAME = JobKind("channel_rename", ChannelStep)
CHANNEL_CANCEL = JobKind("channel_cancel", ChannelStep)
ALERT_SYNC = JobKind("alert_sync", AlertRef)
ALERT_ACKNOWLEDGE = JobKind("alert_acknowledge", AlertAction)
ALERT_ROUTE = JobKind("alert_route", AlertAction)
ALERT_REPLY = JobKind("alert_reply", AlertReply)
FILE_FOLLOWUP = JobKind("file_followup", FollowUpFiling)
