"""Commands, from whichever door they came through, answered by one dispatcher.

A thread in a go-live channel, the management channel and a personal chat all end here: the
dispatcher looks the command up in the registry (``bot.commands``), checks that it works in this
place and that the person may run it (engineer or manager, from the one roster lookup), calls the
command's handler inside the caller's transaction, and queues the answer in the outbox as a thread
reply or a direct reply. Refusals are friendly answers. Each command of the registry has exactly one
handler; the dispatcher refuses to be built otherwise, so the registry, ``help`` and the handlers
cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.config import BridgeConfig
from bot.bridge.outbox import enqueue
from bot.bridge.people import actor_label, engineer_for
from bot.commands import COMMANDS, THREAD, ParsedCommand, Place, find_command, help_text, parse_command
from bot.ports import Mention, Person, Platform, ThreadRef
from bot.storage.store import Store
from schedule.errors import PlanEditError
from schedule.roster import DutyRoster, Engineer

log = logging.getLogger(__name__)

NOT_A_MANAGER = (
    "Sorry, only delivery managers can change the rollout plan or the roster. "
    "Ask a delivery manager, or try `schedule show` to see it."
)
NOT_AN_ENGINEER = "Only engineers on the duty roster can change the incident."
SORRY = "Sorry, something went wrong on my side. Please try again later."


class CommandRefused(Exception):
    """A command cannot run as given; the message is the friendly answer."""


@dataclass(frozen=True)
class CommandRequest:
    """A command someone typed: where (``place``), who, and where the answer goes (a thread, or
    a direct conversation id)."""

    place: Place
    platform: Platform
    author: Person
    at: datetime
    thread: ThreadRef | None = None
    conversation_id: str = ""
    inquiry: Any = None


@dataclass(frozen=True)
class Answer:
    """What the bot answers: text, or a template rendered when sent (``help``, ``duty``, ``status``
    in a thread), for a week's add-week form the week it is for, and for a plan change the id of its
    stored preview (shown as a card with Confirm and Cancel)."""

    text: str | None = field(default=None, repr=False)
    template: str | None = None
    mentions: tuple[Mention, ...] = ()
    form_week: str | None = None
    proposal: str | None = None


@dataclass(frozen=True)
class CommandContext:
    request: CommandRequest
    connection: AsyncConnection
    roster: DutyRoster | None
    engineer: Engineer | None
    is_manager: bool
    now: datetime


CommandHandler = Callable[[CommandContext, ParsedCommand], Awaitable[Answer]]


class CommandDispatcher:
    def __init__(
        self,
        store: Store,
        config: BridgeConfig,
        handlers: Mapping[str, CommandHandler],
    ) -> None:
        names = {spec.name for spec in COMMANDS}
        missing, unknown = names - set(handlers), set(handlers) - names
        if missing or unknown:
            raise ValueError(f"command handlers out of step with the registry: {missing=} {unknown=}")
        self._store = store
        self._config = config
        self._handlers = dict(handlers)

    async def context(
        self, connection: AsyncConnection, request: CommandRequest, now: datetime
    ) -> CommandContext:
        roster = await records.load_roster(self._store, connection)
        return CommandContext(
            request=request,
            connection=connection,
            roster=roster,
            engineer=engineer_for(roster, request.author),
            is_manager=self._config.is_manager(request.author.aad_object_id),
            now=now,
        )

    async def answer(self, context: CommandContext, command: ParsedCommand | None) -> Answer:
        """Run ``command`` if it works here and the person may run it; the answer either way."""
        request = context.request
        if command is None:
            return Answer(text="I did not understand that. " + help_text(request.place, context.is_manager))
        spec = find_command(command.name)
        assert spec is not None
        if not spec.available(request.place, True):
            where = "a go-live channel thread" if THREAD in spec.places else "a personal chat with me"
            return Answer(
                text=f"`{command.name}` works in {where}. " + help_text(request.place, context.is_manager)
            )
        if spec.audience == "manager" and not context.is_manager:
            return await self._refuse(context, spec.name, NOT_A_MANAGER)
        if spec.audience == "engineer" and context.engineer is None:
            return await self._refuse(context, spec.name, NOT_AN_ENGINEER)
        try:
            return await self._handlers[spec.name](context, command)
        except CommandRefused as refusal:
            return Answer(text=str(refusal))
        except PlanEditError as error:
            return Answer(text=f"I could not change the plan: {error}")

    async def _refuse(self, context: CommandContext, command: str, message: str) -> Answer:
        """A refusal is a friendly answer, and audited (who tried what, where)."""
        request = context.request
        where = (
            request.inquiry.number
            if request.inquiry is not None and request.inquiry.number
            else request.place
        )
        await records.audit(
            context.connection,
            context.now,
            actor_label(request.author),
            "action.refused",
            f"`{command}` in {where} ({request.platform})",
        )
        return Answer(text=message)

    async def handle_text(self, request: CommandRequest, dedupe_key: str, text: str, now: datetime) -> None:
        """A message addressed to the bot outside a go-live thread (a personal chat, the management
        channel): recorded once, answered once, in one transaction."""
        async with self._store.write() as connection:
            if not await records.first_sight(self._store, connection, dedupe_key, "personal", now):
                log.info("duplicate command message ignored")
                return
            command = parse_command(text)
            context = await self.context(connection, request, now)
            try:
                answer = await self.answer(context, command)
            except Exception:  # a bug: logged with context (never the text), an apology, move on
                log.exception("command %s failed", command.name if command else None)
                answer = Answer(text=SORRY)
            await self.send(connection, request, answer)

    async def dispatch(
        self,
        connection: AsyncConnection,
        request: CommandRequest,
        command: ParsedCommand | None,
        now: datetime,
    ) -> Answer:
        """Answer a command and queue the answer (inside the caller's transaction)."""
        context = await self.context(connection, request, now)
        answer = await self.answer(context, command)
        await self.send(connection, request, answer)
        return answer

    async def send(self, connection: AsyncConnection, request: CommandRequest, answer: Answer) -> None:
        inquiry_id = request.inquiry.id if request.inquiry is not None else None
        if request.thread is not None:
            await enqueue(
                self._store,
                connection,
                kinds.REPLY,
                kinds.ThreadReply(
                    request.thread, answer.text, answer.mentions, answer.template, answer.proposal
                ),
                inquiry_id=inquiry_id if answer.template else None,
            )
        else:
            await enqueue(
                self._store,
                connection,
                kinds.REPLY_DIRECT,
                kinds.DirectReply(
                    request.platform, request.conversation_id, answer.text, answer.form_week, answer.proposal
                ),
            )
