"""Hand-off notices: when duty passes to other engineers (a roster week takes effect, a fallback date
starts or ends), every open go-live channel and every watched channel (Slack's DSVA channels) gets a
notice as a new thread, so site staff and the incoming engineer see who is on duty and what is still
open in that channel.

``HandoffNotices.tick`` looks at the hand-offs in ``(last checked, now]`` with
:func:`schedule.roster.duty_changes`. The watermark lives in the documents table and moves in the
same transaction that queues the notices, so a restart neither repeats nor misses one; each notice
is an outbox job deduplicated per channel and instant, so overlapping or repeated ticks post once.
The first tick only sets the watermark: a new deployment does not announce hand-offs of the past.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import views
from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.outbox import enqueue
from bot.clock import Clock
from bot.ports import Platform
from bot.storage import tables
from bot.storage.store import Store
from schedule.roster import Duty, Engineer, duty_changes
from servicenow.model import RESOLVED_STATES

log = logging.getLogger(__name__)

WATERMARK = "handoff_watermark"
# duty_changes looks at [start, end); shifting both ends by the smallest step gives (start, end].
_STEP = timedelta(microseconds=1)


def _lead(duty: Duty) -> Engineer | None:
    """Who is asked first: the fallback on their date, else the primary."""
    return duty.fallback or duty.primary


def handoff_view(
    at: datetime,
    before: Duty,
    after: Duty,
    open_incidents: tuple[views.IncidentRef, ...] | list[views.IncidentRef] = (),
) -> views.HandoffView:
    """The notice for one hand-off, times on the incoming lead's clock."""
    outgoing, incoming = _lead(before), _lead(after)
    if incoming is None:
        when = at.strftime("%a %d %b %H:%M UTC")
        reason = f"From {when} nobody is on the duty roster; please use ServiceNow for help."
        return views.HandoffView(
            from_name=outgoing.name if outgoing else None,
            to_name="nobody on duty",
            reason=reason,
            open_incidents=tuple(open_incidents),
        )
    when = at.astimezone(ZoneInfo(incoming.time_zone)).strftime("%a %d %b %H:%M %Z")
    parts = []
    if after.fallback is not None and after.fallback_date is not None:
        parts.append(f"{after.fallback.name} covers {after.fallback_date:%A %d %B}")
    if after.primary is not None:
        parts.append(f"primary {after.primary.name}")
    if after.backup is not None:
        parts.append(f"backup {after.backup.name}")
    return views.HandoffView(
        from_name=outgoing.name if outgoing is not None and outgoing.key != incoming.key else None,
        to_name=incoming.name,
        reason=f"On duty from {when}: " + ", ".join(parts) + ".",
        open_incidents=tuple(open_incidents),
    )


class HandoffNotices:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        wake: Callable[[], None],
        watched: Sequence[tuple[Platform, str]] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._watched = tuple(watched)

    async def tick(self, now: datetime | None = None) -> int:
        """Queue a notice per hand-off since the last tick and open channel; returns how many."""
        now = now or self._clock.now()
        queued = 0
        async with self._store.write() as connection:
            mark = await self._store.get_document(connection, WATERMARK)
            since = datetime.fromisoformat(mark["checked_until"]) if mark else None
            if since is not None and now <= since:
                return 0  # the clock went back (or did not move): nothing new, the mark stays
            if since is not None:
                roster = await records.load_roster(self._store, connection)
                changes = [] if roster is None else duty_changes(roster, since + _STEP, now + _STEP)
                for at, before, after in changes:
                    queued += await announce_handoff(
                        self._store, connection, at, before, after, watched=self._watched
                    )
            await self._store.put_document(connection, WATERMARK, {"checked_until": now.isoformat()}, now)
        if queued:
            self._wake()
        return queued


async def announce_handoff(
    store: Store,
    connection: AsyncConnection,
    at: datetime,
    before: Duty,
    after: Duty,
    *,
    watched: Sequence[tuple[Platform, str]] = (),
) -> int:
    """Queue the notice of one hand-off into every open go-live channel and every watched channel
    (``(platform, channel)``: Slack's DSVA channels); returns how many."""
    queued = 0
    instant = at.astimezone(UTC).isoformat()
    channels = await _open_channels(connection)
    for channel in channels:  # the go-live channels are Teams channels
        view = handoff_view(at, before, after, await _open_incidents(connection, channel))
        if await enqueue(
            store,
            connection,
            kinds.CHANNEL_NOTICE,
            kinds.ChannelNotice("teams", channel, handoff=view),
            dedupe_key=f"handoff:{channel}:{instant}",
        ):
            queued += 1
    for platform, channel in watched:
        # A watched channel serves every site: it hears of the open incidents raised outside the
        # go-live channels on its platform.
        view = handoff_view(at, before, after, await _open_watched_incidents(connection, platform))
        if await enqueue(
            store,
            connection,
            kinds.CHANNEL_NOTICE,
            kinds.ChannelNotice(platform, channel, handoff=view, only_if_open=False),
            dedupe_key=f"handoff:{platform}:{channel}:{instant}",
        ):
            queued += 1
    log.info(
        "duty hand-off at %s: notice queued for %d channels", at.isoformat(), len(channels) + len(watched)
    )
    return queued


async def _open_channels(connection: AsyncConnection) -> list[str]:
    channels = tables.channels
    rows = await connection.execute(
        select(channels.c.channel_id)
        .where(channels.c.status == "open", channels.c.channel_id.is_not(None))
        .order_by(channels.c.station)
    )
    return [row.channel_id for row in rows]


async def _open_incidents(connection: AsyncConnection, channel_id: str) -> list[views.IncidentRef]:
    return await _open_where(connection, tables.inquiries.c.channel_id == channel_id)


async def _open_watched_incidents(connection: AsyncConnection, platform: str) -> list[views.IncidentRef]:
    inquiries, channels = tables.inquiries, tables.channels
    go_live = select(channels.c.channel_id).where(channels.c.channel_id.is_not(None))
    return await _open_where(
        connection, (inquiries.c.platform == platform) & inquiries.c.channel_id.not_in(go_live)
    )


async def _open_where(connection: AsyncConnection, where: Any) -> list[views.IncidentRef]:
    inquiries = tables.inquiries
    rows = await connection.execute(
        select(inquiries.c.number, inquiries.c.incident_url)
        .where(
            where,
            inquiries.c.number.is_not(None),
            inquiries.c.deleted.is_(False),
            inquiries.c.state.is_(None) | inquiries.c.state.not_in(RESOLVED_STATES),
        )
        .order_by(inquiries.c.posted_at)
    )
    return [views.IncidentRef(row.number, row.incident_url or "") for row in rows]
