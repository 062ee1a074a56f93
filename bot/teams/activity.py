"""The typed model of exactly what the product reads from a Teams activity, checked at the edge.

Every activity is decoded into :class:`Activity` (msgspec: fast, strict about the types of the fields
it names, indifferent to fields it does not) and checked by :func:`problem_of` before it is stored, so
whatever was acknowledged can be processed later: a body that would fail later is refused now with a
400 and a reason. Processing reads the same model again from the stored JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

#: Longest ids the product stores (its columns); real Teams ids are far shorter.
MAX_CONVERSATION_ID = 300
MAX_ACTIVITY_ID = 100

#: Activity types the product acts on; others are acknowledged and not stored.
HANDLED_TYPES = frozenset(
    {"message", "messageUpdate", "messageDelete", "invoke", "conversationUpdate", "installationUpdate"}
)
CARD_ACTION_INVOKE = "adaptiveCard/action"


class Account(msgspec.Struct, rename="camel", omit_defaults=True):
    id: str | None = None
    name: str | None = None
    aad_object_id: str | None = None
    role: str | None = None


class Conversation(msgspec.Struct, rename="camel", omit_defaults=True):
    id: str | None = None
    conversation_type: str | None = None
    is_group: bool | None = None


class Attachment(msgspec.Struct, rename="camel", omit_defaults=True):
    content_type: str | None = None
    content: Any = None


class Entity(msgspec.Struct, rename="camel", omit_defaults=True):
    type: str | None = None
    mentioned: Account | None = None


class TenantInfo(msgspec.Struct, omit_defaults=True):
    id: str | None = None


class TeamInfo(msgspec.Struct, rename="camel", omit_defaults=True):
    id: str | None = None
    name: str | None = None
    aad_group_id: str | None = None


class ChannelInfo(msgspec.Struct, omit_defaults=True):
    id: str | None = None
    name: str | None = None


class ChannelData(msgspec.Struct, rename="camel", omit_defaults=True):
    tenant: TenantInfo | None = None
    team: TeamInfo | None = None
    channel: ChannelInfo | None = None
    event_type: str | None = None


class CardActionValue(msgspec.Struct, omit_defaults=True):
    type: str | None = None
    verb: str | None = None
    data: dict[str, Any] | None = None


class InvokeValue(msgspec.Struct, omit_defaults=True):
    action: CardActionValue | None = None


class Activity(msgspec.Struct, rename="camel", omit_defaults=True):
    type: str
    id: str | None = None
    timestamp: datetime | None = None
    service_url: str | None = None
    channel_id: str | None = None
    from_: Account | None = msgspec.field(default=None, name="from")
    recipient: Account | None = None
    conversation: Conversation | None = None
    text: str | None = None
    attachments: list[Attachment] | None = None
    entities: list[Entity] | None = None
    channel_data: ChannelData | None = None
    reply_to_id: str | None = None
    name: str | None = None
    value: Any = None
    members_added: list[Account] | None = None
    members_removed: list[Account] | None = None
    action: str | None = None


def problem_of(activity: Activity) -> str | None:
    """Why the product could not process this activity later (None when it can)."""
    if not activity.type:
        return "activity has no type"
    if activity.type not in HANDLED_TYPES:
        return None
    conversation_id = activity.conversation.id if activity.conversation else None
    if not conversation_id:
        return "activity has no conversation id"
    if len(conversation_id) > MAX_CONVERSATION_ID:
        return "conversation id is too long"
    if activity.id is not None and len(activity.id) > MAX_ACTIVITY_ID:
        return "activity id is too long"
    if activity.reply_to_id is not None and len(activity.reply_to_id) > MAX_ACTIVITY_ID:
        return "replyToId is too long"
    if activity.type == "invoke" and activity.name == CARD_ACTION_INVOKE:
        return _card_action_problem(activity.value)
    return None


def _card_action_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "an adaptiveCard/action invoke needs a value object"
    try:
        parsed = msgspec.convert(value, InvokeValue)
    except msgspec.ValidationError as error:
        return f"invoke value: {str(error).splitlines()[0][:150]}"
    action = parsed.action
    if action is None or not action.verb or not isinstance(action.verb, str):
        return "an adaptiveCard/action invoke needs value.action with a verb"
    if len(action.verb) > 100:
        return "the action verb is too long"
    return None
