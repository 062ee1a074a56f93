"""Datadog monitor webhooks (``POST /alerts/datadog``) read into ``Alert``.

Datadog signs nothing (https://docs.datadoghq.com/integrations/webhooks/): the webhook is set up
with a custom header ``{"X-Golive-Token": "<GOLIVE_DATADOG_WEBHOOK_TOKEN>"}`` and the custom payload
``datadog_template()`` prints, because Datadog's default payload has no alert id, transition or cycle
key. Every value in that template is a quoted Datadog variable, so every field arrives as a string;
a variable Datadog could not fill arrives as its literal name (``"$ALERT_CYCLE_KEY"``) or empty, and
both mean absent here.

- group_key: ``$ALERT_CYCLE_KEY`` (one id from trigger until recovery), else ``monitor:{$ALERT_ID}``.
- delivery_id: ``$ID`` (new per notification; Datadog's own retries resend the same body).
- state: Triggered, Re-Triggered, Renotify, Warn, Re-Warn, No Data, Re-No Data: triggered;
  Recovered: recovered; another transition: updated; none at all: read from ``$EVENT_TITLE``'s
  ``[Triggered]``-style prefix, else triggered.
- level: recovered: info; ``$ALERT_PRIORITY`` P1: critical; Warn and No Data: warning; otherwise
  ``$ALERT_TYPE`` (error, warning, info, success = info).
- ``$DATE`` is epoch milliseconds (seconds are accepted too); ``$TAGS`` is comma-separated, and its
  ``env:`` and ``service:`` tags fill ``environment`` and ``service``.

Staleness: there is no timestamp to check and the token is static, so a captured delivery can be
replayed; the storage's ``delivery_id`` dedupe makes a replay count once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

import msgspec

from bot.alerts.delivery import body_digest, epoch_time, header, plain_id, read_body, same_secret
from bot.alerts.errors import AlertRejected, AlertUnauthorized
from bot.alerts.model import (
    NAME_MAX,
    TAGS_MAX,
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

TOKEN_HEADER: Final = "X-Golive-Token"

# The keys the contract requires first (docs/CONTRACTS.md section 7), each holding the Datadog
# variable of its name in capitals.
_TEMPLATE_KEYS: Final = (
    "id",
    "alert_id",
    "alert_cycle_key",
    "aggreg_key",
    "alert_transition",
    "alert_type",
    "event_title",
    "link",
    "date",
    "priority",
    "tags",
    "alert_title",
    "alert_status",
    "alert_priority",
    "alert_scope",
    "alert_metric",
    "event_type",
    "last_updated",
    "hostname",
    "org_id",
    "org_name",
)

_TRANSITIONS: Final[Mapping[str, tuple[State, Level | None]]] = {
    "triggered": ("triggered", None),
    "re-triggered": ("triggered", None),
    "renotify": ("triggered", None),
    "warn": ("triggered", "warning"),
    "re-warn": ("triggered", "warning"),
    "no data": ("triggered", "warning"),
    "re-no data": ("triggered", "warning"),
    "recovered": ("recovered", "info"),
}
_ALERT_TYPES: Final[Mapping[str, Level]] = {
    "error": "error",
    "warning": "warning",
    "info": "info",
    "success": "info",
}
_TITLE_PREFIX: Final = re.compile(
    r"^\s*\[(P[1-5]|Triggered|Re-Triggered|Recovered|Warn|Re-Warn|No Data|Re-No Data|Renotify)"
    r"(?:\s[^\]]{0,200})?\]\s*",
    re.IGNORECASE,
)


def datadog_template() -> str:
    """The JSON payload to paste into Datadog's webhook integration (``golive alerts datadog-template``)."""
    return json.dumps({key: f"${key.upper()}" for key in _TEMPLATE_KEYS}, indent=2) + "\n"


def authenticate(
    headers: Mapping[str, str],
    raw_body: bytes,
    query: Mapping[str, str],
    secret: str,
    now: datetime,
) -> None:
    """Accept only a delivery whose ``X-Golive-Token`` header equals ``secret`` (constant time)."""
    if not secret:
        raise AlertUnauthorized("no Datadog webhook token is configured")
    token = header(headers, TOKEN_HEADER)
    if not token:
        raise AlertUnauthorized(f"missing {TOKEN_HEADER} header")
    if not same_secret(token.strip(), secret):
        raise AlertUnauthorized(f"{TOKEN_HEADER} does not match")


class _Notification(msgspec.Struct):
    id: str | int | None = None
    alert_id: str | int | None = None
    alert_cycle_key: str | int | None = None
    alert_transition: str | None = None
    alert_type: str | None = None
    alert_title: str | None = None
    alert_priority: str | None = None
    event_title: str | None = None
    link: str | None = None
    date: str | int | None = None
    last_updated: str | int | None = None
    tags: str | None = None
    hostname: str | None = None


def parse(headers: Mapping[str, str], raw_body: bytes) -> Alert | Ignored:
    """The notification as an ``Alert``, or ``AlertRejected`` when it has no alert group."""
    _, note = read_body(raw_body, _Notification)
    cycle_key = _filled(note.alert_cycle_key)
    alert_id = _filled(note.alert_id)
    if cycle_key is not None:
        group = plain_id(cycle_key)
        if group is None:
            raise AlertRejected("field alert_cycle_key is not a plain identifier")
    elif alert_id is not None:
        monitor = plain_id(alert_id)
        if monitor is None:
            raise AlertRejected("field alert_id is not a plain identifier")
        group = f"monitor:{monitor}"
    else:
        raise AlertRejected("neither alert_cycle_key nor alert_id is filled")

    event_title = _filled(note.event_title)
    transition = _filled(note.alert_transition) or _transition_in(event_title) or "triggered"
    state, transition_level = _TRANSITIONS.get(transition.lower(), ("updated", None))
    tags = _split_tags(_filled(note.tags))
    delivery = plain_id(_filled(note.id))
    date = epoch_time(_filled(note.date))
    return Alert(
        source="datadog",
        group_key=group,
        delivery_id=delivery or body_digest(raw_body),
        title=first_text(
            TITLE_MAX,
            _strip_prefixes(event_title),
            _filled(note.alert_title),
            f"Datadog monitor {alert_id or group}",
        )
        or "Datadog monitor",
        level=_level(state, transition_level, note),
        state=state,
        links=make_links(("Datadog event", _filled(note.link))),
        first_seen=date,
        last_seen=epoch_time(_filled(note.last_updated)) or date,
        environment=clip(_tag_value(tags, "env"), NAME_MAX),
        service=clip(_tag_value(tags, "service"), NAME_MAX),
        tags=make_tags(
            make_tag("transition", transition),
            make_tag("priority", _filled(note.alert_priority)),
            make_tag("host", _filled(note.hostname)),
            *(clip(tag, 100) for tag in tags[:TAGS_MAX]),
        ),
    )


def _filled(value: str | int | None) -> str | None:
    """A template value, or None when Datadog left it empty or unsubstituted (``$NAME``)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if not text or text.startswith("$") else text


def _transition_in(event_title: str | None) -> str | None:
    for _ in range(3):  # "[P1] [Triggered on {host:a}] ..." carries the transition second
        match = _TITLE_PREFIX.match(event_title or "")
        if match is None:
            return None
        if not match.group(1).upper().startswith("P"):
            return match.group(1)
        event_title = (event_title or "")[match.end() :]
    return None


def _strip_prefixes(event_title: str | None) -> str | None:
    title = event_title or ""
    for _ in range(3):
        title = _TITLE_PREFIX.sub("", title, count=1)
    return title or None


def _level(state: State, transition_level: Level | None, note: _Notification) -> Level:
    if state == "recovered":
        return "info"
    if (_filled(note.alert_priority) or "").upper() == "P1":
        return "critical"
    if transition_level is not None:
        return transition_level
    return _ALERT_TYPES.get((_filled(note.alert_type) or "").lower(), "error")


def _split_tags(tags: str | None) -> list[str]:
    if not tags:
        return []
    return [tag.strip() for tag in tags.split(",") if tag.strip() and not tag.strip().startswith("$")]


def _tag_value(tags: list[str], key: str) -> str | None:
    prefix = key + ":"
    return next((tag[len(prefix) :] for tag in tags if tag.startswith(prefix)), None)
