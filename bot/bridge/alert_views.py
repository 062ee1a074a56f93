"""What an alert group or storm looks like outside the database: its post, its incident's text, its
work notes. Pure functions of stored rows (``tables.alerts``) and the time; no I/O.

Texts built here go to ServiceNow and chat posts only, never to logs: an alert's title may quote an
error message, which may hold personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from bot.bridge.config import BridgeConfig
from bot.bridge.render import followup_ref
from bot.ports import Message
from bot.views import AlertCardView, AlertLink, StormMember

SOURCE_NAMES: Final[Mapping[str, str]] = {
    "sentry": "Sentry",
    "datadog": "Datadog",
    "pagerduty": "PagerDuty",
    "bugsnag": "Bugsnag",
    "storm": "Alert storm",
}
#: How many groups a storm's post lists by name (the rest are counted).
STORM_LISTED: Final = 25
SHORT_DESCRIPTION_LIMIT: Final = 160
# ServiceNow impact and urgency (1 high .. 3 low) by alert level.
_PRIORITY: Final[Mapping[str, tuple[int, int]]] = {
    "critical": (2, 1),
    "error": (2, 2),
    "warning": (3, 2),
    "info": (3, 3),
}
RECOVERED_STATES: Final = frozenset({"recovered", "resolved"})
#: States a work note reports at once, outside the 10-minute limit for repeats.
NOTED_AT_ONCE: Final = RECOVERED_STATES | {"acknowledged"}


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def when(instant: datetime | None) -> str:
    return "" if instant is None else f"{instant:%Y-%m-%d %H:%M} UTC"


def post_key(row: Any) -> str:
    """The idempotency key of an alert's post."""
    return f"alert:{row.correlation_id}"


def priority(level: str) -> tuple[int, int]:
    return _PRIORITY.get(level, (3, 3))


def short_description(row: Any) -> str:
    if row.kind == "storm":
        text = f"Alert storm: {row.title}"
    else:
        text = f"[{source_name(row.source)}] {row.title}"
    return text if len(text) <= SHORT_DESCRIPTION_LIMIT else text[: SHORT_DESCRIPTION_LIMIT - 1] + "…"


def _names(row: Any) -> list[tuple[str, str]]:
    pairs = [("Environment", row.environment), ("Project", row.project), ("Service", row.service)]
    return [(label, value) for label, value in pairs if value]


def incident_description(row: Any, members: Sequence[Any], max_new_per_minute: int) -> str:
    """The incident's description: what the alert is, where to look, and how the bridge counts it."""
    if row.kind == "storm":
        lines = [
            f"More than {max_new_per_minute} new monitoring-alert groups arrived within a minute, "
            f"starting {when(row.first_seen)}.",
            "Every new group from now until the storm has been quiet for 10 minutes joins this incident "
            "instead of opening its own; the alert channel's storm post lists them.",
            "",
            "Groups so far:",
        ]
        lines += [f"- {source_name(m.source)} {m.group_key}: {m.title}" for m in members[:STORM_LISTED]]
        if row.members > len(members[:STORM_LISTED]):
            lines.append(f"- ... and {row.members - len(members[:STORM_LISTED])} more")
        return "\n".join(lines)
    lines = [
        f"Monitoring alert from {source_name(row.source)}: {row.title}",
        "",
        f"Group: {row.group_key}",
        f"Level: {row.level}",
        f"State: {row.state}",
        f"First seen: {when(row.first_seen)}",
    ]
    lines += [f"{label}: {value}" for label, value in _names(row)]
    lines += [f"{label}: {url}" for label, url in row.links or ()]
    if row.tags:
        lines.append("Tags: " + ", ".join(row.tags))
    lines += [
        "",
        "Opened by Go Live Bridge. Repeats of this alert are counted on its post in the alert channel "
        "(and noted here at most every 10 minutes); recovery is noted here. Resolve it when done.",
    ]
    return "\n".join(lines)


def note_text(row: Any, members: Sequence[Any], since: datetime | None) -> str | None:
    """The work note for the row: its new state when that is a recovery, resolution or the sender's
    acknowledgement, else the alerts that arrived since the last note (``since``); None: nothing new."""
    more = row.count - row.noted_count
    if row.state in NOTED_AT_ONCE and row.state != row.noted_state:
        if row.kind == "storm":
            return f"Every group of the alert storm has recovered or been resolved ({row.members} groups)."
        return (
            f"{source_name(row.source)} reports the alert {row.state} ({when(row.last_seen)}). "
            f"{row.count} alerts received for this group. The incident stays open for an engineer."
        )
    if more <= 0:
        return None
    if row.kind == "storm":
        text = (
            f"Alert storm: {row.members} groups and {row.count} alerts in all ({more} since the last note)."
        )
        joined = [m for m in members if since is None or m.received_at > since][:STORM_LISTED]
        if joined:
            listed = ", ".join(f"{source_name(m.source)} {m.group_key}" for m in joined)
            extra = " and more" if len(joined) == STORM_LISTED else ""
            text += f" New groups: {listed}{extra}."
        return text
    return (
        f"{more} more alert{'s' if more != 1 else ''} from {source_name(row.source)} "
        f"since {when(since) if since else 'the incident was opened'}: {row.count} in all, "
        f"the last {when(row.last_seen)}; state {row.state}."
    )


def card_view(row: Any, members: Sequence[Any], config: BridgeConfig, followup: Any = None) -> AlertCardView:
    """The post of an alert row: its buttons route between ``config``'s groups and offer the
    follow-up tracker when one is set; ``followup`` is the incident's ``followups`` row once one was
    asked for."""
    details = tuple(_names(row))
    if row.kind == "storm":
        details = (("Groups", str(row.members)),)
    acknowledged = None
    if row.acknowledged_at is not None:
        acknowledged = f"{row.acknowledged_by or 'an engineer'} at {when(row.acknowledged_at)}"
    return AlertCardView(
        alert_key=row.correlation_id,
        source=row.source,
        title=row.title,
        level=row.level,
        state=row.state,
        count=row.count,
        first_seen_text=when(row.first_seen),
        last_seen_text=when(row.last_seen),
        number=row.number,
        url=row.incident_url,
        group=row.assignment_group or config.product_group,
        links=tuple(AlertLink(label, url) for label, url in row.links or ()),
        details=details,
        acknowledged_text=acknowledged,
        recovered=row.state in RECOVERED_STATES,
        storm=row.kind == "storm",
        members=tuple(StormMember(m.source, m.title, m.count, m.state) for m in members[:STORM_LISTED]),
        more_members=max(0, row.members - len(members[:STORM_LISTED])) if row.kind == "storm" else 0,
        tier2_group=config.tier2_group,
        product_group=config.product_group,
        followup_tracker=config.followup_tracker or None,
        followup=followup_ref(followup, config.followup_tracker),
    )


def card_message(row: Any, members: Sequence[Any], config: BridgeConfig, followup: Any = None) -> Message:
    view = card_view(row, members, config, followup)
    state = "recovered" if view.recovered else row.state
    return Message(
        text=f"{short_description(row)} ({state}, {row.count} alerts)",
        view=view,
        key=post_key(row),
    )


def acknowledged_reply(actor: str) -> str:
    """The first response in an alert's thread (the support pages' "the issue is being handled")."""
    return f"{actor} acknowledged this alert: the issue is being handled."


def escalation_reply(name: str, minutes: float) -> str:
    waited = f"{minutes:g} minute" + ("" if minutes == 1 else "s")
    return f"<at>{name}</at>, this alert has not been acknowledged for {waited}. Please pick it up."
