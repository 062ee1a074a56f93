"""What the plan API tests share: the tokens and a small client (imported by name: every folder's
``conftest`` module is called ``conftest``)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import Runtime
from bot.bridge import records

FLOW_TOKEN = "flow-token-0123456789abcdef"
CI_TOKEN = "ci-token-fedcba9876543210"
TOKENS = f"flow:{FLOW_TOKEN}, ci:{CI_TOKEN}"
FLOW = {"Authorization": f"Bearer {FLOW_TOKEN}"}


class Api:
    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime

    async def get(self, path: str, headers: dict[str, str] | None = None, **params: str) -> Any:
        return await self.client.get(path, headers={**FLOW, **(headers or {})}, params=params)

    async def upload(self, body: bytes | str, headers: dict[str, str] | None = None, **params: str) -> Any:
        data = body.encode() if isinstance(body, str) else body
        return await self.client.post(
            "/api/plan/import",
            data=data,
            headers={**FLOW, "Content-Type": "text/csv", **(headers or {})},
            params=params,
        )

    async def open_stations(self) -> set[str]:
        async with self.runtime.store.read() as connection:
            states = await records.load_channel_states(connection)
        return {station for station, state in states.items() if state.status == "open"}
