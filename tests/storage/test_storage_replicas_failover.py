"""Three ``golive serve`` replicas on one PostgreSQL database: the leader is SIGKILLed mid-rollout,
another replica takes over within 5 s, and no scheduled channel opening is done twice or skipped.

The replicas share a simulated clock (3600x: a simulated hour per real second) stored in the
database. Once they are up, the test plans six sites whose channels open on six simulated hours:
three before the kill, one just after it (due while no replica leads) and two after the takeover.
Each opening instant must be claimed exactly once in ``schedule_runs``, the killed leader claiming
the first three and the new leader the others; each site gets exactly one channel-open decision in
the outbox, one Graph channel create and one welcome post."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from testkit.stack import reserve_port, serve, wait_for

from bot.bridge import records
from bot.bridge.jobkinds import CHANNEL_OPEN
from bot.clock import ClockAnchor, SimulatedClock
from bot.scheduling import EXACT_INSTANT_JOB
from bot.shared_clock import CLOCK_DOCUMENT
from bot.storage import tables
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store
from emulators.teams import TeamsEmulatorConfig, create_teams_emulator
from schedule.csvio import parse_rollout_csv
from schedule.plan import WindowSettings, window_for

ROOT = Path(__file__).resolve().parents[2]
SPEED = 3600.0  # one simulated hour per real second
START = datetime(2022, 6, 6, 0, 0, tzinfo=UTC)  # a Monday, on the hour
OPEN_HOUR = 7  # local opening hour of a go-live window (the default setting)
# Simulated hours after the first planned instant: before the kill, just after it, after takeover.
BEFORE_KILL, DURING_HANDOVER, AFTER_TAKEOVER = (0, 1, 2), (7,), (11, 12)
KILL_AT_HOUR = 6


def site_opening_at(station: str, instant: datetime) -> str:
    """A rollout CSV row whose channel opens at ``instant`` (a whole UTC hour): a fixed-offset zone
    puts the local opening hour there."""
    offset = OPEN_HOUR - instant.hour  # local = UTC + offset
    local_day = instant.date()
    if offset < -12:
        offset += 24
        local_day += timedelta(days=1)
    zone = "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-5 is UTC+5
    week_start = local_day - timedelta(days=local_day.weekday())
    return f"{week_start},{station},Site {station},{zone},{local_day}"


class Replica:
    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, http: aiohttp.ClientSession) -> dict | None:
        try:
            async with http.get(f"{self.url}/readyz") as response:
                return await response.json() if response.status == 200 else None
        except (aiohttp.ClientError, OSError):
            return None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def graph_creates_counter(app: web.Application, creates: Counter[str]) -> None:
    """Count Graph channel creates by display name (a middleware on the emulator: it sees every call)."""

    @web.middleware
    async def count(request: web.Request, handler):
        if request.method == "POST" and request.path.endswith("/channels"):
            creates[(await request.json()).get("displayName", "?")] += 1
        return await handler(request)

    app.middlewares.append(count)


@pytest.mark.postgres
@pytest.mark.slow
async def test_killed_leader_is_replaced_within_5_s_and_no_opening_is_doubled_or_skipped(
    database_url, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas need PostgreSQL; SQLite runs one")
    engine = create_engine(database_url)
    await migrate(engine)
    store = Store(engine)

    teams_socket = reserve_port()
    teams_url = f"http://127.0.0.1:{teams_socket.getsockname()[1]}"
    sockets = [reserve_port() for _ in range(3)]
    ports = [sock.getsockname()[1] for sock in sockets]
    config = TeamsEmulatorConfig(
        bot_url=f"http://127.0.0.1:{ports[0]}/api/messages", public_url=f"{teams_url}/"
    )
    emulator = create_teams_emulator(config)
    creates: Counter[str] = Counter()
    graph_creates_counter(emulator, creates)
    runners = [await serve(emulator, teams_socket)]
    http = aiohttp.ClientSession()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOLIVE_")}
    env.update(
        {
            "GOLIVE_ENV": "development",
            "GOLIVE_DATABASE_URL": database_url,
            "GOLIVE_GRAPH_URL": f"{teams_url}/v1.0",
            "GOLIVE_TEAM_ID": config.team_id,
            "GOLIVE_TICK_SECONDS": "30",  # the exact-instant jobs, not the periodic tick, open channels
            "GOLIVE_SIMULATED_NOW": START.isoformat(),
            "GOLIVE_SIMULATED_SPEED": str(SPEED),
        }
    )
    replicas: list[Replica] = []
    try:
        for n, sock in enumerate(sockets):
            sock.close()  # the replica binds the port itself
            replicas.append(Replica(ports[n], env, tmp_path / f"replica-{n}.log"))

        async def all_ready():
            return all([await replica.ready(http) for replica in replicas])

        await wait_for(all_ready, timeout=40)
        async with http.post(f"{teams_url}/_emulator/install", json={}) as response:
            assert response.status == 200

        async def the_leader() -> Replica | None:
            leading = [
                r for r in replicas if r.process.poll() is None and (await r.ready(http) or {}).get("leader")
            ]
            return leading[0] if len(leading) == 1 else None

        leader = await wait_for(the_leader, timeout=10)
        leader_identity = (await leader.ready(http))["replica"]

        async def followers_name_the_leader():
            reports = [await r.ready(http) for r in replicas if r is not leader]
            return all(report and report["leader_replica"] == leader_identity for report in reports)

        await wait_for(followers_name_the_leader, timeout=10)

        # The shared clock, as every replica reads it; plan six openings from three hours ahead.
        async with store.read() as connection:
            anchor = ClockAnchor.from_document(await store.get_document(connection, CLOCK_DOCUMENT))
        assert anchor is not None and anchor.speed == SPEED
        clock = SimulatedClock.from_anchor(anchor)
        first = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        hours = BEFORE_KILL + DURING_HANDOVER + AFTER_TAKEOVER
        instants = {f"S{hour:02d}": first + timedelta(hours=hour) for hour in hours}
        csv = "week_start,station,name,time_zone,go_live_date\n" + "\n".join(
            site_opening_at(station, at) for station, at in instants.items()
        )
        plan = parse_rollout_csv(csv)
        async with store.write() as connection:
            await records.save_plan(connection, plan, clock.now())

        async def claims() -> dict[str, str]:
            runs = tables.schedule_runs
            async with store.read() as connection:
                rows = (
                    await connection.execute(
                        select(runs.c.slot, runs.c.claimed_by).where(runs.c.job_id == EXACT_INSTANT_JOB)
                    )
                ).all()
            return {slot: claimed_by for slot, claimed_by in rows}

        def slot(station: str) -> str:
            return instants[station].isoformat()

        before_kill = [f"S{hour:02d}" for hour in BEFORE_KILL]

        async def opened_before_the_kill():
            claimed = await claims()
            return all(slot(station) in claimed for station in before_kill) and await open_jobs_done()

        async def open_jobs_done() -> bool:
            async with store.read() as connection:
                pending = await connection.scalar(
                    select(tables.outbox.c.id)
                    .where(tables.outbox.c.kind == CHANNEL_OPEN.name, tables.outbox.c.done_at.is_(None))
                    .limit(1)
                )
            return pending is None

        await wait_for(opened_before_the_kill, timeout=30)
        kill_at = first + timedelta(hours=KILL_AT_HOUR)
        assert clock.now() < kill_at, "the first openings took too long to run"

        async def kill_time():
            return clock.now() >= kill_at

        await wait_for(kill_time, timeout=30, interval=0.01)

        leader.kill()
        killed_at = time.monotonic()
        survivors = [r for r in replicas if r is not leader]

        async def a_survivor_leads():
            for replica in survivors:
                report = await replica.ready(http)
                if report and report["leader"]:
                    return report["replica"]
            return None

        new_leader_identity = await wait_for(a_survivor_leads, timeout=5, interval=0.05)
        takeover_s = time.monotonic() - killed_at
        assert new_leader_identity != leader_identity

        async def everything_opened():
            claimed = await claims()
            return len(claimed) >= len(instants) and await open_jobs_done() and len(creates) >= len(instants)

        await wait_for(everything_opened, timeout=30)

        claimed = await claims()
        assert set(claimed) == {slot(station) for station in instants}  # none skipped, none extra
        assert {station: claimed[slot(station)] for station in before_kill} == {
            station: leader_identity for station in before_kill
        }
        later = [station for station in instants if station not in before_kill]
        assert {claimed[slot(station)] for station in later} == {new_leader_identity}

        async with store.read() as connection:
            open_decisions = Counter(
                payload["station"]
                for (payload,) in (
                    await connection.execute(
                        select(tables.outbox.c.payload).where(tables.outbox.c.kind == CHANNEL_OPEN.name)
                    )
                ).all()
            )
        assert open_decisions == dict.fromkeys(instants, 1)  # the schedule decided each opening once

        async with http.get(f"{teams_url}/_emulator/channels") as response:
            channels = [c for c in (await response.json())["channels"] if c["goLive"]]
        assert sorted(c["station"] for c in channels) == sorted(instants)
        assert creates == Counter({c["name"]: 1 for c in channels})  # one Graph create per channel
        for channel in channels:
            async with http.get(f"{teams_url}/_emulator/channels/{channel['id']}/threads") as response:
                threads = await response.json()
            assert len(threads) == 1, channel["station"]  # one welcome post
        print(f"\ntakeover after SIGKILL: {takeover_s:.2f} s")
    finally:
        for replica in replicas:
            replica.stop()
        await http.close()
        for runner in runners:
            await runner.cleanup()
        await engine.dispose()


@pytest.mark.parametrize("hour", range(24))
def test_a_planned_site_opens_on_the_chosen_utc_hour(hour):
    instant = datetime(2022, 6, 8, hour, tzinfo=UTC)
    plan = parse_rollout_csv(
        "week_start,station,name,time_zone,go_live_date\n" + site_opening_at("S1", instant)
    )
    [entry] = plan.entries
    assert window_for(entry, WindowSettings()).opens_at == instant
