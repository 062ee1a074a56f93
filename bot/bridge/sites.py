"""Which site an inquiry is about, when its channel does not say (a watched Slack channel serves every
site at once).

A go-live channel belongs to one site. A watched channel does not, so the site is read from the post:
a station number (``508``, ``528A7``) or a site name (``Atlanta``), matched as whole words, case
aside, against the rollout plan. When the text names no site, or names several, the reply offers a
picker of the open sites (those whose go-live window holds the moment of the post) and the incident
is made without waiting for it. Pure functions: the plan and the instant are arguments.
"""

from __future__ import annotations

import re
from datetime import datetime

from schedule.plan import PlannedSite, RolloutPlan, WindowSettings, window_for

#: Block Kit's static select takes at most 100 options; nobody picks from more.
MAX_CHOICES = 100


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def _named(needle: str, haystack: str) -> bool:
    """``needle`` occurs in ``haystack`` as whole words (both already reduced by :func:`_words`)."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def is_open(entry: PlannedSite, window: WindowSettings, at: datetime) -> bool:
    return not entry.pulled and window_for(entry, window).contains(at)


def open_sites(plan: RolloutPlan, window: WindowSettings, at: datetime) -> tuple[PlannedSite, ...]:
    """The sites whose go-live window holds ``at``, in plan order (at most :data:`MAX_CHOICES`)."""
    return tuple(entry for entry in plan.entries if is_open(entry, window, at))[:MAX_CHOICES]


def site_named_in(text: str, plan: RolloutPlan, window: WindowSettings, at: datetime) -> PlannedSite | None:
    """The one site ``text`` names, else None.

    Several candidates are narrowed to the open ones; a name inside a longer matched name
    (``Columbia`` in ``Columbia SC``) gives way to the longer one. Still more than one: None.
    """
    words = _words(text)
    if not words:
        return None
    matched: dict[str, tuple[PlannedSite, str]] = {}
    for entry in plan.entries:
        if entry.pulled:
            continue
        station, name = _words(entry.station), _words(entry.name)
        if _named(station, words):
            matched[entry.station] = (entry, station)
        elif _named(name, words):
            matched[entry.station] = (entry, name)
    candidates = list(matched.values())
    if len(candidates) > 1:
        opened = [c for c in candidates if is_open(c[0], window, at)]
        candidates = opened or candidates
    if len(candidates) > 1:
        candidates = [
            c for c in candidates if not any(c[1] != o[1] and _named(c[1], o[1]) for o in candidates)
        ]
    return candidates[0][0] if len(candidates) == 1 else None


__all__ = ["MAX_CHOICES", "is_open", "open_sites", "site_named_in"]
