"""The rollout plan: sites, rollout weeks, go-live dates and each site's go-live window.

A ``RolloutPlan`` is an immutable value: editing it (see ``schedule.edits``) returns a new plan.
Entries are kept sorted by (week, go-live date, station), so two plans with the same sites compare
equal whatever order they were built in. A pulled site stays in the plan with ``pulled=True`` so the
reconciler can cancel its channel and the audit trail can say what happened to it.

Window arithmetic is done in the site's own time zone (see ``schedule.localtime``): a channel opens
at ``open_hour``:00 local time on go-live day and retires ``window_days`` later at
``retire_hour``:00 local time, whatever DST does in between. Instants are returned in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from schedule.errors import InvalidScheduleValue
from schedule.localtime import is_iana_zone, local_date, local_hour, require_aware, zone


@dataclass(frozen=True)
class Site:
    """A facility going live: VA station number (``508``, ``528A7``), name and IANA time zone."""

    station: str
    name: str
    time_zone: str

    def __post_init__(self) -> None:
        if not self.station or not self.station.strip():
            raise InvalidScheduleValue("a site needs a station number")
        if not self.name or not self.name.strip():
            raise InvalidScheduleValue(f"site {self.station} needs a name")
        if not is_iana_zone(self.time_zone):
            raise InvalidScheduleValue(f"{self.time_zone!r} is not an IANA time zone (site {self.station})")

    def __str__(self) -> str:
        return f"{self.station} {self.name}"


@dataclass(frozen=True)
class PlannedSite:
    """A site in a rollout week. ``go_live_date`` is a day of that Monday-to-Sunday week."""

    site: Site
    week_start: date
    go_live_date: date
    pulled: bool = False

    def __post_init__(self) -> None:
        if self.week_start.weekday() != 0:
            raise InvalidScheduleValue(
                f"week_start {self.week_start.isoformat()} is a {self.week_start:%A}, not a Monday"
            )
        if not self.week_start <= self.go_live_date <= self.week_start + timedelta(days=6):
            raise InvalidScheduleValue(
                f"go-live date {self.go_live_date.isoformat()} of {self.site} is outside "
                f"the week of {self.week_start.isoformat()}"
            )

    @classmethod
    def in_week(cls, site: Site, week_start: date, go_live_date: date | None = None) -> PlannedSite:
        """A site planned for ``week_start``; go-live defaults to the week's Monday."""
        return cls(site, week_start, go_live_date or week_start)

    @property
    def station(self) -> str:
        return self.site.station

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def time_zone(self) -> str:
        return self.site.time_zone


def _entry_order(entry: PlannedSite) -> tuple[date, date, str]:
    return (entry.week_start, entry.go_live_date, entry.site.station)


@dataclass(frozen=True)
class RolloutPlan:
    """Every planned (and pulled) site, one entry per station, sorted by week, go-live date, station."""

    entries: tuple[PlannedSite, ...] = ()

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries, key=_entry_order))
        seen: set[str] = set()
        for entry in entries:
            if entry.station in seen:
                raise InvalidScheduleValue(f"station {entry.station} appears twice in the plan")
            seen.add(entry.station)
        object.__setattr__(self, "entries", entries)

    @classmethod
    def of(cls, entries: Iterable[PlannedSite]) -> RolloutPlan:
        return cls(tuple(entries))

    def by_station(self) -> dict[str, PlannedSite]:
        """Every entry (pulled ones included) keyed by station."""
        return {entry.station: entry for entry in self.entries}

    def get(self, station: str) -> PlannedSite | None:
        return self.by_station().get(station)

    def active(self) -> tuple[PlannedSite, ...]:
        """The entries that are not pulled."""
        return tuple(entry for entry in self.entries if not entry.pulled)

    def weeks(self) -> list[date]:
        """The rollout weeks (Mondays) that have at least one site that is not pulled, in order."""
        return sorted({entry.week_start for entry in self.active()})

    def sites_in_week(self, week_start: date) -> tuple[PlannedSite, ...]:
        """The sites (not pulled) planned for the week starting ``week_start``."""
        return tuple(entry for entry in self.active() if entry.week_start == week_start)

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class WindowSettings:
    """When go-live channels open and retire, in each site's local time."""

    open_hour: int = 7
    window_days: int = 7
    retire_hour: int = 17

    def __post_init__(self) -> None:
        for label, hour in (("open_hour", self.open_hour), ("retire_hour", self.retire_hour)):
            if not 0 <= hour <= 23:
                raise InvalidScheduleValue(f"{label} must be 0..23, got {hour}")
        if self.window_days < 0 or (self.window_days == 0 and self.retire_hour <= self.open_hour):
            raise InvalidScheduleValue("a go-live window must retire after it opens")


@dataclass(frozen=True)
class GoLiveWindow:
    """When a site's go-live channel is open: ``opens_at <= t < retires_at`` (both UTC)."""

    station: str
    name: str
    opens_at: datetime
    retires_at: datetime
    time_zone: str = "UTC"
    go_live_date: date | None = None

    def contains(self, at: datetime) -> bool:
        return self.opens_at <= require_aware(at) < self.retires_at

    @property
    def opens_local(self) -> datetime:
        """``opens_at`` on the site's wall clock (for people; compare instants in UTC)."""
        return self.opens_at.astimezone(zone(self.time_zone))

    @property
    def retires_local(self) -> datetime:
        return self.retires_at.astimezone(zone(self.time_zone))


def window_for(entry: PlannedSite, settings: WindowSettings | None = None) -> GoLiveWindow:
    """The go-live window of a planned site, computed in the site's local time."""
    settings = settings or WindowSettings()
    tz = entry.site.time_zone
    retire_day = entry.go_live_date + timedelta(days=settings.window_days)
    return GoLiveWindow(
        station=entry.station,
        name=entry.name,
        opens_at=local_hour(entry.go_live_date, settings.open_hour, tz),
        retires_at=local_hour(retire_day, settings.retire_hour, tz),
        time_zone=tz,
        go_live_date=entry.go_live_date,
    )


def go_live_day(entry: PlannedSite, settings: WindowSettings | None, at: datetime) -> int | None:
    """Which day of its window ``at`` is for the site (go-live day is 1), or None outside the window."""
    window = window_for(entry, settings)
    if not window.contains(at):
        return None
    return (local_date(at, entry.time_zone) - entry.go_live_date).days + 1
