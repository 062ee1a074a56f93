"""Settings of the PagerDuty emulator: the account's users, schedules, escalation policies and clock.

On-calls come from one of two places, as in PagerDuty itself or as a test wants them:

- ``oncalls=None`` (the default): computed from the schedules' layers and the escalation
  policies, for any window a caller asks about (a weekly rotation never runs out);
- a tuple of :class:`OnCallEntry`: exactly those entries (``PUT /_emulator/oncalls`` replaces them
  at run time, ``DELETE /_emulator/oncalls`` goes back to the configured source).

The default sample is the sandbox's roster: the six engineers of the sample roster (same names and
emails), a "Go Live primary" and a "Go Live backup" schedule that hand over every Monday 00:00 UTC
from 2022-05-02 with the sample roster's pairs, repeating after the 17 sample weeks, and one
escalation policy whose level 1 is the primary schedule and level 2 the backup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulators.sample_engineers import SAMPLE_ENGINEERS

__all__ = [
    "DEFAULT_TOKEN",
    "EscalationPolicy",
    "OnCallEntry",
    "PagerDutyEmulatorConfig",
    "PagerDutySchedule",
    "PagerDutyUser",
    "ScheduleLayer",
    "sample_escalation_policies",
    "sample_schedules",
    "sample_users",
    "utc_now",
]

DEFAULT_TOKEN = "golive-dev-pagerduty-token"
MIN_TURN_SECONDS = 3600


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PagerDutyUser:
    """An account member; ``id`` is PagerDuty-style (``P`` + 6 upper-case letters or digits)."""

    id: str
    name: str
    email: str
    time_zone: str = "UTC"
    role: str = "user"
    job_title: str = ""


@dataclass(frozen=True)
class ScheduleLayer:
    """One rotation: ``users`` take turns of ``rotation_turn_length_seconds`` from
    ``rotation_virtual_start``, within ``start`` .. ``end`` (None = no end). A user may repeat."""

    id: str
    name: str
    start: datetime
    rotation_virtual_start: datetime
    rotation_turn_length_seconds: int
    users: tuple[str, ...]
    end: datetime | None = None


@dataclass(frozen=True)
class PagerDutySchedule:
    """A schedule; when layers overlap, a later layer in ``layers`` wins (as in PagerDuty)."""

    id: str
    name: str
    time_zone: str
    layers: tuple[ScheduleLayer, ...]
    description: str = ""


@dataclass(frozen=True)
class EscalationPolicy:
    """``levels[0]`` is escalation level 1; each level targets schedule ids and/or user ids
    (a user targeted directly is on call permanently: ``start``/``end`` null, ``schedule`` null)."""

    id: str
    name: str
    levels: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class OnCallEntry:
    """One on-call as ``GET /oncalls`` lists it; ``start``/``end`` None = permanent."""

    user_id: str
    escalation_policy_id: str
    escalation_level: int
    schedule_id: str | None
    start: datetime | None
    end: datetime | None


# ---- the sample account ---------------------------------------------------------------------

_USER_IDS = {
    "jane": "PJANEDO",
    "marcus": "PMARCUS",
    "priya": "PPRIYAS",
    "tom": "PTOMNGU",
    "rosa": "PROSAMA",
    "kai": "PKAIAKA",
}
# The sample roster's (primary, backup) for its 17 weeks from 2022-05-02, in order.
_SAMPLE_PAIRS = (
    ("jane", "marcus"),
    ("marcus", "priya"),
    ("tom", "jane"),
    ("priya", "rosa"),
    ("rosa", "kai"),
    ("jane", "tom"),
    ("marcus", "rosa"),
    ("kai", "jane"),
    ("tom", "priya"),
    ("rosa", "marcus"),
    ("jane", "kai"),
    ("priya", "tom"),
    ("marcus", "jane"),
    ("kai", "rosa"),
    ("tom", "marcus"),
    ("rosa", "priya"),
    ("jane", "tom"),
)
SAMPLE_ROTATION_START = datetime(2022, 5, 2, tzinfo=UTC)
PRIMARY_SCHEDULE_ID = "PPRIMRY"
BACKUP_SCHEDULE_ID = "PBACKUP"
SAMPLE_POLICY_ID = "PGOLIVE"
WEEK_SECONDS = 7 * 24 * 3600


def sample_users() -> tuple[PagerDutyUser, ...]:
    return tuple(
        PagerDutyUser(_USER_IDS[e.key], e.name, e.email, e.time_zone, "user", "Go Live engineer")
        for e in SAMPLE_ENGINEERS
    )


def _weekly_layer(layer_id: str, name: str, keys: tuple[str, ...]) -> ScheduleLayer:
    return ScheduleLayer(
        id=layer_id,
        name=name,
        start=SAMPLE_ROTATION_START,
        rotation_virtual_start=SAMPLE_ROTATION_START,
        rotation_turn_length_seconds=WEEK_SECONDS,
        users=tuple(_USER_IDS[k] for k in keys),
    )


def sample_schedules() -> tuple[PagerDutySchedule, ...]:
    primaries = tuple(p for p, _ in _SAMPLE_PAIRS)
    backups = tuple(b for _, b in _SAMPLE_PAIRS)
    return (
        PagerDutySchedule(
            PRIMARY_SCHEDULE_ID,
            "Go Live primary",
            "America/New_York",
            (_weekly_layer("PLPRIM1", "Weekly primary", primaries),),
            "Primary engineer of the go-live week",
        ),
        PagerDutySchedule(
            BACKUP_SCHEDULE_ID,
            "Go Live backup",
            "America/New_York",
            (_weekly_layer("PLBACK1", "Weekly backup", backups),),
            "Backup engineer of the go-live week",
        ),
    )


def sample_escalation_policies() -> tuple[EscalationPolicy, ...]:
    return (
        EscalationPolicy(
            SAMPLE_POLICY_ID, "Go Live escalation", ((PRIMARY_SCHEDULE_ID,), (BACKUP_SCHEDULE_ID,))
        ),
    )


@dataclass(frozen=True)
class PagerDutyEmulatorConfig:
    """Everything the emulator needs; every field has a loopback-friendly default.

    - ``tokens``: accepted REST API keys (``Authorization: Token token=<key>``; ``Bearer <key>``
      is accepted too, as for OAuth tokens).
    - ``oncalls``: None = computed from ``schedules`` and ``escalation_policies``; see the module.
    - ``now()``: the clock (the sandbox passes its simulated clock); ``since``/``until`` default to it.
    - ``time_zone``: the account's time zone, used to render times when a call sends no ``time_zone``.
    - ``subdomain``: used in ``html_url`` links (``https://{subdomain}.pagerduty.com/...``).
    - ``public_base_url``: used in ``self`` links; empty = the scheme and host the call came to.
    - ``state_dir``: when set, entries set through ``PUT /_emulator/oncalls`` survive a restart
      (``{state_dir}/pagerduty.json``).
    - ``rate_limit_per_minute``: the ``ratelimit-limit`` every answer reports (960 for an account key).
    """

    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    users: tuple[PagerDutyUser, ...] = field(default_factory=sample_users)
    schedules: tuple[PagerDutySchedule, ...] = field(default_factory=sample_schedules)
    escalation_policies: tuple[EscalationPolicy, ...] = field(default_factory=sample_escalation_policies)
    oncalls: tuple[OnCallEntry, ...] | None = None
    now: Callable[[], datetime] = utc_now
    time_zone: str = "UTC"
    subdomain: str = "golive"
    public_base_url: str = ""
    state_dir: Path | str | None = None
    rate_limit_per_minute: int = 960

    def check(self) -> None:
        """Raise ValueError when the account does not hang together (unknown ids, bad zones)."""
        user_ids = {u.id for u in self.users}
        schedule_ids = {s.id for s in self.schedules}
        policy_ids = {p.id for p in self.escalation_policies}
        for kind, ids in (("user", self.users), ("schedule", self.schedules)):
            seen = [item.id for item in ids]
            if len(seen) != len(set(seen)):
                raise ValueError(f"duplicate {kind} id")
        for zone in [
            self.time_zone,
            *(u.time_zone for u in self.users),
            *(s.time_zone for s in self.schedules),
        ]:
            _zone(zone)
        for schedule in self.schedules:
            for layer in schedule.layers:
                if layer.rotation_turn_length_seconds < MIN_TURN_SECONDS:
                    raise ValueError(f"layer {layer.id}: turns shorter than an hour are not supported")
                if not layer.users or set(layer.users) - user_ids:
                    raise ValueError(f"layer {layer.id}: users must be known user ids")
                for moment in (layer.start, layer.rotation_virtual_start, layer.end):
                    if moment is not None and moment.tzinfo is None:
                        raise ValueError(f"layer {layer.id}: naive datetime")
        for policy in self.escalation_policies:
            for targets in policy.levels:
                if set(targets) - user_ids - schedule_ids:
                    raise ValueError(f"policy {policy.id}: unknown target")
        for entry in self.oncalls or ():
            check_entry(entry, user_ids, schedule_ids, policy_ids)


def check_entry(entry: OnCallEntry, user_ids: set[str], schedule_ids: set[str], policy_ids: set[str]) -> None:
    """Raise ValueError (a message safe to return) when an on-call entry does not fit the account."""
    if entry.user_id not in user_ids:
        raise ValueError(f"unknown user {entry.user_id!r}")
    if entry.schedule_id is not None and entry.schedule_id not in schedule_ids:
        raise ValueError(f"unknown schedule {entry.schedule_id!r}")
    if entry.escalation_policy_id not in policy_ids:
        raise ValueError(f"unknown escalation policy {entry.escalation_policy_id!r}")
    if entry.escalation_level < 1:
        raise ValueError("escalation_level must be 1 or more")
    for moment in (entry.start, entry.end):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("start and end need a UTC offset")
    if entry.start is not None and entry.end is not None and entry.end <= entry.start:
        raise ValueError("end must be after start")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def longest_turn(config: PagerDutyEmulatorConfig) -> timedelta:
    turns = [layer.rotation_turn_length_seconds for s in config.schedules for layer in s.layers]
    return timedelta(seconds=max(turns, default=MIN_TURN_SECONDS))
