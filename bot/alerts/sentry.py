"""Sentry integration-platform webhooks (``POST /alerts/sentry``) read into ``Alert``.

Transport (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/):
``Sentry-Hook-Signature`` is the hex
HMAC-SHA256 of the exact body bytes keyed with the integration's client secret;
``Sentry-Hook-Resource`` names the payload kind; ``Sentry-Hook-Timestamp`` is epoch seconds, unsigned.

Resources read (everything else, e.g. ``installation``, ``comment``, ``seer``, is ``Ignored``):

- ``issue``: group ``data.issue.id``; created and unresolved: triggered, resolved: resolved,
  archived and ignored (both spellings are sent): acknowledged, assigned and anything new: updated.
- ``event_alert``: group ``data.event.issue_id``; always triggered.
- ``error``: group ``data.error.issue_id``; always triggered.
- ``metric_alert``: group ``metric_alert:{data.metric_alert.id}``; critical and warning: triggered
  (level critical or warning), resolved: recovered; the title is ``description_title`` without its
  ``Critical:`` / ``Resolved:`` prefix, so both deliveries of one incident share it.

Metric alert incident ids and issue ids are separate number spaces on one Sentry server, hence the
``metric_alert:`` prefix. ``Request-ID`` is a fresh uuid4 on every attempt, retries included (Sentry
``AppPlatformEvent.sentry_headers``), so it cannot dedupe; ``delivery_id`` comes from the payload
instead (see ``Alert``). A Sentry org that subscribes both ``issue`` webhooks and an alert-rule action
gets an ``issue.created`` and an ``event_alert`` for an issue's first event: both count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import msgspec

from bot.alerts.delivery import (
    body_digest,
    header,
    hmac_sha256_hex,
    iso_time,
    plain_id,
    read_body,
    read_part,
    required_id,
    same_secret,
)
from bot.alerts.errors import AlertRejected, AlertUnauthorized
from bot.alerts.model import (
    NAME_MAX,
    TITLE_MAX,
    Alert,
    Ignored,
    Level,
    State,
    clip,
    first_text,
    make_links,
    make_tag,
    make_tags,
)

STALE_AFTER: Final = timedelta(minutes=5)

_IGNORED_RESOURCES: Final = frozenset({"installation", "comment", "seer", "preprod_artifact"})
_ISSUE_STATES: Final[Mapping[str, State]] = {
    "created": "triggered",
    "unresolved": "triggered",
    "resolved": "resolved",
    "archived": "acknowledged",
    "ignored": "acknowledged",
    "assigned": "updated",
}
_METRIC_STATES: Final[Mapping[str, State]] = {
    "critical": "triggered",
    "warning": "triggered",
    "open": "triggered",
    "resolved": "recovered",
}
_METRIC_LEVELS: Final[Mapping[str, Level]] = {
    "critical": "critical",
    "warning": "warning",
    "resolved": "info",
}
_LEVELS: Final[Mapping[str, Level]] = {
    "fatal": "critical",
    "error": "error",
    "warning": "warning",
    "info": "info",
    "debug": "info",
    "log": "info",
    "sample": "info",
}
_METRIC_TITLE_PREFIX: Final = re.compile(r"^(?:Critical|Warning|Resolved|Open)\s*:\s*", re.IGNORECASE)
_EVENT_API_URL: Final = re.compile(r"/api/0/projects/[^/]+/([^/]+)/events/")
# Event tags safe to show: no user, IP, URL or request data.
_SHOWN_EVENT_TAGS: Final = frozenset(
    {"release", "handled", "mechanism", "browser.name", "os.name", "runtime.name", "server_name"}
)


# ---- authentication ---------------------------------------------------------------------------


def authenticate(
    headers: Mapping[str, str],
    raw_body: bytes,
    query: Mapping[str, str],
    secret: str,
    now: datetime,
) -> None:
    """Accept only a delivery signed with ``secret`` whose timestamp is within 5 minutes of ``now``.

    The signature covers the body only, and the timestamp is not signed, so the 5-minute window is
    no defence against someone who captured a delivery (they can rewrite the header): it refuses
    stale captures replayed by accident (old fixtures, a proxy's retry queue, a copied curl) and
    keeps the "good, bad, stale and missing signatures" rule (docs/CONTRACTS.md section 5) the same
    for every scheme. Sentry
    stamps the header at send time on every attempt, retries 5 minutes apart included, so a genuine
    delivery is never stale unless a clock is off by more than the window; a timestamp more than 5
    minutes in the future is refused too. ``now`` is the wall clock, never the simulated one.
    Replays inside the window are handled by the storage's ``delivery_id`` dedupe.
    """
    if not secret:
        raise AlertUnauthorized("no Sentry client secret is configured")
    signature = header(headers, "Sentry-Hook-Signature")
    if not signature:
        raise AlertUnauthorized("missing Sentry-Hook-Signature header")
    if not same_secret(signature.strip().lower(), hmac_sha256_hex(secret, raw_body)):
        raise AlertUnauthorized("Sentry-Hook-Signature does not match the body")
    stamp = header(headers, "Sentry-Hook-Timestamp")
    if not stamp:
        raise AlertUnauthorized("missing Sentry-Hook-Timestamp header")
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise AlertUnauthorized("Sentry-Hook-Timestamp is not epoch seconds")
    if abs(now.timestamp() - int(stamp)) > STALE_AFTER.total_seconds():
        raise AlertUnauthorized("Sentry-Hook-Timestamp is more than 5 minutes from now")


# ---- the fields we read -----------------------------------------------------------------------


class _Project(msgspec.Struct):
    slug: str | None = None
    name: str | None = None


class _Metadata(msgspec.Struct):
    type: str | None = None


class _Issue(msgspec.Struct):
    id: str | int
    title: str | None = None
    level: str | None = None
    status: str | None = None
    substatus: str | None = None
    platform: str | None = None
    short_id: str | None = msgspec.field(name="shortId", default=None)
    first_seen: str | None = msgspec.field(name="firstSeen", default=None)
    last_seen: str | None = msgspec.field(name="lastSeen", default=None)
    project: _Project | None = None
    metadata: _Metadata | None = None
    permalink: str | None = None
    web_url: str | None = None


class _IssueData(msgspec.Struct):
    issue: _Issue
    resolution_type: str | None = None


class _Event(msgspec.Struct):
    issue_id: str | int
    event_id: str | None = None
    title: str | None = None
    level: str | None = None
    platform: str | None = None
    environment: str | None = None
    datetime: str | None = None
    url: str | None = None
    web_url: str | None = None
    # [[key, value], ...] in practice; read defensively because only a few tags are ever shown.
    tags: list[object] | None = None


class _EventAlertData(msgspec.Struct):
    event: _Event
    triggered_rule: str | None = None


class _ErrorData(msgspec.Struct):
    error: _Event


class _AlertRule(msgspec.Struct):
    id: str | int | None = None
    name: str | None = None
    environment: str | None = None


class _MetricIncident(msgspec.Struct):
    id: str | int
    title: str | None = None
    projects: list[str] | None = None
    date_started: str | None = None
    date_detected: str | None = None
    date_closed: str | None = None
    alert_rule: _AlertRule | None = None


class _MetricData(msgspec.Struct):
    metric_alert: _MetricIncident
    description_title: str | None = None
    web_url: str | None = None


class _Envelope(msgspec.Struct):
    action: str
    data: dict[str, object]


# ---- parsing ----------------------------------------------------------------------------------


def parse(headers: Mapping[str, str], raw_body: bytes) -> Alert | Ignored:
    """The delivery as an ``Alert``, ``Ignored`` for resources we do not track, or ``AlertRejected``."""
    resource = (header(headers, "Sentry-Hook-Resource") or "").strip()
    if not resource:
        raise AlertRejected("missing Sentry-Hook-Resource header")
    if resource not in ("issue", "event_alert", "error", "metric_alert"):
        named = resource if resource in _IGNORED_RESOURCES else "unknown"
        return Ignored("sentry", f"sentry resource {named}")
    _, envelope = read_body(raw_body, _Envelope)
    action = envelope.action.strip().lower()
    if resource == "issue":
        return _issue(action, read_part(envelope.data, _IssueData, "data"), raw_body)
    if resource == "metric_alert":
        return _metric_alert(action, read_part(envelope.data, _MetricData, "data"), raw_body)
    if resource == "event_alert":
        alert_data = read_part(envelope.data, _EventAlertData, "data")
        return _event(alert_data.event, "data.event", alert_data.triggered_rule, raw_body)
    return _event(read_part(envelope.data, _ErrorData, "data").error, "data.error", None, raw_body)


def _issue(action: str, data: _IssueData, raw_body: bytes) -> Alert:
    issue = data.issue
    group = required_id(issue.id, "data.issue.id")
    project = issue.project.slug or issue.project.name if issue.project else None
    tags = [
        make_tag("short_id", issue.short_id),
        make_tag("platform", issue.platform),
        make_tag("substatus", issue.substatus),
        make_tag("resolution", data.resolution_type),
    ]
    return Alert(
        source="sentry",
        group_key=group,
        delivery_id=f"issue:{group}:created" if action == "created" else body_digest(raw_body),
        title=_first_title(
            issue.title,
            issue.metadata.type if issue.metadata else None,
            f"Sentry issue {issue.short_id or group}",
        ),
        level=_LEVELS.get((issue.level or "").lower(), "error"),
        state=_ISSUE_STATES.get(action, "updated"),
        links=make_links(("Sentry issue", issue.web_url), ("Sentry issue", issue.permalink)),
        first_seen=iso_time(issue.first_seen),
        last_seen=iso_time(issue.last_seen),
        project=clip(project, NAME_MAX),
        tags=make_tags(*tags),
    )


def _event(event: _Event, at: str, rule: str | None, raw_body: bytes) -> Alert:
    group = required_id(event.issue_id, f"{at}.issue_id")
    event_id = plain_id(event.event_id)
    pairs = _tag_pairs(event.tags)
    project = _EVENT_API_URL.search(event.url or "")
    seen = iso_time(event.datetime)
    tags = [make_tag("rule", rule), make_tag("platform", event.platform)]
    tags += [make_tag(key, value) for key, value in pairs if key in _SHOWN_EVENT_TAGS]
    return Alert(
        source="sentry",
        group_key=group,
        delivery_id=f"event:{event_id}" if event_id else body_digest(raw_body),
        title=_first_title(event.title, f"Sentry issue {group}"),
        level=_LEVELS.get((event.level or "").lower(), "error"),
        state="triggered",
        links=make_links(("Sentry event", event.web_url)),
        first_seen=seen,
        last_seen=seen,
        environment=clip(event.environment or dict(pairs).get("environment"), NAME_MAX),
        project=clip(project.group(1), NAME_MAX) if project else None,
        tags=make_tags(*tags),
    )


def _metric_alert(action: str, data: _MetricData, raw_body: bytes) -> Alert:
    incident = data.metric_alert
    group = "metric_alert:" + required_id(incident.id, "data.metric_alert.id")
    rule = incident.alert_rule
    titled = _METRIC_TITLE_PREFIX.sub("", data.description_title or "")
    first_seen = iso_time(incident.date_started) or iso_time(incident.date_detected)
    last_seen = iso_time(incident.date_closed) or iso_time(incident.date_detected) or first_seen
    return Alert(
        source="sentry",
        group_key=group,
        delivery_id=body_digest(raw_body),
        title=_first_title(
            titled, rule.name if rule else None, incident.title or f"Sentry metric alert {group}"
        ),
        level=_METRIC_LEVELS.get(action, "error"),
        state=_METRIC_STATES.get(action, "updated"),
        links=make_links(("Sentry alert", data.web_url)),
        first_seen=first_seen,
        last_seen=last_seen,
        environment=clip(rule.environment if rule else None, NAME_MAX),
        project=clip(incident.projects[0], NAME_MAX) if incident.projects else None,
        tags=make_tags(make_tag("alert_rule", plain_id(rule.id) if rule else None)),
    )


def _first_title(*candidates: str | None) -> str:
    return first_text(TITLE_MAX, *candidates) or "Sentry alert"


# ---- small readers ----------------------------------------------------------------------------


def _tag_pairs(tags: list[object] | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in tags or []:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item):
            pairs.append((item[0], item[1]))
    return pairs
