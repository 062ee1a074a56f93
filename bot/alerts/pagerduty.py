"""PagerDuty webhooks v3 (``POST /alerts/pagerduty``) read into ``Alert``.

Transport (PagerDuty webhooks v3, https://developer.pagerduty.com/docs/ : Overview, Behavior and
Signatures, whose source is github.com/PagerDuty/developer-docs): one ``{"event": {...}}`` per
request; ``X-PagerDuty-Signature`` holds one or more comma-separated ``v1=<hex HMAC-SHA256(secret,
raw body)>`` (several while a secret rotates), and the delivery is authentic when any of them matches.

- group_key: the incident id, ``event.data.id``; delivery_id: ``event.id``. PagerDuty also sends
  ``X-Webhook-Id``, unique per webhook and repeated on its retries; ``event.id`` serves the same
  purpose and is also the same across two subscriptions that deliver one event.
- state: incident.triggered, incident.reopened, incident.unacknowledged: triggered;
  incident.acknowledged: acknowledged; incident.resolved: resolved; incident.escalated,
  incident.reassigned, incident.delegated, incident.priority_updated: updated. Every other event type
  (notes, responders, status updates, services, types added later) is ``Ignored``.
- level: urgency ``high`` or priority ``P1``: critical; urgency ``low``: warning; otherwise error.

Staleness: nothing in the delivery is a signed timestamp, and ``occurred_at`` is no freshness proof
because PagerDuty retries for hours and queues later webhooks behind a failing one. So "stale" for
PagerDuty means a replay of an event id already seen, which the storage dedupes on ``delivery_id``;
``authenticate`` checks the signature only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
from bot.alerts.errors import AlertUnauthorized
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

SIGNATURE_HEADER: Final = "X-PagerDuty-Signature"
# More than a rotation ever needs; bounds the work a forged header can cause.
_MAX_SIGNATURES: Final = 8

_STATES: Final[Mapping[str, State]] = {
    "incident.triggered": "triggered",
    "incident.reopened": "triggered",
    "incident.unacknowledged": "triggered",
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
    "incident.escalated": "updated",
    "incident.reassigned": "updated",
    "incident.delegated": "updated",
    "incident.priority_updated": "updated",
}


def authenticate(
    headers: Mapping[str, str],
    raw_body: bytes,
    query: Mapping[str, str],
    secret: str,
    now: datetime,
) -> None:
    """Accept a delivery when any ``v1=`` signature in ``X-PagerDuty-Signature`` matches ``secret``."""
    if not secret:
        raise AlertUnauthorized("no PagerDuty webhook secret is configured")
    signatures = header(headers, SIGNATURE_HEADER)
    if not signatures:
        raise AlertUnauthorized(f"missing {SIGNATURE_HEADER} header")
    expected = "v1=" + hmac_sha256_hex(secret, raw_body)
    offered = [part.strip() for part in signatures.split(",")[:_MAX_SIGNATURES]]
    versioned = [part for part in offered if part.startswith("v1=")]
    if not versioned:
        raise AlertUnauthorized(f"{SIGNATURE_HEADER} has no v1 signature")
    # Compare with every candidate, not stopping at the first match, so timing says nothing.
    matches = [same_secret(part.lower(), expected) for part in versioned]
    if not any(matches):
        raise AlertUnauthorized(f"{SIGNATURE_HEADER} does not match the body")


class _Reference(msgspec.Struct):
    id: str | None = None
    summary: str | None = None
    html_url: str | None = None


class _Incident(msgspec.Struct):
    id: str | int
    number: int | None = None
    title: str | None = None
    status: str | None = None
    urgency: str | None = None
    html_url: str | None = None
    created_at: str | None = None
    service: _Reference | None = None
    priority: _Reference | None = None
    escalation_policy: _Reference | None = None
    teams: list[_Reference] | None = None


class _Event(msgspec.Struct):
    id: str | int
    event_type: str
    occurred_at: str | None = None
    data: dict[str, object] | None = None


class _Delivery(msgspec.Struct):
    event: _Event


def parse(headers: Mapping[str, str], raw_body: bytes) -> Alert | Ignored:
    """An incident event as an ``Alert``; other event types are ``Ignored``."""
    _, delivery = read_body(raw_body, _Delivery)
    event = delivery.event
    state = _STATES.get(event.event_type.strip().lower())
    if state is None:
        return Ignored("pagerduty", "pagerduty event type not tracked")
    incident = read_part(event.data, _Incident, "event.data")
    group = required_id(incident.id, "event.data.id")
    urgency = (incident.urgency or "").lower()
    priority = incident.priority.summary if incident.priority else None
    level: Level = (
        "critical" if urgency == "high" or priority == "P1" else "warning" if urgency == "low" else "error"
    )
    team = incident.teams[0].summary if incident.teams else None
    return Alert(
        source="pagerduty",
        group_key=group,
        delivery_id=plain_id(event.id) or body_digest(raw_body),
        title=first_text(
            TITLE_MAX,
            incident.title,
            f"PagerDuty incident #{incident.number}" if incident.number is not None else None,
            f"PagerDuty incident {group}",
        )
        or "PagerDuty incident",
        level=level,
        state=state,
        links=make_links(("PagerDuty incident", incident.html_url)),
        first_seen=iso_time(incident.created_at),
        last_seen=iso_time(event.occurred_at),
        service=clip(incident.service.summary if incident.service else None, NAME_MAX),
        tags=make_tags(
            make_tag("urgency", incident.urgency),
            make_tag("priority", priority),
            make_tag("incident_number", str(incident.number) if incident.number is not None else None),
            make_tag(
                "escalation_policy",
                incident.escalation_policy.summary if incident.escalation_policy else None,
            ),
            make_tag("team", team),
        ),
    )
