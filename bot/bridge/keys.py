"""Stable keys derived from chat platform identifiers."""

from __future__ import annotations

import hashlib

from bot.ports import ThreadRef


def correlation_id_for(thread: ThreadRef) -> str:
    """The ServiceNow ``correlation_id`` of a thread's inquiry: stable across redeliveries, short, and
    free of encoded-query metacharacters (``^``, ``=``). Slack's is ``slack:{channel}:{ts}`` as the
    contract says; Teams ids are long, so a Teams thread's is a digest."""
    if thread.platform == "slack":
        return f"slack:{thread.channel_id}:{thread.root_id}"
    digest = hashlib.sha256(f"{thread.channel_id}|{thread.root_id}".encode()).hexdigest()[:40]
    return f"teams-{digest}"


def text_fingerprint(text: str) -> str:
    """A short digest of text that may hold personal data, for keys (never the text itself)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
