"""Serving one emulator app on a host and port: until cancelled, or until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aiohttp import web

__all__ = ["serve_until_cancelled", "serve_until_signalled"]


async def serve_until_cancelled(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def serve_until_signalled(app: web.Application, host: str, port: int) -> None:
    serving = asyncio.create_task(serve_until_cancelled(app, host, port))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving
