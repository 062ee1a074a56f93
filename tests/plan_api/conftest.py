"""The plan API on the product in-process: fakes for Teams, Graph and ServiceNow, the sample plan with
the first week's channels open at ``SAMPLE_NOW``, and two named tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from testkit.bridge import settings_for
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.app import RUNTIME, Overrides, Runtime, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from schedule.plan import RolloutPlan
from schedule.sample import sample_plan

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


@pytest.fixture
def make_api(tmp_path, aiohttp_client) -> Callable[..., Any]:
    async def make(plan: RolloutPlan | None = None, **settings: Any) -> Api:
        app = create_app(
            settings_for(tmp_path, **{"api_tokens": TOKENS, **settings}),
            Overrides(
                clock=FrozenClock(SAMPLE_NOW),
                tracker=FakeTracker(),
                teams=FakeChat(),
                directory=FakeDirectory(),
                run_background=False,
            ),
        )
        client = await aiohttp_client(app)
        runtime = app[RUNTIME]
        async with runtime.store.write() as connection:
            await records.save_plan(connection, plan or sample_plan(), SAMPLE_NOW)
        await runtime.lifecycle.tick()
        return Api(client, runtime)

    return make


@pytest.fixture
async def api(make_api) -> Api:
    return await make_api()
