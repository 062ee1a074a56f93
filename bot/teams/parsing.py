"""Turn botbuilder activities into the product's events (the only place that reads raw Teams shapes)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from botbuilder.schema import Activity

from bot.ports import (
    CardAction,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    Person,
    PersonalMessage,
    ThreadRef,
)
from bot.teams.places import TeamsPlace

_MESSAGE_ID = re.compile(r";messageid=(\d+)")
_TAG = re.compile(r"<[^>]+>")
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BLOCK_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?>", re.IGNORECASE)


def html_to_text(value: str) -> str:
    """Teams sends HTML-ish text; keep line breaks, drop tags, decode entities."""
    value = _BLOCK_BREAK.sub("\n", value)
    value = _TAG.sub("", value)
    value = html.unescape(value).replace("\xa0", " ")
    lines = [line.strip() for line in value.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def strip_bot_mention(text: str, bot_names: set[str]) -> tuple[str, bool]:
    """Remove ``<at>Bot</at>`` mentions of the bot; report whether there was one."""
    mentioned = False

    def replace(match: re.Match[str]) -> str:
        nonlocal mentioned
        if html_to_text(match.group(1)).strip() in bot_names:
            mentioned = True
            return ""
        return match.group(1)

    return _AT.sub(replace, text or ""), mentioned


def thread_root(conversation_id: str, fallback: str) -> str:
    """The thread root comes from ``;messageid=`` in the conversation id, not from replyToId."""
    match = _MESSAGE_ID.search(conversation_id or "")
    return match.group(1) if match else fallback


def channel_of(conversation_id: str) -> str:
    return (conversation_id or "").split(";", 1)[0]


def _channel_data(activity: Activity) -> dict:
    data = activity.channel_data
    if isinstance(data, dict):
        return data
    if data is None:
        return {}
    serialize = getattr(data, "serialize", None)
    return serialize() if serialize else {}


def place_of(activity: Activity) -> TeamsPlace:
    data = _channel_data(activity)
    team = data.get("team") or {}
    tenant = (data.get("tenant") or {}).get("id")
    recipient = activity.recipient
    return TeamsPlace(
        service_url=activity.service_url or "",
        tenant_id=tenant,
        team_thread_id=team.get("id"),
        graph_team_id=team.get("aadGroupId"),
        bot_id=recipient.id if recipient and recipient.id else "",
        bot_name=recipient.name if recipient else None,
    )


def is_channel_conversation(activity: Activity) -> bool:
    data = _channel_data(activity)
    conversation = activity.conversation
    if conversation and conversation.conversation_type == "personal":
        return False
    return bool(data.get("channel") or data.get("team")) or (
        conversation is not None and (conversation.id or "").startswith("19:")
    )


def _person(activity: Activity) -> Person:
    sender = activity.from_property
    if sender is None:
        return Person(id="", name="unknown", aad_object_id=None)
    return Person(
        id=sender.id or "",
        name=sender.name or "unknown",
        aad_object_id=sender.aad_object_id,
        platform="teams",
    )


def _timestamp(activity: Activity) -> datetime:
    stamp = activity.timestamp
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _text(activity: Activity) -> str:
    text = activity.text or ""
    if not text and activity.attachments:
        for attachment in activity.attachments:
            if attachment.content_type == "text/html" and isinstance(attachment.content, str):
                text = attachment.content
                break
    return text


def _bot_names(activity: Activity) -> set[str]:
    names = {"Go Live Bridge"}
    if activity.recipient and activity.recipient.name:
        names.add(activity.recipient.name)
    return names


def _mentions_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        mentioned = (props or {}).get("mentioned") or {}
        if entity.type == "mention" and bot_id and mentioned.get("id") == bot_id:
            return True
    return False


def _thread_message(activity: Activity) -> dict:
    """Where a channel message sits and who sent it: the fields every thread event shares."""
    conversation_id = activity.conversation.id
    thread = ThreadRef("teams", channel_of(conversation_id), thread_root(conversation_id, activity.id or ""))
    return {"thread": thread, "message_id": activity.id or "", "author": _person(activity)}


def _message_text(activity: Activity) -> tuple[str, bool]:
    """Plain text without the bot's @mention, and whether there was one."""
    raw, mentioned = strip_bot_mention(_text(activity), _bot_names(activity))
    return html_to_text(raw), mentioned


def parse_channel_post(activity: Activity) -> ChannelPost:
    text, mentioned_in_text = _message_text(activity)
    sender = activity.from_property
    bot_id = activity.recipient.id if activity.recipient else None
    from_bot = bool(sender and (sender.role == "bot" or (bot_id and sender.id == bot_id)))
    return ChannelPost(
        **_thread_message(activity),
        text=text,
        posted_at=_timestamp(activity),
        mentions_bot=mentioned_in_text or _mentions_bot(activity),
        from_bot=from_bot,
    )


def parse_personal_message(activity: Activity) -> PersonalMessage:
    return PersonalMessage(
        platform="teams",
        conversation_id=activity.conversation.id,
        message_id=activity.id or "",
        author=_person(activity),
        text=_message_text(activity)[0],
        at=_timestamp(activity),
    )


def parse_edit(activity: Activity) -> MessageEdited:
    return MessageEdited(
        **_thread_message(activity), text=_message_text(activity)[0], at=_timestamp(activity)
    )


def parse_delete(activity: Activity) -> MessageDeleted:
    return MessageDeleted(**_thread_message(activity), at=_timestamp(activity))


def parse_card_action(activity: Activity) -> CardAction | None:
    value = activity.value if isinstance(activity.value, dict) else None
    action = (value or {}).get("action") or {}
    verb = action.get("verb")
    if not verb or action.get("type") != "Action.Execute":
        return None
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    return CardAction(
        platform="teams",
        conversation_id=activity.conversation.id if activity.conversation else "",
        card_message_id=activity.reply_to_id,
        verb=str(verb),
        data=data,
        actor=_person(activity),
        at=_timestamp(activity),
    )
