"""Local wall-clock arithmetic with ``zoneinfo``: the one place that turns a site's or an
engineer's local day and hour into an instant.

Rules (the same everywhere in the package):

- every instant passed in must be timezone-aware; instants handed back are in UTC;
- a local time that does not exist (the spring-forward gap) means the instant the clocks jumped
  to, so 02:30 on the spring-forward night in New York is 03:30 EDT;
- a local time that happens twice (the fall-back hour) means the first of the two.

Working hours are the one exception, because they are judged by reading the wall clock
(``work_start <= clock``): ``wall_clock_reaches`` gives the first instant the clock shows a time
or later, which for a time in the gap is the jump itself (03:00 EDT for 02:30), so a shift starts
exactly when ``is_working`` turns true.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Keys the zoneinfo loader accepts that are not IANA zone names a person would mean.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def is_iana_zone(name: str) -> bool:
    """True when ``name`` is an IANA time zone name such as ``America/Puerto_Rico``."""
    return isinstance(name, str) and name in _zone_names()


@cache
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name (cached)."""
    return ZoneInfo(name)


def require_aware(at: datetime, what: str = "time") -> datetime:
    """Return ``at`` unchanged, or raise ``ValueError`` if it carries no UTC offset."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {at.isoformat()}")
    return at


def local_instant(day: date, clock: time, zone_name: str) -> datetime:
    """The UTC instant at which the wall clock in ``zone_name`` shows ``clock`` on ``day``."""
    local = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def local_hour(day: date, hour: int, zone_name: str) -> datetime:
    """The UTC instant of ``hour``:00 local time on ``day`` in ``zone_name``."""
    return local_instant(day, time(hour), zone_name)


def local_date(at: datetime, zone_name: str) -> date:
    """The calendar date the wall clock in ``zone_name`` shows at instant ``at``."""
    return require_aware(at).astimezone(zone(zone_name)).date()


def week_monday(day: date) -> date:
    """The Monday of the (Monday to Sunday) week containing ``day``."""
    return day - timedelta(days=day.weekday())


def wall_clock_reaches(day: date, clock: time, zone_name: str) -> datetime:
    """The first instant (UTC) at which the wall clock in ``zone_name`` shows ``clock`` or later on
    ``day``: ``local_instant`` except inside a spring-forward gap, where it is the jump."""
    tz = zone(zone_name)
    wanted = clock.replace(tzinfo=None)
    instant = local_instant(day, wanted, zone_name)
    shown = instant.astimezone(tz)
    if shown.date() == day and shown.time() == wanted:
        return instant
    # In the gap: the wall clock read too late by the gap's size; the jump lies in between.
    before = instant - (datetime.combine(shown.date(), shown.time()) - datetime.combine(day, wanted))
    low, high = int(before.timestamp()), int(instant.timestamp())  # tz transitions fall on whole seconds
    while high - low > 1:
        middle = (low + high) // 2
        local = datetime.fromtimestamp(middle, tz)
        if (local.date(), local.time()) >= (day, wanted):
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
