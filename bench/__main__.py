"""``python -m bench`` (``make bench``): every figure of issue 11 in one run, printed, never asserted.

The servers run as their own processes (see ``bench.servers``); this process is the load generator
and the stopwatch. The run ends with one line per figure, the first of them
``ingest: N acks/s vs stock sample M req/s (ratio R), p99 P ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.loadgen import LoadResult, PostFactory, fire, percentile
from bench.processes import Server, free_port
from bench.servers import DEMO_NOW

LOCAL = "http://127.0.0.1"
INCIDENT = re.compile(r"INC\d{7}")


@dataclass(frozen=True)
class Sizes:
    warmup: int = 100
    rewarm: int = 20  # after a fault change, before timing again
    echo: int = 300
    ingest: int = 2000
    memory_inquiries: int = 10_000
    e2e: int = 30
    e2e_per_s: float = 2.5
    backlog: int = 1_000
    rate_limit: int = 50
    retry_after_s: float = 1.0
    concurrency: int = 16


class BotDatabase:
    """Read-only look into a bot's SQLite file (WAL lets us read while it writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _query(self, sql: str, *args: Any) -> list[tuple]:
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()

    def open_channels(self) -> list[str]:
        rows = self._query("SELECT channel_id FROM channels WHERE status = 'open' AND channel_id IS NOT NULL")
        return sorted(row[0] for row in rows)

    def inquiry_roots(self) -> set[str]:
        return {row[0] for row in self._query("SELECT root_message_id FROM inquiries")}

    def inquiries(self) -> int:
        return self._query("SELECT count(*) FROM inquiries")[0][0]

    def received_ids(self) -> set[str]:
        """Message ids of the stored (acknowledged) activities: dedupe keys are type|conversation|id|..."""
        rows = self._query("SELECT dedupe_key FROM received_activities")
        return {row[0].split("|")[2] for row in rows if row[0].count("|") >= 2}

    def received(self) -> int:
        return self._query("SELECT count(*) FROM received_activities")[0][0]

    def answered(self, roots: set[str]) -> int:
        rows = self._query(
            "SELECT root_message_id FROM inquiries WHERE number IS NOT NULL AND card_activity_id IS NOT NULL"
        )
        return sum(1 for row in rows if row[0] in roots)


class Bench:
    def __init__(self, sizes: Sizes, workdir: Path) -> None:
        self.sizes = sizes
        self.workdir = workdir
        self.ports = {
            name: free_port()
            for name in ("servicenow", "teams-a", "teams-b", "proxy", "bot-a", "bot-b", "echo", "connector")
        }
        self.servers: list[Server] = []
        self.lines: list[str] = []
        self.notes: list[str] = []
        self.session: aiohttp.ClientSession | None = None

    def url(self, name: str, path: str = "") -> str:
        return f"{LOCAL}:{self.ports[name]}{path}"

    def start(self, name: str, *args: str) -> Server:
        server = Server(name, list(args), self.workdir)
        self.servers.append(server)
        return server

    def say(self, text: str) -> None:
        print(text, flush=True)

    async def call(self, method: str, url: str, body: Any = None) -> Any:
        assert self.session is not None
        async with self.session.request(method, url, json=body) as response:
            if response.content_type == "application/json":
                return await response.json()
            return await response.text()

    async def servicenow_faults(self, faults: dict | None) -> None:
        url = self.url("servicenow", "/_emulator/faults")
        await self.call("DELETE", url)
        if faults:
            await self.call("POST", url, faults)

    # --- the processes -------------------------------------------------------------------------

    def start_bot(self, name: str, teams: str) -> tuple[Server, BotDatabase]:
        db = self.workdir / f"{name}.db"
        server = self.start(
            name,
            "bot",
            "--port", str(self.ports[name]),
            "--db", str(db),
            "--servicenow-url", self.url("servicenow"),
            "--graph-url", self.url(teams, "/v1.0"),
        )  # fmt: skip
        return server, BotDatabase(db)

    async def wait_for_channel(self, server: Server, db: BotDatabase, teams: str) -> tuple[str, str]:
        """Install the app in the team; the bot's lifecycle then opens today's go-live channels."""
        await server.wait_ready(self.url(server.name, "/healthz"))
        await self.call("POST", self.url(teams, "/_emulator/install"), {})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            view = await self.call("GET", self.url(teams, "/_emulator/channels"))
            in_teams = {c["id"] for c in view["channels"] if c["goLive"] and c["state"] == "open"}
            opened = [c for c in db.open_channels() if c in in_teams]
            if opened:
                return opened[0], view["teamThreadId"]
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{server.name} opened no go-live channel; see {server.log_path}")

    # --- ingest ------------------------------------------------------------------------------------

    async def ingest(
        self, label: str, server: str, posts: PostFactory, count: int, warmup: int
    ) -> LoadResult:
        batch = posts.make(warmup + count, label)
        result = await fire(
            self.url(server, "/api/messages"),
            batch,
            label=label,
            concurrency=self.sizes.concurrency,
            warmup=warmup,
        )
        self.say(
            f"  {label}: {result.acked}/{result.sent} acknowledged in {result.elapsed_s:.1f}s = "
            f"{result.rate:.0f}/s, p50 {result.p(50):.0f} ms, p99 {result.p(99):.0f} ms, "
            f"statuses {result.statuses}"
        )
        return result

    def durability(self, db: BotDatabase, results: list[LoadResult]) -> tuple[int, int]:
        """Acknowledged posts found stored at once (the raw activity is committed before the 201)."""
        stored = db.received_ids()
        acked = [message_id for result in results for message_id in result.acked_ids]
        kept = sum(1 for message_id in acked if message_id in stored)
        return kept, len(acked)

    async def processed(
        self, db: BotDatabase, results: list[LoadResult], timeout_s: float = 180
    ) -> tuple[int, float]:
        """Wait until the acknowledged posts have become inquiries; (count, seconds waited)."""
        acked = {message_id for result in results for message_id in result.acked_ids}
        started = time.monotonic()
        while True:
            done = len(acked & db.inquiry_roots())
            if done >= len(acked) or time.monotonic() - started > timeout_s:
                return done, time.monotonic() - started
            await asyncio.sleep(0.5)

    async def run_ingest(self) -> None:
        sizes = self.sizes
        self.say("[1/4] ingest: stock echo sample vs Go Live Bridge, 16 connections, loopback connector")
        echo = self.start("echo", "echo", "--port", str(self.ports["echo"]))
        connector = self.start("connector", "connector", "--port", str(self.ports["connector"]))
        bot, db = self.start_bot("bot-a", "teams-a")
        await echo.wait_ready(self.url("echo", "/healthz"))
        await connector.wait_ready(self.url("connector", "/healthz"))
        channel, team_thread = await self.wait_for_channel(bot, db, "teams-a")
        rss_start = bot.rss_mib()
        posts = PostFactory(
            self.url("connector", "/"), channel, team_thread, datetime.fromisoformat(DEMO_NOW)
        )
        sample = await self.ingest("echo-sample", "echo", posts, sizes.echo, sizes.warmup)
        echo.stop()
        healthy = await self.ingest("bot", "bot-a", posts, sizes.ingest, sizes.warmup)
        await self.servicenow_faults({"latency_ms": 1000})
        slow = await self.ingest("bot, ServiceNow 1 s", "bot-a", posts, sizes.ingest, sizes.rewarm)
        await self.servicenow_faults({"outage": True})
        down = await self.ingest("bot, ServiceNow down", "bot-a", posts, sizes.ingest, sizes.rewarm)
        kept, acked = self.durability(db, [healthy, slow, down])
        made, waited = await self.processed(db, [healthy, slow, down])

        ratio = healthy.rate / sample.rate if sample.rate else float("inf")
        self.lines.insert(
            0,
            f"ingest: {healthy.rate:.0f} acks/s vs stock sample {sample.rate:.0f} req/s "
            f"(ratio {ratio:.1f}), p99 {healthy.p(99):.0f} ms",
        )
        self.lines.append(
            f"ingest detail: bot p50 {healthy.p(50):.0f} ms; sample p50 {sample.p(50):.0f} ms, "
            f"p99 {sample.p(99):.0f} ms"
        )
        self.lines.append(
            f"ingest, ServiceNow at 1 s latency: {slow.rate:.0f} acks/s, p99 {slow.p(99):.0f} ms"
        )
        self.lines.append(f"ingest, ServiceNow down: {down.rate:.0f} acks/s, p99 {down.p(99):.0f} ms")
        self.lines.append(
            f"durability: {kept}/{acked} acknowledged activities stored before the answer; "
            f"{made}/{acked} inquiries recorded {waited:.1f} s after the last post"
        )

        self.say(f"[2/4] memory: ingest up to {sizes.memory_inquiries} inquiries (ServiceNow still down)")
        remaining = sizes.memory_inquiries - db.received()
        started = time.monotonic()
        while remaining > 0:
            chunk = min(remaining, 2_000)
            batch = posts.make(chunk, "memory")
            result = await fire(
                self.url("bot-a", "/api/messages"), batch, label="memory", concurrency=sizes.concurrency
            )
            remaining -= result.acked
            if result.acked == 0:
                break
        total = db.received()
        rss = bot.rss_mib()
        self.say(f"  {total} inquiries stored in {time.monotonic() - started:.0f}s; RSS {rss:.0f} MiB")
        self.lines.append(
            f"memory: bot RSS {rss:.0f} MiB after {total} inquiries "
            f"(ServiceNow down, all queued; {rss_start:.0f} MiB at start)"
        )
        bot.stop()
        connector.stop()
        await self.servicenow_faults(None)

    # --- end to end and backlog ---------------------------------------------------------------

    async def post_via_teams(self, channel: str, text: str) -> tuple[str, int, float]:
        started = time.monotonic()
        answer = await self.call(
            "POST",
            self.url("teams-b", f"/_emulator/channels/{channel}/messages"),
            {"text": text, "from": {"name": "Pat Frontdesk"}},
        )
        return answer["rootId"], answer["status"], started

    async def run_end_to_end(self, channel: str) -> None:
        sizes = self.sizes
        self.say(
            f"[3/4] end to end: {sizes.e2e} inquiries at {sizes.e2e_per_s:g}/s through the Teams emulator, "
            "ServiceNow 300 ms, Teams connector 100 ms"
        )
        await self.servicenow_faults({"latency_ms": 300})
        await self.call("POST", self.url("proxy", "/_bench/delay"), {"delay_ms": 100})
        since = time.monotonic()
        tasks = []
        for index in range(sizes.e2e):
            text = f"[e2e {index}] The check-in kiosk in clinic B says 'appointment not found' for everyone."
            tasks.append(asyncio.create_task(self.post_via_teams(channel, text)))
            await asyncio.sleep(1 / sizes.e2e_per_s)
        posted = await asyncio.gather(*tasks)
        roots = {root: started for root, _status, started in posted}
        deadline = time.monotonic() + 60
        replies: dict[str, float] = {}
        while time.monotonic() < deadline:
            replies = await self.call("GET", self.url("proxy", "/_bench/replies"))
            if all(root in replies for root in roots):
                break
            await asyncio.sleep(0.1)
        latencies = [(replies[root] - started) * 1000 for root, started in roots.items() if root in replies]
        threads = await self.call("GET", self.url("teams-b", f"/_emulator/channels/{channel}/threads"))
        shown = sum(
            1
            for thread in threads
            if thread["id"] in roots
            and any(reply["fromBot"] and INCIDENT.search(json.dumps(reply)) for reply in thread["replies"])
        )
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        calls = await self.call("GET", self.url("servicenow", f"/_bench/calls?since={since}"))
        self.say(
            f"  {len(latencies)}/{len(roots)} replies with an incident number; p50 {p50:.0f} ms, "
            f"p99 {p99:.0f} ms; {shown} threads show the bot's reply with the number"
        )
        self.say(f"  ServiceNow calls per inquiry: {call_mix(calls, len(roots))}")
        self.lines.append(
            f"end to end (ServiceNow 300 ms + Teams 100 ms): p50 {p50:.0f} ms, p99 {p99:.0f} ms "
            f"({len(latencies)}/{len(roots)} answered; target p50 <= 550 ms)"
        )
        await self.call("POST", self.url("proxy", "/_bench/delay"), {"delay_ms": 0})
        await self.servicenow_faults(None)

    async def run_backlog(self, channel: str, db: BotDatabase) -> None:
        sizes = self.sizes
        self.say(f"[4/4] backlog: {sizes.backlog} inquiries during a ServiceNow outage, then a rate limit")
        await self.servicenow_faults({"outage": True})
        semaphore = asyncio.Semaphore(sizes.concurrency)

        async def one(index: int) -> tuple[str, int, float]:
            async with semaphore:
                return await self.post_via_teams(channel, f"[backlog {index}] Printer at kiosk 3 is offline.")

        started = time.monotonic()
        posted = await asyncio.gather(*(one(i) for i in range(sizes.backlog)))
        roots = {root for root, status, _ in posted if 200 <= status < 300}
        self.say(
            f"  {len(roots)}/{sizes.backlog} acknowledged by the bot in {time.monotonic() - started:.1f}s "
            "while ServiceNow was down"
        )
        await asyncio.sleep(1)  # an outage that outlasts the burst, so every job has failed once
        recovered = time.monotonic()
        await self.call(
            "POST",
            self.url("servicenow", "/_emulator/faults"),
            {"outage": None, "rate_limit": {"limit": sizes.rate_limit, "retry_after": sizes.retry_after_s}},
        )
        deadline = recovered + 150
        done = 0
        while time.monotonic() < deadline:
            done = db.answered(roots)
            if done >= len(roots):
                break
            await asyncio.sleep(0.1)
        drained = time.monotonic() - recovered
        calls = await self.call("GET", self.url("servicenow", f"/_bench/calls?since={recovered}"))
        throttled = sum(1 for _at, _method, _path, status in calls if status == 429)
        passed = [at for at, _method, _path, status in calls if 200 <= status < 300]
        creates = [
            at
            for at, method, path, status in calls
            if method == "POST" and path.rstrip("/").endswith("/table/incident") and status == 201
        ]
        first = (creates[0] - recovered) if creates else float("nan")
        gap = max((b - a for a, b in itertools.pairwise(creates)), default=0.0)
        windows = len(passed) / sizes.rate_limit
        self.say(f"  ServiceNow calls per inquiry: {call_mix(calls, len(roots))}")
        self.say(
            f"  {done}/{len(roots)} answered (incident number + reply) {drained:.1f}s after recovery; "
            f"first incident after {first:.1f}s; {len(creates)} creates, {len(passed)} calls passed, "
            f"{throttled} answered 429; longest gap between creates {gap:.2f}s; "
            f"the limit allows {sizes.rate_limit} calls per {sizes.retry_after_s:g}s window "
            f"(~{windows:.0f} windows needed)"
        )
        self.lines.append(
            f"backlog: {done}/{len(roots)} drained in {drained:.1f} s after recovery "
            f"(rate limit {sizes.rate_limit} calls then {sizes.retry_after_s:g} s), first incident after "
            f"{first:.1f} s, {throttled} x 429 for {len(passed)} passed calls, longest gap between "
            f"incident creations {gap:.2f} s"
        )

    async def run_bridge(self) -> None:
        bot, db = self.start_bot("bot-b", "teams-b")
        channel, _team_thread = await self.wait_for_channel(bot, db, "teams-b")
        await self.run_end_to_end(channel)
        await self.run_backlog(channel, db)
        bot.stop()

    async def run(self) -> None:
        self.start(
            "emulators",
            "emulators",
            *(f"--{name}-port={self.ports[name]}" for name in
              ("servicenow", "teams-a", "teams-b", "proxy", "bot-a", "bot-b")),
        )  # fmt: skip
        async with aiohttp.ClientSession() as self.session:
            await self.servers[0].wait_ready(self.url("teams-b", "/_emulator/channels"))
            await self.run_ingest()
            await self.run_bridge()

    def stop(self) -> None:
        for server in reversed(self.servers):
            with contextlib.suppress(Exception):
                server.stop()


def call_mix(calls: list, inquiries: int) -> str:
    """Table API calls per inquiry by method and table, e.g. "GET incident 1.0, POST incident 1.0"."""
    mix: dict[str, int] = {}
    for _at, method, path, status in calls:
        key = f"{method} {path.rstrip('/').split('/table/', 1)[-1].split('/')[0]}" + (
            f" ({status})" if status >= 400 else ""
        )
        mix[key] = mix.get(key, 0) + 1
    return ", ".join(f"{key} {count / max(1, inquiries):.2f}" for key, count in sorted(mix.items()))


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, databases)")
    parser.add_argument("--ingest", type=int, default=Sizes.ingest, help="timed posts per bot ingest run")
    parser.add_argument("--echo", type=int, default=Sizes.echo, help="timed posts to the echo sample")
    parser.add_argument("--memory-inquiries", type=int, default=Sizes.memory_inquiries)
    parser.add_argument("--no-alerts", action="store_true", help="skip the alert storm (bench/alerts.py)")
    args = parser.parse_args(argv)
    sizes = Sizes(ingest=args.ingest, echo=args.echo, memory_inquiries=args.memory_inquiries)
    workdir = Path(tempfile.mkdtemp(prefix="golive-bench-"))
    started = time.monotonic()
    print(f"Go Live Bridge bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    print(f"work directory {workdir}", flush=True)
    bench = Bench(sizes, workdir)
    try:
        asyncio.run(bench.run())
        if not args.no_alerts:
            from bench import alerts

            (workdir / "alerts").mkdir()
            bench.lines += asyncio.run(alerts.run(workdir / "alerts"))
    finally:
        bench.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nfigures ({time.monotonic() - started:.0f} s, {machine()}):")
    for line in bench.lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
