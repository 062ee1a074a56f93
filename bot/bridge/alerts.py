"""Monitoring alerts become incidents and posts: one per alert group, grouped and storm-safe.

``AlertService.apply`` takes one stored ``bot.alerts.Alert`` (the activity processor's turn for every
alert source) and, in one transaction:

- ignores a delivery it has applied before (``{source}:{delivery_id}``: a redelivery counts once);
- a **new group** gets its own row (``tables.alerts``), which means one ServiceNow incident (correlation
  id ``{source}:{group}``, in ``GOLIVE_ALERT_GROUP`` unless a routing rule names another group) and
  one post in the alert channel, both made by the ``alert_sync`` job;
- a **repeat** adds to the group's count and moves its state; the job updates the same post and adds a
  work note at most every 10 minutes (a recovery, resolution or sender-side acknowledgement is noted
  at once); the incident is never resolved here, it stays for an engineer.

Storm rule: at most ``max_new_per_minute`` groups get their own incident in any 60 seconds (counted
from the table, so it holds across restarts and replicas; on PostgreSQL an advisory lock serialises
the decision). A new group beyond that joins the current **alert storm** (a row of kind ``storm``
with one incident and one post listing its groups), or starts one; a storm stays current until no
group has joined it for ``STORM_QUIET``. A group that joined a storm stays with it: its repeats and
recovery show on the storm's post and in the storm's work notes, and it never gets its own incident.
The storm's incident is the one incident beyond the limit.

Engineers work alerts as they work inquiries: Acknowledge (the first response, answered in the
post's thread as "being handled"), route to either group; ``tick`` @mentions the person on duty
(backup first, ``schedule.first_response``) in the thread of an alert nobody acknowledged within
``first_response_minutes`` of working time, once, and queues the rate-limited work notes that became
due while no alert arrived.

Errors: none of its own; storage errors propagate (the processor retries the delivery, then makes it
a dead letter).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
from sqlalchemy import case, func, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import views
from bot.bridge import alert_views, records
from bot.bridge import jobkinds as kinds
from bot.bridge.config import BridgeConfig
from bot.bridge.outbox import enqueue
from bot.bridge.people import actor_label, engineer_for, mention_of
from bot.clock import Clock
from bot.commands import parse_group
from bot.ports import ActionOutcome, CardAction, Platform
from bot.storage import tables
from bot.storage.store import Store
from schedule.first_response import escalation_target, first_response_clock_start
from schedule.roster import duty_at
from servicenow.routing import RoutingRule, suggest_group

log = logging.getLogger(__name__)

STORM_WINDOW: Final = timedelta(seconds=60)
STORM_QUIET: Final = timedelta(minutes=10)
NOTE_INTERVAL: Final = timedelta(minutes=10)
# One PostgreSQL advisory lock key for every decision about new alert groups ("alerts" in ASCII).
ADVISORY_LOCK: Final = 0x616C65727473
_WAITING_STATES: Final = ("triggered", "updated")
STORM_LISTED: Final = alert_views.STORM_LISTED


@dataclass(frozen=True)
class AlertSettings:
    """The alert slice of the settings."""

    group: str
    teams_channel: str = "APM Alerts"
    slack_channel: str = "check-in-experience-apm"
    max_new_per_minute: int = 10


class Alert(msgspec.Struct, frozen=True):
    """One alert delivery as the inbox stores it: the fields of ``bot.alerts.Alert`` (the edge stores
    ``msgspec.to_builtins`` of that, already validated and bounded), read back without importing the
    adapter package."""

    source: str
    group_key: str
    delivery_id: str
    title: str
    level: str
    state: str
    links: tuple[tuple[str, str], ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 1
    environment: str | None = None
    project: str | None = None
    service: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def correlation_id(self) -> str:
        return f"{self.source}:{self.group_key}"


class StoredAlert(msgspec.Struct, frozen=True):
    """The inbox payload of an alert delivery: the alert and when it arrived (the product's clock)."""

    alert: Alert
    received_at: datetime


def stored_payload(alert: object, received_at: datetime) -> dict[str, Any]:
    """What the inbox keeps for one alert delivery (``alert`` is a ``bot.alerts.Alert``)."""
    return {"alert": msgspec.to_builtins(alert), "received_at": received_at.isoformat()}


def alert_of(payload: dict[str, Any]) -> tuple[Alert, datetime]:
    """The alert and its arrival time back from ``stored_payload``."""
    stored = msgspec.convert(payload, StoredAlert)
    received = stored.received_at
    return stored.alert, received if received.tzinfo else received.replace(tzinfo=UTC)


def platforms_for(chats: Any) -> tuple[Platform, ...]:
    """Where alert posts go: Teams always, Slack when it is configured."""
    return ("teams", "slack") if "slack" in chats else ("teams",)


class AlertService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        settings: AlertSettings,
        rules: Sequence[RoutingRule],
        platforms: tuple[Platform, ...],
        wake_outbox: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._settings = settings
        self._rules = tuple(rules)
        self._platforms = platforms
        self._wake = wake_outbox

    @property
    def settings(self) -> AlertSettings:
        return self._settings

    # ---- receiving --------------------------------------------------------------------------------

    async def receive(self, payload: dict[str, Any]) -> None:
        """The activity processor's turn for a stored alert delivery."""
        alert, received_at = alert_of(payload)
        await self.apply(alert, received_at)

    async def apply(self, alert: Alert, received_at: datetime) -> str:
        """Apply one delivery; returns what it was: ``duplicate``, ``new``, ``storm`` or ``repeat``."""
        now = self._clock.now()
        async with self._store.write() as connection:
            key = f"alert|{alert.source}:{alert.delivery_id}"
            if not await records.first_sight(self._store, connection, key, "alert", now):
                return "duplicate"
            if self._store.dialect == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
            alerts = tables.alerts
            row = (
                await connection.execute(
                    select(alerts).where(
                        alerts.c.source == alert.source, alerts.c.group_key == alert.group_key
                    )
                )
            ).first()
            if row is None:
                outcome = await self._new_group(connection, alert, received_at, now)
            else:
                outcome = await self._repeat(connection, row, alert, received_at, now)
        self._wake()
        return outcome

    def _route(self, alert: Alert) -> str:
        words = " ".join(part for part in (alert.title, alert.service, alert.project, *alert.tags) if part)
        suggestion = suggest_group(words, self._rules)
        return suggestion.group if suggestion is not None else self._settings.group

    async def _new_group(
        self, connection: AsyncConnection, alert: Alert, received_at: datetime, now: datetime
    ) -> str:
        alerts = tables.alerts
        first_seen = alert.first_seen or received_at
        values: dict[str, Any] = {
            "kind": "group",
            "source": alert.source,
            "group_key": alert.group_key,
            "correlation_id": alert.correlation_id,
            "title": alert.title,
            "level": alert.level,
            "state": alert.state,
            "environment": alert.environment,
            "project": alert.project,
            "service": alert.service,
            "links": [list(link) for link in alert.links],
            "tags": list(alert.tags),
            "count": alert.count,
            "first_seen": first_seen,
            "last_seen": max(alert.last_seen or received_at, first_seen),
            "received_at": received_at,
            "updated_at": now,
            "assignment_group": self._route(alert),
            "noted_count": alert.count,
            "noted_state": alert.state,
        }
        opened = await connection.scalar(
            select(func.count())
            .select_from(alerts)
            .where(
                alerts.c.kind == "group",
                alerts.c.storm_id.is_(None),
                # On arrivals (the edge's clock): a processing backlog cannot stretch one flood.
                alerts.c.opened_at > received_at - STORM_WINDOW,
            )
        )
        if int(opened or 0) < self._settings.max_new_per_minute:
            result = await connection.execute(
                alerts.insert().values(**values, opened_at=received_at, sync_pending=True)
            )
            assert result.inserted_primary_key is not None
            alert_id = int(result.inserted_primary_key[0])
            await enqueue(self._store, connection, kinds.ALERT_SYNC, kinds.AlertRef(alert_id))
            log.info("alert group %s:%s opened (row %s)", alert.source, alert.group_key, alert_id)
            return "new"
        storm_id = await self._storm_for(connection, alert, received_at, now)
        await connection.execute(alerts.insert().values(**values, storm_id=storm_id))
        await self._mark_changed(
            connection, storm_id, count=alert.count, joined=received_at, seen=values["last_seen"]
        )
        log.info("alert group %s:%s joined storm %s", alert.source, alert.group_key, storm_id)
        return "storm"

    async def _storm_for(
        self, connection: AsyncConnection, alert: Alert, received_at: datetime, now: datetime
    ) -> int:
        """The current storm's row id, or a new storm's."""
        alerts = tables.alerts
        current = (
            await connection.execute(
                select(alerts.c.id)
                .where(alerts.c.kind == "storm", alerts.c.last_joined_at > received_at - STORM_QUIET)
                .order_by(alerts.c.id.desc())
                .limit(1)
            )
        ).first()
        if current is not None:
            return int(current.id)
        started = now.astimezone(UTC)
        stamp = f"{started:%Y%m%dT%H%M%S}Z"
        result = await connection.execute(
            alerts.insert().values(
                kind="storm",
                source="storm",
                group_key=stamp,
                correlation_id=f"storm:{stamp}",
                title=f"new alert groups beyond {self._settings.max_new_per_minute} a minute "
                f"from {started:%Y-%m-%d %H:%M} UTC",
                level=alert.level,
                state="triggered",
                links=[],
                tags=[],
                count=0,
                first_seen=received_at,
                last_seen=received_at,
                received_at=received_at,
                updated_at=now,
                opened_at=now,
                members=0,
                last_joined_at=now,
                assignment_group=self._settings.group,
                noted_count=0,
                noted_state="triggered",
                sync_pending=False,
            )
        )
        assert result.inserted_primary_key is not None
        storm_id = int(result.inserted_primary_key[0])
        log.warning("alert storm %s started (row %s)", stamp, storm_id)
        return storm_id

    async def _repeat(
        self, connection: AsyncConnection, row: Any, alert: Alert, received_at: datetime, now: datetime
    ) -> str:
        alerts = tables.alerts
        seen = max(alert.last_seen or received_at, row.last_seen)
        values: dict[str, Any] = {
            "count": alerts.c.count + alert.count,
            "last_seen": seen,
            "updated_at": now,
            "version": alerts.c.version + 1,
        }
        if alert.state != "updated":
            values["state"] = alert.state
            values["level"] = alert.level
            if alert.state == "triggered" and row.state != "triggered":
                # Triggered again: a later recovery must be noted again.
                values["noted_state"] = None
        if alert.links:
            values["links"] = [list(link) for link in alert.links]
        await connection.execute(update(alerts).where(alerts.c.id == row.id).values(**values))
        if row.storm_id is not None:
            await self._mark_changed(connection, row.storm_id, count=alert.count, seen=seen)
            recovered_before = row.state in alert_views.RECOVERED_STATES
            recovered_now = values.get("state", row.state) in alert_views.RECOVERED_STATES
            if recovered_before != recovered_now:
                await self._refresh_storm_state(connection, row.storm_id)
        else:
            await self._ensure_sync(connection, row.id)
        return "repeat"

    async def _mark_changed(
        self,
        connection: AsyncConnection,
        alert_id: int,
        *,
        count: int = 0,
        joined: datetime | None = None,
        seen: datetime | None = None,
    ) -> None:
        alerts = tables.alerts
        values: dict[str, Any] = {"version": alerts.c.version + 1, "count": alerts.c.count + count}
        if joined is not None:
            values["members"] = alerts.c.members + 1
            values["last_joined_at"] = joined
            values["state"] = "triggered"
            values["noted_state"] = case((alerts.c.state == "triggered", alerts.c.noted_state), else_=null())
        if seen is not None:
            values["last_seen"] = case((alerts.c.last_seen < seen, seen), else_=alerts.c.last_seen)
        await connection.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
        await self._ensure_sync(connection, alert_id)

    async def _refresh_storm_state(self, connection: AsyncConnection, storm_id: int) -> None:
        """A storm is recovered when every group in it is; triggered again when one is."""
        alerts = tables.alerts
        waiting = await connection.scalar(
            select(func.count())
            .select_from(alerts)
            .where(alerts.c.storm_id == storm_id, alerts.c.state.not_in(alert_views.RECOVERED_STATES))
        )
        state = "triggered" if waiting else "recovered"
        await connection.execute(
            update(alerts)
            .where(alerts.c.id == storm_id, alerts.c.state != state)
            .values(state=state, noted_state=None if state == "triggered" else alerts.c.noted_state)
        )

    async def _ensure_sync(
        self, connection: AsyncConnection, alert_id: int, not_before: datetime | None = None
    ) -> None:
        await ensure_sync(self._store, connection, alert_id, not_before)

    # ---- card actions -----------------------------------------------------------------------------

    async def on_card_action(self, action: CardAction) -> ActionOutcome:
        """Acknowledge or route from an alert's post (the action's data names the alert)."""
        key = str(action.data.get(views.DATA_ALERT, ""))
        actor = action.actor
        now = self._clock.now()
        at = action.at or now
        alerts = tables.alerts
        async with self._store.write() as connection:
            row = await self._by_key(connection, key) if key else None
            if row is None:
                return ActionOutcome(404, "That alert is not known to Go Live Bridge.")
            roster = await records.load_roster(self._store, connection)
            engineer = engineer_for(roster, actor)
            if actor is None or (engineer is None and roster is not None):
                return ActionOutcome(403, "Only engineers on the duty roster can work alerts.")
            first = await records.first_sight(
                self._store,
                connection,
                f"invoke|{action.conversation_id}|{action.card_message_id}|{action.verb}|"
                f"{actor.aad_object_id or actor.id}|{sorted(action.data.items())}",
                "invoke",
                now,
            )
            where = action.platform.capitalize()
            if not first:
                status, message = 200, "Already done."
            elif action.verb == views.VERB_ACKNOWLEDGE:
                status, message = await self._acknowledge(connection, row, actor.name, where, at)
            elif action.verb == views.VERB_ROUTE:
                status, message = await self._reroute(connection, row, action, actor.name, where)
            else:
                return ActionOutcome(400, f"Unknown action '{action.verb[:40]}' for an alert.")
            if status == 200 and first:
                await records.audit(
                    connection,
                    now,
                    actor_label(actor),
                    "incident.acknowledge" if action.verb == views.VERB_ACKNOWLEDGE else "incident.route",
                    f"alert {row.correlation_id}",
                )
            row = (await connection.execute(select(alerts).where(alerts.c.id == row.id))).one()
            members = await storm_members(connection, row)
            followup = await records.followup_for(connection, row.correlation_id)
        self._wake()
        if status != 200:
            return ActionOutcome(status, message)
        view = alert_views.card_view(row, members, self._config, followup)
        return ActionOutcome(200, message, view)

    async def _by_key(self, connection: AsyncConnection, key: str) -> Any:
        return await alert_by_key(connection, key)

    async def _acknowledge(
        self, connection: AsyncConnection, row: Any, actor: str, where: str, at: datetime
    ) -> tuple[int, str]:
        alerts = tables.alerts
        if row.storm_id is not None:
            return 400, "This alert is part of an alert storm: acknowledge the storm's post."
        if row.acknowledged_at is not None:
            return 200, f"Already acknowledged by {row.acknowledged_by}."
        await connection.execute(
            update(alerts)
            .where(alerts.c.id == row.id, alerts.c.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=actor[:200], version=alerts.c.version + 1)
        )
        await enqueue(
            self._store, connection, kinds.ALERT_ACKNOWLEDGE, kinds.AlertAction(row.id, actor, where)
        )
        for platform in self._platforms:
            await enqueue(
                self._store,
                connection,
                kinds.ALERT_REPLY,
                kinds.AlertReply(row.id, platform, alert_views.acknowledged_reply(actor)),
                dedupe_key=f"alert-ack:{row.id}:{platform}",
            )
        await self._ensure_sync(connection, row.id)
        return 200, f"Acknowledged by {actor}."

    async def _reroute(
        self, connection: AsyncConnection, row: Any, action: CardAction, actor: str, where: str
    ) -> tuple[int, str]:
        alerts = tables.alerts
        groups = self._config.groups
        if row.storm_id is not None:
            return 400, "This alert is part of an alert storm: route the storm's incident."
        group = parse_group(str(action.data.get(views.DATA_GROUP, "")), groups)
        if group is None:
            return 400, f"Unknown group. Choose {groups[0]} or {groups[1]}."
        if group == row.assignment_group:
            return 200, f"The incident is already with {group}."
        await connection.execute(
            update(alerts)
            .where(alerts.c.id == row.id)
            .values(assignment_group=group, re_routes=alerts.c.re_routes + 1, version=alerts.c.version + 1)
        )
        await enqueue(
            self._store, connection, kinds.ALERT_ROUTE, kinds.AlertAction(row.id, actor, where, group)
        )
        await self._ensure_sync(connection, row.id)
        return 200, f"Routed to {group}."

    # ---- the leader's tick ------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> int:
        """Escalate unacknowledged alerts and queue work notes that fell due; returns how many."""
        now = now or self._clock.now()
        done = await self._escalate(now) + await self._notes_due(now)
        if done:
            self._wake()
        return done

    async def _escalate(self, now: datetime) -> int:
        alerts = tables.alerts
        wait = timedelta(minutes=self._config.first_response_minutes)
        async with self._store.read() as connection:
            rows = (
                await connection.execute(
                    select(alerts).where(
                        alerts.c.storm_id.is_(None),
                        alerts.c.acknowledged_at.is_(None),
                        alerts.c.escalation_level == 0,
                        alerts.c.state.in_(_WAITING_STATES),
                        alerts.c.received_at <= now - wait,
                    )
                )
            ).all()
            roster = await records.load_roster(self._store, connection) if rows else None
        if roster is None:
            return 0
        raised = 0
        for row in rows:
            duty = duty_at(roster, row.received_at)
            if now < first_response_clock_start(duty, row.received_at) + wait:
                continue
            target = escalation_target(duty, now)
            if target is None:
                continue  # nobody on duty is working now: the next tick in working hours escalates
            mention = mention_of(target)
            async with self._store.write() as connection:
                claimed = await connection.execute(
                    update(alerts)
                    .where(
                        alerts.c.id == row.id,
                        alerts.c.escalation_level == 0,
                        alerts.c.acknowledged_at.is_(None),
                    )
                    .values(escalation_level=1, escalated_to=target.name[:200])
                )
                if claimed.rowcount != 1:
                    continue
                text_ = alert_views.escalation_reply(target.name, self._config.first_response_minutes)
                for platform in self._platforms:
                    await enqueue(
                        self._store,
                        connection,
                        kinds.ALERT_REPLY,
                        kinds.AlertReply(row.id, platform, text_, (mention,)),
                        dedupe_key=f"alert-escalation:{row.id}:1:{platform}",
                    )
            log.info("alert %s escalated", row.id)
            raised += 1
        return raised

    async def _notes_due(self, now: datetime) -> int:
        """Rows with alerts not yet in a work note whose 10 minutes have passed (no alert came since)."""
        alerts = tables.alerts
        async with self._store.write() as connection:
            rows = (
                await connection.execute(
                    select(alerts.c.id).where(
                        alerts.c.storm_id.is_(None),
                        alerts.c.sync_pending.is_(False),
                        alerts.c.sys_id.is_not(None),
                        alerts.c.count > alerts.c.noted_count,
                        alerts.c.last_note_at <= now - NOTE_INTERVAL,
                    )
                )
            ).all()
            for row in rows:
                await self._ensure_sync(connection, row.id)
        return len(rows)


async def ensure_sync(
    store: Store, connection: AsyncConnection, alert_id: int, not_before: datetime | None = None
) -> None:
    """Queue one ``alert_sync`` for the row unless one is queued and not yet started."""
    alerts = tables.alerts
    claimed = await connection.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.sync_pending.is_(False))
        .values(sync_pending=True)
    )
    if claimed.rowcount == 1:
        await enqueue(store, connection, kinds.ALERT_SYNC, kinds.AlertRef(alert_id), not_before=not_before)


async def show_again(store: Store, connection: AsyncConnection, correlation_id: str) -> None:
    """The post of the alert row ``correlation_id`` must show something kept outside the row (its
    follow-up issue): a new version of the row, and its ``alert_sync`` updates the post everywhere."""
    alerts = tables.alerts
    alert_id = await connection.scalar(
        update(alerts)
        .where(alerts.c.correlation_id == correlation_id)
        .values(version=alerts.c.version + 1)
        .returning(alerts.c.id)
    )
    if alert_id is not None:
        await ensure_sync(store, connection, int(alert_id))


async def alert_by_key(connection: AsyncConnection, key: str) -> Any:
    """The alert row whose correlation id is ``key`` (None when there is none)."""
    alerts = tables.alerts
    return (await connection.execute(select(alerts).where(alerts.c.correlation_id == key))).first()


async def incident_row(connection: AsyncConnection, key: str) -> Any:
    """The row that holds the incident of the alert ``key``: its own, or its storm's when the group
    joined a storm (such a group never gets an incident of its own)."""
    row = await alert_by_key(connection, key)
    if row is not None and row.storm_id is not None:
        alerts = tables.alerts
        row = (await connection.execute(select(alerts).where(alerts.c.id == row.storm_id))).first()
    return row


async def storm_members(
    connection: AsyncConnection, row: Any, *, since: datetime | None = None, limit: int = STORM_LISTED
) -> list[Any]:
    """Up to ``limit`` groups of a storm row (empty for a group row), latest activity first; with
    ``since``, only those that joined after it. The storm row's ``members`` counts them all."""
    if row.kind != "storm":
        return []
    alerts = tables.alerts
    query = select(alerts).where(alerts.c.storm_id == row.id)
    if since is not None:
        query = query.where(alerts.c.received_at > since)
    return list(
        (await connection.execute(query.order_by(alerts.c.last_seen.desc(), alerts.c.id).limit(limit))).all()
    )


__all__ = [
    "ADVISORY_LOCK",
    "NOTE_INTERVAL",
    "STORM_QUIET",
    "STORM_WINDOW",
    "Alert",
    "AlertService",
    "AlertSettings",
    "StoredAlert",
    "alert_by_key",
    "alert_of",
    "ensure_sync",
    "incident_row",
    "platforms_for",
    "show_again",
    "stored_payload",
    "storm_members",
]


ERASED_TITLE: Final = "(erased after the retention period)"


class AlertTextPurge:
    """Retention for alerts: a group quiet for the retention period loses its title, links and tags
    (they may quote an exception message holding personal data); counts and times stay."""

    name = "alert titles erased"
    table = "alerts"

    def _stale(self, cutoff: datetime) -> Any:
        alerts = tables.alerts
        return (alerts.c.updated_at <= cutoff) & (alerts.c.title != ERASED_TITLE)

    async def count(self, connection: AsyncConnection, cutoff: datetime) -> int:
        return int(
            await connection.scalar(
                select(func.count()).select_from(tables.alerts).where(self._stale(cutoff))
            )
            or 0
        )

    async def erase(self, connection: AsyncConnection, cutoff: datetime, now: datetime) -> None:
        await connection.execute(
            update(tables.alerts).where(self._stale(cutoff)).values(title=ERASED_TITLE, links=[], tags=[])
        )
