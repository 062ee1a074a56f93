"""The driver API: set the rotation, restore it, keep it across a restart, reset, call log."""

from __future__ import annotations

from pdemu_support import AUTH, NOW, TOKEN

from emulators.pagerduty import PagerDutyEmulatorConfig, create_pagerduty_emulator

ROSA_WEEK = {
    "oncalls": [
        {
            "user": "rosa.martinez@example.va.gov",
            "schedule": "PPRIMRY",
            "escalation_level": 1,
            "start": "2022-05-02T00:00:00Z",
            "end": "2022-05-09T00:00:00Z",
        },
        {
            "user": "PKAIAKA",
            "schedule": "PBACKUP",
            "escalation_level": 2,
            "start": "2022-05-02T00:00:00Z",
            "end": "2022-05-09T00:00:00Z",
        },
    ]
}


async def _now_oncall(client):
    body = await (await client.get("/oncalls", params={"include[]": "users"}, headers=AUTH)).json()
    return sorted((o["escalation_level"], o["user"]["name"]) for o in body["oncalls"])


async def test_put_oncalls_replaces_the_rotation_and_delete_restores_it(pd):
    resp = await pd.put("/_emulator/oncalls", json=ROSA_WEEK)
    assert resp.status == 200
    assert (await resp.json())["source"] == "entries"
    assert await _now_oncall(pd) == [(1, "Rosa Martinez"), (2, "Kai Akana")]
    schedule = await (await pd.get("/schedules/PPRIMRY", headers=AUTH)).json()
    assert [e["user"]["id"] for e in schedule["schedule"]["final_schedule"]["rendered_schedule_entries"]] == [
        "PROSAMA"
    ]
    await pd.delete("/_emulator/oncalls")
    assert await _now_oncall(pd) == [(1, "Jane Doe"), (2, "Marcus Lee")]


async def test_put_oncalls_refuses_entries_that_do_not_fit_the_account(pd):
    for bad in (
        {"oncalls": [{"user": "nobody@example.com", "schedule": "PPRIMRY"}]},
        {"oncalls": [{"user": "PJANEDO", "schedule": "PNOSUCH"}]},
        {"oncalls": [{"user": "PJANEDO", "start": "2022-05-09T00:00:00Z", "end": "2022-05-02T00:00:00Z"}]},
        {"oncalls": [{"user": "PJANEDO", "start": "2022-05-09T00:00:00"}]},
        {"oncalls": [{"user": "PJANEDO", "escalation_level": 0}]},
        {"oncalls": "PJANEDO"},
        {"entries": []},
    ):
        resp = await pd.put("/_emulator/oncalls", json=bad)
        assert resp.status == 400, bad
        assert "error" in await resp.json()
    assert (await (await pd.get("/_emulator/state")).json())["source"] == "rotation"


async def test_entries_set_by_the_driver_survive_a_restart(aiohttp_client, tmp_path):
    config = PagerDutyEmulatorConfig(tokens=(TOKEN,), now=lambda: NOW, state_dir=tmp_path)
    first = await aiohttp_client(create_pagerduty_emulator(config))
    assert (await first.put("/_emulator/oncalls", json=ROSA_WEEK)).status == 200
    second = await aiohttp_client(create_pagerduty_emulator(config))
    assert await _now_oncall(second) == [(1, "Rosa Martinez"), (2, "Kai Akana")]


async def test_state_lists_the_account_and_reset_clears_faults_entries_and_calls(pd):
    await pd.put("/_emulator/oncalls", json=ROSA_WEEK)
    await pd.post("/_emulator/faults", json={"status": 500})
    await pd.get("/users", headers=AUTH)
    calls = await (await pd.get("/_emulator/calls")).json()
    assert calls == [{"method": "GET", "path": "/users", "status": 500}]
    state = await (await pd.get("/_emulator/state")).json()
    assert [u["email"] for u in state["users"]][:2] == [
        "jane.doe@example.va.gov",
        "marcus.lee@example.va.gov",
    ]
    assert state["faults"] == {"status": 500}
    assert (await pd.post("/_emulator/reset")).status == 200
    state = await (await pd.get("/_emulator/state")).json()
    assert (state["source"], state["faults"], state["oncalls"]) == ("rotation", {}, None)
    assert await (await pd.get("/_emulator/calls")).json() == []
