"""``python -m bench.alerts``: an alert storm against a real bot; also the last figure of ``make bench``.

10,000 signed alert deliveries (the four sources in turn) over 1,000 alert groups, paced evenly over
one minute, POSTed to a ``golive sandbox`` running in its own process (the bot on a real port with
the ServiceNow and Teams emulators behind it). Prints the answer latencies, how long processing took
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
    made = []
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


class Sandbox:
    """``golive sandbox`` on free ports in its own process (its development alert secrets)."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.servicenow_port, self.teams_port = free_port(), free_port(), free_port()
        self.state = workdir / "sandbox"
        self.log_path = workdir / "sandbox.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "sandbox",
                f"--port={self.port}",
                f"--servicenow-port={self.servicenow_port}",
                f"--teams-port={self.teams_port}",
                f"--state-dir={self.state}",
                "--now=2022-05-03T15:00:00Z",
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**_environment(), "GOLIVE_LOG_LEVEL": "WARNING"},
        )

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the sandbox exited early; see {self.log_path}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{LOCAL}:{self.port}/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the sandbox did not get ready within {timeout_s:.0f}s")

    def query(self, sql: str) -> list[tuple]:
        connection = sqlite3.connect(f"file:{self.state / 'golive.db'}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _environment() -> dict[str, str]:
    import os

    # The sandbox's own development secrets must be the ones the samples are signed with.
    return {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "GOLIVE_SENTRY_CLIENT_SECRET",
            "GOLIVE_DATADOG_WEBHOOK_TOKEN",
            "GOLIVE_PAGERDUTY_WEBHOOK_SECRET",
            "GOLIVE_BUGSNAG_WEBHOOK_TOKEN",
            "GOLIVE_ALERT_MAX_NEW_PER_MINUTE",
        }
    }


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


async def settle(sandbox: Sandbox, timeout_s: float) -> float:
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


async def quiet(sandbox: Sandbox, timeout_s: float = 90.0) -> None:
    """Wait until the sandbox's start-up work (opening the sample plan's channels) is done."""
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
    sandbox = Sandbox(workdir)
    try:
        await sandbox.wait_ready()
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
