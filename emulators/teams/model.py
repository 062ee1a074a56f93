"""The emulated Go Live team: channels, posts in threads, 1:1 chats and Graph operations.

Plain data with JSON persistence; no HTTP here. Posts are kept as Teams shows them: a channel has
root posts, each root has replies; a personal chat is a flat list.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

ChannelStateName = Literal["open", "archived", "deleted"]


def user_id_for(aad_object_id: str) -> str:
    """A stable Teams user id ("29:...") for an Entra object id."""
    return "29:1" + hashlib.sha256(aad_object_id.encode()).hexdigest()[:42]


def personal_conversation_id(aad_object_id: str, bot_id: str) -> str:
    """A stable 1:1 conversation id ("a:...") between one person and the bot."""
    return "a:1" + hashlib.sha256(f"{bot_id}|{aad_object_id}".encode()).hexdigest()[:48]


def new_channel_id() -> str:
    return f"19:{uuid.uuid4().hex}@thread.tacv2"


def thread_id_for_team(team_id: str) -> str:
    return f"19:{hashlib.md5(team_id.encode(), usedforsecurity=False).hexdigest()}@thread.tacv2"


def iso_z(moment: datetime) -> str:
    """Teams style UTC timestamp with milliseconds: 2022-05-03T15:00:00.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Channel:
    id: str
    display_name: str
    description: str
    created: str
    state: ChannelStateName = "open"
    general: bool = False


@dataclass
class Post:
    id: str
    conversation: str  # channel id, or "a:..." for a personal chat
    root_id: str | None  # None for a root post or a personal chat message
    sender: dict[str, Any]  # {"id", "name", "aadObjectId"}
    text: str
    timestamp: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_to_id: str | None = None
    from_bot: bool = False
    deleted: bool = False
    edited: str | None = None  # timestamp of the last edit

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "from": dict(self.sender),
            "text": "" if self.deleted else self.text,
            "attachments": [] if self.deleted else [dict(a) for a in self.attachments],
            "timestamp": self.timestamp,
            "fromBot": self.from_bot,
        }
        if self.reply_to_id:
            out["replyToId"] = self.reply_to_id
        mentions = [e for e in self.entities if isinstance(e, dict) and e.get("type") == "mention"]
        if mentions and not self.deleted:
            out["mentions"] = [dict(m) for m in mentions]
        if self.edited:
            out["lastModified"] = self.edited
        if self.deleted:
            out["deleted"] = True
        return out


@dataclass
class Operation:
    id: str
    operation_type: str
    channel_id: str
    created: str
    polls_left: int = 0


@dataclass
class TeamState:
    """Everything the emulator remembers; `save()` writes it when a state file is set."""

    team_id: str
    team_thread_id: str
    channels: dict[str, Channel] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)  # "a:..." id -> the person's account
    last_message_id: int = 0
    path: Path | None = None

    @classmethod
    def create(cls, team_id: str, created: datetime, path: Path | None = None) -> TeamState:
        if path is not None and path.exists():
            return cls.load(path)
        thread = thread_id_for_team(team_id)
        state = cls(team_id=team_id, team_thread_id=thread, path=path)
        state.channels[thread] = Channel(thread, "General", "", iso_z(created), general=True)
        return state

    @classmethod
    def load(cls, path: Path) -> TeamState:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            team_id=raw["team_id"],
            team_thread_id=raw["team_thread_id"],
            channels={c["id"]: Channel(**c) for c in raw["channels"]},
            posts={p["id"]: Post(**p) for p in raw["posts"]},
            operations={o["id"]: Operation(**o) for o in raw["operations"]},
            chats=raw.get("chats", {}),
            last_message_id=raw["last_message_id"],
            path=path,
        )

    def save(self) -> None:
        if self.path is None:
            return
        raw = {
            "team_id": self.team_id,
            "team_thread_id": self.team_thread_id,
            "channels": [asdict(c) for c in self.channels.values()],
            "posts": [asdict(p) for p in self.posts.values()],
            "operations": [asdict(o) for o in self.operations.values()],
            "chats": self.chats,
            "last_message_id": self.last_message_id,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw), encoding="utf-8")
        os.replace(tmp, self.path)

    # --- ids -------------------------------------------------------------------------------------

    def next_message_id(self, now: datetime) -> str:
        """Epoch milliseconds of `now`, bumped past the last id so ids stay unique and increasing."""
        candidate = max(int(now.timestamp() * 1000), self.last_message_id + 1)
        while str(candidate) in self.posts:  # raw activities may have used this id already
            candidate += 1
        self.last_message_id = candidate
        return str(candidate)

    # --- channels --------------------------------------------------------------------------------

    def live_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.state != "deleted"]

    def channel_named(self, display_name: str) -> Channel | None:
        wanted = display_name.casefold()
        return next((c for c in self.live_channels() if c.display_name.casefold() == wanted), None)

    # --- posts -----------------------------------------------------------------------------------

    def roots(self, channel_id: str) -> list[Post]:
        return [p for p in self.posts.values() if p.conversation == channel_id and p.root_id is None]

    def replies(self, root_id: str) -> list[Post]:
        return [p for p in self.posts.values() if p.root_id == root_id]

    def chat(self, conversation_id: str) -> list[Post]:
        return [p for p in self.posts.values() if p.conversation == conversation_id]

    def add(self, post: Post) -> Post:
        self.posts[post.id] = post
        return post
