"""Turn Teams activities (``bot.teams.activity.Activity``) into the product's events: the only place
that reads Teams shapes."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from bot.ports import (
    CardAction,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    Person,
    PersonalMessage,
    ThreadRef,
)
from bot.teams.activity import Activity
from bot.teams.places import TeamsPlace

_MESSAGE_ID = re.compile(r";messageid=(\d+)")
_TAG = re.compile(r"<[^>]+>")
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BLOCK_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?>", re.IGNORECASE)

#: Longest display name kept (the column's size).
MAX_NAME = 200


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


def conversation_id(activity: Activity) -> str:
    return (activity.conversation.id if activity.conversation else None) or ""


def place_of(activity: Activity) -> TeamsPlace:
    data = activity.channel_data
    team = data.team if data else None
    recipient = activity.recipient
    return TeamsPlace(
        service_url=activity.service_url or "",
        tenant_id=data.tenant.id if data and data.tenant else None,
        team_thread_id=team.id if team else None,
        graph_team_id=team.aad_group_id if team else None,
        bot_id=recipient.id if recipient and recipient.id else "",
        bot_name=recipient.name if recipient else None,
    )


def is_channel_conversation(activity: Activity) -> bool:
    conversation = activity.conversation
    if conversation and conversation.conversation_type == "personal":
        return False
    data = activity.channel_data
    return bool(data and (data.channel or data.team)) or conversation_id(activity).startswith("19:")


def _person(activity: Activity) -> Person:
    sender = activity.from_
    if sender is None:
        return Person(id="", name="unknown", aad_object_id=None)
    return Person(
        id=sender.id or "",
        name=(sender.name or "unknown")[:MAX_NAME],
        aad_object_id=sender.aad_object_id,
        platform="teams",
    )


def timestamp_of(activity: Activity, now: datetime) -> datetime:
    """When the activity happened: its ``timestamp``, else ``now`` (the product's clock, which may be
    simulated), never the wall clock: a post's time starts its first-response timer."""
    stamp = activity.timestamp
    if stamp is None:
        return now
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


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
        mentioned = entity.mentioned
        if entity.type == "mention" and bot_id and mentioned is not None and mentioned.id == bot_id:
            return True
    return False


def _thread_message(activity: Activity) -> tuple[ThreadRef, str, Person]:
    """Where a channel message sits and who sent it: what every thread event shares."""
    conversation = conversation_id(activity)
    thread = ThreadRef("teams", channel_of(conversation), thread_root(conversation, activity.id or ""))
    return thread, activity.id or "", _person(activity)


def _message_text(activity: Activity) -> tuple[str, bool]:
    """Plain text without the bot's @mention, and whether there was one."""
    raw, mentioned = strip_bot_mention(_text(activity), _bot_names(activity))
    return html_to_text(raw), mentioned


def parse_channel_post(activity: Activity, now: datetime) -> ChannelPost:
    text, mentioned_in_text = _message_text(activity)
    sender = activity.from_
    bot_id = activity.recipient.id if activity.recipient else None
    from_bot = bool(sender and (sender.role == "bot" or (bot_id and sender.id == bot_id)))
    thread, message_id, author = _thread_message(activity)
    return ChannelPost(
        thread=thread,
        message_id=message_id,
        author=author,
        text=text,
        posted_at=timestamp_of(activity, now),
        mentions_bot=mentioned_in_text or _mentions_bot(activity),
        from_bot=from_bot,
    )


def parse_personal_message(activity: Activity, now: datetime) -> PersonalMessage:
    return PersonalMessage(
        platform="teams",
        conversation_id=conversation_id(activity),
        message_id=activity.id or "",
        author=_person(activity),
        text=_message_text(activity)[0],
        at=timestamp_of(activity, now),
    )


def parse_edit(activity: Activity, now: datetime) -> MessageEdited:
    thread, message_id, author = _thread_message(activity)
    return MessageEdited(thread, message_id, author, _message_text(activity)[0], timestamp_of(activity, now))


def parse_delete(activity: Activity, now: datetime) -> MessageDeleted:
    thread, message_id, author = _thread_message(activity)
    return MessageDeleted(thread, message_id, author, timestamp_of(activity, now))


def parse_card_action(activity: Activity, now: datetime) -> CardAction | None:
    value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
    raw_action = value.get("action")
    action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
    verb = action.get("verb")
    if not isinstance(verb, str) or not verb or action.get("type") != "Action.Execute":
        return None
    raw_data = action.get("data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    return CardAction(
        platform="teams",
        conversation_id=conversation_id(activity),
        card_message_id=activity.reply_to_id,
        verb=verb,
        data=data,
        actor=_person(activity),
        at=timestamp_of(activity, now),
    )
