"""The Slack router: a stored Slack request (``bot.slack.events.Stored``) becomes one of the ports'
events and goes to one use case. It reads like a routing table on purpose; the work happens in
``bot.bridge``.

- a person's message in a channel: a ``ChannelPost`` (a thread's root, or a reply when it carries a
  ``thread_ts``), ``watched`` when the channel is one of ``GOLIVE_SLACK_CHANNELS``; an
  ``app_mention`` is the same post seen again, recognised by (channel, ts);
- an edit (``message_changed``, text changed) or a deletion (``message_deleted``, or an edit into a
  ``tombstone``): ``MessageEdited`` / ``MessageDeleted``;
- a direct message (``channel_type: im``) and the ``/golive`` slash command: a ``PersonalMessage``
  for the one command dispatcher; a slash command's answer goes to its ``response_url``;
- ``block_actions``: a ``CardAction`` per action; the person is told the outcome through the
  interaction's ``response_url`` (an ephemeral message), while the card itself is refreshed by the
  outbox (``chat.update``) once the use case has recorded the change.

People are resolved through the workspace (``users.info``, cached) so that each has an e-mail and
engineers are recognised by the roster; when Slack cannot answer that right now, the person is known
by id only rather than the inquiry waiting. Other failures are the ports' errors: a ``Transient``
one (the bot's own identity, a channel's name) leaves the event stored for another attempt.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Protocol

import msgspec

from bot.clock import Clock
from bot.ports import (
    ActionOutcome,
    CardAction,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    Person,
    PersonalMessage,
    PortError,
    ThreadRef,
    Transient,
)
from bot.slack import events as model
from bot.slack.api import SlackApi
from bot.slack.blocks import action_of, escape
from bot.slack.text import mentioned_user_ids, plain_text
from bot.slack.workspace import SlackWorkspace

log = logging.getLogger(__name__)

#: At most this many mentioned people are looked up to show their names in an inquiry's text.
MAX_NAMED_MENTIONS = 10


class UseCases(Protocol):
    async def on_channel_post(self, post: ChannelPost) -> None: ...
    async def on_edit(self, edit: MessageEdited) -> None: ...
    async def on_delete(self, deletion: MessageDeleted) -> None: ...
    async def on_card_action(self, action: CardAction) -> ActionOutcome: ...
    async def on_personal_message(self, message: PersonalMessage) -> None: ...


def time_of(ts: str | None, fallback: datetime) -> datetime:
    """A Slack ``ts`` as an aware instant (the edge checked its shape)."""
    if not model.is_ts(ts):
        return fallback
    assert ts is not None
    return datetime.fromtimestamp(float(ts), UTC)


class SlackEvents:
    def __init__(
        self,
        use_cases: UseCases,
        workspace: SlackWorkspace,
        api: SlackApi,
        watched: tuple[str, ...],
        clock: Clock,
    ) -> None:
        self._use_cases = use_cases
        self._workspace = workspace
        self._api = api
        self._watched = frozenset(name.lstrip("#") for name in watched)
        self._clock = clock

    async def handle(self, stored: dict[str, object]) -> None:
        """Route one stored request to its use case."""
        request = msgspec.convert(stored, model.Stored)
        if request.kind == "event":
            await self._event(msgspec.convert(request.body, model.EventCallback))
        elif request.kind == "interactive":
            await self._block_actions(msgspec.convert(request.body, model.BlockActions))
        else:
            await self._command(msgspec.convert(request.body, model.SlashCommand))

    # --- events -----------------------------------------------------------------------------------

    async def _event(self, callback: model.EventCallback) -> None:
        for authorization in callback.authorizations or []:
            if authorization.is_bot:
                self._workspace.learn_bot_user(authorization.user_id)
        event = msgspec.convert(callback.event, model.MessageEvent)
        if not model.is_handled(event) or event.channel is None:
            return
        if event.subtype == model.EDIT_SUBTYPE:
            await self._edit(event)
        elif event.subtype == model.DELETE_SUBTYPE:
            await self._delete(event, event.deleted_ts, event.previous_message)
        elif event.channel_type == "im":
            await self._direct(event)
        else:
            await self._post(event)

    async def _person(self, user_id: str | None) -> Person:
        """The person behind a Slack user id. When Slack cannot say right now (throttled, down), the
        event still goes ahead with the person known by id only: an inquiry is never held up by a
        lookup (its caller and the engineer check then miss the e-mail)."""
        if not user_id:
            return Person("", "someone", platform="slack")
        try:
            return await self._workspace.person(user_id)
        except Transient as error:
            log.warning("Slack user %s not looked up (%s): known by id only", user_id, error.reason)
            return Person(user_id, user_id, platform="slack")

    async def _readable(self, text: str) -> tuple[str, bool]:
        """The text as a person reads it, and whether it mentioned the bot."""
        bot = (await self._workspace.bot()).user_id
        names = {}
        for user in mentioned_user_ids(text)[:MAX_NAMED_MENTIONS]:
            if user != bot:
                names[user] = (await self._person(user)).name
        return plain_text(text, names, bot)

    async def _is_watched(self, channel_id: str) -> bool:
        if channel_id in self._watched:
            return True
        return (await self._workspace.channel_name(channel_id)) in self._watched

    async def _post(self, event: model.MessageEvent) -> None:
        if not event.user or event.ts is None or event.channel is None:
            log.info("Slack message without a person ignored")
            return
        text, mentioned = await self._readable(event.text or "")
        post = ChannelPost(
            thread=ThreadRef("slack", event.channel, event.thread_ts or event.ts),
            message_id=event.ts,
            author=await self._person(event.user),
            text=text,
            posted_at=time_of(event.ts, self._clock.now()),
            mentions_bot=mentioned or event.type == "app_mention",
            from_bot=False,
            watched=await self._is_watched(event.channel),
        )
        await self._use_cases.on_channel_post(post)

    async def _edit(self, event: model.MessageEvent) -> None:
        edited, previous = event.message, event.previous_message
        if edited is None or event.channel is None:
            return
        original = edited.ts or (previous.ts if previous else None)
        if edited.subtype == "tombstone":  # a root with replies was deleted: Slack keeps a tombstone
            await self._delete(event, original, previous or edited)
            return
        if previous is not None and (previous.text or "") == (edited.text or ""):
            return  # only metadata changed (a reply count, language detection): nothing to note
        if original is None:
            return
        text, _ = await self._readable(edited.text or "")
        await self._use_cases.on_edit(
            MessageEdited(
                ThreadRef("slack", event.channel, edited.thread_ts or original),
                original,
                await self._person(edited.user or (previous.user if previous else None)),
                text,
                time_of(event.ts, self._clock.now()),
            )
        )

    async def _delete(
        self, event: model.MessageEvent, deleted_ts: str | None, previous: model.ChangedMessage | None
    ) -> None:
        if deleted_ts is None or event.channel is None:
            return
        root = previous.thread_ts if previous is not None and previous.thread_ts else deleted_ts
        await self._use_cases.on_delete(
            MessageDeleted(
                ThreadRef("slack", event.channel, root),
                deleted_ts,
                await self._person(previous.user if previous else None),
                time_of(event.ts, self._clock.now()),
            )
        )

    async def _direct(self, event: model.MessageEvent) -> None:
        if not event.user or event.ts is None or event.channel is None:
            return
        text, _ = await self._readable(event.text or "")
        await self._use_cases.on_personal_message(
            PersonalMessage(
                "slack",
                event.channel,
                event.ts,
                await self._person(event.user),
                text,
                time_of(event.ts, self._clock.now()),
            )
        )

    # --- interactivity and commands ---------------------------------------------------------------

    async def _block_actions(self, payload: model.BlockActions) -> None:
        if payload.user is None:
            return
        container = payload.container or model.Container()
        channel = container.channel_id or (payload.channel.id if payload.channel else "")
        actor = await self._person(payload.user.id)
        for action in payload.actions:
            value = action.value or (action.selected_option.value if action.selected_option else None)
            verb, data = action_of(action.action_id, value)
            outcome = await self._use_cases.on_card_action(
                CardAction(
                    platform="slack",
                    conversation_id=channel,
                    card_message_id=container.message_ts,
                    verb=verb,
                    data=data,
                    actor=actor,
                    at=time_of(action.action_ts, self._clock.now()),
                )
            )
            await self._tell(payload.response_url, outcome)

    async def _tell(self, response_url: str | None, outcome: ActionOutcome) -> None:
        """The presser hears the outcome, privately; the card itself is refreshed by the outbox."""
        if not response_url:
            return
        text = outcome.message or ("Done." if outcome.status == 200 else "That did not work.")
        body = {"response_type": "ephemeral", "replace_original": False, "text": escape(text)}
        try:
            await self._api.respond(response_url, body)
        except PortError as error:  # the action is recorded either way; only the notice is lost
            log.info("Slack response URL not answered (%s)", type(error).__name__)

    async def _command(self, command: model.SlashCommand) -> None:
        url = command.response_url or ""
        # The answer goes back where the command was typed, shown only to its author.
        conversation = url if url and self._api.response_url_allowed(url) else command.user_id
        reference = (
            command.trigger_id
            or hashlib.sha256(
                f"{command.user_id}|{command.channel_id}|{url}|{command.text}".encode()
            ).hexdigest()[:24]
        )
        await self._use_cases.on_personal_message(
            PersonalMessage(
                "slack",
                conversation,
                f"slash:{reference}",
                await self._person(command.user_id),
                command.text.strip() or "help",
                self._clock.now(),
            )
        )


__all__ = ["SlackEvents", "UseCases", "time_of"]
