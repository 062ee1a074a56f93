"""Clocks: the product never calls ``datetime.now()`` directly, so tests and the sandbox control time.

``SimulatedClock`` starts at a chosen instant and runs ``speed`` times faster than real time; it can
map a simulated instant back to the real instant it will occur at, so timers can be scheduled.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


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


class SimulatedClock:
    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start instant")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._real_start = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._real_start) * self._speed)

    def real_delay_until(self, instant: datetime) -> float:
        return max(0.0, (instant - self.now()).total_seconds() / self._speed)


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
