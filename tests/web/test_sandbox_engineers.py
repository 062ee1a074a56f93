"""The sandbox as engineers and site staff meet it (issue 17): every person the Teams emulator knows
is a ServiceNow user with an e-mail, a swap shows at once in /_emulator/people (read from the bot's
database, not from the roster loaded at start), and the dashboard tab signs in through the
emulated Teams."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from testkit.sandbox import running_sandbox

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": aiohttp.encode_basic_auth("admin", "admin"), "Accept": "application/json"}


async def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_sandbox_people_swap_and_tab_sign_in(tmp_path):
    async with running_sandbox(tmp_path) as urls:
        async with aiohttp.ClientSession() as http:

            async def people() -> list[dict]:
                async with http.get(f"{urls.teams}/_emulator/people") as response:
                    return await response.json()

            async def users() -> list[dict]:
                params = {"sysparm_fields": "user_name,name,email", "sysparm_limit": "500"}
                async with http.get(
                    f"{urls.servicenow}/api/now/table/sys_user", params=params, headers=ADMIN
                ) as response:
                    return (await response.json())["result"]

            tenant = await people()
            known = {user["name"]: user["email"] for user in await users()}
            for person in tenant:
                assert known.get(person["name"], "").count("@") == 1, person["name"]

            jane = next(p for p in tenant if p["name"] == "Jane Doe")
            assert (jane["duty"], next(p for p in tenant if p["name"] == "Marcus Lee")["duty"]) == (
                "primary",
                "backup",
            )
            message = {"from": {"name": jane["name"], "aadObjectId": jane["aadObjectId"]}, "text": "swap"}
            async with http.post(f"{urls.teams}/_emulator/personal/messages", json=message) as response:
                assert response.status == 200

            async def swapped():
                duty = {p["name"]: p["duty"] for p in await people()}
                return (duty["Jane Doe"], duty["Marcus Lee"]) == ("backup", "primary")

            assert await eventually(swapped), "the swap never showed in /_emulator/people"

            async with http.get(f"{urls.bot}/dashboard/tab") as response:
                assert response.status == 200
                assert f"{urls.teams}/_emulator/teams-js/MicrosoftTeams.min.js" in await response.text()
            async with http.post(f"{urls.teams}/_emulator/sso/token", json={}) as response:
                token = (await response.json())["token"]
            async with http.post(
                f"{urls.bot}/dashboard/tab/view", headers={"Authorization": f"Bearer {token}"}
            ) as response:
                assert response.status == 200 and "Rollout timeline" in await response.text()
            async with http.post(
                f"{urls.bot}/dashboard/tab/view", headers={"Authorization": "Bearer not.a.token"}
            ) as response:
                assert response.status == 401
