"""``python -m bench.alerts``: an alert storm against a real bot; also the last figure of ``make bench``.

10,000 signed alert deliveries (the four sources in turn) over 1,000 alert groups, paced evenly over
one minute, POSTed to ``golive serve`` running in its own process (on SQLite, with ``golive emulate
servicenow`` and ``golive emulate teams`` behind it, each in its own process). Prints the answer latencies, how long processing took
after the last answer, and what the storm rule made of it: incidents created (groups with their own
incident, storm incidents), groups folded into storms, posts. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.loadgen import percentile
from bench.processes import ROOT, free_port

LOCAL = "http://127.0.0.1"


@dataclass(frozen=True)
class StormSize:
    alerts: int = 10_000
    groups: int = 1_000
    seconds: float = 60.0
    connections: int = 64
    settle_timeout_s: float = 300.0


def deliveries(size: StormSize) -> list[tuple[str, dict[str, str], bytes, dict[str, str]]]:
    """Signed sample deliveries, every one distinct (a new delivery id), group ``i % groups``."""
    from bot.alerts.development import DEVELOPMENT_SECRETS
    from bot.alerts.model import SOURCES
    from bot.alerts.samples import sample_payload

    now = datetime.now(UTC)
    made: list[tuple[str, dict[str, str], bytes, dict[str, str]]] = []
    for index in range(size.alerts):
        group = index % size.groups
        source = SOURCES[group % len(SOURCES)]
        headers, body, query = sample_payload(
            source,
            secret=DEVELOPMENT_SECRETS[source],
            now=now,
            group=f"bench-{group}",
            delivery=f"storm-{index}",
        )
        made.append((source, headers, body, query))
    return made


class Processes:
    """``golive serve`` (the bot, alone in its process, on SQLite) with ``golive emulate servicenow``
    and ``golive emulate teams`` in their own processes, as a deployment would have them."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.servicenow_port, self.teams_port = free_port(), free_port(), free_port()
        self.workdir = workdir
        self.database = workdir / "golive.db"
        self.processes: list[tuple[subprocess.Popen[bytes], object]] = []

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env
        )
        self.processes.append((process, log))

    async def start(self) -> None:
        from bot.alerts.development import DEVELOPMENT_SECRETS

        base = {
            **_environment(),
            "GOLIVE_LOG_LEVEL": "WARNING",
            "GOLIVE_SERVICENOW_PASSWORD": "bench-password",
        }
        self._start("servicenow", ["emulate", "servicenow", f"--port={self.servicenow_port}"], base)
        bot_url = f"{LOCAL}:{self.port}/api/messages"
        self._start("teams", ["emulate", "teams", f"--port={self.teams_port}", f"--bot-url={bot_url}"], base)
        teams = await self._wait_json(f"{LOCAL}:{self.teams_port}/_emulator/channels")
        bot_env = {
            **base,
            "GOLIVE_ENV": "development",
            "GOLIVE_DATABASE_URL": f"sqlite:///{self.database}",
            "GOLIVE_SERVICENOW_URL": f"{LOCAL}:{self.servicenow_port}",
            "GOLIVE_GRAPH_URL": f"{LOCAL}:{self.teams_port}/v1.0",
            "GOLIVE_TEAM_ID": teams["teamId"],
            "GOLIVE_SENTRY_CLIENT_SECRET": DEVELOPMENT_SECRETS["sentry"],
            "GOLIVE_DATADOG_WEBHOOK_TOKEN": DEVELOPMENT_SECRETS["datadog"],
            "GOLIVE_PAGERDUTY_WEBHOOK_SECRET": DEVELOPMENT_SECRETS["pagerduty"],
            "GOLIVE_BUGSNAG_WEBHOOK_TOKEN": DEVELOPMENT_SECRETS["bugsnag"],
        }
        self._start("bot", ["serve", f"--port={self.port}"], bot_env)
        await self._wait_json(f"{LOCAL}:{self.port}/readyz")
        async with aiohttp.ClientSession() as session:
            # The install event tells the bot where to post (the Teams emulator's serviceUrl).
            async with session.post(f"{LOCAL}:{self.teams_port}/_emulator/install", json={}) as response:
                await response.read()

    async def _wait_json(self, url: str, timeout_s: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                for process, _ in self.processes:
                    if process.poll() is not None:
                        raise RuntimeError(f"a server exited early; see the logs in {self.workdir}")
                with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return dict(await response.json())
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{url} did not answer within {timeout_s:.0f}s")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def stop(self) -> None:
        for process, log in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()  # type: ignore[attr-defined]


def _environment() -> dict[str, str]:
    import os

    # Only what this bench sets decides the bot's secrets, limits and database.
    return {key: value for key, value in os.environ.items() if not key.startswith("GOLIVE_")}


async def fire(
    port: int, load: list[tuple[str, dict[str, str], bytes, dict[str, str]]], size: StormSize
) -> tuple[list[float], dict[int, int], float]:
    """Send ``load`` paced evenly over ``size.seconds``; latencies (ms), statuses, elapsed (s)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    interval = size.seconds / max(1, len(load))
    connector = aiohttp.TCPConnector(limit=size.connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()

        async def one(index: int) -> None:
            source, headers, body, query = load[index]
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.perf_counter()
            try:
                async with session.post(
                    f"{LOCAL}:{port}/alerts/{source}", data=body, headers=headers, params=query
                ) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            latencies.append((time.perf_counter() - sent) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(one(index) for index in range(len(load))))
        return latencies, statuses, time.perf_counter() - started


async def settle(sandbox: Processes, timeout_s: float) -> float:
    """Seconds until every stored alert is processed and no alert job is pending (or the timeout)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        waiting = sandbox.query(
            "SELECT count(*) FROM received_activities WHERE source != 'teams' AND processed_at IS NULL"
        )[0][0]
        jobs = sandbox.query(
            "SELECT count(*) FROM outbox WHERE kind LIKE 'alert%' AND done_at IS NULL AND dead_at IS NULL"
        )[0][0]
        if waiting == 0 and jobs == 0:
            break
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def quiet(sandbox: Processes, timeout_s: float = 90.0) -> None:
    """Wait until the bot's start-up work is done (nothing pending in its outbox)."""
    started = time.perf_counter()
    await asyncio.sleep(2.0)
    while time.perf_counter() - started < timeout_s:
        pending = sandbox.query("SELECT count(*) FROM outbox WHERE done_at IS NULL AND dead_at IS NULL")[0][0]
        if pending == 0:
            return
        await asyncio.sleep(0.5)


async def run(workdir: Path, size: StormSize | None = None) -> list[str]:
    """Run the storm; returns the figure lines."""
    size = size or StormSize()
    load = deliveries(size)
    sandbox = Processes(workdir)
    try:
        await sandbox.start()
        await quiet(sandbox)
        latencies, statuses, elapsed = await fire(sandbox.port, load, size)
        settled = await settle(sandbox, size.settle_timeout_s)
        own = sandbox.query("SELECT count(*) FROM alerts WHERE kind = 'group' AND storm_id IS NULL")[0][0]
        storms = sandbox.query("SELECT count(*) FROM alerts WHERE kind = 'storm'")[0][0]
        folded = sandbox.query("SELECT count(*) FROM alerts WHERE storm_id IS NOT NULL")[0][0]
        incidents = sandbox.query("SELECT count(*) FROM alerts WHERE sys_id IS NOT NULL")[0][0]
        counted = sandbox.query("SELECT coalesce(sum(count), 0) FROM alerts WHERE kind = 'group'")[0][0]
        posts = sandbox.query("SELECT count(*) FROM alerts WHERE teams_message_id IS NOT NULL")[0][0]
        dead = sandbox.query("SELECT count(*) FROM received_activities WHERE dead_at IS NOT NULL")[0][0]
    finally:
        sandbox.stop()
    accepted = sum(count for status, count in statuses.items() if 200 <= status < 300)
    answers = ", ".join(f"{status or 'error'} x{count}" for status, count in sorted(statuses.items()))
    return [
        f"alert storm: {len(load)} alerts over {size.groups} groups in {elapsed:.1f} s "
        f"({len(load) / elapsed:.0f}/s): answer p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms; {accepted} accepted ({answers})",
        f"alert storm outcome: {incidents} incidents created ({own} groups with their own, {storms} storm); "
        f"{folded} groups folded into the storm; {posts} alert posts; {counted} alerts counted; "
        f"processed {settled:.1f} s after the last answer; {dead} dead letters",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=StormSize.alerts)
    parser.add_argument("--groups", type=int, default=StormSize.groups)
    parser.add_argument("--seconds", type=float, default=StormSize.seconds)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, database)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="golive-bench-alerts-"))
    print(f"work directory {workdir}", flush=True)
    try:
        lines = asyncio.run(run(workdir, StormSize(args.alerts, args.groups, args.seconds)))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
