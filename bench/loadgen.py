"""The load generator: Teams-shaped channel posts fired at ``/api/messages`` over N connections."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

from emulators.teams import activities as act
from emulators.teams.config import TeamsEmulatorConfig, sample_people

HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    label: str
    sent: int = 0
    acked: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    acked_ids: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.acked / self.elapsed_s if self.elapsed_s else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


class PostFactory:
    """Distinct top-level posts by a site-staff member in one channel, serialised ahead of time.

    Each has a fresh message id, so each is a new thread and (for the bot) a new inquiry.
    """

    def __init__(self, service_url: str, channel_id: str, team_thread_id: str, now: datetime) -> None:
        self.config = TeamsEmulatorConfig(public_url=service_url)
        self.channel_id = channel_id
        self.team_thread_id = team_thread_id
        self.now = now
        self.sender = act.account_for(next(p for p in sample_people() if p.role == "site-staff"))
        self._next = int(now.timestamp() * 1000) * 1000

    def make(self, count: int, tag: str) -> list[tuple[str, bytes]]:
        out = []
        data = act.channel_data(self.config, self.team_thread_id, self.channel_id)
        for _ in range(count):
            self._next += 1
            message_id = str(self._next)
            activity = act.message_activity(
                self.config,
                self.now,
                activity_id=message_id,
                sender=self.sender,
                text=f"[{tag}] Kiosk at check-in desk {message_id[-4:]} shows a blank screen after the "
                "veteran scans their card; restarted once, no change.",
                conversation=act.channel_conversation(
                    self.config, f"{self.channel_id};messageid={message_id}"
                ),
                data=data,
            )
            out.append((message_id, json.dumps(activity).encode()))
        return out


async def fire(
    url: str,
    posts: list[tuple[str, bytes]],
    *,
    label: str,
    concurrency: int = 16,
    warmup: int = 0,
) -> LoadResult:
    """Post every body once over ``concurrency`` keep-alive connections, as fast as answers come.

    The first ``warmup`` posts are sent (and must be stored) but not timed.
    """
    result = LoadResult(label)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout
    ) as session:

        async def post(body: bytes) -> tuple[int, float]:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=HEADERS) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            return status, (time.perf_counter() - started) * 1000

        async def run(batch: list[tuple[str, bytes]], timed: bool) -> None:
            queue = iter(batch)

            async def worker() -> None:
                for message_id, body in queue:
                    status, latency = await post(body)
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        result.acked_ids.append(message_id)
                    if not timed:
                        continue
                    result.sent += 1
                    if 200 <= status < 300:
                        result.acked += 1
                        result.latencies_ms.append(latency)
                    else:
                        result.failed += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        await run(posts[:warmup], timed=False)
        started = time.perf_counter()
        await run(posts[warmup:], timed=True)
        result.elapsed_s = time.perf_counter() - started
    return result
