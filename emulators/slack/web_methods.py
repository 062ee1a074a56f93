"""The Web API methods the emulator serves: `METHODS[name](emulator, args) -> answer`.

Each method reads its arguments leniently, as Slack does (form fields arrive as strings, JSON
bodies as any type), and fails with `ApiError(<Slack error code>)`, which the HTTP layer answers as
HTTP 200 `{"ok": false, "error": ...}`. Errors and argument names follow Slack's method pages
(https://docs.slack.dev/reference/methods).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from emulators.slack import payloads as wire
from emulators.slack.blocks import normalized_blocks
from emulators.slack.errors import ApiError
from emulators.slack.model import TS_PATTERN, Channel, Message, ts_key
from emulators.slack.service import SlackEmulator

Args = dict[str, Any]
Method = Callable[[SlackEmulator, Args], dict[str, Any]]

MAX_TEXT = 40_000  # Slack truncates longer text
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")


# --- argument readers --------------------------------------------------------------------------


def _str(args: Args, name: str) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ApiError("invalid_arguments", f"invalid type for field: {name}")
    return str(value)


def _required(args: Args, name: str, error: str = "invalid_arguments") -> str:
    value = _str(args, name)
    if value is None:
        raise ApiError(error, f"missing required field: {name}")
    return value


def _bool(args: Args, name: str) -> bool:
    value = args.get(name)
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in ("true", "1"))


def _int(args: Args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if not isinstance(raw, bool) else -1
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_arguments", f"invalid value for field: {name}") from exc
    if value == 0:
        return default
    if value < low:
        raise ApiError("invalid_limit", f"{name} must be at least {low}")
    return min(value, high)


def _json_list(args: Args, name: str, error: str) -> list[Any] | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ApiError(error, f"{name} must be a JSON array") from exc
    if not isinstance(raw, list):
        raise ApiError(error, f"{name} must be a JSON array")
    return raw


def _ts(args: Args, name: str, error: str) -> str | None:
    value = _str(args, name)
    if value is not None and not TS_PATTERN.match(value):
        raise ApiError(error, f"invalid value for field: {name}")
    return value


# --- Block Kit -----------------------------------------------------------------------------------


def _blocks(args: Args) -> list[dict[str, Any]] | None:
    raw = _json_list(args, "blocks", "invalid_blocks_format")
    return None if raw is None else normalized_blocks(raw)


# --- shared lookups ------------------------------------------------------------------------------


def _channel(emu: SlackEmulator, args: Args, name: str = "channel") -> Channel:
    channel = emu.find_channel(_str(args, name))
    if channel is None:
        raise ApiError("channel_not_found")
    return channel


def _member_channel(emu: SlackEmulator, args: Args) -> Channel:
    channel = _channel(emu, args)
    if not emu.bot_in(channel):
        raise ApiError("not_in_channel")
    return channel


def _content(args: Args) -> tuple[str | None, list[dict[str, Any]] | None, list[Any] | None]:
    text = _str(args, "text")
    blocks = _blocks(args)
    attachments = _json_list(args, "attachments", "invalid_attachments")
    if attachments is not None and len(attachments) > 100:
        raise ApiError("too_many_attachments")
    if text is not None and len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    return text, blocks, attachments


def _cursor(args: Args, prefix: str) -> str | None:
    raw = _str(args, "cursor")
    if raw is None:
        return None
    try:
        decoded = base64.b64decode(raw.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError("invalid_cursor") from exc
    if not decoded.startswith(prefix):
        raise ApiError("invalid_cursor")
    return decoded[len(prefix) :]


def _next_cursor(prefix: str, value: str | None) -> dict[str, str]:
    return {"next_cursor": base64.b64encode((prefix + value).encode()).decode() if value else ""}


def _window(args: Args) -> Callable[[str], bool]:
    """The oldest / latest / inclusive filter of history and replies."""
    oldest = _ts(args, "oldest", "invalid_ts_oldest")
    latest = _ts(args, "latest", "invalid_ts_latest")
    inclusive = _bool(args, "inclusive")
    low = ts_key(oldest) if oldest else None
    high = ts_key(latest) if latest else None

    def inside(ts: str) -> bool:
        key = ts_key(ts)
        if low is not None and (key < low or (key == low and not inclusive)):
            return False
        return not (high is not None and (key > high or (key == high and not inclusive)))

    return inside


def _live(message: Message | None) -> Message | None:
    return None if message is None or message.deleted or message.placeholder else message


# --- methods ------------------------------------------------------------------------------------


def api_test(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    error = _str(args, "error")
    if error:
        raise ApiError(error, args={k: v for k, v in args.items() if isinstance(v, str)})
    return {"ok": True, "args": {k: v for k, v in args.items() if isinstance(v, str)}}


def auth_test(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    config = emu.config
    return {
        "ok": True,
        "url": f"https://{config.team_domain}.slack.com/",
        "team": config.team_name,
        "user": config.bot_name,
        "team_id": config.team_id,
        "user_id": config.bot_user_id,
        "bot_id": config.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _channel(emu, args)
    if channel.is_archived:
        raise ApiError("is_archived")
    if not emu.bot_in(channel):
        raise ApiError("not_in_channel")
    text, blocks, attachments = _content(args)
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    thread_ts = _ts(args, "thread_ts", "invalid_thread_ts")
    if thread_ts is not None:
        target = emu.state.message(channel.id, thread_ts)
        if target is not None and target.subtype in ("channel_join", "channel_leave"):
            raise ApiError("cannot_reply_to_message")
    message = emu.post_as_bot(
        channel, text or "", blocks, attachments, thread_ts, broadcast=_bool(args, "reply_broadcast")
    )
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": emu.message_json(message)}


def _bot_message(emu: SlackEmulator, args: Args, ts_field: str = "ts") -> tuple[Channel, Message]:
    channel = _channel(emu, args)
    ts = _str(args, ts_field)
    message = _live(emu.state.message(channel.id, ts)) if ts else None
    if message is None:
        raise ApiError("message_not_found")
    return channel, message


def chat_update(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel, message = _bot_message(emu, args)
    if message.bot_id != emu.config.bot_id:
        raise ApiError("cant_update_message")
    text, blocks, attachments = _content(args)
    if text is None and blocks is None and attachments is None:
        raise ApiError("no_text")
    emu.update_as_bot(channel, message, text, blocks, attachments)
    out = emu.message_json(message)
    return {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text, "message": out}


def chat_delete(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel, message = _bot_message(emu, args)
    if message.bot_id != emu.config.bot_id:
        raise ApiError("cant_delete_message")
    emu.delete_as_bot(channel, message)
    return {"ok": True, "channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _member_channel(emu, args)
    user = _str(args, "user")
    if user is None or emu.person(user) is None:
        raise ApiError("user_not_found")
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks, _attachments = _content(args)
    if not text and not blocks:
        raise ApiError("no_text")
    thread_ts = _ts(args, "thread_ts", "invalid_thread_ts")
    emu.respond(channel.id, user, None, thread_ts, {"text": text or "", "blocks": blocks})
    return {"ok": True, "message_ts": emu.state.ephemerals[-1].message_ts}


def chat_get_permalink(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel, message = _bot_message(emu, args, "message_ts")
    link = f"{emu.config.base_url}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": link}


def conversations_list(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    types = (_str(args, "types") or "public_channel").split(",")
    limit = _int(args, "limit", 100, 1, 1000)
    start = _cursor(args, "offset:")
    offset = int(start) if start and start.isdigit() else 0
    if start is not None and not start.isdigit():
        raise ApiError("invalid_cursor")
    channels = sorted((c for c in emu.state.channels.values() if not c.is_im), key=lambda c: c.created)
    if "public_channel" not in [t.strip() for t in types]:
        channels = []
    if _bool(args, "exclude_archived"):
        channels = [c for c in channels if not c.is_archived]
    page = channels[offset : offset + limit]
    more = offset + limit < len(channels)
    return {
        "ok": True,
        "channels": [wire.channel_json(emu.config, c, bot_member=emu.bot_in(c)) for c in page],
        "response_metadata": _next_cursor("offset:", str(offset + limit) if more else None),
    }


def conversations_info(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _channel(emu, args)
    return {"ok": True, "channel": wire.channel_json(emu.config, channel, bot_member=emu.bot_in(channel))}


def conversations_join(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _channel(emu, args)
    if channel.is_archived:
        raise ApiError("is_archived")
    if emu.bot_in(channel):
        return {
            "ok": True,
            "channel": wire.channel_json(emu.config, channel, bot_member=True),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    emu.bot_join(channel)
    return {"ok": True, "channel": wire.channel_json(emu.config, channel, bot_member=True)}


def conversations_open(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    """A direct message with one person (the bot's side of it); the same one each time."""
    users = [u.strip() for u in (_str(args, "users") or "").split(",") if u.strip()]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        raise ApiError("not_supported", "the emulator opens direct messages with one person only")
    person = emu.person(users[0])
    if person is None:
        raise ApiError("user_not_found")
    channel = emu.open_direct(person)
    return {"ok": True, "channel": {"id": channel.id}}


def conversations_create(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    name = _str(args, "name")
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > 80:
        raise ApiError("invalid_name_maxlength")
    if not _CHANNEL_NAME.match(name):
        raise ApiError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise ApiError("invalid_name_punctuation")
    if emu.state.channel_by_name(name) is not None:
        raise ApiError("name_taken")
    channel = emu.create_channel(name, emu.config.bot_user_id, bot_member=True)
    emu.spawn_event(
        channel,
        wire.member_joined_event(
            emu.config, emu.config.bot_user_id, channel.id, emu.state.next_ts(emu.now())
        ),
    )
    return {"ok": True, "channel": wire.channel_json(emu.config, channel, bot_member=True)}


def conversations_archive(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _channel(emu, args)
    if channel.is_archived:
        raise ApiError("already_archived")
    if not emu.bot_in(channel):
        raise ApiError("not_in_channel")
    channel.is_archived = True
    emu.changed()
    return {"ok": True}


def conversations_history(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _member_channel(emu, args)
    limit = _int(args, "limit", 100, 1, 999)
    before = _cursor(args, "next_ts:")
    inside = _window(args)
    if before is not None and not TS_PATTERN.match(before):
        raise ApiError("invalid_cursor")
    visible = [
        m
        for m in emu.state.messages.values()
        if m.channel == channel.id
        and _live(m) is not None
        and (not m.is_reply or m.subtype == "thread_broadcast")
        and inside(m.ts)
    ]
    visible.sort(key=lambda m: ts_key(m.ts), reverse=True)
    if before is not None:
        visible = [m for m in visible if ts_key(m.ts) <= ts_key(before)]
    page, rest = visible[:limit], visible[limit:]
    return {
        "ok": True,
        "messages": [emu.message_json(m) for m in page],
        "has_more": bool(rest),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": _next_cursor("next_ts:", rest[0].ts if rest else None),
    }


def conversations_replies(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    channel = _member_channel(emu, args)
    ts = _ts(args, "ts", "invalid_arguments")
    if ts is None:
        raise ApiError("invalid_arguments", "missing required field: ts")
    limit = _int(args, "limit", 1000, 1, 1000)
    after = _cursor(args, "next_ts:")
    inside = _window(args)
    if after is not None and not TS_PATTERN.match(after):
        raise ApiError("invalid_cursor")
    found = emu.state.message(channel.id, ts)
    root = (
        emu.state.message(channel.id, found.thread_ts)
        if found and found.is_reply and found.thread_ts
        else found
    )
    if _live(root) is None or root is None:
        raise ApiError("thread_not_found")
    thread = [root] if after is None else []
    thread += [
        r
        for r in emu.state.replies(channel.id, root.ts)
        if not r.deleted and inside(r.ts) and (after is None or ts_key(r.ts) >= ts_key(after))
    ]
    page, rest = thread[:limit], thread[limit:]
    return {
        "ok": True,
        "messages": [emu.message_json(m) for m in page],
        "has_more": bool(rest),
        "response_metadata": _next_cursor("next_ts:", rest[0].ts if rest else None),
    }


def users_info(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    user = _str(args, "user")
    if user == emu.config.bot_user_id:
        return {"ok": True, "user": wire.bot_user_json(emu.config)}
    person = emu.person(user or "")
    if person is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": wire.user_json(emu.config, person)}


def users_lookup_by_email(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    email = _required(args, "email")
    person = emu.person_by_email(email)
    if person is None:
        raise ApiError("users_not_found")
    return {"ok": True, "user": wire.user_json(emu.config, person)}


def views_open(emu: SlackEmulator, args: Args) -> dict[str, Any]:
    trigger_id = _required(args, "trigger_id")
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            raise ApiError("invalid_arguments", "view must be a JSON object") from exc
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise ApiError("invalid_arguments", "view must be an object with type modal")
    return {"ok": True, "view": emu.record_view(trigger_id, view)}


METHODS: dict[str, Method] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.list": conversations_list,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.open": conversations_open,
    "conversations.create": conversations_create,
    "conversations.archive": conversations_archive,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "views.open": views_open,
}
NO_AUTH = frozenset({"api.test"})
