"""Whatever arrives, ``authenticate`` and ``parse`` only ever answer with the documented outcomes.

For each source: arbitrary bytes, arbitrary JSON and mutated recorded payloads give an ``Alert`` that
keeps the contract, an ``Ignored``, ``AlertRejected`` or ``AlertUnauthorized``, never another error;
and no reason ever quotes payload text (``MARKER`` stands for personal data in the payload).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from alerts_support import MARKER, SECRETS, json_values, mutated, raw_body, recorded, recorded_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts import RECEIVERS, SOURCES, Alert, AlertError, AlertRejected, AlertUnauthorized, Ignored
from bot.alerts.model import KEY_MAX, TITLE_MAX

FUZZ = settings(
    derandomize=True, max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Mixes the real resource headers with junk so every Sentry resource path is reached.
SENTRY_RESOURCES = st.sampled_from(["issue", "event_alert", "error", "metric_alert", "installation", "", "é"])


def deliver(source: str, headers: dict[str, str], raw: bytes, query: dict[str, str]) -> None:
    receiver = RECEIVERS[source]  # type: ignore[index]
    recording = recorded(source, recorded_names(source)[0])  # type: ignore[arg-type]
    for secret in (SECRETS[source], "another-secret"):  # type: ignore[index]
        try:
            receiver.authenticate(headers, raw, query, secret, recording.now)
        except AlertUnauthorized as refused:
            check_reason(refused)
    try:
        outcome = receiver.parse(headers, raw)
    except AlertRejected as rejected:
        check_reason(rejected)
        return
    assert isinstance(outcome, Alert | Ignored)
    if isinstance(outcome, Alert):
        check_alert(outcome, source)


def check_reason(error: AlertError) -> None:
    assert MARKER not in error.reason
    assert error.reason.isascii() and 0 < len(error.reason) <= 120


def check_alert(alert: Alert, source: str) -> None:
    assert alert.source == source
    assert 0 < len(alert.group_key) <= KEY_MAX and 0 < len(alert.title) <= TITLE_MAX
    assert all(url.startswith("https://") for _, url in alert.links)
    assert alert.count == 1
    assert all(t is None or t.tzinfo is not None for t in (alert.first_seen, alert.last_seen))


def headers_for(source: str, resource: str) -> dict[str, str]:
    recording = recorded(source, recorded_names(source)[0])  # type: ignore[arg-type]
    headers = dict(recording.headers)
    if source == "sentry":
        headers["Sentry-Hook-Resource"] = resource
    return headers


def query_for(source: str) -> dict[str, str]:
    return recorded(source, recorded_names(source)[0]).query  # type: ignore[arg-type]


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(raw=st.binary(max_size=400), resource=SENTRY_RESOURCES)
def test_arbitrary_bytes_give_only_documented_outcomes(source, raw, resource):
    deliver(source, headers_for(source, resource), raw, query_for(source))


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(document=json_values, resource=SENTRY_RESOURCES)
def test_arbitrary_json_gives_only_documented_outcomes(source, document, resource):
    deliver(source, headers_for(source, resource), json.dumps(document).encode(), query_for(source))


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(data=st.data())
def test_mutated_recorded_payloads_give_only_documented_outcomes(source, data):
    recording = recorded(source, data.draw(st.sampled_from(recorded_names(source))))
    document: Any = data.draw(mutated(recording.body))
    headers = dict(recording.headers)
    if data.draw(st.booleans()):  # sometimes drop, garble or duplicate a header
        key = data.draw(st.sampled_from(sorted(headers)))
        headers[key] = data.draw(st.sampled_from(["", "v1=00", headers[key] + "," + headers[key], MARKER]))
    deliver(source, headers, raw_body(document), recording.query)


HEADER_NAMES = st.sampled_from(
    [
        "Sentry-Hook-Signature",
        "Sentry-Hook-Timestamp",
        "Sentry-Hook-Resource",
        "X-Golive-Token",
        "x-pagerduty-signature",
        "Content-Type",
    ]
)
ODD_TEXT = st.one_of(
    st.text(max_size=80),
    st.integers().map(str),
    st.sampled_from(["\ud800", "v1=\udc80", "１２３", "999999999999", "0001", "v1=,v1=", "," * 50]),
)


@pytest.mark.parametrize("source", SOURCES)
@FUZZ
@given(
    headers=st.dictionaries(HEADER_NAMES, ODD_TEXT, max_size=6),
    query=st.dictionaries(st.sampled_from(["token", "x"]), ODD_TEXT, max_size=2),
    secret=ODD_TEXT,
)
def test_arbitrary_headers_query_and_secrets_give_only_documented_outcomes(source, headers, query, secret):
    recording = recorded(source, recorded_names(source)[0])
    try:
        RECEIVERS[source].authenticate(headers, recording.raw, query, secret, recording.now)
    except AlertUnauthorized as refused:
        check_reason(refused)
    deliver(source, headers, recording.raw, query)
