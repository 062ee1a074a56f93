"""The emulator's behaviour behind its three HTTP faces (connector, Graph, driver).

Errors raised here carry the HTTP status and the vendor's error code; each HTTP module renders them
in its own wire shape:

    EmulatorError(status, code, message)
    ├── ConnectorError   Bot Connector codes (ConversationNotFound, BadArgument, ...)
    ├── GraphApiError    Graph codes (NotFound, NameAlreadyExists, BadRequest, ...)
    └── DriverError      mistakes in a driver API call
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import uuid
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from emulators.teams import activities as act
from emulators.teams.config import Person, TeamsEmulatorConfig, Throttle
from emulators.teams.model import (
    Channel,
    Operation,
    Post,
    TeamState,
    iso_z,
    new_channel_id,
    personal_conversation_id,
    user_id_for,
)
from emulators.teams.signing import ChannelTokenIssuer, TabTokenIssuer

log = logging.getLogger(__name__)

# Status reported for a delivery the bot did not answer (down, refused, timed out); the post is kept.
BOT_UNREACHABLE = 502
CARD = "application/vnd.microsoft.card.adaptive"


class EmulatorError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ConnectorError(EmulatorError):
    pass


class GraphApiError(EmulatorError):
    pass


class DriverError(EmulatorError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, "BadRequest" if status == 400 else "NotFound", message)


class TeamsEmulator:
    """One emulated Go Live team and the wire to one bot."""

    def __init__(self, config: TeamsEmulatorConfig) -> None:
        self.config = config
        state_dir = Path(config.state_dir) if config.state_dir else None
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        self.state = TeamState.create(
            config.team_id, config.now(), state_dir / "teams_emulator.json" if state_dir else None
        )
        self.issuer = ChannelTokenIssuer(state_dir / "teams_emulator_key.pem" if state_dir else None)
        self.tab_tokens = TabTokenIssuer(
            config.tenant_id, config.service_url, state_dir / "teams_tab_sso_key.pem" if state_dir else None
        )
        self.throttles: dict[str, Throttle | None] = {
            "connector": config.connector_throttle,
            "graph": config.graph_throttle,
        }
        self.deliveries: collections.deque[dict[str, Any]] = collections.deque(maxlen=200)
        # Seconds the Bot Connector takes to answer a post that has already landed (a fault).
        self.connector_latency_s = 0.0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        for person in config.people:
            self.state.chats.setdefault(
                personal_conversation_id(person.aad_object_id, config.bot_id), act.account_for(person)
            )
        for name in config.channels:
            if self.state.channel_named(name) is None:
                channel = Channel(new_channel_id(), name, "", iso_z(config.now()))
                self.state.channels[channel.id] = channel
        if config.channels:
            self.changed()

    # --- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.delivery_timeout_s)
        )

    async def stop(self) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self.state.save()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a best-effort delivery without making the caller wait for the bot."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def now(self) -> datetime:
        return self.config.now()

    def changed(self) -> None:
        self.state.save()

    # --- throttling ------------------------------------------------------------------------------

    def take_throttle(self, target: str) -> float | None:
        """Retry-After seconds if this call should be throttled, else None."""
        rule = self.throttles.get(target)
        if rule is None or rule.count == 0:
            return None
        if rule.count > 0:
            remaining = rule.count - 1
            self.throttles[target] = Throttle(remaining, rule.retry_after) if remaining else None
        return rule.retry_after

    # --- delivery to the bot ---------------------------------------------------------------------

    async def deliver(self, activity: dict[str, Any]) -> tuple[int, Any]:
        """POST one activity to the bot; (its HTTP status, its body) or (502, error) when unreachable."""
        assert self._session is not None, "emulator not started"
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if not self.config.anonymous:
            token = self.issuer.token(self.config.bot_app_id or "", activity.get("serviceUrl", ""))
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self._session.post(
                self.config.bot_url, data=json.dumps(activity), headers=headers
            ) as resp:
                raw = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, body = BOT_UNREACHABLE, {"error": f"bot unreachable: {type(exc).__name__}: {exc}"}
        else:
            body = _parse_body(raw)
        self.deliveries.append(
            {
                "id": activity.get("id"),
                "type": activity.get("type"),
                "name": activity.get("name"),
                "status": status,
            }
        )
        return status, body

    # --- people ----------------------------------------------------------------------------------

    def person(self, aad_object_id: str | None = None, name: str | None = None) -> Person | None:
        for person in self.config.people:
            if aad_object_id and person.aad_object_id == aad_object_id:
                return person
        for person in self.config.people:
            if name and not aad_object_id and person.name.casefold() == name.casefold():
                return person
        return None

    def sender(self, raw: Any, default_role: str | None = None) -> dict[str, Any]:
        """The `from` account for a driver request's {"name", "aadObjectId"} (or a default person)."""
        if not raw:
            person = next((p for p in self.config.people if p.role == default_role), None)
            if person is None:
                raise DriverError(400, "'from' is required")
            return act.account_for(person)
        if not isinstance(raw, dict):
            raise DriverError(400, "'from' must be an object with name and aadObjectId")
        aad, name = raw.get("aadObjectId"), raw.get("name")
        person = self.person(aad, name)
        if person is not None:
            return act.account_for(person)
        if not aad or not name:
            raise DriverError(400, "'from' needs name and aadObjectId (or the name of a known person)")
        return {"id": user_id_for(aad), "name": name, "aadObjectId": aad}

    def people_view(self) -> list[dict[str, Any]]:
        now = self.now()
        out = []
        for person in self.config.people:
            duty = self.config.duty_for(person.aad_object_id, now) if self.config.duty_for else None
            out.append(
                {
                    "name": person.name,
                    "aadObjectId": person.aad_object_id,
                    "id": user_id_for(person.aad_object_id),
                    "role": person.role,
                    "duty": duty,
                }
            )
        return out

    def member(self, member_id: str) -> dict[str, Any] | None:
        """A TeamsChannelAccount for a "29:" id or an Entra object id."""
        for person in self.config.people:
            if member_id in (user_id_for(person.aad_object_id), person.aad_object_id):
                given, _, surname = person.name.partition(" ")
                email = person.email or person.name.lower().replace(" ", ".") + "@example.org"
                return {
                    "id": user_id_for(person.aad_object_id),
                    "name": person.name,
                    "aadObjectId": person.aad_object_id,
                    "givenName": given,
                    "surname": surname,
                    "email": email,
                    "userPrincipalName": email,
                    "tenantId": self.config.tenant_id,
                    "userRole": "user",
                }
        return None

    # --- conversations ---------------------------------------------------------------------------

    def live_channel(self, channel_id: str, error: type[EmulatorError] = ConnectorError) -> Channel:
        channel = self.state.channels.get(channel_id)
        if channel is None or channel.state == "deleted":
            if error is GraphApiError:
                raise GraphApiError(404, "NotFound", f"Channel {channel_id} not found.")
            if error is DriverError:
                raise DriverError(404, f"no channel {channel_id}")
            raise ConnectorError(404, "ConversationNotFound", "Conversation not found.")
        return channel

    def resolve(self, conversation_id: str) -> tuple[str, str | None]:
        """(channel id or chat id, thread root id or None) for a connector conversation id."""
        base, sep, root = conversation_id.partition(";messageid=")
        if base in self.state.chats:
            return base, None
        channel = self.live_channel(base)
        if not sep:
            return channel.id, None
        post = self.state.posts.get(root)
        if post is None or post.conversation != channel.id:
            raise ConnectorError(404, "ConversationNotFound", f"Conversation not found: {conversation_id}")
        return channel.id, post.root_id or post.id

    def thread_conversation_id(self, post: Post) -> str:
        if post.conversation in self.state.chats:
            return post.conversation
        return f"{post.conversation};messageid={post.root_id or post.id}"

    def conversation_for(self, post: Post) -> tuple[dict[str, Any], dict[str, Any]]:
        """(conversation, channelData) of an activity about `post`."""
        if post.conversation in self.state.chats:
            conversation = act.personal_conversation(self.config, post.conversation)
            return conversation, {"tenant": {"id": self.config.tenant_id}}
        conversation = act.channel_conversation(self.config, self.thread_conversation_id(post))
        return conversation, act.channel_data(self.config, self.state.team_thread_id, post.conversation)

    # --- the bot's side (Bot Connector) ----------------------------------------------------------

    def bot_send(self, conversation_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        """send_to_conversation / reply_to_activity: place by the conversation id, never by replyToId."""
        kind = activity.get("type", "message")
        if kind == "typing":
            return {"id": self.state.next_message_id(self.now())}
        if kind != "message":
            raise ConnectorError(400, "BadArgument", f"Unsupported activity type: {kind}")
        target, root = self.resolve(conversation_id)
        post = self._bot_post(target, root, activity)
        return {"id": post.id}

    def _bot_post(self, target: str, root: str | None, activity: dict[str, Any]) -> Post:
        text = activity.get("text") or ""
        attachments = _attachments(activity)
        if not text and not attachments:
            raise ConnectorError(400, "BadArgument", "Activity must have text or attachments.")
        now = self.now()
        post = Post(
            id=self.state.next_message_id(now),
            conversation=target,
            root_id=root,
            sender=act.bot_account(self.config),
            text=text,
            timestamp=iso_z(now),
            attachments=attachments,
            entities=list(activity.get("entities") or []),
            reply_to_id=activity.get("replyToId"),
            from_bot=True,
        )
        self.state.add(post)
        self.changed()
        return post

    def _bot_owned(self, conversation_id: str, activity_id: str) -> Post:
        target, _root = self.resolve(conversation_id)
        post = self.state.posts.get(activity_id)
        if post is None or post.conversation != target:
            raise ConnectorError(404, "ActivityNotFoundInConversation", "Activity not found in conversation.")
        if not post.from_bot:
            raise ConnectorError(403, "NotEnoughPermissions", "A bot can only change its own messages.")
        return post

    def bot_update(self, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        post = self._bot_owned(conversation_id, activity_id)
        text, attachments = activity.get("text") or "", _attachments(activity)
        if not text and not attachments:
            raise ConnectorError(400, "BadArgument", "Activity must have text or attachments.")
        post.text, post.attachments, post.edited = text, attachments, iso_z(self.now())
        self.changed()
        return {"id": post.id}

    def bot_delete(self, conversation_id: str, activity_id: str) -> None:
        post = self._bot_owned(conversation_id, activity_id)
        post.deleted = True
        self.changed()

    def create_conversation(self, params: dict[str, Any]) -> dict[str, Any]:
        """A new thread in a channel (channelData.channel.id) or a 1:1 chat (one member)."""
        channel_data = params.get("channelData") or {}
        channel_id = (channel_data.get("channel") or {}).get("id")
        activity = params.get("activity")
        if channel_id:
            channel = self.live_channel(channel_id)
            if not activity:
                raise ConnectorError(400, "BadArgument", "An activity is required to start a channel thread.")
            post = self._bot_post(channel.id, None, activity)
            return {
                "id": f"{channel.id};messageid={post.id}",
                "activityId": post.id,
                "serviceUrl": self.config.service_url,
            }
        members = params.get("members") or []
        if len(members) != 1 or params.get("isGroup"):
            raise ConnectorError(400, "BadArgument", "Give channelData.channel.id or exactly one member.")
        member = self.member(members[0].get("id") or members[0].get("aadObjectId") or "")
        if member is None:
            raise ConnectorError(404, "MemberNotFoundInConversation", "Member not found in the tenant.")
        chat_id = personal_conversation_id(member["aadObjectId"], self.config.bot_id)
        self.state.chats.setdefault(chat_id, {k: member[k] for k in ("id", "name", "aadObjectId")})
        out: dict[str, Any] = {"id": chat_id, "serviceUrl": self.config.service_url}
        if activity:
            out["activityId"] = self._bot_post(chat_id, None, activity).id
        self.changed()
        return out

    def team_conversations(self, team_id: str) -> list[dict[str, Any]]:
        if team_id not in (self.state.team_thread_id, self.config.team_id):
            raise ConnectorError(404, "ConversationNotFound", "Team not found.")
        return [
            {"id": c.id, "name": None if c.general else c.display_name} for c in self.state.live_channels()
        ]

    # --- people's side (driver) ------------------------------------------------------------------

    async def post_in_channel(
        self, channel_id: str, sender: dict[str, Any], text: str, reply_to_id: str | None
    ) -> tuple[Post, int, Any]:
        channel = self.live_channel(channel_id, DriverError)
        root_id: str | None = None
        if reply_to_id:
            parent = self.state.posts.get(reply_to_id)
            if parent is None or parent.conversation != channel.id:
                raise DriverError(404, f"no post {reply_to_id} in channel {channel.id}")
            root_id = parent.root_id or parent.id
        now = self.now()
        post = Post(
            id=self.state.next_message_id(now),
            conversation=channel.id,
            root_id=root_id,
            sender=sender,
            text=text,
            timestamp=iso_z(now),
            reply_to_id=reply_to_id,
        )
        conversation, data = self.conversation_for(post)
        activity = act.message_activity(
            self.config,
            now,
            activity_id=post.id,
            sender=sender,
            text=text,
            conversation=conversation,
            data=data,
            reply_to_id=reply_to_id,
        )
        post.entities = activity["entities"]
        self.state.add(post)
        self.changed()
        status, body = await self.deliver(activity)
        return post, status, body

    async def post_in_chat(self, sender: dict[str, Any], text: str) -> tuple[Post, int, Any]:
        chat_id = personal_conversation_id(sender["aadObjectId"], self.config.bot_id)
        self.state.chats.setdefault(chat_id, sender)
        now = self.now()
        post = Post(
            id=self.state.next_message_id(now),
            conversation=chat_id,
            root_id=None,
            sender=sender,
            text=text,
            timestamp=iso_z(now),
        )
        conversation, data = self.conversation_for(post)
        activity = act.message_activity(
            self.config,
            now,
            activity_id=post.id,
            sender=sender,
            text=text,
            conversation=conversation,
            data=data,
        )
        self.state.add(post)
        self.changed()
        status, body = await self.deliver(activity)
        return post, status, body

    def chat_view(self, aad_object_id: str) -> dict[str, Any]:
        chat_id = personal_conversation_id(aad_object_id, self.config.bot_id)
        return {"conversationId": chat_id, "messages": [p.view() for p in self.state.chat(chat_id)]}

    def _person_post(self, channel_id: str, message_id: str) -> Post:
        self.live_channel(channel_id, DriverError)
        post = self.state.posts.get(message_id)
        if post is None or post.conversation != channel_id:
            raise DriverError(404, f"no post {message_id} in channel {channel_id}")
        return post

    async def edit_post(self, channel_id: str, message_id: str, text: str) -> tuple[int, Any]:
        post = self._person_post(channel_id, message_id)
        now = self.now()
        post.text, post.edited = text, iso_z(now)
        post.entities = act.mention_entities(text, self.config)
        self.changed()
        return await self._post_event(post, "edit", now)

    async def delete_post(self, channel_id: str, message_id: str) -> tuple[int, Any]:
        post = self._person_post(channel_id, message_id)
        post.deleted = True
        self.changed()
        return await self._post_event(post, "delete", self.now())

    async def _post_event(self, post: Post, kind: str, now: datetime) -> tuple[int, Any]:
        if post.from_bot:  # Teams tells a bot about people's edits and deletes, not its own
            return 200, None
        conversation, data = self.conversation_for(post)
        activity = act.message_event(
            self.config,
            now,
            kind=kind,
            activity_id=post.id,
            sender=post.sender,
            text=post.text,
            conversation=conversation,
            data=data,
        )
        return await self.deliver(activity)

    async def press(
        self, card_activity_id: str, verb: str, data: dict[str, Any], sender: dict[str, Any]
    ) -> tuple[int, Any]:
        """Press an Action.Execute button; a replacement card in the answer replaces the stored card."""
        card = self.state.posts.get(card_activity_id)
        if card is None or not card.from_bot:
            raise DriverError(404, f"no bot post {card_activity_id}")
        conversation, channel_data = self.conversation_for(card)
        now = self.now()
        activity = act.invoke_action(
            self.config,
            now,
            activity_id=f"f:{uuid.uuid4().int >> 64}",
            sender=sender,
            conversation=conversation,
            data=channel_data,
            card_activity_id=card.id,
            verb=verb,
            action_data=data,
        )
        status, body = await self.deliver(activity)
        if (
            status == 200
            and isinstance(body, dict)
            and body.get("statusCode", 200) == 200
            and body.get("type") == CARD
            and isinstance(body.get("value"), dict)
        ):
            card.attachments = [{"contentType": CARD, "content": body["value"]}]
            card.edited = iso_z(now)
            self.changed()
        return status, body

    def record_raw(self, activity: dict[str, Any]) -> None:
        """Keep a raw message activity aimed at a known channel, so the bot's reply has a thread."""
        if activity.get("type") != "message" or not isinstance(activity.get("conversation"), dict):
            return
        base, _sep, root = str(activity["conversation"].get("id", "")).partition(";messageid=")
        channel = self.state.channels.get(base)
        activity_id = str(activity.get("id") or "")
        if channel is None or not activity_id or activity_id in self.state.posts:
            return
        sender = activity.get("from") or {}
        known_root = root and root in self.state.posts
        self.state.add(
            Post(
                id=root if root and not known_root else activity_id,
                conversation=channel.id,
                root_id=root if known_root else None,
                sender={k: sender.get(k) for k in ("id", "name", "aadObjectId")},
                text=activity.get("text") or "",
                timestamp=activity.get("timestamp") or iso_z(self.now()),
                reply_to_id=activity.get("replyToId"),
            )
        )
        self.changed()

    async def install(self, sender: dict[str, Any]) -> tuple[int, Any]:
        """conversationUpdate teamMemberAdded with the bot: the app was added to the team."""
        now = self.now()
        data = act.channel_data(self.config, self.state.team_thread_id, None, eventType="teamMemberAdded")
        data["team"]["name"] = self.config.team_name
        activity = act.conversation_update(
            self.config,
            now,
            activity_id=f"f:{uuid.uuid4().int >> 64}",
            team_thread_id=self.state.team_thread_id,
            sender=sender,
            data=data,
            members_added=[{"id": self.config.bot_id}],
        )
        return await self.deliver(activity)

    def channel_event(self, channel: Channel, event: str) -> None:
        """Tell the bot about a channel change, as Teams does; failures are ignored."""
        data = act.channel_data(self.config, self.state.team_thread_id, channel.id, eventType=event)
        data["channel"]["name"] = channel.display_name
        activity = act.conversation_update(
            self.config,
            self.now(),
            activity_id=f"f:{uuid.uuid4().int >> 64}",
            team_thread_id=self.state.team_thread_id,
            sender={"id": user_id_for("graph-client"), "name": "Microsoft Graph client"},
            data=data,
        )
        self.spawn(self._best_effort(activity))

    async def _best_effort(self, activity: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.deliver(activity)

    # --- Graph -----------------------------------------------------------------------------------

    def check_team(self, team_id: str) -> None:
        if team_id != self.config.team_id:
            raise GraphApiError(404, "NotFound", f"No team found with Group Id {team_id}")

    def create_channel(self, display_name: str, description: str) -> Channel:
        if not display_name.strip():
            raise GraphApiError(400, "BadRequest", "Channel displayName is required.")
        if self.state.channel_named(display_name) is not None:
            raise GraphApiError(
                409, "NameAlreadyExists", "Channel name already existed, please use other name."
            )
        channel = Channel(new_channel_id(), display_name, description, iso_z(self.now()))
        self.state.channels[channel.id] = channel
        self.changed()
        self.channel_event(channel, "channelCreated")
        return channel

    def update_channel(self, channel_id: str, patch: dict[str, Any]) -> None:
        channel = self.live_channel(channel_id, GraphApiError)
        name = patch.get("displayName")
        if name is not None and name != channel.display_name:
            if channel.general:
                raise GraphApiError(400, "BadRequest", "The General channel cannot be renamed.")
            other = self.state.channel_named(name)
            if other is not None and other.id != channel.id:
                raise GraphApiError(
                    409, "NameAlreadyExists", "Channel name already existed, please use other name."
                )
            channel.display_name = name
            self.channel_event(channel, "channelRenamed")
        if "description" in patch:
            channel.description = patch["description"] or ""
        self.changed()

    def delete_channel(self, channel_id: str) -> None:
        channel = self.live_channel(channel_id, GraphApiError)
        if channel.general:
            raise GraphApiError(400, "BadRequest", "The General channel cannot be deleted.")
        channel.state = "deleted"
        self.changed()
        self.channel_event(channel, "channelDeleted")

    def archive(self, channel_id: str, archived: bool) -> Operation:
        channel = self.live_channel(channel_id, GraphApiError)
        if channel.general:
            raise GraphApiError(400, "BadRequest", "The General channel cannot be archived.")
        channel.state = "archived" if archived else "open"
        op = Operation(
            id=str(uuid.uuid4()),
            operation_type="archiveChannel" if archived else "unarchiveChannel",
            channel_id=channel.id,
            created=iso_z(self.now()),
            polls_left=self.config.graph_operation_polls,
        )
        self.state.operations[op.id] = op
        self.changed()
        return op

    def operation(self, op_id: str) -> dict[str, Any]:
        op = self.state.operations.get(op_id)
        if op is None:
            raise GraphApiError(404, "NotFound", f"Operation {op_id} not found.")
        status = "succeeded"
        if op.polls_left > 0:
            op.polls_left -= 1
            status = "inProgress"
        return {
            "id": op.id,
            "operationType": op.operation_type,
            "createdDateTime": op.created,
            "status": status,
            "lastActionDateTime": iso_z(self.now()),
            "attemptsCount": 1,
            "targetResourceId": op.channel_id,
            "targetResourceLocation": f"/teams('{self.config.team_id}')/channels('{op.channel_id}')",
            "error": None,
        }

    # --- driver views ----------------------------------------------------------------------------

    def channels_view(self) -> dict[str, Any]:
        prefix = self.config.go_live_prefix
        channels = []
        for c in self.state.channels.values():
            go_live = not c.general and c.display_name.startswith(prefix)
            station = c.display_name[len(prefix) :].split(" ", 1)[0] if go_live else None
            channels.append(
                {
                    "id": c.id,
                    "name": c.display_name,
                    "state": c.state,
                    "goLive": go_live,
                    "station": station or None,
                    "general": c.general,
                }
            )
        return {
            "teamId": self.config.team_id,
            "teamThreadId": self.state.team_thread_id,
            "teamName": self.config.team_name,
            "channels": channels,
        }

    def threads_view(self, channel_id: str) -> list[dict[str, Any]]:
        channel = self.state.channels.get(channel_id)
        if channel is None:
            raise DriverError(404, f"no channel {channel_id}")
        return [
            root.view() | {"replies": [r.view() for r in self.state.replies(root.id)]}
            for root in self.state.roots(channel.id)
        ]


def _attachments(activity: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in activity.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        content = item.get("content")
        if isinstance(content, str) and item.get("contentType") == CARD:
            with contextlib.suppress(ValueError):
                content = json.loads(content)
        out.append({"contentType": item.get("contentType"), "content": content})
    return out


def _parse_body(raw: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
