"""Slack's message markup, both ways.

Inbound, Slack writes mentions, channels and links in angle brackets (``<@U123>``, ``<#C123|name>``,
``<https://...|label>``, ``<!here>``) and escapes ``&``, ``<`` and ``>``; :func:`plain_text` turns a
message into what a person reads (the bot's own mention removed and reported). Outbound, the
product's texts say ``<at>Name</at>`` for a mention (``bot.views``): :func:`to_mrkdwn` escapes the
text and writes each such mention as ``<@U...>`` when the person's Slack id is known, else as a
plain ``@Name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.slack.blocks import escape

_ANGLE = re.compile(r"<([^<>\n]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def mentioned_user_ids(text: str) -> list[str]:
    """The user ids mentioned in a Slack message, in order, without repeats."""
    return list(dict.fromkeys(_USER.findall(text)))


def plain_text(text: str, names: Mapping[str, str], bot_user_id: str | None) -> tuple[str, bool]:
    """(the text as a person reads it, whether it mentioned the bot). ``names`` maps user ids to
    display names for the mentions it knows."""
    mentioned = False

    def readable(match: re.Match[str]) -> str:
        nonlocal mentioned
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            user = target[1:]
            if bot_user_id and user == bot_user_id:
                mentioned = True
                return ""
            return "@" + (label or names.get(user) or user)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^", 1)[0]
        if label and label != target:
            return f"{label} ({target})"
        return target

    readable_text = _ANGLE.sub(readable, text)
    readable_text = readable_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return readable_text.strip(), mentioned


def to_mrkdwn(text: str, user_ids: Mapping[str, str]) -> str:
    """The product's text for Slack: escaped, with ``<at>Name</at>`` as ``<@U...>`` (``user_ids``
    maps names to Slack user ids) or ``@Name``."""
    parts: list[str] = []
    position = 0
    for match in _AT.finditer(text):
        parts.append(escape(text[position : match.start()]))
        name = match.group(1).strip()
        user = user_ids.get(name)
        parts.append(f"<@{user}>" if user else "@" + escape(name))
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts)
