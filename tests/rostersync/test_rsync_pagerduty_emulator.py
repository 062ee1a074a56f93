"""The PagerDuty adapter against the PagerDuty emulator over loopback: the sample rota page by page,
on-calls set through the driver, and the emulator's faults (an expired token, a rate limit)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from rsync_support import MONDAY, SCHEDULES

from bot.ports import Permanent, Transient
from schedule.sample import sample_roster


async def driver(emulator, method: str, path: str, body: object) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, str(emulator.make_url(path)), json=body) as response:
            assert response.status == 200, await response.text()


async def test_the_sample_rota_gives_each_week_the_sample_roster_pair_across_pages(pagerduty):
    entries = await pagerduty.on_call(MONDAY, MONDAY + timedelta(weeks=4))  # page size 3: three pages
    roster = sample_roster()
    emails = {e.email: key for key, e in roster.engineers.items()}
    for offset in range(4):
        start = MONDAY + timedelta(weeks=offset)
        pair = tuple(
            next(emails[e.email] for e in entries if e.schedule_id == schedule and e.start == start)
            for schedule in SCHEDULES
        )
        week = roster.weeks[offset]
        assert pair == (week.primary, week.backup)
    assert len(entries) == 8


async def test_on_calls_set_through_the_driver_are_read_with_permanent_ones_clamped(emulator, pagerduty):
    since, until = MONDAY, MONDAY + timedelta(weeks=1)
    await driver(
        emulator,
        "PUT",
        "/_emulator/oncalls",
        {
            "oncalls": [
                {"user": "tom.nguyen@example.va.gov", "schedule": SCHEDULES[0], "start": None, "end": None},
                {"user": "rosa.martinez@example.va.gov", "schedule": None, "start": None, "end": None},
                {
                    "user": "kai.akana@example.va.gov",
                    "schedule": SCHEDULES[1],
                    "escalation_level": 2,
                    "start": "2022-05-02T00:00:00Z",
                    "end": "2022-05-05T00:00:00Z",
                },
            ]
        },
    )
    entries = await pagerduty.on_call(since, until)
    assert sorted((e.email, e.schedule_id, e.start, e.end) for e in entries) == [
        ("kai.akana@example.va.gov", SCHEDULES[1], since, since + timedelta(days=3)),
        ("tom.nguyen@example.va.gov", SCHEDULES[0], since, until),
    ]


async def test_an_expired_token_is_named_and_a_rate_limit_says_how_long_to_wait(emulator, pagerduty):
    await driver(emulator, "POST", "/_emulator/faults", {"reject_auth": True})
    with pytest.raises(Permanent) as refused:
        await pagerduty.on_call(MONDAY, MONDAY + timedelta(weeks=1))
    assert str(refused.value).startswith("GOLIVE_PAGERDUTY_TOKEN was refused (401)")
    with pytest.raises(Permanent):
        await pagerduty.check()
    await driver(emulator, "DELETE", "/_emulator/faults", None)
    await driver(emulator, "POST", "/_emulator/faults", {"rate_limit": {"count": 1, "retry_after": 7}})
    with pytest.raises(Transient) as throttled:
        await pagerduty.on_call(MONDAY, MONDAY + timedelta(weeks=1))
    assert throttled.value.retry_after == 7.0
    assert len(await pagerduty.on_call(MONDAY, MONDAY + timedelta(weeks=1))) == 2


async def test_check_names_both_schedules(pagerduty):
    assert await pagerduty.check() == (
        "schedules primary Go Live primary (PPRIMRY), backup Go Live backup (PBACKUP)"
    )
