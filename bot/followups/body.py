"""What both trackers agree on about an issue's body: the marker sits alone on a line."""

from __future__ import annotations


def carries_marker(body: object, marker: str) -> bool:
    """True when ``marker`` is one whole line of ``body`` (so ``INC001`` never matches ``INC0012``);
    False for anything that is not text (a tracker may answer with anything)."""
    if not isinstance(body, str) or not body or not marker:
        return False
    wanted = marker.strip()
    return any(line.strip() == wanted for line in body.splitlines())
