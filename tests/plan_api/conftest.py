"""The plan API on the product in-process: fakes for Teams, Graph and ServiceNow, the sample plan with
the first week's channels open at ``SAMPLE_NOW``, and two named tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from planapi_support import TOKENS, Api
from testkit.bridge import settings_for
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from schedule.plan import RolloutPlan
from schedule.sample import sample_plan


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
