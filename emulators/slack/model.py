"""The emulated Slack workspace: channels, messages in threads, and the `ts` clock.

Plain data with JSON persistence; no HTTP here. A message is identified by (channel, ts), as in
Slack. A reply names its root by `thread_ts`; a root that was never seen (a reply whose `thread_ts`
names an unknown message, which Slack accepts) is kept as a placeholder so the reply has a thread.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TS_PATTERN = re.compile(r"^\d{1,12}\.\d{1,6}$")


def ts_key(ts: str) -> tuple[int, int]:
    """Sort key of a well-formed ts ("1650000000.000100"): whole seconds, then microseconds."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6])


def format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    members: list[str] = field(default_factory=list)
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""
    is_im: bool = False  # a direct message between one person and the bot (conversations.open)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str | None = None
    thread_ts: str | None = None  # set on replies only (the root's ts)
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    bot_id: str | None = None
    app_id: str | None = None
    subtype: str | None = None
    username: str | None = None
    client_msg_id: str | None = None
    edited: dict[str, str] | None = None
    deleted: bool = False
    placeholder: bool = False  # a root only known from a reply's thread_ts

    @property
    def key(self) -> str:
        return f"{self.channel}/{self.ts}"

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None


@dataclass
class WorkspaceState:
    """Everything the emulator remembers; `save()` writes it when a state file is set."""

    channels: dict[str, Channel] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    last_ts_micros: int = 0
    path: Path | None = None

    # --- ts ----------------------------------------------------------------------------------------

    def next_ts(self, now: datetime) -> str:
        """A new ts, strictly greater than every earlier one, near `now` (100 µs steps)."""
        micros = int(now.timestamp()) * 1_000_000
        self.last_ts_micros = max(micros, self.last_ts_micros) + 100
        return format_ts(self.last_ts_micros)

    # --- channels ----------------------------------------------------------------------------------

    def channel_by_name(self, name: str) -> Channel | None:
        wanted = name.removeprefix("#").casefold()
        return next((c for c in self.channels.values() if c.name.casefold() == wanted), None)

    # --- messages ----------------------------------------------------------------------------------

    def message(self, channel: str, ts: str) -> Message | None:
        return self.messages.get(f"{channel}/{ts}")

    def add(self, message: Message) -> None:
        self.messages[message.key] = message

    def roots(self, channel: str) -> list[Message]:
        found = [m for m in self.messages.values() if m.channel == channel and not m.is_reply]
        return sorted(found, key=lambda m: ts_key(m.ts))

    def replies(self, channel: str, root_ts: str) -> list[Message]:
        found = [
            m
            for m in self.messages.values()
            if m.channel == channel and m.is_reply and m.thread_ts == root_ts
        ]
        return sorted(found, key=lambda m: ts_key(m.ts))

    # --- persistence -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "channels": [asdict(c) for c in self.channels.values()],
            "messages": [asdict(m) for m in self.messages.values()],
            "ephemerals": [asdict(e) for e in self.ephemerals],
            "last_ts_micros": self.last_ts_micros,
        }

    @classmethod
    def load(cls, path: Path) -> WorkspaceState:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = cls(last_ts_micros=int(data.get("last_ts_micros", 0)), path=path)
        for raw in data.get("channels", []):
            channel = Channel(**raw)
            state.channels[channel.id] = channel
        for raw in data.get("messages", []):
            state.add(Message(**raw))
        state.ephemerals = [Ephemeral(**raw) for raw in data.get("ephemerals", [])]
        return state

    def save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json()), encoding="utf-8")
        os.replace(tmp, self.path)
