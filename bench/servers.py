"""The processes the benchmark measures or talks to, one per ``python -m bench.servers KIND``.

- ``bot``: Go Live Bridge itself, built by ``create_app`` exactly as the sandbox builds it (sample
  plan and roster, anonymous development auth, a simulated clock), on its own SQLite file.
- ``echo``: Microsoft's stock botbuilder echo sample (CloudAdapter + ActivityHandler), unchanged in
  spirit: every message is answered inline with ``Echo: <text>`` through the Bot Connector.
- ``connector``: the cheapest Bot Connector that can answer: 200 ``{"id": ...}`` to every post.
  Both bots get it as ``serviceUrl`` in the ingest runs, so neither waits on a slow fake.
- ``emulators``: the ServiceNow emulator, two Teams emulators (one per bot run) and a delaying proxy
  in front of the second one's Bot Connector, which also notes when each incident reply landed.

Each prints nothing until it listens; the bench polls a URL to know it is up.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import aiohttp
from aiohttp import web
from yarl import URL

log = logging.getLogger("bench.servers")

# The sandbox's demo instant: several go-live windows are open then, so channels exist at once.
DEMO_NOW = "2022-05-03T15:00:00+00:00"
INCIDENT_NUMBER = re.compile(rb"INC\d{7}")


async def serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()


async def _forever(starters: list[Callable[[], Awaitable[None]]]) -> None:
    for start in starters:
        await start()
    await asyncio.Event().wait()


# --- the bot under test ----------------------------------------------------------------------------


def run_bot(args: argparse.Namespace) -> None:
    from bot.app import Overrides, create_app
    from bot.clock import SimulatedClock
    from bot.logs import configure_logging
    from bot.sandbox import seed_if_empty
    from bot.settings import Environment, Settings
    from emulators.servicenow import INTEGRATION_PASSWORD, INTEGRATION_USER
    from emulators.teams.config import DEFAULT_TEAM_ID

    configure_logging(args.log_level)
    settings = Settings(
        env=Environment.DEVELOPMENT,
        host="127.0.0.1",
        port=args.port,
        database_url=f"sqlite:///{Path(args.db).resolve()}",
        microsoft_app_id="",
        servicenow_url=args.servicenow_url,
        servicenow_user=INTEGRATION_USER,
        servicenow_password=INTEGRATION_PASSWORD,
        servicenow_poll_interval_s=2.0,
        graph_url=args.graph_url,
        team_id=DEFAULT_TEAM_ID,
        tick_seconds=15.0,
    )
    clock = SimulatedClock(datetime.fromisoformat(args.now), 1.0)

    async def main() -> None:
        await seed_if_empty(settings, clock.now())
        await _forever(
            [
                lambda: serve(
                    create_app(settings, Overrides(clock=clock, run_background=not args.no_background)),
                    "127.0.0.1",
                    args.port,
                )
            ]
        )

    _run_profiled(main, args.profile)


def _run_profiled(main: Callable[[], Awaitable[None]], profile_path: str | None) -> None:
    """``asyncio.run(main())``; with a path, under cProfile, dumped when SIGTERM/SIGINT stops it."""
    if not profile_path:
        asyncio.run(main())
        return
    import cProfile
    import signal

    profiler = cProfile.Profile()

    def stop(*_args: object) -> None:
        profiler.disable()
        profiler.dump_stats(profile_path)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    profiler.enable()
    asyncio.run(main())


# --- Microsoft's echo sample -----------------------------------------------------------------------


def run_echo(args: argparse.Namespace) -> None:
    """The 02.echo-bot sample of botbuilder-python, with its configuration inlined."""
    import sys
    import traceback

    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
    from botbuilder.schema import ChannelAccount

    class DefaultConfig:
        PORT = args.port
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class EchoBot(ActivityHandler):
        async def on_members_added_activity(
            self, members_added: list[ChannelAccount], turn_context: TurnContext
        ):
            for member in members_added:
                if member.id != turn_context.activity.recipient.id:
                    await turn_context.send_activity("Hello and welcome!")

        async def on_message_activity(self, turn_context: TurnContext):
            return await turn_context.send_activity(
                MessageFactory.text(f"Echo: {turn_context.activity.text}")
            )

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))

    async def on_error(context: TurnContext, error: Exception):
        print(f"\n [on_turn_error] unhandled error: {error}", file=sys.stderr)
        traceback.print_exc()
        await context.send_activity("The bot encountered an error or bug.")

    adapter.on_turn_error = on_error
    bot = EchoBot()

    async def messages(req: web.Request) -> web.Response:
        return await adapter.process(req, bot)

    from botbuilder.integration.aiohttp import aiohttp_error_middleware

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", lambda _req: _ok())
    _run_profiled(lambda: _forever([lambda: serve(app, "127.0.0.1", args.port)]), args.profile)


async def _ok() -> web.Response:
    return web.json_response({"status": "ok"})


# --- a minimal Bot Connector -----------------------------------------------------------------------


def run_connector(args: argparse.Namespace) -> None:
    ids = itertools.count(1)
    calls = {"count": 0}

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        calls["count"] += 1
        return web.json_response({"id": f"bench-{next(ids)}"})

    async def count(_request: web.Request) -> web.Response:
        return web.json_response(calls)

    app = web.Application()
    app.router.add_get("/_bench/count", count)
    app.router.add_get("/healthz", lambda _req: _ok())
    app.router.add_route("*", "/v3/{tail:.*}", answer)
    asyncio.run(_forever([lambda: serve(app, "127.0.0.1", args.port)]))


# --- the emulators ---------------------------------------------------------------------------------


class CallLog:
    """Every Table API call the ServiceNow emulator answered: (monotonic end, method, path, status)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, str, int]] = []

    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        if not request.path.startswith("/api/now/"):
            return await handler(request)
        status = 0
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            self.calls.append((time.monotonic(), request.method, request.path, status))

    async def view(self, request: web.Request) -> web.Response:
        since = float(request.query.get("since", "0"))
        return web.json_response([c for c in self.calls if c[0] >= since])


class DelayProxy:
    """Teams' network latency in front of an emulator's Bot Connector, and a stopwatch for replies.

    Every call waits ``delay_s`` before it is forwarded. A bot post whose body names an incident
    number is noted with the monotonic time the emulator stored it (keyed by thread root id), which
    is when the reply is visible in the thread.
    """

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.delay_s = 0.0
        self.replies: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.StreamResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        url = URL(self.target + request.raw_path, encoded=True)
        async with self._session.request(request.method, url, data=body, headers=headers) as upstream:
            payload = await upstream.read()
            status = upstream.status
            content_type = upstream.headers.get("Content-Type", "application/json")
        stored_at = time.monotonic()
        if (
            request.method == "POST"
            and 200 <= status < 300
            and request.path.startswith("/v3/conversations/")
            and INCIDENT_NUMBER.search(body)
        ):
            conversation = unquote(request.raw_path.split("/")[3])
            root = conversation.partition(";messageid=")[2]
            self.replies.setdefault(root, stored_at)
        return web.Response(body=payload, status=status, headers={"Content-Type": content_type})

    async def set_delay(self, request: web.Request) -> web.Response:
        self.delay_s = float((await request.json())["delay_ms"]) / 1000.0
        return web.json_response({"delay_ms": self.delay_s * 1000})

    async def view(self, _request: web.Request) -> web.Response:
        return web.json_response(self.replies)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/_bench/delay", self.set_delay)
        app.router.add_get("/_bench/replies", self.view)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        return app


def run_emulators(args: argparse.Namespace) -> None:
    from bot.clock import SimulatedClock
    from bot.sandbox import sandbox_people
    from emulators.servicenow import EmulatorConfig, create_servicenow_emulator
    from emulators.teams import TeamsEmulatorConfig, create_teams_emulator
    from schedule.roster import role_of
    from schedule.sample import sample_roster

    logging.basicConfig(level=logging.WARNING)
    clock = SimulatedClock(datetime.fromisoformat(args.now), 1.0)
    roster = sample_roster()
    base = "http://127.0.0.1"

    def duty_for(aad_object_id: str, at: datetime) -> str | None:
        return role_of(roster, aad_object_id, at)

    servicenow = create_servicenow_emulator(
        EmulatorConfig(
            engineers=tuple(
                (e.servicenow_user, e.name, e.email or f"{e.servicenow_user}@example.va.gov")
                for e in roster.engineers.values()
            ),
            clock=clock.now,
            public_base_url=f"{base}:{args.servicenow_port}",
        )
    )
    calls = CallLog()
    servicenow.middlewares.insert(0, calls.middleware)
    servicenow.router.add_get("/_bench/calls", calls.view)

    def teams(bot_port: int, public_port: int) -> web.Application:
        return create_teams_emulator(
            TeamsEmulatorConfig(
                bot_url=f"{base}:{bot_port}/api/messages",
                public_url=f"{base}:{public_port}/",
                now=clock.now,
                people=sandbox_people(roster),
                duty_for=duty_for,
            )
        )

    proxy = DelayProxy(f"{base}:{args.teams_b_port}")
    asyncio.run(
        _forever(
            [
                lambda: serve(servicenow, "127.0.0.1", args.servicenow_port),
                lambda: serve(teams(args.bot_a_port, args.teams_a_port), "127.0.0.1", args.teams_a_port),
                lambda: serve(teams(args.bot_b_port, args.proxy_port), "127.0.0.1", args.teams_b_port),
                lambda: serve(proxy.app(), "127.0.0.1", args.proxy_port),
            ]
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    sub = parser.add_subparsers(dest="kind", required=True)
    bot = sub.add_parser("bot")
    bot.add_argument("--port", type=int, required=True)
    bot.add_argument("--db", required=True)
    bot.add_argument("--servicenow-url", required=True)
    bot.add_argument("--graph-url", required=True)
    bot.add_argument("--now", default=DEMO_NOW)
    bot.add_argument("--log-level", default="INFO")
    bot.add_argument("--profile", help="write cProfile stats here when stopped")
    bot.add_argument(
        "--no-background", action="store_true", help="diagnosis only: no outbox worker, no scheduler"
    )
    echo = sub.add_parser("echo")
    echo.add_argument("--port", type=int, required=True)
    echo.add_argument("--profile", help="write cProfile stats here when stopped")
    connector = sub.add_parser("connector")
    connector.add_argument("--port", type=int, required=True)
    emulators = sub.add_parser("emulators")
    for name in ("servicenow", "teams-a", "teams-b", "proxy", "bot-a", "bot-b"):
        emulators.add_argument(f"--{name}-port", type=int, required=True)
    emulators.add_argument("--now", default=DEMO_NOW)
    args = parser.parse_args(argv)
    {"bot": run_bot, "echo": run_echo, "connector": run_connector, "emulators": run_emulators}[args.kind](
        args
    )


if __name__ == "__main__":
    main()
