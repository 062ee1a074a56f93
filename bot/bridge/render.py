"""From stored rows and domain objects to the view models of ``bot.views`` and outgoing messages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import views
from bot.bridge.config import BridgeConfig
from bot.commands import PERSONAL, TEAM
from bot.ports import Message
from schedule.roster import Duty, DutyRoster, duty_at, is_working, next_pickup
from servicenow.model import RESOLVED_STATES
from servicenow.routing import TRIAGE_CATEGORIES, RoutingRule, suggest_group

EASTERN = ZoneInfo("America/New_York")


def _when(at: datetime | None, zone: ZoneInfo = EASTERN) -> str:
    if at is None:
        return ""
    local = at.astimezone(zone)
    return local.strftime("%a %d %b %H:%M %Z")


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


class Renderer:
    def __init__(self, config: BridgeConfig, rules: tuple[RoutingRule, ...] | None = None) -> None:
        self._config = config
        self._rules = rules

    def incident_description(self, row) -> str:
        if row.platform == "slack":
            poster = f"Posted in Slack by {row.author_name} ({row.author_email or 'e-mail unknown'})"
            thread = f"Slack thread: channel {row.channel_id}, message {row.root_message_id}"
        else:
            poster = (
                f"Posted in Microsoft Teams by {row.author_name} "
                f"(Entra object id {row.author_aad_id or 'unknown'})"
            )
            thread = f"Teams thread: {row.conversation_id}"
        lines = [
            row.text,
            "",
            "--",
            poster,
            f"Site: {row.station or 'unknown'} {row.site_name or ''}".rstrip(),
        ]
        if row.go_live_day:
            lines.append(f"Go-live day: {row.go_live_day}")
        lines.append(f"Posted at: {row.posted_at.isoformat()}")
        lines.append(thread)
        if row.late:
            lines.append("Posted after the site's go-live channel was retired.")
        return "\n".join(lines)

    def suggested_group(self, row) -> str | None:
        if self._rules is None:
            return None
        suggestion = suggest_group(row.text, self._rules)
        return None if suggestion is None else suggestion.group

    def incident_view(
        self, row, duty: Duty | None, sites: tuple[views.SiteChoice, ...] = ()
    ) -> views.IncidentCardView:
        first_response = None
        if row.first_response_at is not None:
            waited = (row.first_response_at - row.posted_at).total_seconds()
            first_response = f"{row.first_response_by} after {_minutes(max(0.0, waited))}"
        return views.IncidentCardView(
            inquiry_key=row.correlation_id,
            number=row.number,
            url=row.incident_url,
            state_label=row.state_label or "New",
            group=row.assignment_group or self._config.tier2_group,
            assignee=row.assigned_to,
            station=row.station or "",
            site_name=row.site_name or "",
            go_live_day=row.go_live_day,
            posted_at_text=_when(row.posted_at),
            first_response_text=first_response,
            suggested_group=self.suggested_group(row),
            triage=row.triage,
            duty_primary=duty.primary.name if duty and duty.primary else None,
            duty_backup=duty.backup.name if duty and duty.backup else None,
            tier2_group=self._config.tier2_group,
            product_group=self._config.product_group,
            triage_categories=tuple(c.label for c in TRIAGE_CATEGORIES),
            resolved=(row.state in RESOLVED_STATES),
            close_code=row.close_code or None,
            close_notes=row.close_notes or None,
            site_choices=() if row.station else sites,
        )

    def incident_message(
        self,
        row,
        duty: Duty | None,
        now: datetime,
        *,
        first_post: bool,
        sites: tuple[views.SiteChoice, ...] = (),
    ) -> Message:
        text = f"Logged as ServiceNow incident {row.number}." if row.number else None
        if first_post:
            notes = [text] if text else []
            if row.late:
                notes.append(views.retired_channel_notice(self._config.servicenow_url, row.number))
            elif duty is not None and not any(is_working(e, now) for e in duty.chain):
                pickup = next_pickup(duty, now)
                if pickup is not None:
                    notes.append(
                        "No engineer is working right now; the incident stays in the "
                        f"{self._config.tier2_group} queue and someone will pick it up at {_when(pickup)}."
                    )
            if sites and not row.station:
                notes.append("Which site is this about? Pick it below (the incident is logged either way).")
            text = " ".join(notes) if notes else None
        view = self.incident_view(row, duty, sites)
        return Message(text=text, view=view, key=f"card:{row.correlation_id}")

    def duty_view(self, duty: Duty | None, now: datetime) -> views.DutyView:
        def person(engineer):
            if engineer is None:
                return None
            hours = f"{engineer.work_start:%H:%M}-{engineer.work_end:%H:%M} {engineer.time_zone}"
            return views.DutyPerson(engineer.name, hours, is_working(engineer, now))

        pickup = next_pickup(duty, now) if duty is not None else None
        return views.DutyView(
            day_text=_when(now),
            primary=person(duty.primary if duty else None),
            backup=person(duty.backup if duty else None),
            fallback=person(duty.fallback if duty else None),
            observers=tuple(o.name for o in duty.observers) if duty else (),
            next_pickup_text=_when(pickup) if pickup else None,
        )

    def command_reply(
        self,
        template: str,
        duty: Duty | None,
        now: datetime,
        *,
        personal: bool = False,
        is_manager: bool = False,
    ) -> Message:
        if template == "duty":
            return Message(view=self.duty_view(duty, now))
        return Message(view=views.HelpView(PERSONAL if personal else TEAM, is_manager))

    def duty_text(self, roster: DutyRoster | None, now: datetime) -> str:
        """``duty`` answered as text (a personal chat, the management channel)."""
        if roster is None:
            return "No duty roster has been loaded yet."
        view = self.duty_view(duty_at(roster, now), now)
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

    def personal_data_warning(self) -> str:
        return (
            "A gentle reminder: this post may contain personal data (a Social Security number or a date "
            "of birth). Please edit it to remove patient details; engineers never need them here."
        )

    def status_text(self, row) -> str:
        if not row.number:
            return "The ServiceNow incident for this thread is being created."
        assignee = row.assigned_to or "unassigned"
        return (
            f"Incident {row.number}: {row.state_label or 'New'}, group {row.assignment_group}, "
            f"assigned to {assignee}."
        )
