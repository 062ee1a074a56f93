"""Clocks: the product's time, which tests and the sandbox control.

The rule: **domain time comes from a** :class:`Clock`. Whatever the go-live's rules are about (the
rollout plan's week windows and channel opening and retiring instants, who is on duty, working
hours, first-response and escalation deadlines, rotation-report weeks, retention deadlines, the time
of a post, an action or an audit row) is read from the clock the composition root hands out
(``SystemClock`` in production, a ``SimulatedClock`` in the sandbox and development, a
``FrozenClock`` in tests), never from ``datetime.now()``.

**Mechanics** use wall or monotonic time directly: timeouts, back-offs and pacing, outbox and
inbox leases and retry times, leadership heartbeats and lease expiry, received-event bookkeeping,
metrics, log timestamps, and the freshness windows of signed webhooks (Slack, Sentry, ServiceNow
callbacks), which the sender stamps with its real clock.

``SimulatedClock`` starts at a chosen instant and runs ``speed`` times faster than real time; it can
map a simulated instant back to the real instant it will occur at, so timers can be scheduled. The
whole of a simulated clock is its :class:`ClockAnchor` (the simulated instant it showed at a
wall-clock instant, and its speed): replicas that share an anchor show the same time, which is how
``bot.shared_clock`` keeps every replica, and every restart, on one clock that never rewinds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real_delay_until(self, instant: datetime) -> float:
        """Real seconds until the clock shows ``instant`` (0 when already past)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_delay_until(self, instant: datetime) -> float:
        return max(0.0, (instant - self.now()).total_seconds())


@dataclass(frozen=True)
class ClockAnchor:
    """A simulated clock, whole: it showed ``simulated`` at the wall-clock instant ``real`` (seconds
    since the epoch) and runs ``speed`` times faster than real time."""

    simulated: datetime
    real: float
    speed: float

    def __post_init__(self) -> None:
        if self.simulated.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start instant")
        if not self.speed > 0:
            raise ValueError("speed must be positive")

    def at(self, real: float) -> datetime:
        """What the clock shows at the wall-clock instant ``real``."""
        return self.simulated.astimezone(UTC) + timedelta(seconds=(real - self.real) * self.speed)

    def to_document(self) -> dict[str, Any]:
        return {
            "simulated": self.simulated.astimezone(UTC).isoformat(),
            "real": self.real,
            "speed": self.speed,
        }

    @classmethod
    def from_document(cls, value: Any) -> ClockAnchor | None:
        """The stored anchor, or None when the document is not one (then a new anchor is stored)."""
        try:
            return cls(
                datetime.fromisoformat(value["simulated"]), float(value["real"]), float(value["speed"])
            )
        except (TypeError, KeyError, ValueError):
            return None


class SimulatedClock:
    """A clock running from an anchor. It reads the wall clock once, when it is made, and advances
    with the monotonic clock from there, so it never jumps when the system clock is set."""

    def __init__(self, start: datetime, speed: float = 1.0, *, wall: Callable[[], float] = time.time) -> None:
        self._wall_at_start = wall()
        self._monotonic_at_start = time.monotonic()
        self._anchor = ClockAnchor(start, self._wall_at_start, speed)

    @classmethod
    def from_anchor(cls, anchor: ClockAnchor) -> SimulatedClock:
        clock = cls(anchor.simulated, anchor.speed)
        clock.adopt(anchor)
        return clock

    @property
    def anchor(self) -> ClockAnchor:
        return self._anchor

    @property
    def speed(self) -> float:
        return self._anchor.speed

    def adopt(self, anchor: ClockAnchor) -> None:
        """Run from ``anchor`` from now on (start-up: the anchor every replica shares)."""
        self._anchor = anchor

    def real_now(self) -> float:
        """The wall-clock instant now, as this clock reckons it (epoch seconds)."""
        return self._wall_at_start + (time.monotonic() - self._monotonic_at_start)

    def now(self) -> datetime:
        return self._anchor.at(self.real_now())

    def real_delay_until(self, instant: datetime) -> float:
        return max(0.0, (instant - self.now()).total_seconds() / self._anchor.speed)


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def real_delay_until(self, instant: datetime) -> float:
        return 0.0 if instant <= self._now else 0.05
