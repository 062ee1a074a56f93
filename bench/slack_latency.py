"""``python -m bench.slack_latency``: a Slack post's way through the sandbox, timed; and a 429 drill.

Runs ``golive sandbox`` in-process on free ports (the bot, the Teams, ServiceNow and Slack
emulators) with the sample plan, posts as site staff in ``#check-in-go-live`` through the Slack
emulator's driver API, and times each inquiry: post acknowledged -> incident in ServiceNow -> the
bot's reply (with the incident number) in the thread. Posts are spaced wider than Slack's one
message a second per channel, so the figures are the path's own, not the pacing's. Then the drill:
``chat.postMessage`` rate limited (1 call, then 429 with Retry-After) while several inquiries
arrive; it reports how long until every thread had its reply, how many 429s Slack answered, the
shortest gap between a 429 and the next post (Retry-After honoured when it is at least that), and
whether every thread got exactly one reply. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.loadgen import percentile
from bot.sandbox import SandboxOptions, SandboxUrls, run_sandbox

NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
STAFF = "pat.frontdesk@example.org"
POLL_S = 0.01


async def _json(http: aiohttp.ClientSession, method: str, url: str, body: Any = None, **kw: Any) -> Any:
    async with http.request(method, url, json=body, **kw) as response:
        return await response.json()


async def _until(check: Any, limit_s: float = 60.0) -> Any:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(POLL_S)
    raise TimeoutError("condition not met")


class Probe:
    def __init__(self, http: aiohttp.ClientSession, urls: SandboxUrls) -> None:
        self.http, self.urls = http, urls

    async def channel(self) -> str:
        channels = (await _json(self.http, "GET", f"{self.urls.slack}/_emulator/channels"))["channels"]
        return str(next(c["id"] for c in channels if c["name"] == "check-in-go-live"))

    async def post(self, channel: str, text: str) -> dict[str, Any]:
        body = {"user": STAFF, "text": text}
        return dict(
            await _json(self.http, "POST", f"{self.urls.slack}/_emulator/channels/{channel}/messages", body)
        )

    async def incident(self, correlation_id: str) -> dict[str, Any] | None:
        url = f"{self.urls.servicenow}/api/now/table/incident"
        params = {"sysparm_query": f"correlation_id={correlation_id}", "sysparm_fields": "number"}
        auth = {"Authorization": aiohttp.encode_basic_auth("admin", "admin")}
        result = (await _json(self.http, "GET", url, params=params, headers=auth)).get("result") or []
        return result[0] if result else None

    async def replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        roots = await _json(self.http, "GET", f"{self.urls.slack}/_emulator/channels/{channel}/messages")
        root = next((m for m in roots if m["ts"] == ts), None)
        return [r for r in (root or {}).get("replies", []) if r.get("bot_id") and "INC" in r.get("text", "")]


async def latency(probe: Probe, channel: str, count: int, spacing_s: float) -> None:
    to_incident, to_reply = [], []
    for n in range(count):
        started = time.perf_counter()
        ts = (await probe.post(channel, f"Kiosk {n} at 508 shows error E42"))["ts"]
        correlation = f"slack:{channel}:{ts}"
        await _until(lambda c=correlation: probe.incident(c))
        incident = time.perf_counter()
        await _until(lambda t=ts: probe.replies(channel, t))
        replied = time.perf_counter()
        to_incident.append(incident - started)
        to_reply.append(replied - started)
        await asyncio.sleep(spacing_s)
    for name, values in (("post -> incident", to_incident), ("post -> thread reply", to_reply)):
        ms = sorted(v * 1000 for v in values)
        print(
            f"slack {name}: median {percentile(ms, 50):.0f} ms, p90 {percentile(ms, 90):.0f} ms, "
            f"max {ms[-1]:.0f} ms over {len(ms)} posts"
        )


async def drill(probe: Probe, channel: str, count: int, retry_after: int) -> None:
    slack = probe.urls.slack
    await _json(probe.http, "DELETE", f"{slack}/_emulator/calls")
    rule = {"rate_limit": {"limit": 1, "retry_after": retry_after, "methods": ["chat.postMessage"]}}
    await _json(probe.http, "POST", f"{slack}/_emulator/faults", rule)
    started = time.perf_counter()
    posts = [await probe.post(channel, f"Drill {n}: kiosk at 508 shows E42") for n in range(count)]

    async def all_replied() -> bool:
        return all([await probe.replies(channel, p["ts"]) for p in posts])

    await _until(all_replied, limit_s=120)
    elapsed = time.perf_counter() - started
    await _json(probe.http, "DELETE", f"{slack}/_emulator/faults")
    calls = (await _json(probe.http, "GET", f"{slack}/_emulator/calls?method=chat.postMessage"))["calls"]
    refused = [c for c in calls if c["http_status"] == 429]
    gaps = [
        min((c["at"] - r["at"] for c in calls if c["at"] > r["at"]), default=float("inf")) for r in refused
    ]
    replies = [len(await probe.replies(channel, p["ts"])) for p in posts]
    print(
        f"slack 429 drill: {count} inquiries, Retry-After {retry_after} s: every thread answered after "
        f"{elapsed:.1f} s; {len(refused)} x 429 from Slack, {len(calls)} chat.postMessage calls; "
        f"shortest gap after a 429 {min(gaps, default=float('nan')):.2f} s; replies per thread {replies} "
        f"({'nothing lost, nothing twice' if replies == [1] * count else 'MISMATCH'})"
    )


async def main(args: argparse.Namespace) -> None:
    ready: asyncio.Future[SandboxUrls] = asyncio.get_running_loop().create_future()
    with tempfile.TemporaryDirectory() as state:
        options = SandboxOptions(
            port=0, servicenow_port=0, teams_port=0, slack_port=0, state_dir=Path(state), now=NOW
        )
        sandbox = asyncio.create_task(run_sandbox(options, ready.set_result))
        try:
            urls = await asyncio.wait_for(ready, 60)
            async with aiohttp.ClientSession() as http:
                probe = Probe(http, urls)
                channel = await probe.channel()
                await latency(probe, channel, args.posts, args.spacing)
                await drill(probe, channel, args.drill, args.retry_after)
        finally:
            sandbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sandbox


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--spacing", type=float, default=1.1, help="seconds between posts")
    parser.add_argument("--drill", type=int, default=5, help="inquiries posted into the 429 drill")
    parser.add_argument("--retry-after", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
