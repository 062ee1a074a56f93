"""Realistic, correctly signed sample deliveries for every alert source.

Used by ``golive alerts send-sample SOURCE``, the sandbox console and bench's alert storm. Every
sample has the shape of a recorded payload in ``tests/fixtures/alerts/`` (a test checks that each
sample uses only keys the recorded payload of its kind has) and goes through the source's own
``authenticate`` and ``parse``:

    headers, body, query = sample_payload("sentry", group="1170820242", secret=secret, now=clock.now())
    # POST body to /alerts/sentry with headers (and query, for Bugsnag's ?token=)

``group`` is the ``Alert.group_key`` the sample parses to, and its form picks the kind of payload:
Sentry ``metric_alert:{id}`` gives metric alerts, any other id issue webhooks and issue alerts;
Datadog ``monitor:{id}`` gives a notification without a cycle key. ``state`` is the ``Alert.state``
it parses to; ``SAMPLE_STATES`` lists what each kind supports. ``delivery`` fixes what decides the
``Alert.delivery_id`` (the same ``delivery``, ``group``, ``state`` and ``now`` give the same body, so a
resend counts once); by default every call is a new delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bot.alerts.datadog import TOKEN_HEADER, datadog_template
from bot.alerts.model import Source, State, is_plain_key
from bot.alerts.pagerduty import SIGNATURE_HEADER

Delivery = tuple[dict[str, str], bytes, dict[str, str]]

DEFAULT_GROUPS: Final[Mapping[Source, str]] = {
    "sentry": "1170820242",
    "datadog": "7543262786510923834",
    "pagerduty": "PGR0VU2",
    "bugsnag": "56b9ca7f17025f8756f69054",
}
SAMPLE_STATES: Final[Mapping[str, tuple[State, ...]]] = {
    "sentry issue": ("triggered", "resolved", "acknowledged"),
    "sentry metric_alert": ("triggered", "recovered"),
    "datadog": ("triggered", "recovered"),
    "pagerduty": ("triggered", "acknowledged", "resolved", "updated"),
    "bugsnag": ("triggered", "resolved", "acknowledged"),
}


def sample_payload(
    source: Source,
    *,
    secret: str,
    now: datetime,
    group: str | None = None,
    state: State = "triggered",
    delivery: str | None = None,
    title: str | None = None,
) -> Delivery:
    """``(headers, body, query)`` of one signed delivery from ``source`` (raises ``ValueError``)."""
    group = group if group is not None else DEFAULT_GROUPS[source]
    if not is_plain_key(group) or len(group) > 120:
        raise ValueError("group must be a plain identifier of at most 120 characters")
    seed = delivery if delivery is not None else uuid.uuid4().hex
    if source == "sentry":
        return _sentry(group, state, secret, now, seed, title)
    if source == "datadog":
        return _datadog(group, state, secret, now, seed, title)
    if source == "pagerduty":
        return _pagerduty(group, state, secret, now, seed, title)
    if source == "bugsnag":
        return _bugsnag(group, state, secret, now, seed, title)
    raise ValueError(f"unknown alert source {source!r}")


def _body(document: Mapping[str, Any]) -> bytes:
    # Compact, as Sentry serializes; the signature covers exactly these bytes.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _digits(seed: str, length: int) -> str:
    return str(int(_hex(seed, 30), 16))[:length].rjust(length, "1")


def _iso(instant: datetime, *, millis: bool = True) -> str:
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def _check(kind: str, state: State) -> None:
    if state not in SAMPLE_STATES[kind]:
        raise ValueError(f"{kind} samples support states {', '.join(SAMPLE_STATES[kind])}")


def _hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ---- Sentry (shapes of sentry/event_alert_triggered, issue_resolved, metric_alert_*.json) -----------

_INSTALLATION: Final = {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
_SENTRY_ACTOR: Final = {"id": "sentry", "name": "Sentry", "type": "application"}


def _sentry(group: str, state: State, secret: str, now: datetime, seed: str, title: str | None) -> Delivery:
    when = _iso(now)
    if group.startswith("metric_alert:"):
        _check("sentry metric_alert", state)
        resource, document = (
            "metric_alert",
            _sentry_metric(group.removeprefix("metric_alert:"), state, when, title),
        )
    elif state == "triggered":
        _check("sentry issue", state)
        resource, document = "event_alert", _sentry_event_alert(group, when, now, seed, title)
    else:
        _check("sentry issue", state)
        resource, document = "issue", _sentry_issue(group, state, when, seed, title)
    body = _body(document)
    headers = {
        "Content-Type": "application/json",
        "Request-ID": uuid.uuid4().hex,  # Sentry makes a new one on every attempt
        "Sentry-Hook-Resource": resource,
        "Sentry-Hook-Timestamp": str(int(now.timestamp())),
        "Sentry-Hook-Signature": _hmac(secret, body),
    }
    return headers, body, {}


def _sentry_event_alert(group: str, when: str, now: datetime, seed: str, title: str | None) -> dict[str, Any]:
    event_id = _hex(seed, 32)
    kind, value = "ReferenceError", "checkoutTotal is not defined"
    return {
        "action": "triggered",
        "actor": _SENTRY_ACTOR,
        "data": {
            "event": {
                "culprit": "?(checkout.js)",
                "datetime": when,
                "event_id": event_id,
                "exception": {
                    "values": [
                        {"mechanism": {"handled": False, "type": "onerror"}, "type": kind, "value": value}
                    ]
                },
                "issue_url": f"https://sentry.io/api/0/issues/{group}/",
                "issue_id": group,
                "level": "error",
                "logger": "",
                "message": "",
                "metadata": {"filename": "checkout.js", "type": kind, "value": value},
                "platform": "javascript",
                "project": 1,
                "received": round(now.timestamp(), 3),
                "tags": [["handled", "no"], ["level", "error"], ["mechanism", "onerror"]],
                "timestamp": round(now.timestamp(), 3),
                "title": title or f"{kind}: {value}",
                "type": "error",
                "url": f"https://sentry.io/api/0/projects/test-org/checkout-web/events/{event_id}/",
                "web_url": f"https://sentry.io/organizations/test-org/issues/{group}/events/{event_id}/",
            },
            "triggered_rule": "Go-live checkout errors",
        },
        "installation": _INSTALLATION,
    }


def _sentry_issue(group: str, state: State, when: str, seed: str, title: str | None) -> dict[str, Any]:
    issue = {
        "count": str(int(_digits(seed, 3))),
        "culprit": "?(checkout.js)",
        "firstSeen": when,
        "id": group,
        "lastSeen": when,
        "level": "error",
        "metadata": {
            "filename": "checkout.js",
            "type": "ReferenceError",
            "value": "checkoutTotal is not defined",
        },
        "permalink": f"https://sentry.io/organizations/test-org/issues/{group}/",
        "platform": "javascript",
        "project": {"id": "1", "name": "checkout-web", "platform": "javascript", "slug": "checkout-web"},
        "shortId": f"CHECKOUT-WEB-{int(_digits(seed, 3))}",
        "status": "resolved" if state == "resolved" else "ignored",
        "statusDetails": {},
        "substatus": None if state == "resolved" else "archived_until_escalating",
        "title": title or "ReferenceError: checkoutTotal is not defined",
        "type": "error",
    }
    data: dict[str, Any] = {"issue": issue}
    if state == "resolved":
        data["resolution_type"] = "now"
    return {
        "action": "resolved" if state == "resolved" else "archived",
        "actor": {"id": 1, "name": "Go-live engineer", "type": "user"},
        "data": data,
        "installation": _INSTALLATION,
    }


def _sentry_metric(incident: str, state: State, when: str, title: str | None) -> dict[str, Any]:
    rule = title or "Checkout errors above 50 a minute"
    critical = state == "triggered"
    return {
        "action": "critical" if critical else "resolved",
        "actor": _SENTRY_ACTOR,
        "data": {
            "description_text": "64 events in the last minute\nFilter: level:error",
            "description_title": f"{'Critical' if critical else 'Resolved'}: {rule}",
            "metric_alert": {
                "alert_rule": {
                    "aggregate": "count()",
                    "dataset": "events",
                    "environment": "production",
                    "id": "7",
                    "name": rule,
                    "projects": ["checkout-web"],
                    "query": "level:error",
                    "time_window": 1,
                },
                "date_closed": None if critical else when,
                "date_detected": when,
                "date_started": when,
                "id": incident,
                "identifier": incident,
                "projects": ["checkout-web"],
                "status": 20 if critical else 2,
                "title": rule,
                "type": 2,
            },
            "web_url": f"https://sentry.io/organizations/test-org/alerts/{incident}/",
        },
        "installation": _INSTALLATION,
    }


# ---- Datadog (datadog_template() filled in, as datadog/monitor_*.json) ----------------------------


def _datadog(group: str, state: State, secret: str, now: datetime, seed: str, title: str | None) -> Delivery:
    _check("datadog", state)
    recovered = state == "recovered"
    event_id = _digits(seed, 19)
    monitor = group.removeprefix("monitor:") if group.startswith("monitor:") else "98765432"
    name = title or "Checkout API error rate above 5%"
    millis = str(int(now.timestamp() * 1000))
    values = {
        "ID": event_id,
        "ALERT_ID": monitor,
        "ALERT_CYCLE_KEY": "" if group.startswith("monitor:") else group,
        "AGGREG_KEY": _hex(group, 31),
        "ALERT_TRANSITION": "Recovered" if recovered else "Triggered",
        "ALERT_TYPE": "success" if recovered else "error",
        "EVENT_TITLE": f"[{'Recovered' if recovered else 'Triggered'} on {{service:checkout-api}}] {name}",
        "LINK": f"https://app.datadoghq.com/event/jump_to?event_id={event_id}",
        "DATE": millis,
        "PRIORITY": "normal",
        "TAGS": "env:prod,service:checkout-api,team:checkout",
        "ALERT_TITLE": name,
        "ALERT_STATUS": "trace.http.request.errors over service:checkout-api was > 0.05 during the last 5m.",
        "ALERT_PRIORITY": "P2",
        "ALERT_SCOPE": "service:checkout-api",
        "ALERT_METRIC": "trace.http.request.errors",
        "EVENT_TYPE": "query_alert_monitor",
        "LAST_UPDATED": millis,
        "HOSTNAME": "",
        "ORG_ID": "321813",
        "ORG_NAME": "Go Live Org",
    }
    template: dict[str, str] = json.loads(datadog_template())
    document = {key: values[variable.removeprefix("$")] for key, variable in template.items()}
    headers = {"Content-Type": "application/json", TOKEN_HEADER: secret}
    return headers, _body(document), {}


# ---- PagerDuty (shape of pagerduty/incident_*.json) ------------------------------------------------

_PD_EVENTS: Final[Mapping[str, tuple[str, str]]] = {
    "triggered": ("incident.triggered", "triggered"),
    "acknowledged": ("incident.acknowledged", "acknowledged"),
    "resolved": ("incident.resolved", "resolved"),
    "updated": ("incident.escalated", "triggered"),
}


def _pd_reference(kind: str, ident: str, summary: str, page: str) -> dict[str, str]:
    return {
        "html_url": f"https://acme.pagerduty.com/{page}/{ident}",
        "id": ident,
        "self": f"https://api.pagerduty.com/{page}/{ident}",
        "summary": summary,
        "type": f"{kind}_reference",
    }


def _pagerduty(
    group: str, state: State, secret: str, now: datetime, seed: str, title: str | None
) -> Delivery:
    _check("pagerduty", state)
    event_type, status = _PD_EVENTS[state]
    service = _pd_reference("service", "PF9KMXH", "Checkout API", "services")
    engineer = _pd_reference("user", "PLH1HKV", "Go-live engineer", "users")
    document = {
        "event": {
            "id": _hex(seed, 26).upper(),
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": _iso(now),
            "agent": service if state == "triggered" else engineer,
            "client": None,
            "data": {
                "id": group,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{group}",
                "html_url": f"https://acme.pagerduty.com/incidents/{group}",
                "number": int(_digits(group, 4)),
                "status": status,
                "incident_key": _hex(group, 32),
                "created_at": _iso((now - timedelta(minutes=5)), millis=False),
                "title": title or "Checkout API is returning errors",
                "service": service,
                "assignees": [engineer],
                "escalation_policy": _pd_reference(
                    "escalation_policy", "PUS0KTE", "Go-live", "escalation_policies"
                ),
                "teams": [_pd_reference("team", "PFCVPS0", "Go-live", "teams")],
                "priority": None,
                "urgency": "high",
                "resolve_reason": None,
            },
        }
    }
    body = _body(document)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PagerDuty-Webhook/V3.0",
        SIGNATURE_HEADER: "v1=" + _hmac(secret, body),
        "X-Webhook-Id": str(uuid.UUID(_hex(seed, 32))),
        "X-Webhook-Subscription": "PY1OQVL",
    }
    return headers, body, {}


# ---- Bugsnag (shape of bugsnag/first_exception.json and error_state_fixed.json) ----------------------


def _bugsnag(group: str, state: State, secret: str, now: datetime, seed: str, title: str | None) -> Delivery:
    _check("bugsnag", state)
    event_id = _hex(seed, 24)
    when = _iso(now)
    if state == "triggered":
        trigger = {"type": "firstException", "message": "New error in production"}
    else:
        change = "fixed" if state == "resolved" else "snoozed"
        trigger = {
            "type": "errorStateManualChange",
            "message": f"Error marked as {change}",
            "stateChange": change,
        }
    project_url = "https://app.bugsnag.com/go-live/checkout-api"
    document = {
        "account": {
            "id": "5f0c1a2b3c4d5e6f7a8b9c0d",
            "name": "Go Live",
            "url": "https://app.bugsnag.com/accounts/go-live",
        },
        "project": {"id": "5f0c1a2b3c4d5e6f7a8b9c0e", "name": "checkout-api", "url": project_url},
        "trigger": trigger,
        "error": {
            "id": event_id,
            "errorId": group,
            "exceptionClass": title or "Timeout::Error",
            "message": "execution expired",
            "context": "checkout#create",
            "appVersion": "2.4.1",
            "releaseStage": "production",
            "firstReceived": when,
            "receivedAt": when,
            "url": f"{project_url}/errors/{group}?event_id={event_id}",
            "severity": "error",
        },
    }
    if state != "triggered":
        document["error"]["status"] = trigger["stateChange"]
    headers = {"Content-Type": "application/json", "User-Agent": "Bugsnag"}
    return headers, _body(document), {"token": secret}
