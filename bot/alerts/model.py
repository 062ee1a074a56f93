"""What a monitoring alert means to the product, whichever tool sent it.

``Alert`` is the contract between the per-source parsers (``sentry``, ``datadog``, ``pagerduty``,
``bugsnag``) and the rest of the product: the use case files one ServiceNow incident per
``(source, group_key)`` (correlation id ``{source}:{group_key}``), adds ``count`` to the group's count
for a new ``delivery_id``, and moves the alert post to ``state``. ``Ignored`` is a delivery the
sender expects a 2xx for but that means nothing to us (a Sentry installation, a PagerDuty service
change): answer 200 and store nothing.

Every text field is bounded and cleaned here (control characters become spaces, runs of white space
collapse, over-long text is cut with an ellipsis), so a hostile or chatty sender can never make a
post, a log line or an incident field grow without limit. Links are https only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args
from urllib.parse import urlsplit

Source = Literal["sentry", "datadog", "pagerduty", "bugsnag"]
Level = Literal["critical", "error", "warning", "info"]
State = Literal["triggered", "acknowledged", "recovered", "resolved", "updated"]

SOURCES: Final[tuple[Source, ...]] = get_args(Source)
LEVELS: Final[tuple[Level, ...]] = get_args(Level)
STATES: Final[tuple[State, ...]] = get_args(State)

TITLE_MAX: Final = 200
NAME_MAX: Final = 100  # environment, project, service
TAG_MAX: Final = 100
TAGS_MAX: Final = 20
LINKS_MAX: Final = 5
LINK_LABEL_MAX: Final = 50
URL_MAX: Final = 2048
KEY_MAX: Final = 200  # group_key, delivery_id

# Identifiers travel into correlation ids, log lines and ServiceNow queries: keep them plain.
_KEY = re.compile(rf"[A-Za-z0-9._:@/+=#-]{{1,{KEY_MAX}}}")
# Control characters, line and paragraph separators, zero-width and bidirectional-override marks:
# nothing a title needs, and all of them can disguise text in a post or a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")
_SPACES = re.compile(r"\s{2,}")


def is_plain_key(value: str) -> bool:
    """True when ``value`` may be a ``group_key`` or ``delivery_id`` (ASCII id characters, bounded)."""
    return _KEY.fullmatch(value) is not None


def clip(value: str | None, limit: int) -> str | None:
    """``value`` cleaned for display and cut to ``limit`` characters; None when nothing is left."""
    if value is None:
        return None
    text = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    if not text:
        return None
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def https_link(label: str, url: str | None) -> tuple[str, str] | None:
    """A ``(label, url)`` pair when ``url`` is an absolute https URL we may show, else None."""
    if not url or len(url) > URL_MAX or _CONTROL.search(url) or " " in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    clipped = clip(label, LINK_LABEL_MAX)
    return (clipped, url) if clipped else None


def first_text(limit: int, *candidates: str | None) -> str | None:
    """The first candidate that is not empty once cleaned, cut to ``limit``."""
    for candidate in candidates:
        text = clip(candidate, limit)
        if text:
            return text
    return None


def make_tag(key: str, value: str | None) -> str | None:
    """A ``key:value`` tag, or None when ``value`` is empty."""
    text = clip(value, TAG_MAX)
    return clip(f"{key}:{text}", TAG_MAX) if text else None


def make_tags(*tags: str | None) -> tuple[str, ...]:
    """The non-empty tags, first occurrence kept, at most ``TAGS_MAX``."""
    return tuple(dict.fromkeys(tag for tag in tags if tag))[:TAGS_MAX]


def make_links(*candidates: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    """The https candidates as ``(label, url)``, each URL once, at most ``LINKS_MAX``."""
    links: dict[str, tuple[str, str]] = {}
    for label, url in candidates:
        link = https_link(label, url)
        if link and link[1] not in links:
            links[link[1]] = link
    return tuple(links.values())[:LINKS_MAX]


@dataclass(frozen=True, slots=True)
class Alert:
    """One monitoring-alert delivery, normalised.

    - ``source``: the tool that sent it.
    - ``group_key``: the alert group; every delivery of one group is the same ServiceNow incident.
      Sentry: the issue id (``issue``, ``event_alert``, ``error``) or ``metric_alert:{incident id}``;
      Datadog: ``$ALERT_CYCLE_KEY``, else ``monitor:{$ALERT_ID}``; PagerDuty: the incident id;
      Bugsnag: ``error.errorId``.
    - ``delivery_id``: identifies what this delivery reports, so a redelivery counts once. Sentry:
      ``event:{event_id}`` for event alerts and errors, ``issue:{id}:created``, else ``body:{sha256}``
      (Sentry's ``Request-ID`` is new on every retry, so it cannot dedupe); Datadog: ``$ID``;
      PagerDuty: ``event.id``; Bugsnag: ``event:{error.id}`` for occurrences, else ``body:{sha256}``.
    - ``title``: what the group is about, stable across its deliveries (transition prefixes such as
      Datadog's ``[Triggered]`` or Sentry's ``Critical:`` are removed). At most 200 characters.
    - ``level``: the severity the sender reports with this delivery (a recovery may report ``info``).
    - ``state``: ``triggered`` (a new occurrence, a regression or a reopen), ``acknowledged`` (a person
      took it, or muted/archived it), ``recovered`` (the monitored value is healthy again, by itself),
      ``resolved`` (a person or the tool closed it), ``updated`` (anything else worth showing:
      assignment, escalation, priority change).
    - ``links``: up to 5 ``(label, https url)`` pairs, the sender's page first.
    - ``first_seen`` / ``last_seen``: aware datetimes from the payload, or None when it carries none
      (the use case then uses the time it received the delivery).
    - ``count``: occurrences this delivery stands for (every parser here yields 1; only ``triggered``
      deliveries are occurrences, the others change state without adding to the count).
    - ``environment`` / ``project`` / ``service``: names where the source has them, at most 100 chars.
    - ``tags``: up to 20 ``key:value`` strings worth showing (never user or request data).
    """

    source: Source
    group_key: str
    delivery_id: str
    title: str
    level: Level
    state: State
    links: tuple[tuple[str, str], ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 1
    environment: str | None = None
    project: str | None = None
    service: str | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The parsers build only valid alerts; a failure here is a bug in this package, never input.
        problems = [
            self.source not in SOURCES and "source",
            not is_plain_key(self.group_key) and "group_key",
            not is_plain_key(self.delivery_id) and "delivery_id",
            clip(self.title, TITLE_MAX) != self.title and "title",
            self.level not in LEVELS and "level",
            self.state not in STATES and "state",
            (len(self.links) > LINKS_MAX or any(https_link(*link) != link for link in self.links))
            and "links",
            any(t is not None and t.utcoffset() is None for t in (self.first_seen, self.last_seen))
            and "first_seen/last_seen",
            (type(self.count) is not int or self.count < 1) and "count",
            any(
                name is not None and clip(name, NAME_MAX) != name
                for name in (self.environment, self.project, self.service)
            )
            and "names",
            (len(self.tags) > TAGS_MAX or any(clip(tag, TAG_MAX) != tag for tag in self.tags)) and "tags",
        ]
        broken = [problem for problem in problems if problem]
        if broken:
            raise ValueError(f"invalid Alert fields: {', '.join(broken)}")

    @property
    def correlation_id(self) -> str:
        """The ServiceNow correlation id of the group's incident (``{source}:{group}``,
        docs/CONTRACTS.md section 6)."""
        return f"{self.source}:{self.group_key}"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed delivery that means nothing to the product: answer 2xx, store nothing.

    ``reason`` names the kind of delivery (e.g. ``sentry resource installation``), never its text.
    """

    source: Source
    reason: str
