"""Commands typed in an inquiry's thread: act on its incident, or ask about it and about duty.

``ack``, ``route``, ``assign me``, ``triage`` and ``resolve`` are the card's buttons in words: both
go through :func:`bot.bridge.actions.apply_action`. ``help``, ``duty`` and ``status`` answer in the
thread (a card, rendered when sent) or, in a personal chat, as text.
"""

from __future__ import annotations

from typing import Any

from bot.bridge.actions import ActionResult, UnknownAction, apply_action
from bot.bridge.config import BridgeConfig
from bot.bridge.dispatch import Answer, CommandContext, CommandHandler
from bot.bridge.render import Renderer
from bot.commands import THREAD, ParsedCommand, help_text
from bot.storage.store import Store


def thread_command_action(command: ParsedCommand) -> tuple[str, dict[str, Any]]:
    """Map a thread command to the card action it stands for."""
    if command.name == "ack":
        return "acknowledge", {}
    if command.name == "route":
        return "route", {"group": command.raw_args}
    if command.name == "assign me":
        return "assign_me", {}
    if command.name == "triage":
        return "triage", {"category": command.raw_args}
    if command.name == "resolve":
        code, _, notes = command.raw_args.partition("|")
        return "resolve", {"close_code": code.strip(), "close_notes": notes.strip()}
    return command.name, {}


class IncidentCommands:
    def __init__(self, store: Store, config: BridgeConfig, renderer: Renderer) -> None:
        self._store = store
        self._config = config
        self._renderer = renderer

    def handlers(self) -> dict[str, CommandHandler]:
        return {
            "ack": self.act,
            "route": self.act,
            "assign me": self.act,
            "triage": self.act,
            "resolve": self.act,
            "status": self.status,
            "help": self.help,
            "duty": self.duty,
            "log": self.log,
        }

    async def act(self, context: CommandContext, command: ParsedCommand) -> Answer:
        request, inquiry = context.request, context.request.inquiry
        assert context.engineer is not None and inquiry is not None
        verb, data = thread_command_action(command)
        try:
            result = await apply_action(
                self._store,
                context.connection,
                inquiry,
                verb,
                data,
                request.author,
                actor_servicenow_user=context.engineer.servicenow_user,
                groups=self._config.groups,
                at=request.at,
                source="command",
                where=request.platform.capitalize(),
            )
        except UnknownAction:
            result = ActionResult(400, "I did not understand that command. Try `help`.")
        # The job that writes to ServiceNow updates the card from its answer (see actions.py).
        return Answer(text=result.message)

    async def status(self, context: CommandContext, command: ParsedCommand) -> Answer:
        return Answer(template="status")

    async def help(self, context: CommandContext, command: ParsedCommand) -> Answer:
        if context.request.place == THREAD:
            return Answer(template="help")
        return Answer(text=help_text(context.request.place, context.is_manager))

    async def duty(self, context: CommandContext, command: ParsedCommand) -> Answer:
        if context.request.place == THREAD:
            return Answer(template="duty")
        return Answer(text=self._renderer.duty_text(context.roster, context.now))

    async def log(self, context: CommandContext, command: ParsedCommand) -> Answer:
        # A new post that says `log` becomes an inquiry before any dispatch; in a reply it is too late.
        return Answer(text="`log` works on a new post: start a new post with `@Go Live Bridge log ...`.")
