"""The end-of-rotation report, posted once as a card into the management channel.

:meth:`RotationReports.post` computes the report and enqueues one channel notice (deduplicated by
``rotation-report:{week}``, so posting twice posts once). :meth:`RotationReports.post_due` is the
periodic check: a week's rotation has ended once every channel of that week is past its retirement
instant. The check runs on every lifecycle tick and remembers (in the ``rotation_reports``
document) the instant it last looked up to, so a rotation that ended between two checks is never
missed, however fast a simulated clock runs or however long the bot was stopped; a fresh install
looks back :data:`CATCH_UP` only, and so does a clock set back before that instant (a sandbox
restarted at an earlier ``--now``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.bridge import jobkinds as kinds
from bot.bridge.outbox import enqueue
from bot.clock import Clock
from bot.reporting.queries import load_rotation_data
from bot.reporting.rotation import RotationReport, compute_rotation_report
from bot.storage import tables
from bot.storage.store import Store
from bot.views import IncidentRef, RotationReportView
from schedule.plan import PlannedSite, Site, WindowSettings, window_for

log = logging.getLogger(__name__)

#: How far back the periodic check looks, so a fresh install does not post every past week at once.
CATCH_UP = timedelta(days=7)
WATERMARK_DOCUMENT = "rotation_reports"


def dedupe_key(week: date) -> str:
    return f"rotation-report:{week.isoformat()}"


def report_view(report: RotationReport) -> RotationReportView:
    view = RotationReportView.from_report(report.to_dict())
    return dataclasses.replace(
        view,
        open_incidents=tuple(
            IncidentRef(i.number, i.url) for i in report.open_at_retirement_incidents if i.number
        ),
    )


@dataclasses.dataclass(frozen=True)
class ReportSettings:
    window: WindowSettings
    first_response_minutes: float = 5.0
    management_channel_id: str = ""


class RotationReports:
    def __init__(
        self, store: Store, clock: Clock, settings: ReportSettings, wake: Callable[[], None]
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._wake = wake

    async def compute(self, week_start: date) -> RotationReport:
        async with self._store.read() as connection:
            data = await load_rotation_data(connection, week_start)
        return compute_rotation_report(
            data,
            window_days=self._settings.window.window_days,
            first_response_s=self._settings.first_response_minutes * 60,
        )

    async def post(self, week_start: date) -> bool:
        """Enqueue the week's report card for the management channel; False when not configured or
        already enqueued."""
        channel_id = self._settings.management_channel_id
        if not channel_id:
            log.info("no management channel configured: rotation report of %s not posted", week_start)
            return False
        report = await self.compute(week_start)
        async with self._store.write() as connection:
            added = await enqueue(
                self._store,
                connection,
                kinds.CHANNEL_NOTICE,
                kinds.ChannelNotice("teams", channel_id, report=report_view(report), only_if_open=False),
                dedupe_key=dedupe_key(week_start),
            )
        if added:
            self._wake()
            log.info("rotation report of %s enqueued", week_start)
        return added

    async def ended(self, now: datetime, catch_up: timedelta = CATCH_UP) -> list[date]:
        """Weeks whose every (non-pulled) site's window retired in ``(now - catch_up, now]``."""
        async with self._store.read() as connection:
            rows = (
                await connection.execute(select(tables.sites).where(tables.sites.c.pulled.is_(False)))
            ).all()
        last_retirement: dict[date, datetime] = {}
        for row in rows:
            entry = PlannedSite(Site(row.station, row.name, row.time_zone), row.week_start, row.go_live_date)
            retires = window_for(entry, self._settings.window).retires_at
            last_retirement[row.week_start] = max(retires, last_retirement.get(row.week_start, retires))
        return sorted(week for week, at in last_retirement.items() if now - catch_up < at <= now)

    async def post_due(self) -> list[date]:
        """The periodic check: post the report of every rotation that ended since the last check
        (once each)."""
        now = self._clock.now()
        async with self._store.read() as connection:
            document = await self._store.get_document(connection, WATERMARK_DOCUMENT)
        checked = _instant((document or {}).get("checked_until"))
        since = checked if checked is not None and checked <= now else None
        weeks = await self.ended(now, catch_up=now - since if since is not None else CATCH_UP)
        posted = []
        for week in weeks:
            if await self.post(week):
                posted.append(week)
        async with self._store.write() as connection:
            await self._store.put_document(
                connection, WATERMARK_DOCUMENT, {"checked_until": now.isoformat()}, now
            )
        return posted


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
