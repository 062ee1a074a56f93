"""Slack's wire shapes, built from the emulator's model: Web API objects and what Slack POSTs.

Pure functions (config and model in, JSON-able dicts out), so the shapes can be read in one place
and checked against the recorded fixtures in tests/fixtures/slack/.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from emulators.slack.config import Person, SlackEmulatorConfig
from emulators.slack.model import Channel, Message

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def new_event_id() -> str:
    return "Ev" + secrets.token_hex(5).upper()


def new_trigger_id() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"


def event_context(config: SlackEmulatorConfig, event_type: str, channel: str) -> str:
    """An opaque `event_context` in the form Slack sends today ("4-" + base64 JSON)."""
    raw = json.dumps(
        {"et": event_type, "tid": config.team_id, "aid": config.app_id, "cid": channel}, separators=(",", ":")
    )
    return "4-" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The rich_text block a Slack client attaches to a typed message (mentions as user elements)."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = base64.b32encode(uuid.uuid4().bytes).decode()[:5]
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def mentioned_users(text: str) -> list[str]:
    return _MENTION.findall(text)


def bot_profile(config: SlackEmulatorConfig) -> dict[str, Any]:
    icons = {
        "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
        "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
        "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
    }
    return {
        "id": config.bot_id,
        "deleted": False,
        "name": config.bot_name,
        "updated": 1650000000,
        "app_id": config.app_id,
        "user_id": config.bot_user_id,
        "icons": icons,
        "team_id": config.team_id,
    }


def message_json(
    config: SlackEmulatorConfig,
    message: Message,
    *,
    parent_user_id: str | None = None,
    thread: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message as the Web API returns it (chat.postMessage `message`, history, replies)."""
    out: dict[str, Any] = {}
    if message.client_msg_id:
        out["client_msg_id"] = message.client_msg_id
    out["type"] = "message"
    if message.subtype:
        out["subtype"] = message.subtype
    out["text"] = message.text
    if message.user:
        out["user"] = message.user
    out["ts"] = message.ts
    if message.bot_id:
        out["bot_id"] = message.bot_id
        if message.app_id:
            out["app_id"] = message.app_id
        if message.username:
            out["username"] = message.username
    if message.subtype != "bot_message":
        out["team"] = config.team_id
    if message.bot_id == config.bot_id:
        out["bot_profile"] = bot_profile(config)
    if message.edited:
        out["edited"] = dict(message.edited)
    if message.blocks is not None:
        out["blocks"] = message.blocks
    if message.attachments:
        out["attachments"] = message.attachments
    if message.is_reply:
        out["thread_ts"] = message.thread_ts
        if parent_user_id:
            out["parent_user_id"] = parent_user_id
    if thread:
        out.update(thread)
    return out


def thread_metadata(root: Message, replies: list[Message]) -> dict[str, Any]:
    """The keys a thread's parent carries once it has replies."""
    live = [r for r in replies if not r.deleted]
    if not live:
        return {}
    users: list[str] = []
    for reply in live:
        author = reply.user or reply.bot_id or ""
        if author and author not in users:
            users.append(author)
    return {
        "thread_ts": root.ts,
        "reply_count": len(live),
        "reply_users_count": len(users),
        "latest_reply": live[-1].ts,
        "reply_users": users[:5],
        "is_locked": False,
        "subscribed": False,
    }


def channel_json(config: SlackEmulatorConfig, channel: Channel, *, bot_member: bool) -> dict[str, Any]:
    """A conversation object as conversations.list / info / join return it."""
    topic = {"value": channel.topic, "creator": channel.creator if channel.topic else "", "last_set": 0}
    purpose = {"value": channel.purpose, "creator": channel.creator if channel.purpose else "", "last_set": 0}
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_im,
        "is_group": False,
        "is_im": channel.is_im,
        "is_mpim": False,
        "is_private": False,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": False,
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": config.team_id,
        "parent_conversation": None,
        "creator": channel.creator,
        "is_ext_shared": False,
        "shared_team_ids": [config.team_id],
        "pending_connected_team_ids": [],
        "is_member": bot_member,
        "topic": topic,
        "purpose": purpose,
        "previous_names": [],
        "num_members": len(channel.members) + (1 if bot_member else 0),
    }


def user_json(config: SlackEmulatorConfig, person: Person) -> dict[str, Any]:
    """A user object as users.info / users.lookupByEmail return it (with `profile.email`)."""
    first, _, last = person.name.partition(" ")
    return {
        "id": person.user_id,
        "team_id": config.team_id,
        "name": person.handle,
        "deleted": False,
        "color": "9f69e7",
        "real_name": person.name,
        "tz": person.tz,
        "tz_label": person.tz,
        "tz_offset": 0,
        "profile": {
            "title": person.role,
            "phone": "",
            "skype": "",
            "real_name": person.name,
            "real_name_normalized": person.name,
            "display_name": person.name,
            "display_name_normalized": person.name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": person.user_id[-12:].lower(),
            "first_name": first,
            "last_name": last,
            "email": person.email,
            **{
                f"image_{size}": f"https://a.slack-edge.com/80588/img/avatars/ava_0001-{size}.png"
                for size in ("original", "24", "32", "48", "72", "192", "512")
            },
            "team": config.team_id,
        },
        "is_admin": person.role == "manager",
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 1650000000,
        "is_email_confirmed": True,
        "has_2fa": False,
        "who_can_share_contact_card": "EVERYONE",
    }


def bot_user_json(config: SlackEmulatorConfig) -> dict[str, Any]:
    return {
        "id": config.bot_user_id,
        "team_id": config.team_id,
        "name": config.bot_name,
        "deleted": False,
        "real_name": config.bot_name,
        "profile": {
            "real_name": config.bot_name,
            "display_name": "",
            "bot_id": config.bot_id,
            "api_app_id": config.app_id,
            "always_active": False,
            "team": config.team_id,
        },
        "is_admin": False,
        "is_owner": False,
        "is_bot": True,
        "is_app_user": False,
        "updated": 1650000000,
    }


# --- what Slack sends to the app -------------------------------------------------------------------


def envelope(config: SlackEmulatorConfig, event: dict[str, Any], event_time: int) -> dict[str, Any]:
    """The event_callback wrapper around one inner event."""
    channel = str(event.get("channel") or "")
    return {
        "token": config.verification_token,
        "team_id": config.team_id,
        "context_team_id": config.team_id,
        "context_enterprise_id": None,
        "api_app_id": config.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": new_event_id(),
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": config.team_id,
                "user_id": config.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": event_context(config, str(event.get("type")), channel),
    }


def message_event(
    config: SlackEmulatorConfig, message: Message, parent_user_id: str | None
) -> dict[str, Any]:
    """The inner `message` event for a new post (a person's, or the bot's own echoed back)."""
    event = message_json(config, message, parent_user_id=parent_user_id)
    if message.bot_id is None and message.subtype is None:
        event["user_team"] = config.team_id
        event["source_team"] = config.team_id
    event["channel"] = message.channel
    event["event_ts"] = message.ts
    event["channel_type"] = "channel"
    return event


def app_mention_event(config: SlackEmulatorConfig, message: Message) -> dict[str, Any]:
    event: dict[str, Any] = {
        "client_msg_id": message.client_msg_id,
        "type": "app_mention",
        "text": message.text,
        "user": message.user,
        "ts": message.ts,
        "blocks": message.blocks,
        "team": config.team_id,
        "channel": message.channel,
        "event_ts": message.ts,
    }
    if message.is_reply:
        event["thread_ts"] = message.thread_ts
    return event


def message_changed_event(
    config: SlackEmulatorConfig,
    current: dict[str, Any],
    previous: dict[str, Any],
    channel: str,
    event_ts: str,
) -> dict[str, Any]:
    """`message_changed`: the top-level ts is the edit's, `message.ts` the original message id."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": current,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": "channel",
    }


def message_deleted_event(
    previous: dict[str, Any], channel: str, deleted_ts: str, event_ts: str
) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "deleted_ts": deleted_ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": "channel",
    }


def member_joined_event(
    config: SlackEmulatorConfig, user: str, channel: str, event_ts: str
) -> dict[str, Any]:
    return {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": "C",
        "team": config.team_id,
        "event_ts": event_ts,
    }


def channel_join_event(user: str, channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "channel_join",
        "ts": ts,
        "user": user,
        "text": f"<@{user}> has joined the channel",
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }


def url_verification(config: SlackEmulatorConfig, challenge: str) -> dict[str, Any]:
    return {"token": config.verification_token, "challenge": challenge, "type": "url_verification"}


def action_user(config: SlackEmulatorConfig, person: Person) -> dict[str, Any]:
    return {"id": person.user_id, "username": person.handle, "name": person.handle, "team_id": config.team_id}


def block_actions_payload(
    config: SlackEmulatorConfig,
    *,
    person: Person,
    channel: Channel,
    message: dict[str, Any],
    action: dict[str, Any],
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A `block_actions` interaction on a message the bot posted."""
    return {
        "type": "block_actions",
        "user": action_user(config, person),
        "api_app_id": config.app_id,
        "token": config.verification_token,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel.id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": config.team_id, "domain": config.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": channel.name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def form_payload(payload: dict[str, Any]) -> bytes:
    """Interactivity body: one form field `payload` holding the JSON."""
    return ("payload=" + quote(json.dumps(payload, separators=(",", ":")), safe="")).encode()


def slash_command_form(
    config: SlackEmulatorConfig,
    *,
    person: Person,
    channel: Channel,
    command: str,
    text: str,
    trigger_id: str,
    response_url: str,
) -> bytes:
    """A slash command body: plain form fields, in the order Slack sends them."""
    fields = [
        ("token", config.verification_token),
        ("team_id", config.team_id),
        ("team_domain", config.team_domain),
        ("channel_id", channel.id),
        ("channel_name", channel.name),
        ("user_id", person.user_id),
        ("user_name", person.handle),
        ("command", command),
        ("text", text),
        ("api_app_id", config.app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urlencode(fields).encode()
