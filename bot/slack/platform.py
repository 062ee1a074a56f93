"""The chat platform port over Slack: posts, updates and direct messages through the Web API
(``bot.slack.api``), views rendered as Block Kit (``bot.slack.blocks``).

A thread is a channel and its root message's ``ts``; a reply is ``chat.postMessage`` with that
``thread_ts``. ``<at>Name</at>`` in a text becomes ``<@U...>`` (the person's Slack id, found by
e-mail when the roster does not give it). A message's idempotency key rides in the ``block_id`` of
its first block, so :meth:`SlackChat.find_posted` can look through the thread's replies (or the
channel's posts) for a post that landed although its answer was lost. A channel the bot was never added to is joined once
(``conversations.join``) when a post says ``not_in_channel``. Errors are the ports' (``Transient``,
``Permanent``), classified in ``bot.slack.api``.
"""

from __future__ import annotations

from typing import Any

from bot.ports import Mention, Message, Permanent, Person, PersonContact, Platform, ThreadRef
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

    async def find_posted(self, channel_id: str, thread_root: str | None, message: Message) -> str | None:
        """The bot's earlier post of ``message`` among a thread's replies (``conversations.replies``)
        or the channel's recent top-level posts (``conversations.history``): by the key in its first
        block, else (a message without a key) by its text."""
        wanted_block = key_block_id(message.key) if message.key else None
        wanted_text = (await self._content(message))["text"] if wanted_block is None else None
        cursor: str | None = None
        for _ in range(FIND_PAGES):
            try:
                if thread_root is not None:
                    answer = await self._api.call(
                        "conversations.replies",
                        read=True,
                        channel=channel_id,
                        ts=thread_root,
                        limit=200,
                        cursor=cursor,
                    )
                else:
                    answer = await self._api.call(
                        "conversations.history", read=True, channel=channel_id, limit=200, cursor=cursor
                    )
            except Permanent:  # thread_not_found, channel_not_found: nothing was posted there
                return None
            for found in answer.get("messages") or []:
                if not isinstance(found, dict) or not found.get("bot_id"):
                    continue
                if thread_root is not None and found.get("ts") == thread_root:
                    continue  # the thread's root itself, listed first
                raw_blocks = found.get("blocks")
                blocks: list[Any] = raw_blocks if isinstance(raw_blocks, list) else []
                if wanted_block is not None:
                    same = any(isinstance(b, dict) and b.get("block_id") == wanted_block for b in blocks)
                else:
                    same = found.get("text") == wanted_text
                if same:
                    return str(found.get("ts") or "") or None
            cursor = str((answer.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                return None
        return None

    async def thread_link(self, thread: ThreadRef, channel_name: str | None = None) -> str | None:
        """The thread's permalink (``chat.getPermalink`` of its root message)."""
        answer = await self._api.call(
            "chat.getPermalink", read=True, channel=thread.channel_id, message_ts=thread.root_id
        )
        link = answer.get("permalink")
        return str(link) if isinstance(link, str) and link else None

    async def person_contact(self, thread: ThreadRef, person: Person) -> PersonContact | None:
        """A Slack user's e-mail (``users.info``, cached), to find them in the incident tracker."""
        if not person.id:
            return None
        found = await self._workspace.person(person.id)
        return PersonContact(email=found.email) if found.email else None


__all__ = ["SlackChat"]
