"""Follow-up issues: the "Follow-up issue" button files one GitHub (or Jira) issue per incident.

The press (:meth:`FollowUps.on_card_action`), engineers only, claims the incident's one row in
``followups`` (keyed by its correlation id) in the press's own transaction and queues one
``file_followup`` job with it. A second press, a redelivered invoke or two presses at once find the
row (the unique key makes the second insert a no-op, also on PostgreSQL), so they queue nothing.

The job (:meth:`FollowUps.file`) runs on its own, outside its inquiry's order (a tracker that is
down never holds up the inquiry's ServiceNow work), and does each step once, recording it before
the next:

1. the issue: ``find`` by the marker line ``golive-followup: <incident number>`` first (a create
   whose answer was lost must not be repeated), else ``create``, titled ``<number>: <short
   description>``, its body linking the incident and the thread, labelled with
   ``GOLIVE_FOLLOWUP_LABELS``, assigned to the engineer's GitHub login when the roster has one;
2. the issue's link as a reply in the thread;
3. a work note on the incident;
4. the card refreshed, showing the issue and its state.

The leader calls :meth:`FollowUps.refresh_states` every 15 minutes: the state of issues filed in the
last 30 days is read again (oldest checked first, a bounded batch), and a card whose issue changed
state (closed, moved in Jira) is refreshed.

An incident is named by a card's data (each kind of card plugs in as a :class:`SubjectKind`):
``{"inquiry": correlation id}`` on an inquiry's card (:data:`INQUIRY_SUBJECT`), ``{"alert":
correlation id}`` on an alert's post (:data:`ALERT_SUBJECT`). An alert's follow-up belongs to its
incident: a group's own, or its storm's for a group that joined a storm, so one storm has one
follow-up. An alert posted on Teams and Slack has its link posted in both threads (and both posts
show it). A card is posted once its incident exists, so the job finds the incident's number (else it
waits: ``RetryLater``).

Errors: the tracker's ``Transient`` passes to the outbox (retried, honouring its delay); its
``Permanent`` (a refused token, an unknown repository) is recorded on the row, told in the thread
with the reason (which names the setting at fault) and ends the job as a dead letter an operator
can retry (``golive inbox retry``). A press answers 4xx with a friendly reason (403 not an
engineer, 404 unknown incident, 400 follow-ups not configured).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import alert_views, records
from bot.bridge import jobkinds as kinds
from bot.bridge.alerts import incident_row, show_again
from bot.bridge.jobs import Chats, post_once, short_description, thread_of
from bot.bridge.outbox import GiveUp, Job, JobRegistry, RetryLater, enqueue
from bot.bridge.people import actor_label, engineer_for
from bot.clock import Clock
from bot.ports import (
    ActionOutcome,
    CardAction,
    FollowUpRequest,
    FollowUpTracker,
    IncidentTracker,
    Message,
    Permanent,
    Platform,
    PortError,
    ThreadRef,
    Transient,
)
from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "ALERT_SUBJECT",
    "INQUIRY_SUBJECT",
    "FollowUpActions",
    "FollowUpSettings",
    "FollowUpSubject",
    "FollowUps",
    "SubjectKind",
    "followup_marker",
]

MARKER_PREFIX = "golive-followup:"
TITLE_LIMIT = 250
REFRESH_DAYS = 30
REFRESH_BATCH = 50


def followup_marker(incident_number: str) -> str:
    """The line that identifies an incident's follow-up issue in its body."""
    return f"{MARKER_PREFIX} {incident_number}"


@dataclass(frozen=True)
class FollowUpSettings:
    """``tracker``: "GitHub" or "Jira" ("" when follow-ups are off)."""

    tracker: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUpSubject:
    """The incident a follow-up is about, whatever card named it: ``thread`` is where its card is
    (``thread_url`` its link when known), ``also_in`` other threads showing the same incident (an
    alert's post on Slack besides Teams); ``about`` are lines the issue's body adds about it."""

    correlation_id: str
    inquiry_id: int | None
    number: str | None
    sys_id: str | None
    incident_url: str | None
    short_description: str
    site: str = ""
    thread: ThreadRef | None = None
    thread_url: str | None = None
    also_in: tuple[ThreadRef, ...] = ()
    about: tuple[str, ...] = ()

    @property
    def threads(self) -> tuple[ThreadRef, ...]:
        return () if self.thread is None else (self.thread, *self.also_in)


@dataclass(frozen=True)
class SubjectKind:
    """A kind of card that names an incident: its data key, how to load the incident by the key,
    and how to have its card shown again (inside the caller's transaction)."""

    data_key: str
    load: Callable[[AsyncConnection, str], Awaitable[FollowUpSubject | None]]
    refresh_card: Callable[[Store, AsyncConnection, FollowUpSubject], Awaitable[None]]


async def _inquiry_subject(connection: AsyncConnection, key: str) -> FollowUpSubject | None:
    row = await records.inquiry_by_key(connection, key)
    if row is None:
        return None
    return FollowUpSubject(
        correlation_id=row.correlation_id,
        inquiry_id=row.id,
        number=row.number,
        sys_id=row.sys_id,
        incident_url=row.incident_url,
        short_description=short_description(row.text),
        site=f"{row.station or ''} {row.site_name or ''}".strip(),
        thread=thread_of(row),
        thread_url=row.thread_url,
    )


async def _refresh_inquiry_card(store: Store, connection: AsyncConnection, subject: FollowUpSubject) -> None:
    await enqueue(store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=subject.inquiry_id)


INQUIRY_SUBJECT = SubjectKind("inquiry", _inquiry_subject, _refresh_inquiry_card)

_ALERT_PLATFORMS: tuple[Platform, ...] = ("teams", "slack")


async def _alert_subject(connection: AsyncConnection, key: str) -> FollowUpSubject | None:
    row = await incident_row(connection, key)
    if row is None:
        return None
    threads = tuple(
        ThreadRef(platform, channel, message)
        for platform in _ALERT_PLATFORMS
        if (channel := getattr(row, f"{platform}_channel_id"))
        and (message := getattr(row, f"{platform}_message_id"))
    )
    if row.kind == "storm":
        about = [f"Alert storm: {row.members} alert groups"]
    else:
        about = [f"Monitoring alert: {alert_views.source_name(row.source)} {row.group_key} ({row.level})"]
        about += [
            f"{label}: {value}"
            for label, value in (("Environment", row.environment), ("Service", row.service))
            if value
        ]
    return FollowUpSubject(
        correlation_id=row.correlation_id,
        inquiry_id=None,
        number=row.number,
        sys_id=row.sys_id,
        incident_url=row.incident_url,
        short_description=alert_views.short_description(row),
        thread=threads[0] if threads else None,
        also_in=threads[1:],
        about=tuple(about),
    )


async def _refresh_alert_card(store: Store, connection: AsyncConnection, subject: FollowUpSubject) -> None:
    await show_again(store, connection, subject.correlation_id)


#: An alert's post (``{"alert": correlation id}``); the follow-up is its incident's (a storm's for a
#: group in a storm), so the key the job and the state refresh load by is that incident's.
ALERT_SUBJECT = SubjectKind("alert", _alert_subject, _refresh_alert_card)


class FollowUpActions(Protocol):
    """What the card-action entry point needs of this use case."""

    async def on_card_action(self, action: CardAction) -> ActionOutcome: ...


class FollowUps:
    """The "Follow-up issue" button and the job that files the issue."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: FollowUpSettings,
        tracker: FollowUpTracker | None,
        incidents: IncidentTracker,
        chats: Chats,
        wake: Callable[[], None],
        subjects: tuple[SubjectKind, ...] = (INQUIRY_SUBJECT,),
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._tracker = tracker
        self._incidents = incidents
        self._chats = chats
        self._wake = wake
        self._subjects = {kind.data_key: kind for kind in subjects}

    @property
    def enabled(self) -> bool:
        return self._tracker is not None and bool(self._settings.tracker)

    def register(self, jobs: JobRegistry) -> None:
        jobs.register(kinds.FILE_FOLLOWUP, self.file)

    # -- the press ---------------------------------------------------------------------------------

    async def on_card_action(self, action: CardAction) -> ActionOutcome:
        if not self.enabled:
            return ActionOutcome(400, "Follow-up issues are not set up here (GOLIVE_FOLLOWUP_TRACKER).")
        kind = next((k for k in self._subjects.values() if action.data.get(k.data_key)), None)
        if kind is None:
            return ActionOutcome(400, "The button does not name an incident.")
        key = str(action.data[kind.data_key])[:240]
        actor, now = action.actor, self._clock.now()
        async with self._store.write() as connection:
            subject = await kind.load(connection, key)
            if subject is None:
                return ActionOutcome(404, "That incident is not known to Go Live Bridge.")
            roster = await records.load_roster(self._store, connection)
            engineer = engineer_for(roster, actor)
            if actor is None or engineer is None:
                refusal = "Only engineers on the duty roster can file follow-up issues."
                await records.audit(
                    connection,
                    now,
                    actor_label(actor),
                    "action.refused",
                    f"{action.verb} on {_name(subject)} ({action.platform} card): {refusal}",
                )
                return ActionOutcome(403, refusal)
            claimed = await self._store.insert_if_absent(
                connection,
                tables.followups,
                {
                    "correlation_id": subject.correlation_id,
                    "subject": kind.data_key,
                    "inquiry_id": subject.inquiry_id,
                    "tracker": self._settings.tracker.lower(),
                    "requested_by": engineer.name[:200],
                    "assignee": engineer.github_login or None,
                    "requested_at": now,
                    "updated_at": now,
                },
                ["correlation_id"],
            )
            if claimed:
                await enqueue(
                    self._store,
                    connection,
                    kinds.FILE_FOLLOWUP,
                    kinds.FollowUpFiling(subject.correlation_id, kind.data_key),
                    dedupe_key=f"followup:{subject.correlation_id}",
                )
                await kind.refresh_card(self._store, connection, subject)
                await records.audit(
                    connection,
                    now,
                    actor_label(actor),
                    "incident.followup",
                    f"{_name(subject)}: follow-up issue asked for in {self._settings.tracker}",
                )
            row = await records.followup_for(connection, subject.correlation_id)
        if claimed:
            self._wake()
            return ActionOutcome(200, f"Filing a follow-up issue in {self._settings.tracker}.")
        if row is not None and row.issue_key:
            return ActionOutcome(200, f"The follow-up issue is {row.issue_key}: {row.issue_url}")
        return ActionOutcome(200, "The follow-up issue is being filed.")

    # -- the job -----------------------------------------------------------------------------------

    async def file(self, job: Job[kinds.FollowUpFiling]) -> None:
        if self._tracker is None:
            raise GiveUp("follow-up issues are not configured (GOLIVE_FOLLOWUP_TRACKER)")
        correlation_id = job.payload.correlation_id
        kind = self._subjects.get(job.payload.subject)
        if kind is None:
            raise GiveUp(f"no card kind {job.payload.subject!r} names incidents")
        async with self._store.read() as connection:
            row = await records.followup_for(connection, correlation_id)
            subject = await kind.load(connection, correlation_id)
        if row is None or subject is None:
            raise GiveUp("the follow-up or its incident is gone")
        if not subject.number:
            raise RetryLater("the incident has no number yet")
        if not row.issue_key:
            links = [
                (index == 0 and subject.thread_url) or await self._thread_link(thread)
                for index, thread in enumerate(subject.threads)
            ]
            request = self._request(subject, row, links)
            try:
                issue = await self._tracker.find(request.marker)
                if issue is None:
                    issue = await self._tracker.create(request)
                else:
                    log.info("follow-up for %s found (an earlier create landed)", subject.number)
            except Permanent as error:
                await self._refused(job, kind, subject, error.reason)
                raise GiveUp(error.reason) from None
            await self._save(
                correlation_id,
                issue_key=issue.key,
                issue_url=issue.url,
                issue_state=issue.state,
                filed_at=self._clock.now(),
                assignee=issue.assignee,
                last_error=None,
            )
            row = await self._reload(correlation_id)
        if not row.thread_message_id and subject.threads:
            await self._post_link(job, subject.threads, row)
        if row.noted_at is None and subject.sys_id:
            await self._incidents.add_work_note(
                subject.sys_id,
                f"Follow-up issue {row.issue_key} filed in {self._tracker_name(row)} "
                f"(asked for by {row.requested_by}): {row.issue_url}",
            )
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.followups)
                .where(tables.followups.c.correlation_id == correlation_id)
                .values(noted_at=self._clock.now(), updated_at=self._clock.now())
            )
            await kind.refresh_card(self._store, connection, subject)
        self._wake()
        log.info("follow-up %s filed for %s", row.issue_key, subject.number)

    async def _refused(self, job: Job[Any], kind: SubjectKind, subject: FollowUpSubject, reason: str) -> None:
        """The tracker refused the issue: the row, the card and the thread say so (once per job)."""
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.followups)
                .where(tables.followups.c.correlation_id == subject.correlation_id)
                .values(last_error=reason[:300], updated_at=self._clock.now())
            )
            text = (
                f"The follow-up issue could not be filed in {self._settings.tracker}: {reason}. "
                f"It is kept for an operator as dead letter job-{job.id}."
            )
            for index, thread in enumerate(subject.threads):
                where = "" if index == 0 else f":{thread.platform}"
                await enqueue(
                    self._store,
                    connection,
                    kinds.REPLY,
                    kinds.ThreadReply(thread, text),
                    dedupe_key=f"followup-refused:{job.id}{where}",
                )
            await kind.refresh_card(self._store, connection, subject)
        self._wake()

    # -- the leader's state refresh ---------------------------------------------------------------

    async def refresh_states(self) -> int:
        """Read again the state of recently filed issues; returns how many changed."""
        if self._tracker is None:
            return 0
        followups = tables.followups
        since = self._clock.now() - timedelta(days=REFRESH_DAYS)
        async with self._store.read() as connection:
            rows = (
                await connection.execute(
                    select(followups)
                    .where(followups.c.issue_key.is_not(None), followups.c.filed_at >= since)
                    .order_by(followups.c.updated_at)
                    .limit(REFRESH_BATCH)
                )
            ).all()
        changed = 0
        for row in rows:
            try:
                issue = await self._tracker.get(row.issue_key)
            except Transient:
                break  # the tracker is throttled or down: the next tick goes on
            except Permanent as error:
                log.warning("follow-up %s cannot be read: %s", row.issue_key, error.reason)
                issue = None
            kind = self._subjects.get(row.subject)
            async with self._store.write() as connection:
                state = issue.state if issue is not None else row.issue_state
                await connection.execute(
                    update(followups)
                    .where(followups.c.id == row.id)
                    .values(issue_state=state, updated_at=self._clock.now())
                )
                if issue is not None and issue.state != row.issue_state and kind is not None:
                    subject = await kind.load(connection, row.correlation_id)
                    if subject is not None:
                        await kind.refresh_card(self._store, connection, subject)
                    changed += 1
        if changed:
            self._wake()
        return changed

    async def _thread_link(self, thread: ThreadRef | None) -> str | None:
        """The platform's link to the thread (None when it cannot say yet)."""
        if thread is None:
            return None
        try:
            return await self._chats[thread.platform].thread_link(thread)
        except PortError:
            return None

    def _request(self, subject: FollowUpSubject, row: Any, links: list[str | None]) -> FollowUpRequest:
        """The issue: ``links`` are the platforms' links to ``subject.threads`` (None: not known)."""
        number = subject.number or subject.correlation_id
        title = f"{number}: {subject.short_description}"
        if len(title) > TITLE_LIMIT:
            title = title[: TITLE_LIMIT - 1] + "…"
        lines = [f"Follow-up of ServiceNow incident {number}: {subject.incident_url or '(no link)'}"]
        if subject.site:
            lines.append(f"Site: {subject.site}")
        lines += subject.about
        for thread, link in zip(subject.threads, links, strict=True):
            lines.append(f"{thread.platform.capitalize()} thread: {link or thread.key}")
        lines.append(f"Asked for by {row.requested_by} on {row.requested_at:%Y-%m-%d %H:%M} UTC.")
        lines += ["", followup_marker(number)]
        return FollowUpRequest(
            marker=followup_marker(number),
            title=title,
            body="\n".join(lines),
            labels=self._settings.labels,
            assignee=row.assignee,
        )

    async def _post_link(self, job: Job[Any], threads: tuple[ThreadRef, ...], row: Any) -> None:
        """The issue's link in each thread of the incident, recorded once all are posted (a retry
        after a partial run finds its earlier posts: ``post_once``)."""
        assigned = f", assigned to {row.assignee}" if row.assignee else ""
        message = Message(
            text=f"Follow-up issue {row.issue_key} ({self._tracker_name(row)}{assigned}): {row.issue_url}",
            key=f"followup:{row.correlation_id}",
        )
        posted = [await post_once(self._chats[thread.platform], job, thread, message) for thread in threads]
        await self._save(row.correlation_id, thread_message_id=(posted[0] or "posted")[:200])

    def _tracker_name(self, row: Any) -> str:
        return {"github": "GitHub", "jira": "Jira"}.get(row.tracker, self._settings.tracker)

    async def _save(self, correlation_id: str, **values: Any) -> None:
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.followups)
                .where(tables.followups.c.correlation_id == correlation_id)
                .values(**values, updated_at=self._clock.now())
            )

    async def _reload(self, correlation_id: str) -> Any:
        async with self._store.read() as connection:
            return await records.followup_for(connection, correlation_id)


def _name(subject: FollowUpSubject) -> str:
    return subject.number or subject.correlation_id
