"""Commands in a personal chat with the bot and in the management channel: plan, roster, duty.

Anyone may ask ``help``, ``duty``, ``schedule show [week]``, ``schedule preview`` and ``roster show``.
Delivery managers may also change the plan (``week add``, ``site add``, ``site move``, ``site pull``,
or the add-week card) and the roster (``roster import``). Each change is one transaction: the inbox
row (so a redelivered message changes nothing twice), the edited plan, an audit row (who, when, the
change lines) and the reply job in the outbox.

Errors: a ``PlanEditError`` (or a bad argument) becomes a friendly reply. Who may run what is the
dispatcher's rule (``bot.bridge.dispatch``). Nothing here waits for a chat platform.

``swap`` (today's primary or backup): the other one covers today, recorded as a fallback day in the
roster. The swap is audited and every open go-live channel gets a hand-off notice. Swapping again
hands today back.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import views
from bot.bridge import records
from bot.bridge.config import BridgeConfig
from bot.bridge.dispatch import NOT_A_MANAGER, Answer, CommandContext, CommandHandler, CommandRefused
from bot.bridge.handoff import announce_handoff
from bot.bridge.people import actor_label, engineer_for
from bot.clock import Clock
from bot.commands import ParsedCommand
from bot.ports import CardAction, Person
from bot.storage.store import Store
from schedule.csvio import parse_iso_date, parse_rollout_csv
from schedule.edits import add_site, add_week, diff, move_site, pull_site
from schedule.errors import CsvImportError, InvalidScheduleValue, PlanEditError
from schedule.localtime import is_iana_zone, local_date, zone
from schedule.plan import PlannedSite, RolloutPlan, Site, window_for
from schedule.preview import preview
from schedule.roster import DutyRoster, cover_day, duty_at, export_roster_csv, parse_roster_csv

log = logging.getLogger(__name__)

PREVIEW_DAYS = 7

__all__ = [
    "NOT_A_MANAGER",
    "CommandRefused",
    "PersonalCommands",
    "parse_add_week_form",
    "parse_site_add",
    "roster_text",
]


def add_week_form(
    week_start: date | str = "", sites_text: str = "", errors: tuple[str, ...] = ()
) -> views.AddWeekFormView:
    """The add-week form, prefilled with the week (and the sites text after a rejected submission)."""
    week = week_start.isoformat() if isinstance(week_start, date) else week_start
    return views.AddWeekFormView(week_start=week, sites_text=sites_text, errors=errors)


class PersonalCommands:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        preview_days: int = PREVIEW_DAYS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._preview_days = preview_days

    def handlers(self) -> dict[str, CommandHandler]:
        return {
            "swap": self.swap,
            "schedule show": self.schedule_show,
            "schedule preview": self.schedule_preview,
            "roster show": self.roster_show,
            "roster import": self.roster_import,
            "week add": self.week_add,
            "site add": self.edit_site,
            "site move": self.edit_site,
            "site pull": self.edit_site,
        }

    # --- the add-week card ------------------------------------------------------------------------

    async def on_add_week_card(self, action: CardAction) -> tuple[int, str]:
        """The add-week form's button: validate, add the week, audit; (status, message)."""
        actor = action.actor
        if not self._config.is_manager(actor.aad_object_id if actor else None):
            return 403, NOT_A_MANAGER
        week_text = str(action.data.get(views.WEEK_START_INPUT, "") or "").strip()
        sites_text = str(action.data.get(views.SITES_INPUT, "") or "")
        week_start, entries, problems = parse_add_week_form(week_text, sites_text)
        if problems:
            return 400, _reasons(problems)
        assert week_start is not None
        key = (
            f"invoke|{action.conversation_id}|{action.card_message_id}|{views.VERB_ADD_WEEK}|"
            f"{actor.aad_object_id if actor else ''}|{week_start.isoformat()}|{sites_text.strip()}"
        )
        now = self._clock.now()
        try:
            async with self._store.write() as connection:
                if not await records.first_sight(self._store, connection, key, "invoke", now):
                    return 200, f"The week of {week_start.isoformat()} is added."
                plan = await records.load_plan(connection)
                new = add_week(plan, week_start, entries, now=now, settings=self._config.window)
                changes = await self._save(connection, plan, new, actor, "plan.week_add", now)
        except PlanEditError as error:  # the transaction (and its inbox row) is rolled back
            return 400, str(error)
        return 200, f"Added the week of {week_start.isoformat()}: " + "; ".join(changes) + "."

    # --- handlers -----------------------------------------------------------------------------------

    async def schedule_show(self, context: CommandContext, command: ParsedCommand) -> Answer:
        return Answer(text=self._schedule_text(await records.load_plan(context.connection), command.args))

    async def schedule_preview(self, context: CommandContext, command: ParsedCommand) -> Answer:
        return Answer(text=self._preview_text(await records.load_plan(context.connection), context.now))

    async def roster_show(self, context: CommandContext, command: ParsedCommand) -> Answer:
        return Answer(text=roster_text(context.roster))

    async def roster_import(self, context: CommandContext, command: ParsedCommand) -> Answer:
        """The roster CSV pasted below the command replaces the roster, all or nothing."""
        text = command.raw_args
        if not text.strip():
            return Answer(text="Paste the roster CSV on the lines after `roster import` (header row first).")
        try:
            roster = parse_roster_csv(text)
        except CsvImportError as error:
            lines = "\n".join(str(problem) for problem in error.errors[:20])
            return Answer(text=f"Nothing changed; the roster has problems (line 1 is the header):\n{lines}")
        connection, now = context.connection, context.now
        await records.save_roster_csv(self._store, connection, export_roster_csv(roster), now)
        await records.audit(
            connection,
            now,
            actor_label(context.request.author),
            "roster.import",
            f"{len(roster.engineers)} engineers, {len(roster.weeks)} weeks (from {context.request.platform.capitalize()})",
        )
        return Answer(
            text=f"Done: the roster now has {len(roster.engineers)} engineers and {len(roster.weeks)} weeks."
        )

    async def swap(self, context: CommandContext, command: ParsedCommand) -> Answer:
        """Today's primary and backup trade places: the other one covers today (a fallback day in
        the roster), the change is audited, and every open go-live channel gets a hand-off notice."""
        roster, now, author = context.roster, context.now, context.request.author
        engineer = engineer_for(roster, author)
        if roster is None or engineer is None:
            return Answer(text="Sorry, only engineers on the duty roster can swap duty.")
        duty = duty_at(roster, now)
        if duty.primary is None or duty.backup is None:
            return Answer(text="No roster week is in force right now, so there is nothing to swap.")
        lead = duty.fallback or duty.primary
        if engineer.key not in {duty.primary.key, duty.backup.key, lead.key}:
            return Answer(text="Only today's primary or backup can swap duty.")
        incoming = duty.backup if lead.key == duty.primary.key else duty.primary
        day = local_date(now, incoming.time_zone)
        try:
            swapped = cover_day(roster, incoming.key, day)
        except InvalidScheduleValue as error:
            return Answer(text=f"Sorry, I could not swap: {error}.")
        connection = context.connection
        await records.save_roster_csv(self._store, connection, export_roster_csv(swapped), now)
        await records.audit(
            connection,
            now,
            actor_label(author),
            "roster.swap",
            f"{incoming.name} covers {day.isoformat()} instead of {lead.name}",
        )
        await announce_handoff(
            self._store, connection, now, duty, duty_at(swapped, now), watched=self._config.watched_channels
        )
        return Answer(
            text=f"Done: {incoming.name} is first on duty today ({day:%A %d %B}); the open go-live channels are told."
        )

    async def week_add(self, context: CommandContext, command: ParsedCommand) -> Answer:
        plan = await records.load_plan(context.connection)
        args = command.args
        if len(args) != 1:
            raise CommandRefused("Usage: `week add <YYYY-MM-DD>` with the Monday of the new rollout week.")
        week = _date_arg("week", args[0])
        if week.weekday() != 0:
            monday = week - timedelta(days=week.weekday())
            raise CommandRefused(
                f"{week.isoformat()} is a {week:%A}; rollout weeks start on a Monday "
                f"(did you mean {monday.isoformat()}?)"
            )
        if plan.sites_in_week(week):
            raise CommandRefused(
                f"The week of {week.isoformat()} is already in the plan; add sites to it with `site add`."
            )
        return Answer(
            text=(
                f"Fill in the sites for the week of {week.isoformat()}: one "
                "`station,name,time_zone[,go_live_date]` per line, for example "
                "`508,Atlanta VA Medical Center,America/New_York,2022-05-04`. "
                "Without the card, add them one by one with "
                "`site add <week> <station> <name> <time zone> [go-live date]`."
            ),
            form_week=week.isoformat(),
        )

    async def edit_site(self, context: CommandContext, command: ParsedCommand) -> Answer:
        connection, now = context.connection, context.now
        plan = await records.load_plan(connection)
        new, action = self._edit(plan, command, now)
        changes = await self._save(connection, plan, new, context.request.author, action, now)
        if not changes:
            return Answer(text="Nothing to change: the plan already says that.")
        return Answer(text="Done: " + "; ".join(changes) + ".")

    async def _save(
        self,
        connection: AsyncConnection,
        old: RolloutPlan,
        new: RolloutPlan,
        author: Person | None,
        action: str,
        now: datetime,
    ) -> list[str]:
        changes = diff(old, new)
        if changes:
            await records.save_plan(connection, new, now)
            await records.audit(connection, now, actor_label(author), action, "\n".join(changes))
        return changes

    # --- manager edits ------------------------------------------------------------------------------

    def _edit(self, plan: RolloutPlan, command: ParsedCommand, now: datetime) -> tuple[RolloutPlan, str]:
        args, window = command.args, self._config.window
        if command.name == "site add":
            week, site, go_live = parse_site_add(args)
            return add_site(plan, site, week, go_live, now=now, settings=window), "plan.site_add"
        if command.name == "site move":
            if len(args) not in (2, 3):
                raise CommandRefused(
                    "Usage: `site move <station> <week> [go-live date]`, dates as YYYY-MM-DD."
                )
            week = _date_arg("week", args[1])
            go_live = _date_arg("go-live date", args[2]) if len(args) == 3 else None
            return move_site(plan, args[0].upper(), week, go_live, now=now, settings=window), "plan.site_move"
        if len(args) != 1:
            raise CommandRefused("Usage: `site pull <station>`.")
        return pull_site(plan, args[0].upper(), now=now, settings=window), "plan.site_pull"

    # --- read-only answers --------------------------------------------------------------------------

    def _schedule_text(self, plan: RolloutPlan, args: list[str]) -> str:
        if not plan.active():
            return "The rollout plan is empty."
        if not args:
            lines = ["Rollout plan (`schedule show <week>` for one week's details):"]
            for week in plan.weeks():
                sites = ", ".join(str(entry.site) for entry in plan.sites_in_week(week))
                lines.append(f"- {week.isoformat()}: {sites}")
            return "\n".join(lines)
        week = _date_arg("week", args[0])
        monday = week - timedelta(days=week.weekday())
        entries = plan.sites_in_week(monday)
        if not entries:
            return f"No sites are planned for the week of {monday.isoformat()}."
        lines = [f"Week of {monday.isoformat()}:"]
        for entry in entries:
            window = window_for(entry, self._config.window)
            lines.append(
                f"- {entry.site} ({entry.time_zone}): go-live {entry.go_live_date:%a %Y-%m-%d}, channel "
                f"{window.opens_local:%a %H:%M} to {window.retires_local:%a %Y-%m-%d %H:%M} local"
            )
        return "\n".join(lines)

    def _preview_text(self, plan: RolloutPlan, now: datetime) -> str:
        end = now + timedelta(days=self._preview_days)
        actions = preview(plan, self._config.window, now, end)
        if not actions:
            return f"No channel opens or retires in the next {self._preview_days} days."
        zones = {entry.station: entry.time_zone for entry in plan.entries}
        lines = [f"Channel actions in the next {self._preview_days} days:"]
        for action in actions:
            local = action.at.astimezone(zone(zones[action.station]))
            lines.append(
                f"- {action.at:%a %Y-%m-%d %H:%M} UTC ({local:%H:%M %Z} local): "
                f"{action.action} {action.station} {action.name}"
            )
        return "\n".join(lines)


# --- parsing and text (pure) -----------------------------------------------------------------------


def _reasons(problems: list[str]) -> str:
    return "The week was not added:\n" + "\n".join(f"- {problem}" for problem in problems)


def _date_arg(label: str, value: str) -> date:
    day, problem = parse_iso_date(label, value)
    if problem is not None:
        raise CommandRefused(f"The {problem}.")
    assert day is not None
    return day


def parse_site_add(args: list[str]) -> tuple[date, Site, date | None]:
    """``<week> <station> <name...> <time zone> [go-live date]`` -> (week, site, go-live date)."""
    usage = (
        "Usage: `site add <week> <station> <name> <time zone> [go-live date]`, for example "
        "`site add 2022-05-09 508 Atlanta America/New_York 2022-05-11`."
    )
    if len(args) < 4:
        raise CommandRefused(usage)
    week = _date_arg("week", args[0])
    rest = list(args[2:])
    go_live = None
    if len(rest) >= 3 and rest[-1][:1].isdigit():
        go_live = _date_arg("go-live date", rest.pop())
    time_zone, name = rest[-1], " ".join(rest[:-1]).strip()
    if not is_iana_zone(time_zone):
        raise CommandRefused(f"{time_zone!r} is not an IANA time zone (like America/New_York). {usage}")
    try:
        site = Site(station=args[1].strip().upper(), name=name, time_zone=time_zone)
    except InvalidScheduleValue as error:
        raise CommandRefused(f"{error}. {usage}") from None
    return week, site, go_live


def parse_add_week_form(week_text: str, sites_text: str) -> tuple[date | None, list[PlannedSite], list[str]]:
    """The add-week form's fields -> (week, sites, problems); problems name the site line they are on.

    Each site line is ``station,name,time_zone[,go_live_date]``, checked by the rollout CSV rules.
    """
    if not week_text:
        return None, [], ["the week start is empty"]
    week, problem = parse_iso_date("week start", week_text)
    if problem is None and week is not None and week.weekday() != 0:
        problem = f"week start {week_text} is a {week:%A}, not a Monday"
    if problem is not None:
        return None, [], [problem]
    assert week is not None
    lines = sites_text.splitlines()
    if not any(line.strip() for line in lines):
        return week, [], ["add at least one site (station,name,time_zone[,go_live_date])"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week_start", "station", "name", "time_zone", "go_live_date"])
    for line in lines:
        if not line.strip():
            out.write("\n")  # keeps the numbering of the lines the manager typed
            continue
        cells = next(csv.reader([line]), [])
        writer.writerow([week.isoformat(), *(cell.strip() for cell in cells)])
    try:
        plan = parse_rollout_csv(out.getvalue())
    except CsvImportError as error:
        return week, [], [f"site line {e.line - 1}: {e.reason}" for e in error.errors]
    return week, list(plan.entries), []


def roster_text(roster: DutyRoster | None) -> str:
    if roster is None:
        return "No duty roster has been loaded yet."
    lines = ["Duty roster:"]
    for week in roster.weeks:
        names = roster.engineers
        line = f"- {week.week_start.isoformat()}: primary {names[week.primary].name}, backup {names[week.backup].name}"
        if week.fallback:
            line += "; fallback " + ", ".join(
                f"{names[k].name} on {d:%a %m-%d}" for d, k in week.fallback.items()
            )
        if week.observers:
            line += "; observing " + ", ".join(names[k].name for k in week.observers)
        lines.append(line)
    if not roster.weeks:
        lines.append("- no roster weeks yet")
    return "\n".join(lines)
