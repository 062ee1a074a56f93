"""``GET /metrics``: Prometheus metrics, one :class:`Metrics` (and one ``CollectorRegistry``) per app.

Two kinds of figures:

- **Calls** to ServiceNow and Teams, observed as they happen: the adapters (``ServiceNowTracker``,
  ``TeamsChat``) call :meth:`Metrics.observe_servicenow` and :meth:`Metrics.observe_teams` with each
  call's outcome: a latency histogram and an error counter, labelled by ``op`` and ``status``.
- **Leadership** of this replica, read live: ``golive_scheduler_leader`` is 1 on the replica that
  runs the schedule jobs and 0 on the others (``bot.leadership``).
- **State** read from the database at scrape time (:meth:`Metrics.refresh`), so the figures survive a
  restart and agree across replicas: inquiries and incidents created (counters: the rows only grow),
  escalations and re-routes, open incidents, outbox depth by job kind and the age of its oldest job,
  and the ServiceNow sync lag (time since the sync-back poller last saved its watermark); the roster
  sync from PagerDuty (``golive_roster_sync_*``: failing or not, last success and failure).

Labels are only ``op``, ``status`` and ``kind``, each reduced to a short identifier, so no message
text or personal data can ever become a label value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from bot.bridge.deadletters import DeadLetters
from bot.bridge.outbox import outbox_depth
from bot.bridge.roster_sync import ROSTER_SYNC_DOCUMENT, SyncStatus
from bot.clock import SystemClock
from bot.leadership import LeaderStatus
from bot.storage import tables
from bot.storage.store import Store
from servicenow.model import RESOLVED_STATES

__all__ = ["Metrics", "status_of"]

#: The sync-back poller's watermark document (``bot.bridge.syncback.WATERMARK``).
SYNC_WATERMARK_DOCUMENT = "servicenow_sync_watermark"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_STATUS_WORDS = frozenset({"ok", "error", "timeout", "unavailable", "rejected", "not_found"})


def _op(value: str) -> str:
    value = str(value).lower()
    return value if _IDENTIFIER.match(value) else "other"


def _status(value: int | str | None) -> str:
    if value is None:
        return "error"
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and len(value) == 3):
        return str(int(value)) if 100 <= int(value) <= 599 else "error"
    value = str(value).lower()
    return value if value in _STATUS_WORDS else "other"


def status_of(error: BaseException | None) -> str:
    """The status label of a call's outcome: ``ok``, the HTTP status, ``timeout`` or ``error``."""
    if error is None:
        return "ok"
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return _status(status)
    if isinstance(error, TimeoutError):
        return "timeout"
    return "unavailable" if getattr(error, "retryable", False) else "error"


@dataclass
class _Snapshot:
    inquiries: int = 0
    incidents: int = 0
    open_incidents: int = 0
    unanswered: int = 0
    re_routes: int = 0
    escalations: dict[int, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    outbox_oldest_s: float = 0.0
    sync_lag_s: float | None = None
    inbox_backlog: int = 0
    dead_letters: int = 0
    roster_sync: SyncStatus | None = None


class _StoreCollector(Collector):
    """Yields the figures read by the last :meth:`Metrics.refresh`."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        s = self._metrics.snapshot
        yield CounterMetricFamily(
            "golive_inquiries", "Inquiries received (top-level go-live posts)", s.inquiries
        )
        yield CounterMetricFamily(
            "golive_incidents_created", "ServiceNow incidents created for inquiries", s.incidents
        )
        yield CounterMetricFamily(
            "golive_re_routes", "Assignment group changes of inquiry incidents", s.re_routes
        )
        escalations = CounterMetricFamily(
            "golive_escalations", "Escalations of inquiries without a first response", labels=["kind"]
        )
        for level in (1, 2):
            escalations.add_metric([f"level_{level}"], s.escalations.get(level, 0))
        for level, count in sorted(s.escalations.items()):
            if level not in (1, 2):
                escalations.add_metric([f"level_{level}"], count)
        yield escalations
        yield GaugeMetricFamily("golive_open_incidents", "Inquiry incidents not resolved", s.open_incidents)
        yield GaugeMetricFamily(
            "golive_inbox_backlog",
            "Received events (activities, webhooks) not processed yet",
            s.inbox_backlog,
        )
        yield GaugeMetricFamily(
            "golive_inbox_dead_letters",
            "Events and jobs that could not be processed (golive inbox dead-letters)",
            s.dead_letters,
        )
        yield GaugeMetricFamily(
            "golive_unanswered_inquiries", "Open inquiries without a first response", s.unanswered
        )
        depth = GaugeMetricFamily("golive_outbox_depth", "Outbox jobs not done yet", labels=["kind"])
        for kind, count in sorted(s.outbox.items()):
            depth.add_metric([kind], count)
        yield depth
        yield GaugeMetricFamily(
            "golive_outbox_oldest_age_seconds", "Age of the oldest outbox job not done", s.outbox_oldest_s
        )
        leadership = self._metrics.leadership
        yield GaugeMetricFamily(
            "golive_scheduler_leader",
            "1 when this replica leads the schedule (runs its jobs), else 0",
            1 if leadership is not None and leadership.is_leader else 0,
        )
        if s.sync_lag_s is not None:
            yield GaugeMetricFamily(
                "golive_sync_lag_seconds",
                "Seconds since the ServiceNow sync-back last completed a poll",
                s.sync_lag_s,
            )
        if s.roster_sync is not None:
            yield from _roster_sync_metrics(s.roster_sync)


class Metrics:
    """The app's metrics; create one per app (``create_app``), never a module global."""

    def __init__(self, leadership: LeaderStatus | None = None) -> None:
        self.registry = CollectorRegistry()
        self.snapshot = _Snapshot()
        self.leadership = leadership
        self.servicenow_seconds = Histogram(
            "golive_servicenow_request_duration_seconds",
            "ServiceNow call latency by operation and status",
            ["op", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.servicenow_errors = Counter(
            "golive_servicenow_errors",
            "ServiceNow calls that failed, by operation and status",
            ["op", "status"],
            registry=self.registry,
        )
        self.teams_seconds = Histogram(
            "golive_teams_request_duration_seconds",
            "Teams (Bot Connector and Graph) call latency by operation and status",
            ["op", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.teams_errors = Counter(
            "golive_teams_errors",
            "Teams calls that failed, by operation and status",
            ["op", "status"],
            registry=self.registry,
        )
        self.slack_seconds = Histogram(
            "golive_slack_request_duration_seconds",
            "Slack Web API call latency by method and status",
            ["op", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "golive_slack_errors",
            "Slack Web API calls that failed, by method and status",
            ["op", "status"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(self))

    # -- hooks called where the calls happen ------------------------------------------------------

    def observe_servicenow(self, op: str, status: int | str | None, seconds: float) -> None:
        self._observe(self.servicenow_seconds, self.servicenow_errors, op, status, seconds)

    def observe_teams(self, op: str, status: int | str | None, seconds: float) -> None:
        self._observe(self.teams_seconds, self.teams_errors, op, status, seconds)

    def observe_slack(self, op: str, status: int | str | None, seconds: float) -> None:
        self._observe(self.slack_seconds, self.slack_errors, op.replace(".", "_"), status, seconds)

    @staticmethod
    def _observe(histogram, errors, op, status, seconds) -> None:
        op_label, status_label = _op(op), _status(status)
        histogram.labels(op_label, status_label).observe(max(0.0, float(seconds)))
        if status_label != "ok" and not status_label.startswith("2"):
            errors.labels(op_label, status_label).inc()

    # -- scrape ------------------------------------------------------------------------------------

    async def refresh(self, store: Store, now: datetime) -> None:
        """Read the state figures from the database (called before each scrape)."""
        inquiries, outbox = tables.inquiries, tables.outbox
        snapshot = _Snapshot()
        async with store.read() as connection:
            row = (
                await connection.execute(
                    select(
                        func.count(),
                        func.count(inquiries.c.sys_id),
                        func.sum(
                            _case(
                                (inquiries.c.deleted.is_(False))
                                & (inquiries.c.state.is_(None) | inquiries.c.state.not_in(RESOLVED_STATES))
                            )
                        ),
                        func.sum(
                            _case(
                                (inquiries.c.deleted.is_(False))
                                & inquiries.c.first_response_at.is_(None)
                                & (inquiries.c.state.is_(None) | inquiries.c.state.not_in(RESOLVED_STATES))
                            )
                        ),
                    ).select_from(inquiries)
                )
            ).one()
            snapshot.inquiries, snapshot.incidents = int(row[0]), int(row[1])
            snapshot.open_incidents, snapshot.unanswered = int(row[2] or 0), int(row[3] or 0)
            snapshot.re_routes = int(
                await connection.scalar(select(func.count()).select_from(tables.route_events)) or 0
            )
            snapshot.escalations = {
                int(level): int(count)
                for level, count in (
                    await connection.execute(
                        select(tables.escalations.c.level, func.count()).group_by(tables.escalations.c.level)
                    )
                ).all()
            }
            snapshot.outbox = {
                _op(kind): int(count)
                for kind, count in (
                    await connection.execute(
                        select(outbox.c.kind, func.count())
                        .where(outbox.c.done_at.is_(None), outbox.c.dead_at.is_(None))
                        .group_by(outbox.c.kind)
                    )
                ).all()
            }
            snapshot.roster_sync = SyncStatus.from_document(
                await store.get_document(connection, ROSTER_SYNC_DOCUMENT)
            )
            synced_at = await connection.scalar(
                select(tables.documents.c.updated_at).where(tables.documents.c.key == SYNC_WATERMARK_DOCUMENT)
            )
        _, snapshot.outbox_oldest_s = await outbox_depth(store)
        snapshot.inbox_backlog, snapshot.dead_letters = await DeadLetters(store, SystemClock()).counts()
        if synced_at is not None:
            snapshot.sync_lag_s = max(0.0, (now - synced_at).total_seconds())
        self.snapshot = snapshot

    def render(self) -> bytes:
        """The Prometheus text format (0.0.4)."""
        return generate_latest(self.registry)

    def expose(self, accept: str | None) -> tuple[bytes, str]:
        """The body and content type the scraper asked for (text 0.0.4 or OpenMetrics)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def _roster_sync_metrics(status: SyncStatus) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "golive_roster_sync_failing",
        "1 when the last roster sync (PagerDuty) applied nothing",
        int(status.failing),
    )
    for name, at, what in (
        ("golive_roster_sync_last_success_timestamp_seconds", status.last_success_at, "succeeded"),
        ("golive_roster_sync_last_failure_timestamp_seconds", status.last_failure_at, "failed"),
    ):
        if at is not None:
            yield GaugeMetricFamily(name, f"When a roster sync last {what} (Unix time)", at.timestamp())


def _case(condition):
    return case((condition, 1), else_=0)
