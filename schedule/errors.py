"""The errors ``schedule/`` raises, in one tree.

::

    ScheduleError                 anything this package raises on purpose
    ├── InvalidScheduleValue      a value object was built with an impossible value (also a ValueError)
    ├── PlanEditError             a delivery-manager edit cannot be applied; str(e) is a friendly reason
    └── CsvImportError            a CSV file has bad rows; nothing from it was applied
        ├── PlanImportError       ... the rollout CSV
        └── RosterImportError     ... the roster CSV

Every error is also a ``ValueError`` so callers that only know the standard library still catch it.
``CsvImportError.errors`` holds one ``LineError`` per problem, in line order; ``str(error)`` is those
problems as ``line N: reason`` lines (the header is line 1), ready to print.
"""

from __future__ import annotations

from dataclasses import dataclass


class ScheduleError(ValueError):
    """Base of every error raised on purpose by ``schedule/``."""


class InvalidScheduleValue(ScheduleError):
    """A site, window, plan, engineer or roster was built with values that cannot be right."""


class PlanEditError(ScheduleError):
    """A plan edit (add a week, move or pull a site) cannot be applied; the message says why."""


@dataclass(frozen=True, order=True)
class LineError:
    """One problem found on one line of an imported CSV file (the header is line 1)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class CsvImportError(ScheduleError):
    """A CSV import found bad rows; the import applied nothing."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        super().__init__("\n".join(str(error) for error in self.errors))


class PlanImportError(CsvImportError):
    """The rollout CSV has bad rows."""


class RosterImportError(CsvImportError):
    """The roster CSV has bad rows."""
