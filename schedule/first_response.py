"""When the 5-minute first-response clock starts, and whom an escalation may @mention.

The duty rules (docs/CONTRACTS.md section 7): an inquiry posted when no engineer is working gets the
"picked up at ..." reply and no @mention; its timer starts at the earliest start of working hours
among the day's primary, backup and fallback, and its escalation @mentions the person on duty who is
working then. Nobody is @mentioned outside their working hours.

- ``first_response_clock_start(duty, posted_at)``: ``posted_at`` when any of the duty's primary,
  backup or fallback is working then; otherwise the earliest start of their working hours after it
  (the next working day when today's hours are over, over weekends, each on their own clock and
  DST). It is exactly ``schedule.roster.next_pickup``, so the "picked up at ..." reply and the
  timer always name the same instant. With nobody on duty it is ``posted_at`` (there is no one to
  wait for).
- ``escalation_target(duty, at, exclude)``: the backup if working at ``at``, else the primary, else
  the fallback, skipping ``exclude``; None when none of them is working.

The duty passed in is the one in force when the inquiry was posted (``duty_at(roster,
posted_at)``), swaps and fallback dates included; the fallback counts only on their date.
"""

from __future__ import annotations

from datetime import datetime

from schedule.localtime import require_aware
from schedule.roster import Duty, Engineer, is_working, next_pickup


def first_response_clock_start(duty: Duty, posted_at: datetime) -> datetime:
    """The instant the first-response timer of an inquiry posted at ``posted_at`` starts."""
    require_aware(posted_at, "posted_at")
    start = next_pickup(duty, posted_at)
    return posted_at if start is None else start


def escalation_target(duty: Duty, at: datetime, exclude: Engineer | None = None) -> Engineer | None:
    """Whom to @mention at ``at``: the first working one of backup, primary, fallback (never
    ``exclude``, never someone outside their working hours), or None."""
    require_aware(at)
    for engineer in (duty.backup, duty.primary, duty.fallback):
        if engineer is None or (exclude is not None and engineer.key == exclude.key):
            continue
        if is_working(engineer, at):
            return engineer
    return None
