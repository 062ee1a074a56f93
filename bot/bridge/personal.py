"""Commands in a personal chat with the bot (and in the management channel): plan, roster, duty.

Anyone may ask ``help``, ``duty``, ``schedule show [week]``, ``schedule preview`` and ``roster show``.
Delivery managers (``GOLIVE_MANAGER_AAD_IDS``) may also change the plan: ``week add``, ``site add``,
``site move`` and ``site pull``, or submit the add-week card. Each change is one transaction: the
inbox row (so a redelivered message changes nothing twice), the edited plan, an audit row (who,
when, the ``schedule.edits.diff`` lines) and the reply job in the outbox.

Errors: a ``PlanEditError`` (or a bad argument) becomes a friendly reply; people who may not run a
command get a polite refusal. Nothing here waits for Teams: replies are outbox ``reply`` jobs.

``swap`` (today's primary or backup): the other one covers today, recorded as a fallback day in the
roster (the model's way of saying "first pick on this date"; swapping the week's pair would move
the week's start, which follows the primary's time zone). The swap is audited and every open
go-live channel gets a hand-off notice. Swapping again hands today back.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import cards
from bot.bridge import records
from bot.bridge.handoff import announce_handoff
from bot.bridge.outbox import enqueue
from bot.bridge.render import Renderer
from bot.clock import Clock
from bot.commands import PERSONAL, TEAM, ParsedCommand, Scope, help_text, parse_command
from bot.events import CardAction, ChannelPost, Person, PersonalMessage, TeamsPlace
from bot.storage.store import Store
from schedule.csvio import parse_iso_date, parse_rollout_csv
from schedule.edits import add_site, add_week, diff, move_site, pull_site
from schedule.errors import CsvImportError, InvalidScheduleValue, PlanEditError
from schedule.localtime import is_iana_zone, local_date, zone
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings, window_for
from schedule.preview import preview
from schedule.roster import DutyRoster, cover_day, duty_at, export_roster_csv, parse_roster_csv

log = logging.getLogger(__name__)

PREVIEW_DAYS = 7
MANAGER_COMMANDS = frozenset({"week add", "site add", "site move", "site pull", "roster import"})
NOT_A_MANAGER = (
    "Sorry, only delivery managers can change the rollout plan or the roster. "
    "Ask a delivery manager, or try `schedule show` to see it."
)


@dataclass(frozen=True)
class PersonalConfig:
    """The settings slice the personal commands need."""

    window: WindowSettings
    manager_ids: frozenset[str] = frozenset()
    preview_days: int = PREVIEW_DAYS

    @classmethod
    def from_settings(cls, settings: Any) -> PersonalConfig:
        return cls(
            window=WindowSettings(
                open_hour=settings.window_open_hour,
                window_days=settings.window_days,
                retire_hour=settings.window_retire_hour,
            ),
            manager_ids=frozenset(settings.manager_ids),
        )

    def is_manager(self, person: Person | None) -> bool:
        if person is None or not person.aad_object_id:
            return False
        wanted = person.aad_object_id.strip().lower()
        return any(manager.lower() == wanted for manager in self.manager_ids)


class CommandRefused(Exception):
    """A command cannot run; the message is the friendly reply."""


@dataclass(frozen=True)
class _Request:
    """One command to answer: where the reply goes, who asked, in which scope."""

    place: TeamsPlace
    reply_to: str
    dedupe_key: str
    author: Person
    text: str
    scope: Scope


def add_week_form(week_start: date | str = "", sites_text: str = "", errors: tuple[str, ...] = ()) -> dict:
    """The add-week form card, prefilled with the week (and the sites text after a rejected submission)."""
    week = week_start.isoformat() if isinstance(week_start, date) else week_start
    return cards.add_week_form_card(
        cards.AddWeekFormView(week_start=week, sites_text=sites_text, errors=errors)
    )


class PersonalCommands:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: PersonalConfig,
        renderer: Renderer,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._renderer = renderer
        self._wake = wake_outbox

    # --- entry points -------------------------------------------------------------------------------

    async def on_personal_message(self, msg: PersonalMessage) -> None:
        await self._handle(
            _Request(
                place=msg.place,
                reply_to=msg.conversation_id,
                dedupe_key=f"personal|{msg.conversation_id}|{msg.message_id}",
                author=msg.author,
                text=msg.text,
                scope=PERSONAL,
            )
        )

    async def on_management_post(self, post: ChannelPost) -> None:
        """A post in the management channel: the same commands, answered in the post's thread.

        The caller routes here only posts in ``GOLIVE_MANAGEMENT_CHANNEL_ID`` that @mention the bot.
        """
        channel = post.conversation_id.split(";", 1)[0]
        await self._handle(
            _Request(
                place=post.place,
                reply_to=f"{channel};messageid={post.root_id}",
                dedupe_key=f"msg|{post.conversation_id}|{post.message_id}",
                author=post.author,
                text=post.text,
                scope=TEAM,
            )
        )

    async def on_add_week_card(self, action: CardAction) -> dict:
        """The add-week form's ``Action.Execute``: validate, add the week, audit; an invoke response."""
        if not self._config.is_manager(action.actor):
            return cards.invoke_response(403, error=NOT_A_MANAGER)
        week_text = str(action.data.get(cards.WEEK_START_INPUT, "") or "").strip()
        sites_text = str(action.data.get(cards.SITES_INPUT, "") or "")
        week_start, entries, problems = parse_add_week_form(week_text, sites_text)
        if problems:
            return cards.invoke_response(400, error=_reasons(problems))
        assert week_start is not None
        actor = action.actor
        key = (
            f"invoke|{action.conversation_id}|{action.card_activity_id}|{cards.VERB_ADD_WEEK}|"
            f"{actor.aad_object_id if actor else ''}|{week_start.isoformat()}|{sites_text.strip()}"
        )
        now = self._clock.now()
        try:
            async with self._store.write() as connection:
                if not await self._first_sight(connection, key, "invoke"):
                    return cards.invoke_response(
                        200, message=f"The week of {week_start.isoformat()} is added."
                    )
                plan = await records.load_plan(connection)
                new = add_week(plan, week_start, entries, now=now, settings=self._config.window)
                changes = await self._save(connection, plan, new, actor, "plan.week_add", now)
        except PlanEditError as error:  # the transaction (and its inbox row) is rolled back
            return cards.invoke_response(400, error=str(error))
        return cards.invoke_response(
            200, message=f"Added the week of {week_start.isoformat()}: " + "; ".join(changes) + "."
        )

    # --- the command flow ---------------------------------------------------------------------------

    async def _handle(self, request: _Request) -> None:
        async with self._store.write() as connection:
            if not await self._first_sight(connection, request.dedupe_key, "personal"):
                log.info("duplicate personal command ignored")
                return
            await records.remember_place(self._store, connection, request.place, self._clock.now())
            command = parse_command(request.text)
            try:
                payload = await self._answer(connection, request, command)
            except CommandRefused as refusal:
                payload = {"text": str(refusal)}
            except PlanEditError as error:
                payload = {"text": f"I could not change the plan: {error}"}
            except Exception:  # a bug: log it with context (not the message text), apologise, move on
                log.exception("personal command %s failed", command.name if command else None)
                payload = {"text": "Sorry, something went wrong on my side. Please try again later."}
            await enqueue(
                self._store,
                connection,
                "reply",
                {"conversation_id": request.reply_to, "service_url": request.place.service_url, **payload},
            )
        self._wake()

    async def _answer(
        self, connection: AsyncConnection, request: _Request, command: ParsedCommand | None
    ) -> dict[str, Any]:
        is_manager = self._config.is_manager(request.author)
        if command is None:
            return {"text": "I did not understand that. " + help_text(request.scope, is_manager)}
        if command.name in MANAGER_COMMANDS and not is_manager:
            raise CommandRefused(NOT_A_MANAGER)
        now = self._clock.now()
        if command.name == "help":
            return {"text": help_text(request.scope, is_manager)}
        if command.name == "duty":
            roster = await records.load_roster(self._store, connection)
            return {"text": self._duty_text(roster, now)}
        if command.name == "schedule show":
            return {"text": self._schedule_text(await records.load_plan(connection), command.args)}
        if command.name == "schedule preview":
            return {"text": self._preview_text(await records.load_plan(connection), now)}
        if command.name == "roster show":
            return {"text": roster_text(await records.load_roster(self._store, connection))}
        if command.name == "roster import":
            return {"text": await self._import_roster(connection, command.raw_args, request.author, now)}
        if command.name == "swap":
            roster = await records.load_roster(self._store, connection)
            return {"text": await self._swap(connection, roster, request.author, now)}
        if command.name == "week add":
            return self._week_form(await records.load_plan(connection), command.args)
        if command.name in ("site add", "site move", "site pull"):
            plan = await records.load_plan(connection)
            new, action = self._edit(plan, command, now)
            changes = await self._save(connection, plan, new, request.author, action, now)
            if not changes:
                return {"text": "Nothing to change: the plan already says that."}
            return {"text": "Done: " + "; ".join(changes) + "."}
        return {
            "text": f"`{command.name}` works in a go-live channel thread. "
            + help_text(request.scope, is_manager)
        }

    async def _import_roster(self, connection: AsyncConnection, text: str, author: Person, now) -> str:
        """The roster CSV pasted below the command replaces the roster, all or nothing."""
        if not text.strip():
            return "Paste the roster CSV on the lines after `roster import` (header row first)."
        try:
            roster = parse_roster_csv(text)
        except CsvImportError as error:
            lines = "\n".join(str(problem) for problem in error.errors[:20])
            return f"Nothing changed; the roster has problems (line 1 is the header):\n{lines}"
        await records.save_roster_csv(self._store, connection, export_roster_csv(roster), now)
        await records.audit(
            connection,
            now,
            f"{author.name} ({author.aad_object_id})",
            "roster.import",
            f"{len(roster.engineers)} engineers, {len(roster.weeks)} weeks (from Teams)",
        )
        return f"Done: the roster now has {len(roster.engineers)} engineers and {len(roster.weeks)} weeks."

    async def _swap(self, connection: AsyncConnection, roster: DutyRoster | None, author: Person, now) -> str:
        """Today's primary and backup trade places: the other one covers today (a fallback day in
        the roster), the change is audited, and every open go-live channel gets a hand-off notice."""
        engineer = (
            roster.by_aad_object_id(author.aad_object_id or "") if roster and author.aad_object_id else None
        )
        if roster is None or engineer is None:
            return "Sorry, only engineers on the duty roster can swap duty."
        duty = duty_at(roster, now)
        if duty.primary is None or duty.backup is None:
            return "No roster week is in force right now, so there is nothing to swap."
        lead = duty.fallback or duty.primary
        if engineer.key not in {duty.primary.key, duty.backup.key, lead.key}:
            return "Only today's primary or backup can swap duty."
        incoming = duty.backup if lead.key == duty.primary.key else duty.primary
        day = local_date(now, incoming.time_zone)
        try:
            swapped = cover_day(roster, incoming.key, day)
        except InvalidScheduleValue as error:
            return f"Sorry, I could not swap: {error}."
        await records.save_roster_csv(self._store, connection, export_roster_csv(swapped), now)
        await records.audit(
            connection,
            now,
            f"{author.name} ({author.aad_object_id})",
            "roster.swap",
            f"{incoming.name} covers {day.isoformat()} instead of {lead.name}",
        )
        await announce_handoff(self._store, connection, now, duty, duty_at(swapped, now))
        return f"Done: {incoming.name} is first on duty today ({day:%A %d %B}); the open go-live channels are told."

    async def _first_sight(self, connection: AsyncConnection, key: str, kind: str) -> bool:
        return await records.first_sight(self._store, connection, key, kind, self._clock.now())

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
            await records.audit(connection, now, _actor(author), action, "\n".join(changes))
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

    def _week_form(self, plan: RolloutPlan, args: list[str]) -> dict[str, Any]:
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
        return {
            "text": (
                f"Fill in the sites for the week of {week.isoformat()}: one "
                "`station,name,time_zone[,go_live_date]` per line, for example "
                "`508,Atlanta VA Medical Center,America/New_York,2022-05-04`. "
                "Without the card, add them one by one with "
                "`site add <week> <station> <name> <time zone> [go-live date]`."
            ),
            "card": add_week_form(week),
        }

    # --- read-only answers --------------------------------------------------------------------------

    def _duty_text(self, roster: DutyRoster | None, now: datetime) -> str:
        if roster is None:
            return "No duty roster has been loaded yet."
        view = self._renderer.duty_view(duty_at(roster, now), now)
        if view.primary is None and view.backup is None:
            return f"Nobody is on go-live duty right now ({view.day_text}): no roster week is in force."
        lines = [f"On duty now ({view.day_text}):"]
        for role, person in (("Primary", view.primary), ("Backup", view.backup), ("Fallback", view.fallback)):
            if person is not None:
                state = "working now" if person.working_now else "off hours"
                lines.append(f"- {role}: {person.name} ({person.hours_text}, {state})")
        if view.observers:
            lines.append(f"- Observing: {', '.join(view.observers)}")
        if view.next_pickup_text and not any(
            p is not None and p.working_now for p in (view.primary, view.backup, view.fallback)
        ):
            lines.append(f"Next pick-up: {view.next_pickup_text}")
        return "\n".join(lines)

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
        end = now + timedelta(days=self._config.preview_days)
        actions = preview(plan, self._config.window, now, end)
        if not actions:
            return f"No channel opens or retires in the next {self._config.preview_days} days."
        zones = {entry.station: entry.time_zone for entry in plan.entries}
        lines = [f"Channel actions in the next {self._config.preview_days} days:"]
        for action in actions:
            local = action.at.astimezone(zone(zones[action.station]))
            lines.append(
                f"- {action.at:%a %Y-%m-%d %H:%M} UTC ({local:%H:%M %Z} local): "
                f"{action.action} {action.station} {action.name}"
            )
        return "\n".join(lines)


# --- parsing and text (pure) -----------------------------------------------------------------------


def _actor(person: Person | None) -> str:
    if person is None:
        return "unknown"
    return f"{person.name} ({person.aad_object_id or person.id})"[:200]


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
