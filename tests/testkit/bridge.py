"""The product in-process on fakes: ``create_app`` with the fake ports and no servers or background
tasks. A test calls the use cases as a chat platform's edge would, then :meth:`FakeBridge.drain`
runs every job the outbox holds, so it asserts on a settled state (never after a sleep).

    async with fake_bridge(tmp_path) as bridge:
        post = await bridge.post("508", "Kiosk shows E42")
        await bridge.drain()
        assert bridge.tracker.creates == 1
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.app import RUNTIME, Overrides, Runtime, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from bot.ports import (
    CardAction,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    Person,
    PersonalMessage,
    PersonContact,
    ThreadRef,
)
from bot.settings import Environment, Settings
from bot.storage import tables
from schedule.plan import RolloutPlan
from schedule.roster import export_roster_csv
from schedule.sample import sample_plan, sample_roster
from testkit.fakes import FakeChat, FakeDirectory, FakeFollowUps, FakeRosterSource, FakeTracker
from testkit.stack import SAMPLE_NOW

STAFF = Person("29:pat", "Pat Frontdesk", "a1b2c3d4-0000-4000-8000-000000000001")
SLACK_STAFF = Person("U0PAT00001", "Pat Frontdesk", email="pat.frontdesk@example.org", platform="slack")
SLACK_CHANNEL = "C0GOLIVE01"
ROSTER = sample_roster()


def person_of(engineer: Any) -> Person:
    return Person(f"29:{engineer.key}", engineer.name, engineer.aad_object_id, engineer.email)


@dataclass
class FakeBridge:
    runtime: Runtime
    clock: FrozenClock
    chat: FakeChat
    tracker: FakeTracker
    directory: FakeDirectory
    roster_source: FakeRosterSource = field(default_factory=FakeRosterSource)
    followups: FakeFollowUps = field(default_factory=FakeFollowUps)
    slack: FakeChat | None = None  # the Slack chat platform, when the bridge runs with Slack on
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> str:
        return str(next(self._ids))

    async def drain(self, rounds: int = 20) -> int:
        """Process every stored activity and run every due job, until nothing is left to do."""
        done = 0
        for _ in range(rounds):
            ran = await self.runtime.processor.drain() + await self.runtime.worker.drain_once()
            done += ran
            if not ran:
                return done
        raise AssertionError("the outbox did not settle")

    async def tick(self) -> None:
        """One pass of the leader's periodic work (channel lifecycle, escalations, hand-offs)."""
        await self.runtime.lifecycle.tick()
        await self.runtime.escalation.tick()
        await self.runtime.handoff.tick()

    async def channel_of(self, station: str) -> str:
        async with self.runtime.store.read() as connection:
            row = (
                await connection.execute(select(tables.channels).where(tables.channels.c.station == station))
            ).first()
        assert row is not None and row.channel_id, f"no channel for {station}"
        return str(row.channel_id)

    async def post(
        self,
        station: str,
        text: str,
        author: Person = STAFF,
        *,
        reply_to: ThreadRef | None = None,
        mentions_bot: bool = False,
        at: datetime | None = None,
    ) -> ChannelPost:
        channel = await self.channel_of(station)
        message_id = self.next_id()
        thread = reply_to or ThreadRef("teams", channel, message_id)
        post = ChannelPost(thread, message_id, author, text, at or self.clock.now(), mentions_bot, False)
        await self.runtime.service.on_channel_post(post)
        return post

    async def slack_post(
        self,
        text: str,
        author: Person = SLACK_STAFF,
        *,
        channel: str = SLACK_CHANNEL,
        reply_to: ThreadRef | None = None,
        mentions_bot: bool = False,
        watched: bool = True,
        at: datetime | None = None,
    ) -> ChannelPost:
        """A person's message in a Slack channel (a watched one unless told otherwise)."""
        ts = f"{1651590000 + int(self.next_id())}.000100"
        thread = reply_to or ThreadRef("slack", channel, ts)
        post = ChannelPost(thread, ts, author, text, at or self.clock.now(), mentions_bot, False, watched)
        await self.runtime.service.on_channel_post(post)
        return post

    async def edit(self, post: ChannelPost, text: str) -> None:
        await self.runtime.service.on_edit(
            MessageEdited(post.thread, post.message_id, post.author, text, self.clock.now())
        )

    async def delete(self, post: ChannelPost) -> None:
        await self.runtime.service.on_delete(
            MessageDeleted(post.thread, post.message_id, post.author, self.clock.now())
        )

    async def say(self, text: str, author: Person = STAFF) -> None:
        """A personal chat message to the bot."""
        message = PersonalMessage("teams", f"a:{author.id}", self.next_id(), author, text, self.clock.now())
        await self.runtime.service.on_personal_message(message)

    async def press(
        self, verb: str, data: dict[str, Any], actor: Person, card_message_id: str = "card"
    ) -> Any:
        action = CardAction("teams", "conversation", card_message_id, verb, data, actor, self.clock.now())
        return await self.runtime.service.on_card_action(action)

    async def inquiry(self, thread: ThreadRef) -> Any:
        async with self.runtime.store.read() as connection:
            return await records.inquiry_by_thread(connection, thread.key)


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        env=Environment.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'golive.db'}",
        microsoft_app_id="",
        servicenow_url="http://servicenow.invalid",
        team_id="team",
        pagerduty_schedule_ids="PPRIMRY,PBACKUP",
    )
    values.update(extra)
    return Settings(**values)


@dataclass(frozen=True)
class _Fakes:
    """Everything a bridge holds outside its database, copied together so shared references
    (the tracker reads the clock) stay shared in the copy."""

    clock: FrozenClock
    chat: FakeChat
    tracker: FakeTracker
    directory: FakeDirectory
    roster_source: FakeRosterSource
    followups: FakeFollowUps
    slack: FakeChat | None


@dataclass(frozen=True)
class _Snapshot:
    database: bytes  # sqlite3 ``serialize`` of the set-up database
    fakes: _Fakes


# Setting up (migrations, the plan, the roster, every channel of the week) costs far more than most
# use-case tests. A setup depends only on these arguments, so the first test with them builds it and
# the next ones start from a copy of its database and fakes.
_SNAPSHOTS: dict[Hashable, _Snapshot] = {}


def _snapshot_key(
    now: datetime,
    plan: RolloutPlan | None,
    roster: bool,
    open_channels: bool,
    slack: bool,
    settings: dict[str, Any],
) -> Hashable | None:
    if plan is not None or not open_channels or "database_url" in settings:
        return None  # a snapshot is a SQLite image of the default database file
    key = (now, roster, slack, tuple(sorted(settings.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _new_fakes(now: datetime, slack: bool) -> _Fakes:
    clock = FrozenClock(now)
    chat, tracker, directory = FakeChat(), FakeTracker(now=clock.now), FakeDirectory()
    # The people of the tenant, known to the chat platform and to the tracker as in the sandbox.
    for person in (STAFF, *(person_of(e) for e in ROSTER.engineers.values())):
        email = person.email or ".".join(person.name.lower().split()) + "@example.org"
        chat.contacts[person.aad_object_id or person.id] = PersonContact(email, email)
        tracker.add_user(email.partition("@")[0], person.name, email)
    slack_chat = FakeChat("slack") if slack else None
    if slack_chat is not None:  # Slack tells a poster's e-mail from their user id
        slack_chat.contacts[SLACK_STAFF.id] = PersonContact(SLACK_STAFF.email or "", "")
    return _Fakes(clock, chat, tracker, directory, FakeRosterSource(), FakeFollowUps(), slack_chat)


def _take_snapshot(database: Path, fakes: _Fakes) -> _Snapshot:
    source, copy = sqlite3.connect(database), sqlite3.connect(":memory:")
    try:
        source.backup(copy)  # consistent while the product's connections are open
        image = bytearray(copy.serialize())
        image[18:20] = b"\x01\x01"  # the header's WAL flags: an in-memory image cannot open in WAL mode
        return _Snapshot(bytes(image), deepcopy(fakes))
    finally:
        source.close()
        copy.close()


def _restore_snapshot(snapshot: _Snapshot, database: Path) -> _Fakes:
    database.parent.mkdir(parents=True, exist_ok=True)
    image, target = sqlite3.connect(":memory:"), sqlite3.connect(database)
    try:
        image.deserialize(snapshot.database)
        image.backup(target)
    finally:
        image.close()
        target.close()
    return deepcopy(snapshot.fakes)


@asynccontextmanager
async def fake_bridge(
    tmp_path: Path,
    *,
    now: datetime = SAMPLE_NOW,
    plan: RolloutPlan | None = None,
    roster: bool = True,
    open_channels: bool = True,
    slack: bool = False,
    **settings: Any,
) -> AsyncIterator[FakeBridge]:
    """The product on fakes with the sample plan (and roster), its channels opened at ``now``;
    ``slack``: with Slack on too (a fake Slack platform; ``SLACK_CHANNEL`` watched)."""
    if slack:
        settings = {
            "slack_bot_token": "xoxb-fake",
            "slack_signing_secret": "fake-secret",
            "slack_channels": SLACK_CHANNEL,
            **settings,
        }
    key = _snapshot_key(now, plan, roster, open_channels, slack, settings)
    snapshot = _SNAPSHOTS.get(key) if key is not None else None
    settings_ = settings_for(tmp_path, **settings)
    database = tmp_path / "golive.db"
    fakes = _restore_snapshot(snapshot, database) if snapshot else _new_fakes(now, slack)
    app = create_app(
        settings_,
        Overrides(
            clock=fakes.clock,
            tracker=fakes.tracker,
            teams=fakes.chat,
            slack=fakes.slack,
            directory=fakes.directory,
            roster_source=fakes.roster_source,
            followups=fakes.followups,
            run_background=False,
        ),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        runtime = app[RUNTIME]
        bridge = FakeBridge(
            runtime,
            fakes.clock,
            fakes.chat,
            fakes.tracker,
            fakes.directory,
            fakes.roster_source,
            fakes.followups,
            slack=fakes.slack,
        )
        if snapshot is None:
            async with runtime.store.write() as connection:
                await records.save_plan(connection, plan or sample_plan(), now)
                if roster:
                    await records.save_roster_csv(runtime.store, connection, export_roster_csv(ROSTER), now)
            if open_channels:
                await runtime.lifecycle.tick()
                await bridge.drain()
            if key is not None:
                _SNAPSHOTS[key] = _take_snapshot(database, fakes)
        yield bridge
    finally:
        await runner.cleanup()
