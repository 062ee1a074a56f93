"""Commands in a personal chat with the bot and in the management channel: plan, roster, duty.

Anyone may ask ``help``, ``duty``, ``schedule show [week]``, ``schedule preview`` and ``roster show``.
Delivery managers may also change the plan (``week add``, ``site add``, ``site move``, ``site pull``,
or the add-week card), change the roster (``roster import``) and read the audit trail (``audit``).

A plan change is never applied when asked: the answer is a preview card (``bot.bridge.plan_changes``
stores the proposed plan) listing the changes and every go-live channel that would open, close or
move, with Confirm and Cancel. Confirm applies exactly what was shown, once, for the manager who
asked, with its audit row. A pull of a site whose channel is open is refused, naming the site,
unless the manager adds ``force`` (and then the preview says the channel will close). The add-week
form reports every problem at once, re-shown on the form.

Errors: a ``PlanEditError`` (or a bad argument) becomes a friendly reply. Who may run what is the
dispatcher's rule (``bot.bridge.dispatch``). Nothing here waits for a chat platform.

``swap`` (today's primary or backup): the two exchange roles for the rest of the day
(``schedule.roster.swap_today``: a swap of the day in the roster week, on the week's clock), so
``duty``, the cards, the assignee of new incidents, escalations and the Teams emulator's people all
follow it. The swap is audited as ``duty.swap`` and every open go-live channel gets a hand-off
notice. Swapping again hands the day back.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot import views
from bot.bridge import audit_trail, plan_changes, records
from bot.bridge.config import BridgeConfig
from bot.bridge.dispatch import NOT_A_MANAGER, Answer, CommandContext, CommandHandler, CommandRefused
from bot.bridge.handoff import announce_handoff
from bot.bridge.people import actor_label, engineer_for
from bot.clock import Clock
from bot.commands import ParsedCommand
from bot.ports import ActionOutcome, CardAction
from bot.storage.store import Store
from schedule.csvio import parse_iso_date
from schedule.edits import add_site, add_week, move_site, pull_site
from schedule.errors import CsvImportError, InvalidScheduleValue, PlanEditError
from schedule.localtime import is_iana_zone, zone
from schedule.plan import RolloutPlan, Site, window_for
from schedule.preview import preview
from schedule.roster import (
    DutyRoster,
    duty_at,
    duty_day,
    export_roster_csv,
    parse_roster_csv,
    swap_today,
)
from schedule.week_addition import validate_week_addition

log = logging.getLogger(__name__)

PREVIEW_DAYS = 7
PREVIEW_NOTE = "Here is what this change would do. Nothing changes until you press Confirm."
FORCE_WORDS = frozenset({"force", "--force"})

__all__ = [
    "NOT_A_MANAGER",
    "CommandRefused",
    "PersonalCommands",
    "parse_site_add",
    "roster_text",
]


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
        self._rules = plan_changes.PlanRules(config.window, config.channel_template)

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
            "audit": self.audit,
        }

    # --- the add-week card and the preview card ---------------------------------------------------

    async def _refused(self, action: CardAction, what: str) -> ActionOutcome:
        async with self._store.write() as connection:
            await records.audit(
                connection,
                self._clock.now(),
                actor_label(action.actor),
                "action.refused",
                f"{what}: not a delivery manager (from {action.platform.capitalize()})",
            )
        return ActionOutcome(403, NOT_A_MANAGER)

    async def on_add_week_card(self, action: CardAction) -> ActionOutcome:
        """The add-week form's button: every problem at once on the form, else the preview card."""
        actor = action.actor
        if actor is None or not self._config.is_manager(actor.aad_object_id):
            return await self._refused(action, "add week")
        week_text = str(action.data.get(views.WEEK_START_INPUT, "") or "").strip()
        sites_text = str(action.data.get(views.SITES_INPUT, "") or "")
        now = self._clock.now()
        async with self._store.write() as connection:
            plan, states = await plan_changes.load_state(connection)
            week, entries, problems = validate_week_addition(
                plan, week_text, sites_text, now=now, settings=self._config.window
            )
            if not problems:
                assert week is not None
                try:
                    new = add_week(plan, week, entries, now=now, settings=self._config.window)
                except PlanEditError as error:  # validate_week_addition should have said so already
                    problems = [str(error)]
            if problems:
                form = views.AddWeekFormView(week_text, sites_text, tuple(problems))
                return ActionOutcome(200, _reasons(problems), form)
            assert week is not None
            summary = f"add the week of {week.isoformat()} with {len(entries)} site(s)"
            proposal = plan_changes.propose("plan.week_add", summary, plan, new, states, now, self._rules)
            proposal_id = await plan_changes.store_proposal(connection, proposal, actor, action.platform, now)
            stored = await plan_changes.load_proposal(connection, proposal_id)
        assert stored is not None
        return ActionOutcome(200, PREVIEW_NOTE, plan_changes.proposal_view(stored))

    async def on_plan_card(self, action: CardAction) -> ActionOutcome:
        """Confirm or Cancel on a plan change's preview card."""
        actor = action.actor
        if actor is None or not self._config.is_manager(actor.aad_object_id):
            return await self._refused(action, "confirm a plan change")
        proposal_id = str(action.data.get(views.DATA_PROPOSAL, "") or "")
        now = self._clock.now()
        async with self._store.write() as connection:
            if action.verb == views.VERB_PLAN_CONFIRM:
                decision = await plan_changes.confirm(connection, proposal_id, actor, now, self._rules)
            else:
                decision = await plan_changes.cancel(connection, proposal_id, actor, now)
            if decision.status == 403:
                await records.audit(
                    connection,
                    now,
                    actor_label(actor),
                    "action.refused",
                    f"{action.verb}: {decision.message}",
                )
        if decision.status != 200 or decision.proposal is None:
            return ActionOutcome(decision.status, decision.message)
        return ActionOutcome(200, decision.message, plan_changes.proposal_view(decision.proposal))

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
        """Today's primary and backup exchange roles for the rest of the day."""
        roster, now, author = context.roster, context.now, context.request.author
        engineer = engineer_for(roster, author)
        if roster is None or engineer is None:
            return Answer(text="Sorry, only engineers on the duty roster can swap duty.")
        duty = duty_at(roster, now)
        if duty.primary is None or duty.backup is None:
            return Answer(text="No roster week is in force right now, so there is nothing to swap.")
        if engineer.key not in {duty.primary.key, duty.backup.key}:
            return Answer(text="Only today's primary or backup can swap duty.")
        try:
            swapped = swap_today(roster, now)
        except InvalidScheduleValue as error:
            return Answer(text=f"Sorry, I could not swap: {error}.")
        after = duty_at(swapped, now)
        assert after.primary is not None and after.backup is not None
        day = duty_day(roster, now)
        connection = context.connection
        await records.save_roster_csv(self._store, connection, export_roster_csv(swapped), now)
        await records.audit(
            connection,
            now,
            actor_label(author),
            "duty.swap",
            f"{after.primary.name} primary and {after.backup.name} backup on {day.isoformat() if day else '?'} "
            f"(were {duty.primary.name} and {duty.backup.name})",
        )
        await announce_handoff(
            self._store, connection, now, duty, after, watched=self._config.watched_channels
        )
        when = f"{day:%A %d %B}" if day else "today"
        return Answer(
            text=(
                f"Done: {after.primary.name} is primary and {after.backup.name} backup for the rest of "
                f"{when}; the open go-live channels are told. Send `swap` again to swap back."
            )
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
        """``site add|move|pull``: the preview card of the change (applied on Confirm)."""
        connection, now = context.connection, context.now
        plan, states = await plan_changes.load_state(connection)
        args = list(command.args)
        if command.name == "site pull":  # only a pull can close a channel; "Force" may be part of a name
            args = [arg for arg in args if arg.lower() not in FORCE_WORDS]
        force = len(args) != len(command.args)
        new, action, summary = self._edit(plan, command.name, args, now)
        proposal = plan_changes.propose(action, summary, plan, new, states, now, self._rules)
        if not proposal.changes:
            return Answer(text="Nothing to change: the plan already says that.")
        if proposal.open_pulled and not force:
            named = ", ".join(str(site) for site in proposal.open_pulled)
            station = proposal.open_pulled[0].station
            return Answer(
                text=(
                    f"I did not change the plan: the go-live channel of {named} is open, and pulling "
                    f"the site would close it. To pull it anyway, send `site pull {station} force`; "
                    "you will see what it does before anything changes."
                )
            )
        request = context.request
        proposal_id = await plan_changes.store_proposal(
            connection, proposal, request.author, request.platform, now, force=force
        )
        return Answer(text=PREVIEW_NOTE, proposal=proposal_id)

    async def audit(self, context: CommandContext, command: ParsedCommand) -> Answer:
        """The last 20 audit entries, newest first, by action (``site.pull``, ``site``) or station."""
        try:
            action, station = audit_trail.parse_filters(command.args)
        except audit_trail.AuditFilterError as error:
            raise CommandRefused(
                f"{error}. Usage: `audit [action] [station]`, for example `audit site.pull` or `audit 508`."
            ) from None
        query = audit_trail.AuditQuery(action=action, station=station, limit=audit_trail.CHAT_LIMIT)
        entries = await audit_trail.read_audit(context.connection, query)
        return Answer(text=audit_trail.audit_text(entries, action, station))

    # --- manager edits ------------------------------------------------------------------------------

    def _edit(
        self, plan: RolloutPlan, name: str, args: list[str], now: datetime
    ) -> tuple[RolloutPlan, str, str]:
        """(new plan, audit action, summary) of a ``site`` command; ``PlanEditError`` when refused."""
        window = self._config.window
        if name == "site add":
            week, site, go_live = parse_site_add(args)
            new = add_site(plan, site, week, go_live, now=now, settings=window)
            return new, "site.add", f"add {site} to the week of {week.isoformat()}"
        if name == "site move":
            if len(args) not in (2, 3):
                raise CommandRefused(
                    "Usage: `site move <station> <week> [go-live date]`, dates as YYYY-MM-DD."
                )
            week = _date_arg("week", args[1])
            go_live = _date_arg("go-live date", args[2]) if len(args) == 3 else None
            new = move_site(plan, args[0].upper(), week, go_live, now=now, settings=window)
            entry = new.get(args[0].upper())
            what = str(entry.site) if entry else args[0].upper()
            return new, "site.move", f"move {what} to the week of {week.isoformat()}"
        if len(args) != 1:
            raise CommandRefused("Usage: `site pull <station> [force]`.")
        new = pull_site(plan, args[0].upper(), now=now, settings=window)
        entry = new.get(args[0].upper())
        what = str(entry.site) if entry else args[0].upper()
        return new, "site.pull", f"pull {what} from the rollout"

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
        if week.swaps:
            line += "; swapped on " + ", ".join(f"{d:%a %m-%d}" for d in sorted(week.swaps))
        if week.observers:
            line += "; observing " + ", ".join(names[k].name for k in week.observers)
        lines.append(line)
    if not roster.weeks:
        lines.append("- no roster weeks yet")
    return "\n".join(lines)
