"""The emulator's behaviour behind its HTTP faces (Web API, driver API, console, response URLs).

Slack's side of the wire: it keeps the workspace, does what people do (post, reply, edit, delete,
press buttons, run /golive) and what the bot asks through the Web API (see `web_methods`), and
builds the events Slack would send, which `delivery.BotLink` signs and POSTs to the bot. A post is
kept whether or not the bot heard it, as people's posts exist in Slack either way. Errors are the
tree in `emulators.slack.errors`. Nothing here logs message text.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import secrets
import uuid
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from emulators.slack import payloads as wire
from emulators.slack.blocks import find_action
from emulators.slack.config import Person, SlackEmulatorConfig, slack_id
from emulators.slack.delivery import FORM, JSON, BotLink, Delivery, Signing
from emulators.slack.errors import DriverError
from emulators.slack.faults import FaultState
from emulators.slack.model import TS_PATTERN, Channel, Ephemeral, Message, WorkspaceState


class SlackEmulator:
    """One emulated workspace with one installed app (the bot) and the wire to it."""

    def __init__(self, config: SlackEmulatorConfig) -> None:
        self.config = config
        state_dir = Path(config.state_dir) if config.state_dir else None
        self._state_path: Path | None = None
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._state_path = state_dir / "slack_emulator.json"
        if self._state_path is not None and self._state_path.exists():
            self.state = WorkspaceState.load(self._state_path)
        else:
            self.state = self._seeded_state()
        self.faults = FaultState()
        self.calls: collections.deque[dict[str, Any]] = collections.deque(maxlen=5000)
        self.triggers: dict[str, float] = {}
        self.response_urls: dict[str, dict[str, Any]] = {}
        self.views: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.link = BotLink(config, self.spawn)

    def _seeded_state(self) -> WorkspaceState:
        state = WorkspaceState(path=self._state_path)
        created = int(self.config.now().timestamp())
        creator = next(
            (p.user_id for p in self.config.people if p.role == "manager"), self.config.bot_user_id
        )
        for name in self.config.channels:
            members = [p.user_id for p in self.config.people]
            if self.config.bot_is_member:
                members.append(self.config.bot_user_id)
            channel_id = self.config.channel_id(name)
            state.channels[channel_id] = Channel(channel_id, name, created, creator, members)
        return state

    # --- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.link.start()

    async def stop(self) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.link.stop()
        self.state.save()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a delivery without making the Web API caller wait for the bot."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, limit_s: float = 5.0) -> None:
        """Wait (at most `limit_s`) for background deliveries; tests use it instead of sleeping."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=deadline - loop.time())

    def reset(self) -> None:
        self.state = self._seeded_state()
        self.faults.clear()
        self.link.clear()
        self.calls.clear()
        self.triggers.clear()
        self.response_urls.clear()
        self.views.clear()
        self.changed()

    def now(self) -> datetime:
        return self.config.now()

    def changed(self) -> None:
        self.state.save()

    # --- people and channels ---------------------------------------------------------------------

    def person(self, user_id: str) -> Person | None:
        return next((p for p in self.config.people if p.user_id == user_id), None)

    def person_by_email(self, email: str) -> Person | None:
        wanted = email.strip().casefold()
        return next((p for p in self.config.people if p.email.casefold() == wanted), None)

    def driver_person(self, raw: Any, default_role: str | None = None) -> Person:
        """A person named by a driver call: Slack user id, email or display name."""
        if raw is None or raw == "":
            person = next((p for p in self.config.people if p.role == default_role), None)
            if person is None:
                raise DriverError(400, "'user' is required (a user id from /_emulator/people)")
            return person
        if not isinstance(raw, str):
            raise DriverError(400, "'user' must be a Slack user id, an email or a name")
        for person in self.config.people:
            if raw in (person.user_id, person.email) or raw.casefold() == person.name.casefold():
                return person
        raise DriverError(400, f"unknown user {raw!r}; see GET /_emulator/people")

    def people_view(self) -> list[dict[str, Any]]:
        now = self.now()
        return [
            {
                "id": p.user_id,
                "name": p.name,
                "email": p.email,
                "role": p.role,
                "duty": self.config.duty_for(p.email, now) if self.config.duty_for else None,
            }
            for p in self.config.people
        ]

    def display_name(self, user_id: str | None) -> str:
        if user_id == self.config.bot_user_id:
            return self.config.bot_name
        person = self.person(user_id or "")
        return person.name if person else (user_id or "")

    def find_channel(self, value: Any) -> Channel | None:
        if not isinstance(value, str) or not value:
            return None
        return self.state.channels.get(value) or self.state.channel_by_name(value)

    def bot_in(self, channel: Channel) -> bool:
        return self.config.bot_user_id in channel.members

    def driver_channel(self, channel_id: str) -> Channel:
        channel = self.find_channel(channel_id)
        if channel is None:
            raise DriverError(404, f"no channel {channel_id}")
        return channel

    def parent_user(self, channel: str, thread_ts: str | None) -> str | None:
        if not thread_ts:
            return None
        root = self.state.message(channel, thread_ts)
        return root.user if root is not None and not root.placeholder else None

    def message_view(self, message: Message) -> dict[str, Any]:
        """The driver API shape of one message (edits applied, deletions marked)."""
        out: dict[str, Any] = {
            "ts": message.ts,
            "user": message.user,
            "name": self.display_name(message.user),
        }
        if message.bot_id:
            out["bot_id"] = message.bot_id
        if message.subtype:
            out["subtype"] = message.subtype
        out["text"] = "" if message.deleted else message.text
        if message.blocks is not None and not message.deleted:
            out["blocks"] = message.blocks
        if message.is_reply:
            out["thread_ts"] = message.thread_ts
        if message.edited:
            out["edited"] = dict(message.edited)
        if message.deleted:
            out["deleted"] = True
        if message.placeholder:
            out["missing"] = True
        return out

    def channels_view(self) -> dict[str, Any]:
        return {
            "teamId": self.config.team_id,
            "teamName": self.config.team_name,
            "channels": [
                {
                    "id": c.id,
                    "name": c.name,
                    "is_archived": c.is_archived,
                    "is_member": self.bot_in(c),
                    "is_im": c.is_im,
                }
                for c in self.state.channels.values()
            ],
        }

    def messages_view(self, channel_id: str) -> list[dict[str, Any]]:
        channel = self.driver_channel(channel_id)
        return [
            self.message_view(root)
            | {"replies": [self.message_view(r) for r in self.state.replies(channel.id, root.ts)]}
            for root in self.state.roots(channel.id)
        ]

    def ephemeral_view(self, user: str | None, channel: str | None) -> list[dict[str, Any]]:
        return [
            {
                "channel": e.channel,
                "user": e.user,
                "message_ts": e.message_ts,
                "text": e.text,
                "blocks": e.blocks,
                "thread_ts": e.thread_ts,
            }
            for e in self.state.ephemerals
            if (user is None or e.user == user) and (channel is None or e.channel == channel)
        ]

    # --- delivery to the bot ---------------------------------------------------------------------

    async def send_event(self, event: dict[str, Any], signing: Signing = Signing()) -> tuple[str, Delivery]:
        """Wrap `event` in event_callback (stamped with the simulated clock) and deliver it."""
        body = wire.envelope(self.config, event, int(self.now().timestamp()))
        return await self.link.send_event(body, signing)

    def spawn_event(self, channel: Channel, event: dict[str, Any]) -> None:
        """Best-effort delivery of an event the Web API caused (Slack delivers these on its own time)."""
        if self.bot_in(channel):
            self.spawn(self._quiet(self.send_event(event)))

    async def _quiet(self, coro: Coroutine[Any, Any, Any]) -> None:
        with contextlib.suppress(Exception):
            await coro

    async def send_url_verification(self, signing: Signing = Signing()) -> tuple[str, Delivery]:
        challenge = secrets.token_urlsafe(32)
        raw = json.dumps(wire.url_verification(self.config, challenge), separators=(",", ":")).encode()
        result = await self.link.post(raw, JSON, signing)
        self.link.record("url_verification", "url_verification", result)
        return challenge, result

    # --- people's side (driver) ------------------------------------------------------------------

    def _thread_root(self, channel: Channel, thread_ts: str) -> str:
        """The root ts a reply goes under; an unknown root becomes a placeholder, as Slack accepts it."""
        root = self.state.message(channel.id, thread_ts)
        if root is None:
            self.state.add(Message(channel.id, thread_ts, "", placeholder=True))
            return thread_ts
        return root.thread_ts if root.is_reply and root.thread_ts else root.ts

    async def post_as_person(
        self, channel_id: str, person: Person, text: str, thread_ts: str | None, signing: Signing
    ) -> dict[str, Any]:
        channel = self.driver_channel(channel_id)
        if channel.is_archived:
            raise DriverError(409, f"channel {channel.id} is archived")
        if thread_ts is not None and not TS_PATTERN.match(thread_ts):
            raise DriverError(400, "'thread_ts' must look like 1650000000.000100")
        root_ts = self._thread_root(channel, thread_ts) if thread_ts else None
        message = Message(
            channel.id,
            self.state.next_ts(self.now()),
            text,
            user=person.user_id,
            thread_ts=root_ts,
            blocks=wire.rich_text_blocks(text),
            client_msg_id=str(uuid.uuid4()),
        )
        self.state.add(message)
        self.changed()
        out: dict[str, Any] = {"ts": message.ts, "status": None, "delivered": False}
        if root_ts:
            out["thread_ts"] = root_ts
        if not self.bot_in(channel):
            out["reason"] = "the bot is not a member of this channel, so Slack sends it no events"
            return out
        parent = self.parent_user(channel.id, root_ts)
        event = wire.message_event(self.config, message, parent)
        if channel.is_im:
            event["channel_type"] = "im"
        event_id, result = await self.send_event(event, signing)
        out |= {"status": result.status, "delivered": True, "event_id": event_id}
        if self.config.bot_user_id in wire.mentioned_users(text):
            mention_id, mention = await self.send_event(wire.app_mention_event(self.config, message), signing)
            out |= {"app_mention_event_id": mention_id, "app_mention_status": mention.status}
        return out

    def _live_message(self, channel: Channel, ts: str) -> Message:
        message = self.state.message(channel.id, ts)
        if message is None or message.deleted or message.placeholder:
            raise DriverError(404, f"no message {ts} in channel {channel.id}")
        return message

    def message_json(self, message: Message) -> dict[str, Any]:
        thread = None
        if not message.is_reply:
            thread = wire.thread_metadata(message, self.state.replies(message.channel, message.ts))
        parent = self.parent_user(message.channel, message.thread_ts) if message.is_reply else None
        return wire.message_json(self.config, message, parent_user_id=parent, thread=thread)

    def _edited_stamp(self, user: str | None) -> dict[str, str]:
        return {"user": user or self.config.bot_user_id, "ts": f"{int(self.now().timestamp())}.000000"}

    async def edit_as_person(self, channel_id: str, ts: str, text: str, signing: Signing) -> dict[str, Any]:
        channel = self.driver_channel(channel_id)
        message = self._live_message(channel, ts)
        previous = self.message_json(message)
        message.text = text
        if message.bot_id is None:
            message.blocks = wire.rich_text_blocks(text)
        message.edited = self._edited_stamp(message.user)
        self.changed()
        return await self._deliver_change(channel, message, previous, signing)

    async def _deliver_change(
        self, channel: Channel, message: Message, previous: dict[str, Any], signing: Signing
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"ts": message.ts, "status": None, "delivered": False}
        if not self.bot_in(channel):
            return out
        current = self.message_json(message)
        current |= {"source_team": self.config.team_id, "user_team": self.config.team_id}
        event = wire.message_changed_event(
            self.config, current, previous, channel.id, self.state.next_ts(self.now())
        )
        event_id, result = await self.send_event(event, signing)
        return out | {"status": result.status, "delivered": True, "event_id": event_id}

    async def delete_as_person(self, channel_id: str, ts: str, signing: Signing) -> dict[str, Any]:
        channel = self.driver_channel(channel_id)
        message = self._live_message(channel, ts)
        previous = self.message_json(message)
        message.deleted = True
        self.changed()
        out: dict[str, Any] = {"ts": message.ts, "status": None, "delivered": False}
        if not self.bot_in(channel):
            return out
        event = wire.message_deleted_event(previous, channel.id, message.ts, self.state.next_ts(self.now()))
        event_id, result = await self.send_event(event, signing)
        return out | {"status": result.status, "delivered": True, "event_id": event_id}

    async def add_member(self, channel_id: str, person: Person, signing: Signing) -> dict[str, Any]:
        """A person joins a channel: channel_join message plus member_joined_channel, as Slack sends."""
        channel = self.driver_channel(channel_id)
        if person.user_id in channel.members:
            return {"status": None, "delivered": False, "already_in_channel": True}
        channel.members.append(person.user_id)
        ts = self.state.next_ts(self.now())
        self.state.add(
            Message(
                channel.id,
                ts,
                f"<@{person.user_id}> has joined the channel",
                person.user_id,
                subtype="channel_join",
            )
        )
        self.changed()
        if not self.bot_in(channel):
            return {"status": None, "delivered": False}
        _id, joined = await self.send_event(
            wire.member_joined_event(self.config, person.user_id, channel.id, ts), signing
        )
        event_id, result = await self.send_event(
            wire.channel_join_event(person.user_id, channel.id, ts), signing
        )
        return {
            "status": result.status,
            "delivered": True,
            "event_id": event_id,
            "member_joined_status": joined.status,
        }

    def open_direct(self, person: Person) -> Channel:
        """The direct message channel between `person` and the bot, made on first use."""
        channel_id = slack_id("D", f"{self.config.team_id}:im:{person.user_id}")
        channel = self.state.channels.get(channel_id)
        if channel is None:
            members = [person.user_id, self.config.bot_user_id]
            created = int(self.now().timestamp())
            channel = Channel(channel_id, f"dm-{person.handle}", created, person.user_id, members, is_im=True)
            self.state.channels[channel.id] = channel
            self.changed()
        return channel

    def create_channel(self, name: str, creator: str, *, bot_member: bool) -> Channel:
        channel_id = self.config.channel_id(name)
        members = [p.user_id for p in self.config.people]
        if bot_member:
            members.append(self.config.bot_user_id)
        channel = Channel(channel_id, name, int(self.now().timestamp()), creator, members)
        self.state.channels[channel.id] = channel
        self.changed()
        return channel

    # --- interactivity ---------------------------------------------------------------------------

    def _issue_trigger(self) -> str:
        trigger_id = wire.new_trigger_id()
        self.triggers[trigger_id] = asyncio.get_running_loop().time()
        return trigger_id

    def _issue_response_url(self, **target: Any) -> str:
        token = secrets.token_urlsafe(18)
        self.response_urls[token] = target
        return f"{self.config.base_url}_emulator/response_url/{token}"

    async def press(
        self,
        channel_id: str,
        message_ts: str,
        action_id: str,
        person: Person,
        value: str | None,
        signing: Signing,
    ) -> tuple[int, Any]:
        """Press a button (or pick a select option) on a message, as `person`."""
        channel = self.driver_channel(channel_id)
        message = self._live_message(channel, message_ts)
        action = find_action(message.blocks or [], action_id, value, self.now().timestamp())
        root = message.thread_ts if message.is_reply else None
        payload = wire.block_actions_payload(
            self.config,
            person=person,
            channel=channel,
            message=self.message_json(message),
            action=action,
            trigger_id=self._issue_trigger(),
            response_url=self._issue_response_url(
                channel=channel.id, user=person.user_id, message_ts=message.ts, thread_ts=root
            ),
        )
        result = await self.link.post(wire.form_payload(payload), FORM, signing)
        self.link.record("interactivity", "block_actions", result, action_id=action_id)
        return result.status, result.body

    async def slash(
        self, channel_id: str, person: Person, text: str, command: str, signing: Signing
    ) -> tuple[int, Any]:
        channel = self.driver_channel(channel_id)
        body = wire.slash_command_form(
            self.config,
            person=person,
            channel=channel,
            command=command,
            text=text,
            trigger_id=self._issue_trigger(),
            response_url=self._issue_response_url(channel=channel.id, user=person.user_id),
        )
        result = await self.link.post(body, FORM, signing)
        self.link.record("slash_command", command, result)
        if (
            result.ok
            and isinstance(result.body, dict)
            and (result.body.get("text") or result.body.get("blocks"))
        ):
            self.respond(channel.id, person.user_id, None, None, result.body)
        return result.status, result.body

    def respond(
        self,
        channel_id: str,
        user: str,
        message_ts: str | None,
        thread_ts: str | None,
        answer: dict[str, Any],
    ) -> None:
        """Apply a response_url (or slash command) answer: replace, delete, post or show ephemerally."""
        channel = self.state.channels[channel_id]
        text = answer.get("text") if isinstance(answer.get("text"), str) else ""
        blocks = answer.get("blocks") if isinstance(answer.get("blocks"), list) else None
        original = self.state.message(channel_id, message_ts) if message_ts else None
        if original is not None and _truthy(answer.get("delete_original")):
            self.delete_as_bot(channel, original)
            return
        if original is not None and _truthy(answer.get("replace_original")):
            self.update_as_bot(channel, original, text, blocks, None)
            return
        thread = answer.get("thread_ts") if isinstance(answer.get("thread_ts"), str) else thread_ts
        if answer.get("response_type") == "in_channel":
            self.post_as_bot(
                channel, text or "", blocks, None, thread if thread and TS_PATTERN.match(thread) else None
            )
            return
        self.state.ephemerals.append(
            Ephemeral(channel_id, user, self.state.next_ts(self.now()), text or "", blocks, thread)
        )
        self.changed()

    # --- the bot's side (used by web_methods) ----------------------------------------------------

    def post_as_bot(
        self,
        channel: Channel,
        text: str,
        blocks: list[dict[str, Any]] | None,
        attachments: list[dict[str, Any]] | None,
        thread_ts: str | None,
        *,
        broadcast: bool = False,
    ) -> Message:
        root_ts = self._thread_root(channel, thread_ts) if thread_ts else None
        message = Message(
            channel.id,
            self.state.next_ts(self.now()),
            text,
            user=self.config.bot_user_id,
            thread_ts=root_ts,
            blocks=blocks,
            attachments=attachments,
            bot_id=self.config.bot_id,
            app_id=self.config.app_id,
            subtype="thread_broadcast" if broadcast and root_ts else None,
        )
        self.state.add(message)
        self.changed()
        if self.config.echo_bot_messages:
            parent = self.parent_user(channel.id, root_ts)
            self.spawn_event(channel, wire.message_event(self.config, message, parent))
        return message

    def update_as_bot(
        self,
        channel: Channel,
        message: Message,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        attachments: list[dict[str, Any]] | None,
    ) -> None:
        previous = self.message_json(message)
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if attachments is not None:
            message.attachments = attachments
        message.edited = self._edited_stamp(self.config.bot_user_id)
        self.changed()
        if self.config.echo_bot_messages:
            event = wire.message_changed_event(
                self.config, self.message_json(message), previous, channel.id, self.state.next_ts(self.now())
            )
            self.spawn_event(channel, event)

    def delete_as_bot(self, channel: Channel, message: Message) -> None:
        previous = self.message_json(message)
        message.deleted = True
        self.changed()
        if self.config.echo_bot_messages:
            event = wire.message_deleted_event(
                previous, channel.id, message.ts, self.state.next_ts(self.now())
            )
            self.spawn_event(channel, event)

    def bot_join(self, channel: Channel) -> None:
        channel.members.append(self.config.bot_user_id)
        ts = self.state.next_ts(self.now())
        user = self.config.bot_user_id
        self.state.add(
            Message(channel.id, ts, f"<@{user}> has joined the channel", user, subtype="channel_join")
        )
        self.changed()
        self.spawn_event(channel, wire.member_joined_event(self.config, user, channel.id, ts))
        self.spawn_event(channel, wire.channel_join_event(user, channel.id, ts))

    def record_view(self, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        issued = self.triggers.get(trigger_id)
        age = None if issued is None else asyncio.get_running_loop().time() - issued
        opened = {
            "id": "V" + secrets.token_hex(5).upper(),
            "team_id": self.config.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.now().timestamp())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": None,
            "app_id": self.config.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.config.team_id,
            "bot_id": self.config.bot_id,
        }
        opened["root_view_id"] = opened["id"]
        self.views.append(
            {
                "trigger_id": trigger_id,
                "known_trigger": issued is not None,
                "trigger_age_s": age,
                "view": opened,
            }
        )
        return opened


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
