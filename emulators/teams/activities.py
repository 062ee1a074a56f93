"""Builders for the activities Teams sends to a bot, as plain dicts (shapes as Microsoft documents them:
https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events
and conversation-messages)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from emulators.teams.config import Person, TeamsEmulatorConfig
from emulators.teams.model import iso_z, user_id_for

MENTION = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def account_for(person: Person) -> dict[str, Any]:
    return {"id": user_id_for(person.aad_object_id), "name": person.name, "aadObjectId": person.aad_object_id}


def bot_account(config: TeamsEmulatorConfig) -> dict[str, Any]:
    return {"id": config.bot_id, "name": config.bot_name}


def mention_entities(text: str, config: TeamsEmulatorConfig) -> list[dict[str, Any]]:
    """One mention entity per `<at>Name</at>` naming the bot or a person of the tenant."""
    by_name = {p.name.casefold(): p for p in config.people}
    entities: list[dict[str, Any]] = []
    for match in MENTION.finditer(text):
        name = html.unescape(match.group(1)).strip()
        if name.casefold() == config.bot_name.casefold():
            mentioned = bot_account(config)
        elif (person := by_name.get(name.casefold())) is not None:
            mentioned = {"id": user_id_for(person.aad_object_id), "name": person.name}
        else:
            continue
        entities.append({"type": "mention", "text": match.group(0), "mentioned": mentioned})
    return entities


def _envelope(config: TeamsEmulatorConfig, now: datetime) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": config.service_url,
        "timestamp": iso_z(now),
        "localTimestamp": now.isoformat(timespec="milliseconds"),
        "locale": "en-US",
        "recipient": bot_account(config),
    }


def channel_data(
    config: TeamsEmulatorConfig, team_thread_id: str, channel_id: str | None, **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant": {"id": config.tenant_id},
        "team": {"id": team_thread_id, "aadGroupId": config.team_id},
        "teamsTeamId": team_thread_id,  # deprecated, still sent by Teams
    }
    if channel_id is not None:
        data["channel"] = {"id": channel_id}
        data["teamsChannelId"] = channel_id
    data.update(extra)
    return data


def channel_conversation(config: TeamsEmulatorConfig, conversation_id: str) -> dict[str, Any]:
    return {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": config.tenant_id,
        "id": conversation_id,
    }


def personal_conversation(config: TeamsEmulatorConfig, conversation_id: str) -> dict[str, Any]:
    return {"conversationType": "personal", "tenantId": config.tenant_id, "id": conversation_id}


def message_activity(
    config: TeamsEmulatorConfig,
    now: datetime,
    *,
    activity_id: str,
    sender: dict[str, Any],
    text: str,
    conversation: dict[str, Any],
    data: dict[str, Any],
    reply_to_id: str | None = None,
) -> dict[str, Any]:
    activity = _envelope(config, now) | {
        "type": "message",
        "id": activity_id,
        "from": sender,
        "conversation": conversation,
        "channelData": data,
        "text": text,
        "textFormat": "plain",
        "attachments": [{"contentType": "text/html", "content": f"<div><div>{text}</div></div>"}],
        "entities": [
            *mention_entities(text, config),
            {"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"},
        ],
    }
    if reply_to_id:
        activity["replyToId"] = reply_to_id
    return activity


def message_event(
    config: TeamsEmulatorConfig,
    now: datetime,
    *,
    kind: str,
    activity_id: str,
    sender: dict[str, Any],
    text: str,
    conversation: dict[str, Any],
    data: dict[str, Any],
) -> dict[str, Any]:
    """`messageUpdate`/editMessage or `messageDelete`/softDeleteMessage for a post."""
    activity_type, event = {
        "edit": ("messageUpdate", "editMessage"),
        "delete": ("messageDelete", "softDeleteMessage"),
    }[kind]
    activity = _envelope(config, now) | {
        "type": activity_type,
        "id": activity_id,
        "from": sender,
        "conversation": conversation,
        "channelData": data | {"eventType": event},
    }
    if kind == "edit":
        activity |= {"text": text, "textFormat": "plain", "entities": mention_entities(text, config)}
    return activity


def invoke_action(
    config: TeamsEmulatorConfig,
    now: datetime,
    *,
    activity_id: str,
    sender: dict[str, Any],
    conversation: dict[str, Any],
    data: dict[str, Any],
    card_activity_id: str,
    verb: str,
    action_data: dict[str, Any],
) -> dict[str, Any]:
    return _envelope(config, now) | {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": activity_id,
        "from": sender,
        "conversation": conversation,
        "channelData": data | {"source": {"name": "message"}},
        "replyToId": card_activity_id,
        "value": {
            "action": {"type": "Action.Execute", "verb": verb, "data": action_data},
            "trigger": "manual",
        },
    }


def conversation_update(
    config: TeamsEmulatorConfig,
    now: datetime,
    *,
    activity_id: str,
    team_thread_id: str,
    sender: dict[str, Any],
    data: dict[str, Any],
    members_added: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    activity = _envelope(config, now) | {
        "type": "conversationUpdate",
        "id": activity_id,
        "from": sender,
        "conversation": channel_conversation(config, team_thread_id),
        "channelData": data,
    }
    if members_added is not None:
        activity["membersAdded"] = members_added
    return activity
