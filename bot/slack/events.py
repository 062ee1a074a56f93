"""What the bot reads of Slack's requests, as typed msgspec models, and the checks that go with them.

Three kinds arrive at ``POST /slack/events`` (https://api.slack.com/apis/events-api and Slack's
interactivity and slash-command pages): Events API JSON
(``url_verification``, ``event_callback``), interactivity (a form field ``payload`` holding JSON:
``block_actions``) and slash commands (plain form fields). Only the fields the bot reads are
declared; anything else is ignored, so Slack may add fields freely. A field the bot reads with the
wrong type, or an id that is not Slack-shaped, is refused at the edge (400) rather than failing
later. The inner event of an ``event_callback`` is typed only once it is known to be one the bot
handles, since other event types use the same keys differently (``channel`` is an object in
``channel_created``).

The stored form of an accepted request is a :data:`Stored` value (``{"kind": ..., "body": ...}``),
so the router knows which of the three it is reading.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

#: Slack ids: channels (C, G, D), users (U, W), bots (B), teams (T), enterprises (E).
_ID = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$", re.IGNORECASE)
#: A message ``ts``: seconds and micro-seconds. Whole seconds are bounded so a ts is a datetime.
_TS = re.compile(r"^\d{1,11}\.\d{1,6}$")

#: The subtypes of ``message`` that are a person's post (no subtype: a plain message).
POST_SUBTYPES = frozenset({"thread_broadcast", "file_share", "me_message"})
EDIT_SUBTYPE = "message_changed"
DELETE_SUBTYPE = "message_deleted"
#: Event types the bot acts on; everything else is answered 200 and not stored.
HANDLED_EVENTS = frozenset({"message", "app_mention"})


def is_id(value: str | None) -> bool:
    return value is not None and bool(_ID.match(value))


def is_ts(value: str | None) -> bool:
    return value is not None and bool(_TS.match(value))


class Authorization(msgspec.Struct):
    user_id: str | None = None
    is_bot: bool | None = None


class Envelope(msgspec.Struct):
    """Any Events API JSON body: its ``type`` decides what else is read."""

    type: str
    challenge: str | None = None


class EventCallback(msgspec.Struct):
    type: str
    event_id: str
    event: dict[str, Any]
    team_id: str | None = None
    event_time: int | None = None
    authorizations: list[Authorization] | None = None


class ChangedMessage(msgspec.Struct):
    """``message`` / ``previous_message`` of an edit or a deletion."""

    ts: str | None = None
    user: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    text: str | None = None
    thread_ts: str | None = None


class MessageEvent(msgspec.Struct):
    """A ``message`` or ``app_mention`` event: a post, a thread reply, an edit or a deletion."""

    type: str
    channel: str | None = None
    subtype: str | None = None
    user: str | None = None
    bot_id: str | None = None
    text: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    channel_type: str | None = None
    message: ChangedMessage | None = None
    previous_message: ChangedMessage | None = None
    deleted_ts: str | None = None


class ActionUser(msgspec.Struct):
    id: str
    name: str | None = None
    username: str | None = None


class Container(msgspec.Struct):
    type: str | None = None
    message_ts: str | None = None
    channel_id: str | None = None
    is_ephemeral: bool | None = None


class ChannelRef(msgspec.Struct):
    id: str
    name: str | None = None


class SelectedOption(msgspec.Struct):
    value: str | None = None


class Action(msgspec.Struct):
    action_id: str
    type: str | None = None
    value: str | None = None
    selected_option: SelectedOption | None = None
    action_ts: str | None = None


class ThreadedMessage(msgspec.Struct):
    ts: str | None = None
    thread_ts: str | None = None


class BlockActions(msgspec.Struct):
    """An interactivity payload; only ``block_actions`` is acted on."""

    type: str
    user: ActionUser | None = None
    container: Container | None = None
    channel: ChannelRef | None = None
    message: ThreadedMessage | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    actions: list[Action] = []


class SlashCommand(msgspec.Struct):
    """A slash command's form fields (all strings)."""

    command: str
    user_id: str
    channel_id: str
    text: str = ""
    user_name: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    team_id: str | None = None


Kind = Literal["event", "interactive", "command"]


class Stored(msgspec.Struct):
    """An accepted request as the inbox keeps it."""

    kind: Kind
    body: dict[str, Any]


def event_problem(event: MessageEvent) -> str | None:
    """Why a handled event cannot be processed, or None."""
    if not is_id(event.channel):
        return "event.channel is not a Slack channel id"
    if event.user is not None and not is_id(event.user):
        return "event.user is not a Slack user id"
    if event.subtype == EDIT_SUBTYPE:
        edited = event.message
        original = (
            edited.ts
            if edited and edited.ts
            else (event.previous_message.ts if event.previous_message else None)
        )
        if not is_ts(original):
            return "event.message.ts is not a Slack timestamp"
        if edited is not None and edited.thread_ts is not None and not is_ts(edited.thread_ts):
            return "event.message.thread_ts is not a Slack timestamp"
        return None
    if event.subtype == DELETE_SUBTYPE:
        if not is_ts(event.deleted_ts):
            return "event.deleted_ts is not a Slack timestamp"
        previous = event.previous_message
        if previous is not None and previous.thread_ts is not None and not is_ts(previous.thread_ts):
            return "event.previous_message.thread_ts is not a Slack timestamp"
        return None
    if not is_ts(event.ts):
        return "event.ts is not a Slack timestamp"
    if event.thread_ts is not None and not is_ts(event.thread_ts):
        return "event.thread_ts is not a Slack timestamp"
    return None


def is_from_a_bot(event: MessageEvent) -> bool:
    """An app's post (``bot_id``, any subtype) or a classic bot's (``bot_message``): never an inquiry.
    An edit or a deletion is judged by the message it changed."""
    if event.bot_id or event.subtype == "bot_message":
        return True
    changed = event.previous_message if event.subtype == DELETE_SUBTYPE else event.message
    return changed is not None and bool(changed.bot_id or changed.subtype == "bot_message")


def is_handled(event: MessageEvent) -> bool:
    """Events the bot acts on: people's posts and replies, their edits and deletions, mentions."""
    if is_from_a_bot(event):
        return False
    if event.type == "app_mention":
        return True
    return event.subtype is None or event.subtype in POST_SUBTYPES | {EDIT_SUBTYPE, DELETE_SUBTYPE}
