"""The alert endpoints' answers: 401 for every bad, stale or missing signature or token, 400 for a
body they cannot read, 5xx only when storage fails, and nothing stored for what they refuse."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alertflow_support import SECRETS, AlertBridge
from sqlalchemy import func, select

from bot.alerts.samples import sample_payload
from bot.storage import tables


async def stored_count(alerts: AlertBridge) -> int:
    async with alerts.bridge.runtime.store.read() as connection:
        return int(await connection.scalar(select(func.count()).select_from(tables.received_activities)) or 0)


def signed(source: str, **options: Any) -> tuple[dict[str, str], bytes, dict[str, str]]:
    return sample_payload(source, secret=SECRETS[source], now=datetime.now(UTC), **options)  # type: ignore[arg-type]


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() != name.lower()}


# ---- each scheme: good, bad, stale, missing -------------------------------------------------------


async def test_sentry_good_signature_is_accepted(alerts: AlertBridge) -> None:
    headers, body, _ = signed("sentry")
    assert (await alerts.send("sentry", headers, body)).status == 202
    assert await stored_count(alerts) == 1


@pytest.mark.parametrize("case", ["bad", "stale", "future", "missing", "missing timestamp", "other secret"])
async def test_sentry_signature_problems_are_401(alerts: AlertBridge, case: str) -> None:
    headers, body, _ = signed("sentry")
    if case == "bad":
        headers["Sentry-Hook-Signature"] = "0" * 64
    elif case == "stale":
        stale = datetime.now(UTC) - timedelta(minutes=6)
        headers, body, _ = sample_payload("sentry", secret=SECRETS["sentry"], now=stale)
    elif case == "future":
        headers["Sentry-Hook-Timestamp"] = str(int(time.time()) + 400)
    elif case == "missing":
        headers = without(headers, "Sentry-Hook-Signature")
    elif case == "missing timestamp":
        headers = without(headers, "Sentry-Hook-Timestamp")
    else:
        headers, body, _ = sample_payload("sentry", secret="another secret", now=datetime.now(UTC))
    response = await alerts.send("sentry", headers, body)
    assert response.status == 401
    assert await stored_count(alerts) == 0


async def test_sentry_signature_covers_the_exact_bytes(alerts: AlertBridge) -> None:
    headers, body, _ = signed("sentry")
    # The same JSON re-serialised with spaces is different bytes: the signature no longer matches.
    spaced = body.replace(b'":', b'": ', 1)
    assert (await alerts.send("sentry", headers, spaced)).status == 401


async def test_datadog_token_header(alerts: AlertBridge) -> None:
    headers, body, _ = signed("datadog")
    assert (await alerts.send("datadog", headers, body)).status == 202
    bad = {**headers, "X-Golive-Token": "wrong"}
    assert (await alerts.send("datadog", bad, body)).status == 401
    assert (await alerts.send("datadog", without(headers, "X-Golive-Token"), body)).status == 401
    # Datadog signs nothing and has no timestamp: a replay of a delivery is stored once.
    assert (await alerts.send("datadog", headers, body)).status == 202
    assert await stored_count(alerts) == 1


async def test_pagerduty_v1_signatures(alerts: AlertBridge) -> None:
    headers, body, _ = signed("pagerduty")
    good = headers["X-PagerDuty-Signature"]
    assert (await alerts.send("pagerduty", headers, body)).status == 202
    # During a secret rotation any one matching v1 signature is enough.
    rotated = {**headers, "X-PagerDuty-Signature": f"v1={'a' * 64},{good}"}
    assert (await alerts.send("pagerduty", rotated, body)).status == 202
    for value in (f"v1={'b' * 64}", "v0=" + good.removeprefix("v1="), good.removeprefix("v1=")):
        response = await alerts.send("pagerduty", {**headers, "X-PagerDuty-Signature": value}, body)
        assert response.status == 401
    assert (await alerts.send("pagerduty", without(headers, "X-PagerDuty-Signature"), body)).status == 401
    # Stale for PagerDuty is a replayed event id: accepted, stored once, counted once.
    assert await stored_count(alerts) == 1


async def test_bugsnag_token_in_the_query(alerts: AlertBridge) -> None:
    headers, body, query = signed("bugsnag")
    assert (await alerts.send("bugsnag", headers, body, query)).status == 202
    assert (await alerts.send("bugsnag", headers, body, {"token": "wrong"})).status == 401
    assert (await alerts.send("bugsnag", headers, body, {})).status == 401
    assert await stored_count(alerts) == 1


async def test_an_unconfigured_source_refuses_everything(tmp_path: Any) -> None:
    from alertflow_support import alert_bridge

    async with alert_bridge(tmp_path, sentry_client_secret="") as alerts:
        headers, body, _ = sample_payload("sentry", secret="", now=datetime.now(UTC))
        assert (await alerts.send("sentry", headers, body)).status == 401


# ---- bodies it cannot read ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1,2]", b'{"event": 1}', b'{"a": NaN}', b'{"a": "\\u0000"}', b"{" * 100],
)
async def test_a_signed_body_it_cannot_read_is_400(alerts: AlertBridge, body: bytes) -> None:
    headers, _, _ = signed("pagerduty")
    headers["X-PagerDuty-Signature"] = "v1=" + _hmac(SECRETS["pagerduty"], body)
    response = await alerts.send("pagerduty", headers, body)
    assert response.status == 400
    assert "error" in await response.json()
    assert await stored_count(alerts) == 0


async def test_an_oversized_body_is_413(alerts: AlertBridge) -> None:
    headers, _, query = signed("bugsnag")
    big = io.BytesIO(b"{" + b" " * (1024 * 1024 + 10) + b"}")
    response = await alerts.client.post("/alerts/bugsnag", data=big, headers=headers, params=query)
    assert response.status == 413
    assert await stored_count(alerts) == 0


async def test_a_group_id_that_is_not_plain_is_400_naming_the_field(alerts: AlertBridge) -> None:
    body = b'{"trigger":{"type":"firstException"},"error":{"errorId":"a b<script>","id":"1"}}'
    response = await alerts.send(
        "bugsnag", {"Content-Type": "application/json"}, body, {"token": SECRETS["bugsnag"]}
    )
    assert response.status == 400
    assert (await response.json())["error"] == "field error.errorId is not a plain identifier"


# ---- storage ---------------------------------------------------------------------------------------


async def test_a_storage_failure_is_503_and_a_retry_is_stored(alerts: AlertBridge, monkeypatch: Any) -> None:
    inbox = alerts.bridge.runtime.inbox
    real_write = inbox._write
    failures = [ConnectionError("database down")]

    async def failing_write(rows: list[dict[str, Any]]) -> None:
        if failures:
            raise failures.pop()
        await real_write(rows)

    monkeypatch.setattr(inbox, "_write", failing_write)
    headers, body, _ = signed("datadog")
    assert (await alerts.send("datadog", headers, body)).status == 503
    assert await stored_count(alerts) == 0
    # Datadog retries a 5xx with the same body: now it is stored and becomes the incident.
    assert (await alerts.send("datadog", headers, body)).status == 202
    await alerts.drain()
    assert alerts.tracker.creates == 1


def _hmac(secret: str, body: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
