"""Stable keys derived from Teams identifiers."""

from __future__ import annotations

import hashlib


def correlation_id_for(conversation_id: str, root_message_id: str) -> str:
    """The ServiceNow ``correlation_id`` of a thread's inquiry: stable across Teams redeliveries,
    short, and free of encoded-query metacharacters."""
    channel = conversation_id.split(";", 1)[0]
    digest = hashlib.sha256(f"{channel}|{root_message_id}".encode()).hexdigest()[:40]
    return f"teams-{digest}"


def thread_conversation_id(channel_id: str, root_message_id: str) -> str:
    return f"{channel_id};messageid={root_message_id}"


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
