"""The end-of-rotation report, posted once as a card into the management channel.

:func:`post_rotation_report` computes the report and enqueues one ``post_card`` outbox job (deduplicated
by ``rotation-report:{week}``, so posting twice posts once); the job handler from :func:`handlers`
starts a new thread with the card in ``settings.management_channel_id``. :func:`post_due_rotation_reports`
is the periodic check: a week's rotation has ended once every channel of that week is past its
retirement instant.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.bridge import records
from bot.bridge.outbox import GiveUp, Job, JobHandler, RetryLater, enqueue
from bot.cards import IncidentRef, RotationReportView, rotation_report_card
from bot.reporting.queries import load_rotation_data
from bot.reporting.rotation import RotationReport, compute_rotation_report
from bot.storage import tables
from schedule.plan import PlannedSite, Site, WindowSettings, window_for

log = logging.getLogger(__name__)

POST_CARD = "post_card"
#: How far back the periodic check looks, so a fresh install does not post every past week at once.
CATCH_UP = timedelta(days=7)


def dedupe_key(week: date) -> str:
    return f"rotation-report:{week.isoformat()}"


def report_card(report: RotationReport) -> dict:
    payload = report.to_dict()
    view = RotationReportView.from_report(payload)
    view = dataclasses.replace(
        view,
        open_incidents=tuple(
            IncidentRef(i.number, i.url) for i in report.open_at_retirement_incidents if i.number
        ),
    )
    return rotation_report_card(view)


async def compute_report(components, week_start: date) -> RotationReport:
    settings = components.settings
    async with components.store.read() as connection:
        data = await load_rotation_data(connection, week_start)
    return compute_rotation_report(
        data, window_days=settings.window_days, first_response_s=settings.first_response_minutes * 60
    )


async def post_rotation_report(components, week_start: date) -> bool:
    """Enqueue the week's report card for the management channel; False when not configured or
    already enqueued."""
    channel_id = components.settings.management_channel_id
    if not channel_id:
        log.info("no management channel configured: rotation report of %s not posted", week_start)
        return False
    report = await compute_report(components, week_start)
    async with components.store.write() as connection:
        added = await enqueue(
            components.store,
            connection,
            POST_CARD,
            {"channel_id": channel_id, "card": report_card(report), "week": week_start.isoformat()},
            dedupe_key=dedupe_key(week_start),
        )
    if added:
        components.worker.wake()
        log.info("rotation report of %s enqueued", week_start)
    return added


def _window_settings(settings) -> WindowSettings:
    return WindowSettings(
        open_hour=settings.window_open_hour,
        window_days=settings.window_days,
        retire_hour=settings.window_retire_hour,
    )


async def rotations_ended(components, now: datetime, catch_up: timedelta = CATCH_UP) -> list[date]:
    """Weeks whose every (non-pulled) site's window retired in ``(now - catch_up, now]``."""
    window = _window_settings(components.settings)
    async with components.store.read() as connection:
        rows = (await connection.execute(select(tables.sites).where(tables.sites.c.pulled.is_(False)))).all()
    last_retirement: dict[date, datetime] = {}
    for row in rows:
        entry = PlannedSite(Site(row.station, row.name, row.time_zone), row.week_start, row.go_live_date)
        retires = window_for(entry, window).retires_at
        last_retirement[row.week_start] = max(retires, last_retirement.get(row.week_start, retires))
    return sorted(week for week, at in last_retirement.items() if now - catch_up < at <= now)


async def post_due_rotation_reports(components) -> list[date]:
    """The periodic check: post the report of every rotation that has just ended (once each)."""
    posted = []
    for week in await rotations_ended(components, components.clock.now()):
        if await post_rotation_report(components, week):
            posted.append(week)
    return posted


def handlers(components) -> dict[str, JobHandler]:
    """Outbox job handlers of this module, to merge into the worker's table."""

    async def post_card(job: Job) -> None:
        from bot.teams.messenger import OutgoingMessage, TeamsRejected, TeamsUnavailable

        payload: dict[str, Any] = job.payload
        card = payload.get("card")
        channel_id = payload.get("channel_id") or components.settings.management_channel_id
        if not isinstance(card, dict) or not channel_id:
            raise GiveUp("post_card job without a card or channel")
        async with components.store.read() as connection:
            place = await records.any_place(connection)
        if place is None:
            raise RetryLater("no Teams service URL known yet", delay_s=30.0)
        try:
            await components.messenger.post_new_thread(
                place.service_url, channel_id, OutgoingMessage(card=card), place.tenant_id
            )
        except TeamsUnavailable as error:
            raise RetryLater(
                f"Teams unavailable (status {error.status})", delay_s=error.retry_after
            ) from None
        except TeamsRejected as error:
            raise GiveUp(f"Teams rejected the post (status {error.status}, {error.code})") from None

    return {POST_CARD: post_card}
