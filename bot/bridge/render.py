"""From stored rows and domain objects to the view models of ``bot.views`` and outgoing messages.

Times on an inquiry's card and replies are in its site's own time zone (the people reading them are
at the site); people are shown by name, never by login.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Row

from bot import views
from bot.bridge.config import BridgeConfig
from bot.bridge.untrusted import safe_text
from bot.commands import PERSONAL, TEAM
from bot.ports import Message
from schedule.first_response import first_response_clock_start
from schedule.roster import Duty, DutyRoster, Engineer, duty_at, is_working, next_pickup
from servicenow.model import RESOLVED_STATES
from servicenow.routing import TRIAGE_CATEGORIES, RoutingRule, suggest_group, triage_category

EASTERN = ZoneInfo("America/New_York")


def zone_of(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (a site's), or US Eastern when it is unknown."""
    if not name:
        return EASTERN
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return EASTERN


def _when(at: datetime | None, zone: ZoneInfo = EASTERN) -> str:
    if at is None:
        return ""
    local = at.astimezone(zone)
    return local.strftime("%a %d %b %H:%M %Z")


def resolution_text(number: str, close_code: str, close_notes: str) -> str:
    """The thread reply when an incident is resolved, wherever it was resolved (ServiceNow or the
    card): the notes, and how to reopen it."""
    notes = f" Resolution notes: {close_notes}" if close_notes else ""
    code = f" ({close_code})" if close_code else ""
    return safe_text(
        f"ServiceNow: {number} is Resolved{code}.{notes}\n"
        "If this is not fixed, reply in this thread and the incident reopens."
    )


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


class Renderer:
    def __init__(self, config: BridgeConfig, rules: tuple[RoutingRule, ...] | None = None) -> None:
        self._config = config
        self._rules = rules

    def incident_description(self, row: Any, thread_url: str | None = None, zone: str | None = None) -> str:
        """The incident's description: the post's text, then who posted it where and when, with a
        link that opens the thread (the raw conversation id only when no link can be made)."""
        platform = "Slack" if row.platform == "slack" else "Microsoft Teams"
        who = f"Posted in {platform} by {row.author_name}"
        if row.author_aad_id:
            who += f" (Entra object id {row.author_aad_id})"
        lines = [row.text, "", "--", who, f"Site: {row.station or 'unknown'} {row.site_name or ''}".rstrip()]
        if row.go_live_day:
            lines.append(f"Go-live day: {row.go_live_day}")
        posted = row.posted_at.isoformat()
        if zone:
            posted += f" ({_when(row.posted_at, zone_of(zone))})"
        lines.append(f"Posted at: {posted}")
        link = thread_url or getattr(row, "thread_url", None)
        lines.append(f"Thread: {link}" if link else f"Thread id: {row.conversation_id}")
        if row.late:
            lines.append("Posted after the site's go-live channel was retired.")
        return "\n".join(lines)

    def suggested_group(self, row: Any) -> str | None:
        if self._rules is None:
            return None
        suggestion = suggest_group(row.text, self._rules)
        return None if suggestion is None else suggestion.group

    def incident_view(
        self,
        row: Any,
        duty: Duty | None,
        *,
        zone: str | None = None,
        names: Mapping[str, str] | None = None,
        sites: tuple[views.SiteChoice, ...] = (),
        followup: Row[Any] | None = None,
    ) -> views.IncidentCardView:
        """The card of an inquiry as last stored from ServiceNow; ``zone`` is the site's time zone
        and ``names`` maps user names to display names for rows stored before names were kept;
        ``followup`` is the incident's ``followups`` row, if a follow-up issue was asked for."""
        first_response = None
        if row.first_response_at is not None:
            waited = (row.first_response_at - row.posted_at).total_seconds()
            first_response = f"{row.first_response_by} after {_minutes(max(0.0, waited))}"
        category = triage_category(row.triage or "")
        return views.IncidentCardView(
            inquiry_key=row.correlation_id,
            number=row.number,
            url=row.incident_url,
            state_label=row.state_label or "New",
            group=row.assignment_group or self._config.tier2_group,
            assignee=person_name(row.assigned_to, getattr(row, "assigned_to_name", None), names),
            station=row.station or "",
            site_name=row.site_name or "",
            go_live_day=row.go_live_day,
            posted_at_text=_when(row.posted_at, zone_of(zone)),
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
            triage_guidance=category.guidance if category else None,
            resolved_by=getattr(row, "resolved_by_name", None) or None,
            site_choices=() if row.station else sites,
            followup_tracker=self._config.followup_tracker or None,
            followup=followup_ref(followup, self._config.followup_tracker),
        )

    def incident_message(
        self,
        row: Any,
        duty: Duty | None,
        now: datetime,
        *,
        first_post: bool,
        zone: str | None = None,
        names: Mapping[str, str] | None = None,
        sites: tuple[views.SiteChoice, ...] = (),
        followup: Row[Any] | None = None,
    ) -> Message:
        """The card in the thread; on its first post, with the incident number and, for a post made
        when no engineer is working, when it will be picked up (the instant the first-response
        timer starts, so the reply and the escalation agree)."""
        text = f"Logged as ServiceNow incident {row.number}." if row.number else None
        if first_post:
            notes = []
            if row.late:  # the notice names the incident itself
                notes.append(views.retired_channel_notice(self._config.servicenow_url, row.number))
            else:
                notes += [text] if text else []
                pickup = self.pickup_at(row, duty)
                if pickup is not None:
                    notes.append(
                        "No engineer is working right now; the incident stays in the "
                        f"{self._config.tier2_group} queue and someone will pick it up at "
                        f"{_when(pickup, zone_of(zone))}."
                    )
            if sites and not row.station:
                notes.append("Which site is this about? Pick it below (the incident is logged either way).")
            text = " ".join(notes) if notes else None
        view = self.incident_view(row, duty, zone=zone, names=names, followup=followup, sites=sites)
        return Message(text=text, view=view, key=f"card:{row.correlation_id}")

    @staticmethod
    def pickup_at(row: Any, duty: Duty | None) -> datetime | None:
        """When an inquiry posted while nobody works starts its first-response clock (None when
        someone was working at the post, or nobody is on duty at all)."""
        if duty is None or not duty.chain:
            return None
        start = first_response_clock_start(duty, row.posted_at)
        return start if start > row.posted_at else None

    def duty_view(self, duty: Duty | None, now: datetime) -> views.DutyView:
        def person(engineer: Engineer | None) -> views.DutyPerson | None:
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
            "of birth). Please edit it to remove patient details; engineers never need them here. "
            "When you edit the post, its ServiceNow incident takes the new text in place of the old."
        )

    def personal_data_thanks(self) -> str:
        return (
            "Thank you for editing your post. Its ServiceNow incident now holds the new text in place "
            "of the old."
        )

    def status_text(self, row: Any, names: Mapping[str, str] | None = None) -> str:
        if not row.number:
            return "The ServiceNow incident for this thread is being created."
        assignee = person_name(row.assigned_to, getattr(row, "assigned_to_name", None), names) or "unassigned"
        return (
            f"Incident {row.number}: {row.state_label or 'New'}, group {row.assignment_group}, "
            f"assigned to {assignee}."
        )


def person_name(
    user_name: str | None, display_name: str | None, names: Mapping[str, str] | None
) -> str | None:
    """How a person is shown: ServiceNow's display name, else the roster's name for the user name,
    else the user name itself (never better than nothing)."""
    if not user_name:
        return None
    return display_name or (names or {}).get(user_name) or user_name


def followup_ref(row: Any, tracker: str) -> views.FollowUpRef | None:
    """A ``followups`` row as the card shows it (None: no follow-up was asked for)."""
    if row is None:
        return None
    name = {"github": "GitHub", "jira": "Jira"}.get(row.tracker, tracker or row.tracker)
    return views.FollowUpRef(name, row.issue_key, row.issue_url, row.issue_state, bool(row.last_error))
