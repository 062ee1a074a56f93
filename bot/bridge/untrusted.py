"""Text that comes from outside the chat (ServiceNow comments, resolution notes, alert titles) made
safe to post into a chat thread.

Anyone with ServiceNow access can write a comment; the bot posts it into a channel with its own
authority. So: no raw HTML or platform markup survives (tags are removed, which also removes Teams'
``<at>`` mentions and Slack's ``<@U...>`` / ``<!channel>``), and links show where they go: a
Markdown link ``[text](https://host/...)`` becomes ``text (host)``, and only https links are kept at
all (``javascript:``, ``data:``, ``http:`` targets are reduced to their text or host).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_TAG = re.compile(r"<[/!@a-zA-Z][^<>]*>")
_MARKDOWN_LINK = re.compile(r"\[([^\[\]]*)\]\(((?:[^()\s]|\([^()\s]*\))*)\)")
_BARE_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*):(//)?[^\s<>()]+")
_ALLOWED_BARE = ("https",)
MAX_LENGTH = 4000


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    host = _host(url)
    if url.lower().startswith("https://") and host:
        return f"{label} ({host})" if label and label != url else url
    return label or host


def _bare(match: re.Match[str]) -> str:
    scheme = match.group(1).lower()
    url = match.group(0)
    if scheme in _ALLOWED_BARE:
        return url
    if scheme in ("http", "ftp"):
        return _host(url) or ""
    if match.group(2) is None and scheme not in ("javascript", "data", "vbscript", "file"):
        return url  # "note:" or "time: 10:30" is text, not a link
    return ""


def safe_text(text: str) -> str:
    """``text`` with markup removed and links reduced to https ones that show their host."""
    text = html.unescape(text or "")
    text = _TAG.sub("", text)
    text = text.replace("<", "‹").replace(">", "›")
    text = _MARKDOWN_LINK.sub(_link, text)
    text = _BARE_URL.sub(_bare, text)
    return text[:MAX_LENGTH]
