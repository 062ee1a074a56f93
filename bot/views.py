"""View models: what the bot shows, independent of any chat platform.

The use cases build these from domain objects; each platform renders them (``bot.teams.cards`` as
Adaptive Cards, ``bot.slack.blocks`` as Block Kit). Times and names are already formatted here, so
renderers are pure functions of a view. The verbs are the actions a button on a card can ask for;
every platform sends them back as a :class:`bot.ports.CardAction`.

Texts that mention someone say ``<at>Name</at>`` (Teams' form); other platforms substitute their own
mention syntax for each :class:`bot.ports.Mention`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

VERB_ACKNOWLEDGE: Final = "acknowledge"
VERB_ROUTE: Final = "route"
VERB_ASSIGN_ME: Final = "assign_me"
VERB_TRIAGE: Final = "triage"
VERB_RESOLVE: Final = "resolve"
VERB_ADD_WEEK: Final = "add_week"
#: Choose the site of an inquiry posted where the channel does not say (a watched Slack channel).
VERB_SET_SITE: Final = "set_site"
VERB_PLAN_CONFIRM: Final = "plan_confirm"
VERB_PLAN_CANCEL: Final = "plan_cancel"
#: "Follow-up issue" (engineers only): one GitHub or Jira issue per incident, however often pressed.
#: An incident card's button carries ``{"inquiry": key}``, an alert card's ``{"alert": key}``.
VERB_FOLLOWUP: Final = "followup"
FOLLOWUP_TITLE: Final = "Follow-up issue"
#: Every verb a card button can send; the card-action use case handles exactly these.
CARD_VERBS: Final[frozenset[str]] = frozenset(
    {
        VERB_ACKNOWLEDGE,
        VERB_ROUTE,
        VERB_ASSIGN_ME,
        VERB_TRIAGE,
        VERB_RESOLVE,
        VERB_ADD_WEEK,
        VERB_PLAN_CONFIRM,
        VERB_PLAN_CANCEL,
        VERB_SET_SITE,
        VERB_FOLLOWUP,
    }
)
#: The verbs of a plan-change preview card (``PlanChangeView``); their data carries ``DATA_PROPOSAL``.
PLAN_VERBS: Final[frozenset[str]] = frozenset({VERB_PLAN_CONFIRM, VERB_PLAN_CANCEL})

#: Keys of an action's ``data`` (the card's own) and of the inputs a platform merges into it.
DATA_INQUIRY: Final = "inquiry"
#: An alert card's buttons carry the alert's correlation id under this key (instead of ``inquiry``).
DATA_ALERT: Final = "alert"
DATA_GROUP: Final = "group"
DATA_STATION: Final = "station"
DATA_PROPOSAL: Final = "proposal"
TRIAGE_INPUT: Final = "category"
CLOSE_CODE_INPUT: Final = "close_code"
CLOSE_NOTES_INPUT: Final = "close_notes"
WEEK_START_INPUT: Final = "week_start"
SITES_INPUT: Final = "sites"

DEFAULT_POSTING_TIPS: Final[tuple[str, ...]] = (
    "Start a new post for each new problem; reply in its thread for anything about the same problem.",
    "Say what you were doing, what you expected and what happened; add the patient-facing screen "
    "or error text, never patient details.",
    "An engineer answers within 5 minutes during working hours; every post also becomes a "
    "ServiceNow incident, and its number appears in the thread.",
)


# --------------------------------------------------------------------------------------------------
# View models
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentRef:
    number: str
    url: str


@dataclass(frozen=True)
class SiteChoice:
    """A site offered by the site picker (``VERB_SET_SITE`` with ``{"station": ...}``)."""

    station: str
    name: str


@dataclass(frozen=True)
class FollowUpRef:
    """An incident's follow-up issue as a card shows it; ``key`` is None while it is being filed
    (``failed``: the tracker refused it; the thread says why)."""

    tracker: str  # "GitHub" or "Jira"
    key: str | None = None
    url: str | None = None
    state: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class IncidentCardView:
    """What the incident card shows for one inquiry. ``number``/``url`` are ``None`` until ServiceNow
    has answered (the card is posted at once and updated when the incident exists). People are
    display names (``assignee``, ``resolved_by``); ``posted_at_text`` is in the site's time zone."""

    inquiry_key: str
    number: str | None
    url: str | None
    state_label: str
    group: str
    assignee: str | None
    station: str
    site_name: str
    go_live_day: int | None
    posted_at_text: str
    first_response_text: str | None = None
    suggested_group: str | None = None
    triage: str | None = None
    duty_primary: str | None = None
    duty_backup: str | None = None
    tier2_group: str = "Scheduling Support"
    product_group: str = "eCheck-in Vet Facing Apps"
    triage_categories: tuple[str, ...] = ()
    resolved: bool = False
    close_code: str | None = None
    close_notes: str | None = None
    #: What the support handbook says to do for the chosen triage category.
    triage_guidance: str | None = None
    resolved_by: str | None = None
    #: The open sites to choose from, when the inquiry's site is not known (else empty).
    site_choices: tuple[SiteChoice, ...] = ()
    # Where the "Follow-up issue" button files ("GitHub", "Jira"; None: no button), and the issue.
    followup_tracker: str | None = None
    followup: FollowUpRef | None = None


@dataclass(frozen=True)
class WelcomeView:
    station: str
    site_name: str
    go_live_date_text: str
    window_text: str
    duty_lines: tuple[str, ...]
    servicenow_url: str
    tips: tuple[str, ...] = DEFAULT_POSTING_TIPS


@dataclass(frozen=True)
class RetirementView:
    station: str
    site_name: str
    inquiries: int
    open_incidents: tuple[IncidentRef, ...]
    servicenow_url: str
    support_text: str = "From now on, please raise product issues in ServiceNow."


@dataclass(frozen=True)
class DutyPerson:
    name: str
    hours_text: str = ""
    working_now: bool = False


@dataclass(frozen=True)
class DutyView:
    day_text: str
    primary: DutyPerson | None
    backup: DutyPerson | None
    fallback: DutyPerson | None = None
    observers: tuple[str, ...] = ()
    next_pickup_text: str | None = None


@dataclass(frozen=True)
class HandoffView:
    """A hand-off: duty (or one inquiry) passes from one engineer to another."""

    from_name: str | None
    to_name: str
    reason: str = ""
    open_incidents: tuple[IncidentRef, ...] = ()


@dataclass(frozen=True)
class HelpView:
    """The commands a person may use where they asked (from the command registry)."""

    scope: str
    is_manager: bool = False


@dataclass(frozen=True)
class AddWeekFormView:
    """The managers' add-week form; re-rendered with ``errors`` when a submission is rejected."""

    week_start: str = ""
    sites_text: str = ""
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanChangeView:
    """A plan change shown before it is made: its changes, the go-live channels that would open,
    close or move, and (while ``state`` is ``pending``) Confirm and Cancel for the person who asked."""

    proposal_id: str
    title: str
    requester: str
    changes: tuple[str, ...]
    channels: tuple[str, ...] = ()
    state: str = "pending"  # pending | applied | cancelled | stale
    note: str = ""


@dataclass(frozen=True)
class SiteCount:
    station: str
    name: str
    inquiries: int


@dataclass(frozen=True)
class FirstResponseStats:
    answered: int
    unanswered: int
    median_s: float | None
    p90_s: float | None
    within_5_min: int


@dataclass(frozen=True)
class RotationReportView:
    """The fields of ``golive report rotation --format json`` (docs/CONTRACTS.md section 6)."""

    week: str
    inquiries: int
    by_site: tuple[SiteCount, ...]
    by_day: tuple[tuple[str, int], ...]
    first_response: FirstResponseStats
    re_routes: int
    open_at_retirement: int
    open_incidents: tuple[IncidentRef, ...] = ()
    #: (triage category, inquiries), in the support handbook's order.
    by_triage: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> RotationReportView:
        """Build the view from the report JSON; ``by_day`` may be a mapping or a list of
        ``{"day", "inquiries"}`` and ``open_at_retirement`` a count or a list of incidents."""
        by_day_raw = report.get("by_day") or {}
        if isinstance(by_day_raw, Mapping):
            by_day = tuple((str(day), int(count)) for day, count in by_day_raw.items())
        else:
            by_day = tuple(
                (str(item.get("day", item.get("label", "?"))), int(item.get("inquiries", 0)))
                for item in by_day_raw
            )
        open_raw = report.get("open_at_retirement", 0)
        open_refs: tuple[IncidentRef, ...] = ()
        if isinstance(open_raw, int):
            open_count = open_raw
        else:
            open_refs = tuple(
                IncidentRef(str(item.get("number", "")), str(item.get("url", "")))
                if isinstance(item, Mapping)
                else IncidentRef(str(item), "")
                for item in open_raw
            )
            open_count = len(open_refs)
        fr = report.get("first_response") or {}
        return cls(
            week=str(report["week"]),
            inquiries=int(report.get("inquiries", 0)),
            by_site=tuple(
                SiteCount(str(s["station"]), str(s.get("name", "")), int(s.get("inquiries", 0)))
                for s in report.get("by_site", ())
            ),
            by_day=by_day,
            first_response=FirstResponseStats(
                answered=int(fr.get("answered", 0)),
                unanswered=int(fr.get("unanswered", 0)),
                median_s=fr.get("median_s"),
                p90_s=fr.get("p90_s"),
                within_5_min=int(fr.get("within_5_min", 0)),
            ),
            re_routes=int(report.get("re_routes", 0)),
            open_at_retirement=open_count,
            open_incidents=open_refs,
            by_triage=tuple(
                (str(item.get("category", "")), int(item.get("inquiries", 0)))
                for item in report.get("by_triage", ())
                if isinstance(item, Mapping)
            ),
        )


@dataclass(frozen=True)
class AlertLink:
    label: str
    url: str


@dataclass(frozen=True)
class StormMember:
    """One alert group of a storm as its post lists it."""

    source: str
    title: str
    count: int
    state: str


@dataclass(frozen=True)
class AlertCardView:
    """The post of one alert group (or one alert storm) in the alert channel, updated in place.

    ``alert_key`` is the correlation id (``{source}:{group}``, ``storm:{start}``) the buttons carry
    under ``DATA_ALERT``; ``number``/``url`` are None until ServiceNow has answered. ``recovered``
    marks a group its sender reports healthy again (or resolved); the incident stays open for an
    engineer, so the buttons stay. A storm lists its groups (``members``, ``more_members`` beyond).
    ``followup_tracker``/``followup``: the "Follow-up issue" button and the issue it filed.
    """

    alert_key: str
    source: str
    title: str
    level: str
    state: str
    count: int
    first_seen_text: str
    last_seen_text: str
    number: str | None
    url: str | None
    group: str
    links: tuple[AlertLink, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    acknowledged_text: str | None = None
    recovered: bool = False
    storm: bool = False
    members: tuple[StormMember, ...] = ()
    more_members: int = 0
    tier2_group: str = "Scheduling Support"
    product_group: str = "eCheck-in Vet Facing Apps"
    # Where the "Follow-up issue" button files ("GitHub", "Jira"; None: no button), and the issue of
    # the alert's incident once one was asked for (as on ``IncidentCardView``).
    followup_tracker: str | None = None
    followup: FollowUpRef | None = None


# --------------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------------


def escalation_text(backup_name: str, minutes: float = 5, primary_name: str | None = None) -> str:
    """The thread reply when an inquiry has no first response in time; mentions ``backup_name``."""
    waited = f"{minutes:g} minute" + ("" if minutes == 1 else "s")
    text = f"<at>{backup_name}</at>, this inquiry has had no response for {waited}."
    text += (
        f" {primary_name} (primary) may be busy; please pick it up."
        if primary_name
        else " Please pick it up."
    )
    return text


def retired_channel_notice(servicenow_url: str, incident_number: str | None = None) -> str:
    """Reply to a post in a retired go-live channel (the post is still logged as an incident)."""
    logged = (
        f"Your post is logged as ServiceNow incident {incident_number}."
        if incident_number
        else "Your post is being logged in ServiceNow."
    )
    return (
        f"This go-live channel has closed. {logged} For new issues, please use ServiceNow: {servicenow_url}"
    )
