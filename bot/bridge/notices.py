"""The outbox handler that starts a new thread in a channel: hand-off notices into the open go-live
channels, rotation reports into the management channel, plain notices."""

from __future__ import annotations

import logging

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.jobs import Chats, start_once
from bot.bridge.outbox import Job, JobRegistry
from bot.ports import Message
from bot.storage.store import Store

log = logging.getLogger(__name__)


class ChannelNotices:
    def __init__(self, store: Store, chats: Chats) -> None:
        self._store = store
        self._chats = chats

    def register(self, jobs: JobRegistry) -> None:
        jobs.register(kinds.CHANNEL_NOTICE, self.post)

    async def post(self, job: Job[kinds.ChannelNotice]) -> None:
        notice = job.payload
        if notice.only_if_open:
            async with self._store.read() as connection:
                channel = await records.channel_by_id(connection, notice.channel_id)
            if channel is None or channel.status != "open":
                log.info("channel notice skipped: the channel is no longer open")
                return
        view = notice.handoff or notice.report
        message = Message(text=notice.text, view=view, key=f"job:{job.id}")
        await start_once(self._chats[notice.platform], job, notice.channel_id, message)
