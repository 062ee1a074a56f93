"""The async gateway to ServiceNow: the one place where the sync/async boundary is crossed.

pysnow is synchronous (``requests``), so every call runs in a worker thread of the gateway's own
pool, under an ``asyncio.Semaphore`` that caps how many calls are in flight. Each worker thread has
its own pysnow ``Client`` (and ``requests.Session``); every operation builds a fresh ``Resource``
because pysnow resources share and mutate their parameters. Every request carries an explicit
timeout (pysnow's own default is 60 s).

Failures are retried with jittered exponential backoff; ``Retry-After`` on 429/503 is honoured
(a wait longer than ``backoff_max_s`` is not slept through: the gateway raises
:class:`ServiceNowUnavailable` with ``retry_after`` so the outbox can come back later).
:meth:`ServiceNowGateway.create_incident` is idempotent by ``correlation_id``: it looks the id up
before the first POST and before every retry, so a reply lost after the server committed never
produces a second incident.

Values enter encoded queries only through :mod:`servicenow.query`, which refuses ``^`` and
``javascript:`` (a permanent :class:`UnsafeQueryValue`, raised before anything is sent). Logs and
exceptions name sys_ids, numbers, statuses, field names and operations, never text or names.

People: :meth:`ServiceNowGateway.find_user` finds a ``sys_user`` by e-mail, then by user name, with
a small per-gateway TTL cache. Writes that name a person in a field the instance may guard
(``assigned_to``, ``resolved_by``) survive the instance refusing that field: the write is repeated
without it, or the silent drop is noticed on the record read back, and the returned record's
``refused_fields`` says so, so the caller can name the person in its work note instead. Every write
returns the :class:`IncidentRecord` as ServiceNow holds it after the write.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pysnow
import requests

from servicenow.errors import (
    GatewayClosed,
    IncidentNotFound,
    ServiceNowError,
    ServiceNowRejected,
    ServiceNowUnavailable,
    UnexpectedFailure,
)
from servicenow.model import (
    STATE_LABELS,
    STATE_ON_HOLD,
    STATE_RESOLVED,
    IncidentDraft,
    IncidentRecord,
    JournalEntry,
    UserRef,
    incident_url,
)
from servicenow.query import EncodedQuery, format_sn_datetime, parse_sn_datetime

__all__ = [
    "STATE_LABELS",
    "IncidentDraft",
    "IncidentRecord",
    "JournalEntry",
    "ServiceNowConfig",
    "ServiceNowGateway",
    "UserRef",
    "incident_url",
]

log = logging.getLogger("servicenow.gateway")
T = TypeVar("T")
Row = dict[str, Any]  # one record as pysnow hands it over (values, or display/value objects)

_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
_INCIDENT_FIELDS = (
    "sys_id",
    "number",
    "state",
    "assignment_group",
    "assigned_to",
    "assigned_to.user_name",
    "caller_id",
    "u_caller_name",
    "resolved_by",
    "resolved_by.user_name",
    "short_description",
    "correlation_id",
    "correlation_display",
    "sys_mod_count",
    "sys_updated_on",
    "close_code",
    "close_notes",
    "hold_reason",
    "resolved_at",
)
_JOURNAL_FIELDS = ("sys_id", "element_id", "element", "value", "sys_created_by", "sys_created_on")
_USER_FIELDS = ("sys_id", "user_name", "name")
# Statuses with which an instance refuses one guarded field (ACL, data policy, business rule).
_FIELD_REFUSALS = frozenset({400, 403})
_USER_CACHE_MAX = 1024


@dataclass(frozen=True)
class ServiceNowConfig:
    base_url: str
    user: str
    password: str = field(repr=False)
    timeout_s: float = 10.0
    max_concurrency: int = 8
    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    # Wait this long after an ambiguous failure before looking the correlation_id up: a real
    # instance may still be running the request (its own Table API timeout is 60 s).
    ambiguous_lookup_delay_s: float = 0.0
    page_size: int = 500
    # Base of IncidentRecord.url; empty means base_url (differs when the UI has another host).
    ui_base_url: str = ""
    # How long find_user remembers an answer (found or not): people rarely change, lookups add up.
    user_cache_ttl_s: float = 300.0


def _value(raw: Mapping[str, Any], name: str) -> str:
    item = raw.get(name, "")
    if isinstance(item, dict):
        return str(item.get("value", ""))
    return "" if item is None else str(item)


def _display(raw: Mapping[str, Any], name: str) -> str:
    item = raw.get(name, "")
    if isinstance(item, dict):
        return str(item.get("display_value", item.get("value", "")))
    return "" if item is None else str(item)


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _when(text: str) -> datetime | None:
    try:
        return parse_sn_datetime(text)
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _translate(exc: BaseException, op: str, sys_id: str | None = None) -> ServiceNowError:
    """One pysnow/requests failure as our error tree (messages carry no record text)."""
    if isinstance(exc, ServiceNowError):
        return exc
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status in (408, 429) or status >= 500:
            return ServiceNowUnavailable(
                f"{op}: ServiceNow answered {status}",
                status=status,
                retry_after=_retry_after(exc.response.headers),
                ambiguous=status in (500, 502, 504),
            )
        if status == 404 and sys_id is not None:
            return IncidentNotFound(sys_id)
        return ServiceNowRejected(f"{op}: ServiceNow answered {status}", status=status)
    if isinstance(exc, requests.ConnectTimeout):
        return ServiceNowUnavailable(f"{op}: connect timeout")
    if isinstance(exc, requests.Timeout):
        return ServiceNowUnavailable(f"{op}: no answer within the timeout", ambiguous=True)
    if isinstance(exc, requests.ConnectionError):
        refused = "NewConnectionError" in repr(exc.args[0]) if exc.args else False
        return ServiceNowUnavailable(f"{op}: connection failed", ambiguous=not refused)
    if isinstance(exc, requests.RequestException | ValueError | pysnow.exceptions.PysnowException):
        # A garbled or truncated answer: the server may well have applied the request.
        return ServiceNowUnavailable(f"{op}: unreadable answer ({type(exc).__name__})", ambiguous=True)
    return UnexpectedFailure(f"{op}: unexpected {type(exc).__name__}")


class ServiceNowGateway:
    """Async ServiceNow operations the bridge needs. Create one per process; ``await close()``."""

    def __init__(
        self,
        config: ServiceNowConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        parts = urlsplit(config.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("ServiceNow base_url must be http(s)://host[:port]")
        self._config = config
        self._host = parts.netloc
        self._use_ssl = parts.scheme == "https"
        self._ui_base = (config.ui_base_url or config.base_url).rstrip("/")
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._blocked_until = 0.0
        self._executor = ThreadPoolExecutor(
            max_workers=config.max_concurrency, thread_name_prefix="servicenow"
        )
        self._local = threading.local()
        self._clients: list[pysnow.Client] = []
        self._clients_lock = threading.Lock()
        self._monotonic = monotonic
        self._group_ids: dict[str, str] = {}
        # (field, value) -> (expires at, the user or None): find_user's answers, found or not.
        self._users: dict[tuple[str, str], tuple[float, UserRef | None]] = {}
        self._create_locks: dict[str, list[Any]] = {}
        self._closed = False

    async def __aenter__(self) -> ServiceNowGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._clients_lock:
            for client in self._clients:
                client.session.close()
            self._clients.clear()

    @property
    def user(self) -> str:
        """The integration user's login: journal entries it wrote are the bridge's own."""
        return self._config.user

    # ---- threads and attempts ------------------------------------------------------------
    def _client(self) -> pysnow.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            session = requests.Session()
            session.auth = (self._config.user, self._config.password)
            client = pysnow.Client(host=self._host, use_ssl=self._use_ssl, session=session)
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _resource(self, table: str, *, fields: Iterable[str] = (), display: bool | str = False) -> Any:
        """A fresh pysnow Resource; ``fields`` apply to custom requests (``get()`` sets its own)."""
        resource = self._client().resource(api_path=f"/table/{table}", timeout=self._config.timeout_s)
        resource.parameters.display_value = display
        if fields:
            resource.parameters.fields = list(fields)
        return resource

    async def _attempt(self, op: str, work: Callable[[], T], *, sys_id: str | None = None) -> T:
        if self._closed:
            raise GatewayClosed(op)
        async with self._semaphore:
            loop = asyncio.get_running_loop()
            # A Retry-After seen by any call holds back every call: one 429 must not become a storm.
            wait = self._blocked_until - loop.time()
            if wait > 0:
                await self._sleep(wait)
            try:
                return await loop.run_in_executor(self._executor, work)
            except Exception as exc:
                error = _translate(exc, op, sys_id)
                retry_after = getattr(error, "retry_after", None)
                if retry_after:
                    self._blocked_until = max(self._blocked_until, loop.time() + retry_after)
                raise error from None

    def _backoff(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None when the wait is too long to sleep."""
        cfg = self._config
        if retry_after is not None:
            if retry_after > cfg.backoff_max_s:
                return None
            return retry_after + self._rng.uniform(0, cfg.backoff_base_s / 2)
        ceiling = min(cfg.backoff_max_s, cfg.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    async def _wait_or_raise(self, op: str, attempt: int, exc: ServiceNowUnavailable) -> None:
        if isinstance(exc, GatewayClosed):
            raise exc
        delay = None if attempt >= self._config.max_attempts else self._backoff(attempt, exc.retry_after)
        if delay is None:
            log.warning("servicenow %s: giving up after attempt %d (status %s)", op, attempt, exc.status)
            raise exc
        log.info(
            "servicenow %s: attempt %d failed (status %s), retrying in %.2fs", op, attempt, exc.status, delay
        )
        await self._sleep(delay)

    async def _call(self, op: str, work: Callable[[], T], *, sys_id: str | None = None) -> T:
        """An idempotent operation, retried until it works or the attempts run out."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(op, work, sys_id=sys_id)
            except ServiceNowUnavailable as exc:
                await self._wait_or_raise(op, attempt, exc)

    # ---- reading -------------------------------------------------------------------------
    def _record(self, raw: Mapping[str, Any]) -> IncidentRecord:
        state = _int(_value(raw, "state"), 1)
        assignee = _value(raw, "assigned_to.user_name") or None
        resolver = _value(raw, "resolved_by.user_name") or None
        caller_sys_id = _value(raw, "caller_id")
        sys_id = _value(raw, "sys_id")
        return IncidentRecord(
            sys_id=sys_id,
            number=_value(raw, "number"),
            state=state,
            state_label=_display(raw, "state") or STATE_LABELS.get(state, str(state)),
            assignment_group=_display(raw, "assignment_group"),
            assigned_to=assignee,
            short_description=_value(raw, "short_description"),
            correlation_id=_value(raw, "correlation_id"),
            sys_mod_count=_int(_value(raw, "sys_mod_count")),
            updated_at=_when(_value(raw, "sys_updated_on")) or datetime.now(UTC),
            close_code=_value(raw, "close_code"),
            close_notes=_value(raw, "close_notes"),
            hold_reason=_value(raw, "hold_reason"),
            url=incident_url(self._ui_base, sys_id),
            assigned_to_name=_display(raw, "assigned_to") if assignee else "",
            assignment_group_sys_id=_value(raw, "assignment_group"),
            correlation_display=_value(raw, "correlation_display"),
            resolved_at=_when(_value(raw, "resolved_at")),
            caller_name=(_display(raw, "caller_id") if caller_sys_id else "") or _value(raw, "u_caller_name"),
            caller_sys_id=caller_sys_id,
            resolved_by=resolver,
            resolved_by_name=_display(raw, "resolved_by") if resolver else "",
        )

    def _query_all(self, table: str, query: str, fields: Iterable[str], display: bool | str) -> list[Row]:
        """Every matching row, paged with limit/offset (pysnow's Resource does not follow Link)."""
        rows: list[Row] = []
        size = self._config.page_size
        while True:
            page = self._resource(table, display=display).get(
                query=query, limit=size, offset=len(rows), fields=list(fields)
            )
            batch: list[Row] = list(page.all())
            rows.extend(batch)
            if len(batch) < size:
                return rows

    async def find_by_correlation_id(self, correlation_id: str) -> IncidentRecord | None:
        query = EncodedQuery().where("correlation_id", "=", correlation_id).order_by("sys_created_on").build()

        def work() -> list[Row]:
            resource = self._resource("incident", display="all")
            return list(resource.get(query=query, limit=10, fields=list(_INCIDENT_FIELDS)).all())

        rows = await self._call("find_by_correlation_id", work)
        if not rows:
            return None
        if len(rows) > 1:
            numbers = ", ".join(_value(r, "number") for r in rows)
            log.warning(
                "servicenow: %d incidents share one correlation_id (%s); using the oldest", len(rows), numbers
            )
        return self._record(rows[0])

    async def get_incident(self, sys_id: str) -> IncidentRecord:
        _require_sys_id(sys_id)

        def work() -> Row:
            resource = self._resource("incident", fields=_INCIDENT_FIELDS, display="all")
            row: Row = resource.request("GET", path_append=f"/{sys_id}").one()
            return row

        return self._record(await self._call("get_incident", work, sys_id=sys_id))

    async def incidents_updated_since(
        self, since: datetime, correlation_display: str
    ) -> list[IncidentRecord]:
        """Incidents of this integration changed at or after ``since`` (second precision), oldest first."""
        query = (
            EncodedQuery()
            .where("correlation_display", "=", correlation_display)
            .where("sys_updated_on", ">=", format_sn_datetime(since))
            .order_by("sys_updated_on")
            .build()
        )

        def work() -> list[Row]:
            return self._query_all("incident", query, _INCIDENT_FIELDS, "all")

        rows = await self._call("incidents_updated_since", work)
        return [self._record(r) for r in rows]

    async def journal_since(self, incident_sys_ids: Iterable[str], since: datetime) -> list[JournalEntry]:
        """Comments and work notes on these incidents created at or after ``since``, oldest first."""
        ids = sorted({s for s in incident_sys_ids if _SYS_ID.match(s)})
        entries: list[JournalEntry] = []
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            query = (
                EncodedQuery()
                .where("element_id", "IN", chunk)
                .where("element", "IN", ["comments", "work_notes"])
                .where("sys_created_on", ">=", format_sn_datetime(since))
                .order_by("sys_created_on")
                .build()
            )

            def work(q: str = query) -> list[Row]:
                return self._query_all("sys_journal_field", q, _JOURNAL_FIELDS, False)

            rows = await self._call("journal_since", work)
            entries.extend(self._journal_entry(r) for r in rows)
        entries.sort(key=lambda e: e.created_at)
        return entries

    @staticmethod
    def _journal_entry(raw: Mapping[str, Any]) -> JournalEntry:
        element = _value(raw, "element")
        return JournalEntry(
            sys_id=_value(raw, "sys_id"),
            incident_sys_id=_value(raw, "element_id"),
            element="work_notes" if element == "work_notes" else "comments",
            value=_value(raw, "value"),
            created_by=_value(raw, "sys_created_by"),
            created_at=_when(_value(raw, "sys_created_on")) or datetime.now(UTC),
        )

    async def group_sys_id(self, group_name: str) -> str:
        """The sys_id of an assignment group by name (cached for the gateway's life)."""
        if group_name in self._group_ids:
            return self._group_ids[group_name]
        query = EncodedQuery().where("name", "=", group_name).build()

        def work() -> list[Row]:
            return list(self._resource("sys_user_group").get(query=query, limit=1, fields=["sys_id"]).all())

        rows = await self._call("lookup sys_user_group", work)
        if not rows:
            raise ServiceNowRejected(
                f"assignment group {group_name!r} not found in sys_user_group", status=404
            )
        self._group_ids[group_name] = _value(rows[0], "sys_id")
        return self._group_ids[group_name]

    # ---- people --------------------------------------------------------------------------
    async def find_user(self, email: str | None = None, user_name: str | None = None) -> UserRef | None:
        """The ``sys_user`` with this e-mail address, else with this user name; None when neither is.

        Both values are checked before anything is sent: one that would change the encoded query
        raises :class:`UnsafeQueryValue` (permanent). Answers, found or not, are remembered for
        ``user_cache_ttl_s`` seconds by this gateway.
        """
        lookups = [
            (key, value, EncodedQuery().where(key, "=", value).order_by("sys_created_on").build())
            for key, value in (("email", email), ("user_name", user_name))
            if value
        ]
        for key, value, query in lookups:
            found = await self._user_by(key, value, query)
            if found is not None:
                return found
        return None

    async def _user_by(self, key: str, value: str, query: str) -> UserRef | None:
        now = self._monotonic()
        cached = self._users.get((key, value))
        if cached is not None and cached[0] > now:
            return cached[1]

        def work() -> list[Row]:
            resource = self._resource("sys_user")
            return list(resource.get(query=query, limit=1, fields=list(_USER_FIELDS)).all())

        rows = await self._call(f"find_user by {key}", work)
        user = None
        if rows:
            user = UserRef(_value(rows[0], "sys_id"), _value(rows[0], "user_name"), _value(rows[0], "name"))
        if len(self._users) >= _USER_CACHE_MAX:
            self._users = {k: v for k, v in self._users.items() if v[0] > now}
            while len(self._users) >= _USER_CACHE_MAX:  # all fresh: forget the oldest
                self._users.pop(next(iter(self._users)))
        self._users[(key, value)] = (now + self._config.user_cache_ttl_s, user)
        return user

    async def user_sys_id(self, user_name: str) -> str:
        """The sys_id of a user by user name; :class:`ServiceNowRejected` (404) when there is none."""
        user = await self.find_user(user_name=user_name)
        if user is None:
            raise ServiceNowRejected("user not found in sys_user", status=404)
        return user.sys_id

    # ---- writing -------------------------------------------------------------------------
    async def create_incident(self, draft: IncidentDraft, *, known_new: bool = False) -> IncidentRecord:
        """Create the incident, or return the one that already carries ``draft.correlation_id``.

        ``known_new``: the caller knows no earlier attempt was ever started (its first try), so the
        lookup before the first POST is skipped; every retry still looks up first.
        """
        # Two creates for one correlation_id in this process must not both miss the lookup.
        entry = self._create_locks.setdefault(draft.correlation_id, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                return await self._create_once(draft, known_new=known_new)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._create_locks.pop(draft.correlation_id, None)

    async def _create_once(self, draft: IncidentDraft, *, known_new: bool = False) -> IncidentRecord:
        existing = None if known_new else await self.find_by_correlation_id(draft.correlation_id)
        if existing is not None:
            log.info("servicenow: correlation_id already has %s %s", existing.number, existing.sys_id)
            return existing
        payload: dict[str, str] = {
            "short_description": draft.short_description[:160],
            "description": draft.description,
            "assignment_group": await self.group_sys_id(draft.assignment_group),
            "category": draft.category,
            "contact_type": draft.contact_type,
            "correlation_id": draft.correlation_id,
            "correlation_display": draft.correlation_display,
            "impact": str(draft.impact),
            "urgency": str(draft.urgency),
            "u_caller_name": draft.caller_name,
            "u_caller_aad_id": draft.caller_aad_id,
        }
        if draft.caller_sys_id:
            payload["caller_id"] = draft.caller_sys_id
        if draft.assigned_to:
            payload["assigned_to"] = await self.user_sys_id(draft.assigned_to)
        if draft.comments:
            payload["comments"] = draft.comments

        def work() -> Row:
            resource = self._resource("incident", fields=_INCIDENT_FIELDS, display="all")
            row: Row = resource.create(payload).one()
            return row

        attempt = 0
        while True:
            attempt += 1
            try:
                record = self._record(await self._attempt("create_incident", work))
            except ServiceNowUnavailable as exc:
                await self._wait_or_raise("create_incident", attempt, exc)
                if exc.ambiguous and self._config.ambiguous_lookup_delay_s > 0:
                    await self._sleep(self._config.ambiguous_lookup_delay_s)
                # Never POST again before checking that the last POST did not commit.
                existing = await self.find_by_correlation_id(draft.correlation_id)
                if existing is not None:
                    log.info("servicenow: create committed despite a failed reply: %s", existing.number)
                    return existing
                continue
            log.info("servicenow: created %s %s", record.number, record.sys_id)
            return record

    async def _put(self, op: str, sys_id: str, payload: Mapping[str, str]) -> IncidentRecord:
        """One PUT, retried while unavailable; the answer is the record as the instance now holds it."""

        def work() -> Row:
            resource = self._resource("incident", fields=_INCIDENT_FIELDS, display="all")
            row: Row = resource.request("PUT", path_append=f"/{sys_id}", json=dict(payload)).one()
            return row

        return self._record(await self._call(op, work, sys_id=sys_id))

    async def _update(
        self,
        op: str,
        sys_id: str,
        payload: Mapping[str, str],
        people: Mapping[str, UserRef | None] | None = None,
    ) -> IncidentRecord:
        """Write ``payload`` plus the person fields ``people`` the instance may refuse.

        A person field is refused when the write with it is answered 400/403 (then the write is
        repeated without any person field), when the person is None (not a ``sys_user``), or when
        the record read back does not hold the person (a field ACL drops a value silently).
        """
        _require_sys_id(sys_id)
        people = dict(people or {})
        known = {name: user for name, user in people.items() if user is not None}
        refused = {name for name, user in people.items() if user is None}
        full = {**payload, **{name: user.sys_id for name, user in known.items()}}
        try:
            record = await self._put(op, sys_id, full) if full else await self.get_incident(sys_id)
        except ServiceNowRejected as exc:
            if not known or exc.status not in _FIELD_REFUSALS:
                raise
            log.warning(
                "servicenow %s: %s refused the write with %s (status %d); writing without it",
                op,
                sys_id,
                ", ".join(sorted(known)),
                exc.status,
            )
            refused |= set(known)
            record = await self._put(op, sys_id, payload) if payload else await self.get_incident(sys_id)
        else:
            refused |= {name for name, user in known.items() if _person_in(record, name) != user.user_name}
        if refused:
            log.info("servicenow %s: %s did not take %s", op, record.number, ", ".join(sorted(refused)))
        log.info("servicenow %s: %s now mod %d", op, record.number, record.sys_mod_count)
        return replace(record, refused_fields=frozenset(refused))

    async def _person(self, user_name: str | None) -> UserRef | None:
        return await self.find_user(user_name=user_name) if user_name else None

    async def _add_journal(self, sys_id: str, element: str, text: str) -> IncidentRecord:
        """Write a journal entry at most once, even when a reply is lost after the write."""
        _require_sys_id(sys_id)

        def work() -> Row:
            resource = self._resource("incident", fields=_INCIDENT_FIELDS, display="all")
            row: Row = resource.request("PUT", path_append=f"/{sys_id}", json={element: text}).one()
            return row

        op = f"add_{element}"
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._record(await self._attempt(op, work, sys_id=sys_id))
            except ServiceNowUnavailable as exc:
                await self._wait_or_raise(op, attempt, exc)
                if exc.ambiguous and await self._latest_journal_is(sys_id, element, text):
                    log.info("servicenow %s: entry on %s committed despite a failed reply", op, sys_id)
                    return await self.get_incident(sys_id)

    async def _latest_journal_is(self, sys_id: str, element: str, text: str) -> bool:
        # Text can hold '^', so it is compared here rather than put in the query.
        query = (
            EncodedQuery()
            .where("element_id", "=", sys_id)
            .where("element", "=", element)
            .where("sys_created_by", "=", self._config.user)
            .order_by("sys_created_on", descending=True)
            .build()
        )

        def work() -> list[Row]:
            resource = self._resource("sys_journal_field")
            return list(resource.get(query=query, limit=1, fields=["value"]).all())

        rows = await self._call("journal_check", work)
        return bool(rows) and _value(rows[0], "value") == text

    async def add_comment(self, sys_id: str, text: str) -> IncidentRecord:
        """A public comment (Additional comments), written as the integration user."""
        return await self._add_journal(sys_id, "comments", text)

    async def add_work_note(self, sys_id: str, text: str) -> IncidentRecord:
        return await self._add_journal(sys_id, "work_notes", text)

    async def set_assignment_group(
        self, sys_id: str, group_name: str, *, actor: str | None = None
    ) -> IncidentRecord:
        """Move the incident to a group. ``actor``: see :meth:`set_state` (no field records it here)."""
        _require_sys_id(sys_id)
        group = await self.group_sys_id(group_name)
        return await self._update("set_assignment_group", sys_id, {"assignment_group": group})

    async def assign_to(
        self, sys_id: str, user_name: str | None, *, actor: str | None = None
    ) -> IncidentRecord:
        """Assign to ``user_name`` (None: nobody); :class:`ServiceNowRejected` 404 for an unknown user.

        When the instance refuses ``assigned_to``, the incident stays as it was and the record
        returned has ``"assigned_to"`` in ``refused_fields``. ``actor``: see :meth:`set_state`.
        """
        _require_sys_id(sys_id)
        if not user_name:
            return await self._update("assign_to", sys_id, {"assigned_to": ""})
        user = await self.find_user(user_name=user_name)
        if user is None:
            raise ServiceNowRejected("user not found in sys_user", status=404)
        return await self._update("assign_to", sys_id, {}, {"assigned_to": user})

    async def set_state(
        self, sys_id: str, state: int, hold_reason: str = "", *, actor: str | None = None
    ) -> IncidentRecord:
        """Move the incident to ``state`` (``hold_reason`` for On Hold).

        ``actor`` is the acting engineer's user name. An instance records who acted only where a
        field means that: ``resolved_by`` when the write resolves the incident. Elsewhere ServiceNow
        knows only the integration user, so the caller names the actor in its work note.
        """
        if state not in STATE_LABELS:
            raise ValueError(f"unknown incident state {state}")
        _require_sys_id(sys_id)
        payload = {"state": str(state)}
        if state == STATE_ON_HOLD:
            payload["hold_reason"] = hold_reason
        people = {"resolved_by": await self._person(actor)} if state == STATE_RESOLVED and actor else {}
        return await self._update("set_state", sys_id, payload, people)

    async def resolve(
        self, sys_id: str, close_code: str, close_notes: str, *, resolved_by: str | None = None
    ) -> IncidentRecord:
        """Resolve with a resolution code and notes.

        ``resolved_by`` (a user name) becomes the incident's ``resolved_by``; without it the
        instance records the integration user. When it is not a ``sys_user`` or the instance
        refuses the field, the incident is resolved all the same and the record returned has
        ``"resolved_by"`` in ``refused_fields``.
        """
        _require_sys_id(sys_id)
        payload = {"state": str(STATE_RESOLVED), "close_code": close_code, "close_notes": close_notes}
        people = {"resolved_by": await self._person(resolved_by)} if resolved_by else {}
        return await self._update("resolve", sys_id, payload, people)

    async def update_description(
        self, sys_id: str, short_description: str, description: str
    ) -> IncidentRecord:
        """Replace the incident's text (an edited post). The old text is not copied anywhere."""
        payload = {"short_description": short_description[:160], "description": description}
        return await self._update("update_description", sys_id, payload)


def _require_sys_id(sys_id: str) -> None:
    """Refuse a sys_id that cannot be one before any lookup or write is sent."""
    if not _SYS_ID.match(sys_id):
        raise IncidentNotFound(sys_id)


def _person_in(record: IncidentRecord, field_name: str) -> str | None:
    """The user name a person field of ``record`` holds (for the fields ``_update`` may write)."""
    return {"assigned_to": record.assigned_to, "resolved_by": record.resolved_by}.get(field_name)
