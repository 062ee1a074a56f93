"""Bugsnag webhook notifications (``POST /alerts/bugsnag?token=...``) read into ``Alert``.

Bugsnag documents no signature (https://docs.bugsnag.com/product/integrations/webhook/): the
webhook URL carries
``?token=<GOLIVE_BUGSNAG_WEBHOOK_TOKEN>``, compared in constant time. Payload
(docs.bugsnag.com/product/integrations/webhook): ``account``, ``project``, ``trigger{type, message,
stateChange}`` and, for error triggers, ``error{id (the event), errorId (the error), exceptionClass,
message, context, releaseStage, severity, url, firstReceived, receivedAt, ...}``.

- group_key: ``error.errorId``.
- state: firstException, exception, errorEventFrequency, powerTen, reopened: triggered;
  errorStateManualChange (also spelled ``errorState-ManualChange``) by ``trigger.stateChange``:
  fixed: resolved, snoozed and ignored: acknowledged, reopened: triggered, others: updated.
  Triggers without an error (projectSpiking, release, comment, rate-limit notices) are ``Ignored``.
- delivery_id: ``event:{error.id}`` for occurrence triggers, so one event reported by two triggers
  (``exception`` and ``powerTen``) counts once; a manual state change has no id of its own, so
  ``body:{sha256}``.
- title: ``exceptionClass`` and ``context`` (``NoMethodError in auth/session#create``); ``error.message``
  may hold personal data and is used only when neither exists.

Staleness: the token is static and nothing is timestamped, so a replay is caught only by the
storage's ``delivery_id`` dedupe.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import msgspec

from bot.alerts.delivery import (
    body_digest,
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

TOKEN_PARAMETER: Final = "token"

_OCCURRENCES: Final = frozenset(
    {"firstexception", "exception", "erroreventfrequency", "powerten", "reopened"}
)
_MANUAL_CHANGE: Final = "errorstatemanualchange"
_MANUAL_STATES: Final[Mapping[str, State]] = {
    "fixed": "resolved",
    "snoozed": "acknowledged",
    "ignored": "acknowledged",
    "reopened": "triggered",
}
_SEVERITIES: Final[Mapping[str, Level]] = {"error": "error", "warning": "warning", "info": "info"}


def authenticate(
    headers: Mapping[str, str],
    raw_body: bytes,
    query: Mapping[str, str],
    secret: str,
    now: datetime,
) -> None:
    """Accept only a delivery whose ``token`` query parameter equals ``secret`` (constant time)."""
    if not secret:
        raise AlertUnauthorized("no Bugsnag webhook token is configured")
    token = query.get(TOKEN_PARAMETER)
    if not token:
        raise AlertUnauthorized("missing token query parameter")
    if not same_secret(token, secret):
        raise AlertUnauthorized("token query parameter does not match")


class _Trigger(msgspec.Struct):
    type: str
    state_change: str | None = msgspec.field(name="stateChange", default=None)


class _Project(msgspec.Struct):
    name: str | None = None


class _Error(msgspec.Struct):
    error_id: str | int = msgspec.field(name="errorId")
    id: str | int | None = None
    exception_class: str | None = msgspec.field(name="exceptionClass", default=None)
    message: str | None = None
    context: str | None = None
    app_version: str | None = msgspec.field(name="appVersion", default=None)
    release_stage: str | None = msgspec.field(name="releaseStage", default=None)
    severity: str | None = None
    status: str | None = None
    url: str | None = None
    first_received: str | None = msgspec.field(name="firstReceived", default=None)
    received_at: str | None = msgspec.field(name="receivedAt", default=None)


class _Notification(msgspec.Struct):
    trigger: _Trigger
    project: _Project | None = None
    error: dict[str, object] | None = None


def parse(headers: Mapping[str, str], raw_body: bytes) -> Alert | Ignored:
    """An error notification as an ``Alert``; project-level notifications are ``Ignored``."""
    _, note = read_body(raw_body, _Notification)
    trigger = note.trigger.type.strip().replace("-", "").lower()
    if trigger in _OCCURRENCES:
        state: State = "triggered"
    elif trigger == _MANUAL_CHANGE:
        state = _MANUAL_STATES.get((note.trigger.state_change or "").strip().lower(), "updated")
    else:
        return Ignored("bugsnag", "bugsnag trigger without an error")
    if note.error is None:
        raise AlertRejected("field error is missing")
    error = read_part(note.error, _Error, "error")
    group = required_id(error.error_id, "error.errorId")
    event_id = plain_id(error.id) if trigger in _OCCURRENCES else None
    what = " in ".join(part for part in (clip(error.exception_class, 120), clip(error.context, 120)) if part)
    return Alert(
        source="bugsnag",
        group_key=group,
        delivery_id=f"event:{event_id}" if event_id else body_digest(raw_body),
        title=first_text(TITLE_MAX, what, error.message, f"Bugsnag error {group}") or "Bugsnag error",
        level=_SEVERITIES.get((error.severity or "").lower(), "error"),
        state=state,
        links=make_links(("Bugsnag error", error.url)),
        first_seen=iso_time(error.first_received),
        last_seen=iso_time(error.received_at),
        environment=clip(error.release_stage, NAME_MAX),
        project=clip(note.project.name if note.project else None, NAME_MAX),
        tags=make_tags(
            make_tag("trigger", note.trigger.type),
            make_tag("state_change", note.trigger.state_change),
            make_tag("severity", error.severity),
            make_tag("status", error.status),
            make_tag("app_version", error.app_version),
        ),
    )
