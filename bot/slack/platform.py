"""The chat platform port over Slack: posts, updates and direct messages through the Web API
(``bot.slack.api``), views rendered as Block Kit (``bot.slack.blocks``).

A thread is a channel and its root message's ``ts``; a reply is ``chat.postMessage`` with that
``thread_ts``. ``<at>Name</at>`` in a text becomes ``<@U...>`` (the person's Slack id, found by
e-mail when the roster does not give it). A message's idempotency key rides in the ``block_id`` of
its first block, so :meth:`SlackChat.find_posted` can look through the thread's replies for a post
that landed although its answer was lost. A channel the bot was never added to is joined once
(``conversations.join``) when a post says ``not_in_channel``. Errors are the ports' (``Transient``,
``Permanent``), classified in ``bot.slack.api``.
"""

from __future__ import annotations

from typing import Any

from bot.ports import Mention, Message, Permanent, Platform, ThreadRef
from bot.slack.api import SlackApi
from bot.slack.blocks import key_block_id, message_blocks
from bot.slack.text import to_mrkdwn
from bot.slack.workspace import SlackWorkspace

#: How many pages of a thread's replies ``find_posted`` reads (200 replies each).
FIND_PAGES = 5


class SlackChat:
    """``ChatPlatform`` for Slack."""

    def __init__(self, api: SlackApi, workspace: SlackWorkspace) -> None:
        self._api = api
        self._workspace = workspace

    @property
    def platform(self) -> Platform:
        return "slack"

    async def _content(self, message: Message) -> dict[str, Any]:
        """``text`` and ``blocks`` of a port message."""
        ids: dict[str, str] = {}
        for mention in message.mentions:
            user = await self._workspace.user_id_for(mention)
            if user:
                ids[mention.name] = user
        text = to_mrkdwn(message.text, ids) if message.text else None
        blocks, fallback = message_blocks(text, message.view, message.key)
        content: dict[str, Any] = {"text": fallback}
        if blocks:
            content["blocks"] = blocks
        return content

    async def _post(self, channel: str, content: dict[str, Any], thread_ts: str | None = None) -> str:
        async def post() -> dict[str, Any]:
            return await self._api.call(
                "chat.postMessage",
                pace=channel,
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **content,
            )

        try:
            answer = await post()
        except Permanent as error:
            if not error.reason.endswith("not_in_channel"):
                raise
            await self._api.call("conversations.join", channel=channel)
            answer = await post()
        return str(answer.get("ts") or "")

    async def post_in_thread(self, thread: ThreadRef, message: Message) -> str:
        return await self._post(thread.channel_id, await self._content(message), thread.root_id)

    async def start_thread(self, channel_id: str, message: Message) -> ThreadRef:
        channel = await self._workspace.channel_id(channel_id)
        ts = await self._post(channel, await self._content(message))
        return ThreadRef("slack", channel, ts)

    async def update_message(self, thread: ThreadRef, message_id: str, message: Message) -> None:
        content = await self._content(message)
        content.setdefault("blocks", [])
        await self._api.call("chat.update", channel=thread.channel_id, ts=message_id, **content)

    async def send_direct(self, person: Mention, message: Message) -> None:
        user = await self._workspace.user_id_for(person)
        if not user:
            raise Permanent("the person has no Slack user (no Slack id, e-mail not found)")
        opened = await self._api.call("conversations.open", users=user)
        channel = str((opened.get("channel") or {}).get("id") or "")
        if not channel:
            raise Permanent("Slack conversations.open gave no channel")
        await self._post(channel, await self._content(message))

    async def reply_direct(self, conversation_id: str, message: Message) -> None:
        content = await self._content(message)
        if conversation_id.startswith(("https://", "http://")):
            # A slash command's answer: shown to the person who typed it, in the channel they used.
            await self._api.respond(conversation_id, {"response_type": "ephemeral", **content})
            return
        await self._post(conversation_id, content)

    async def find_posted(self, thread: ThreadRef, key: str) -> str | None:
        wanted = key_block_id(key)
        cursor: str | None = None
        for _ in range(FIND_PAGES):
            try:
                answer = await self._api.call(
                    "conversations.replies",
                    read=True,
                    channel=thread.channel_id,
                    ts=thread.root_id,
                    limit=200,
                    cursor=cursor,
                )
            except Permanent:  # thread_not_found: nothing was posted in it
                return None
            for reply in answer.get("messages") or []:
                if not isinstance(reply, dict) or not reply.get("bot_id"):
                    continue
                raw_blocks = reply.get("blocks")
                blocks: list[Any] = raw_blocks if isinstance(raw_blocks, list) else []
                if any(isinstance(b, dict) and b.get("block_id") == wanted for b in blocks):
                    return str(reply.get("ts") or "") or None
            cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                return None
        return None


__all__ = ["SlackChat"]
