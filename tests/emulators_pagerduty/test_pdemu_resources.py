"""GET /schedules[/{id}] and /users[/{id}]: recorded shapes, rendered entries, queries."""

from __future__ import annotations

from pdemu_support import AUTH, recorded, shape_mismatches


async def test_schedule_with_a_window_renders_the_final_schedule(pd):
    params = {"since": "2022-05-04T00:00:00Z", "until": "2022-05-12T00:00:00Z", "time_zone": "UTC"}
    resp = await pd.get("/schedules/PPRIMRY", params=params, headers=AUTH)
    body = await resp.json()
    assert resp.status == 200
    assert shape_mismatches(recorded("schedule.json")["body"], body) == []
    final = body["schedule"]["final_schedule"]
    assert [(e["start"], e["end"], e["user"]["summary"]) for e in final["rendered_schedule_entries"]] == [
        ("2022-05-04T00:00:00Z", "2022-05-09T00:00:00Z", "Jane Doe"),
        ("2022-05-09T00:00:00Z", "2022-05-12T00:00:00Z", "Marcus Lee"),
    ]
    assert final["rendered_coverage_percentage"] == 100.0


async def test_overflow_keeps_whole_shifts(pd):
    params = {
        "since": "2022-05-04T00:00:00Z",
        "until": "2022-05-12T00:00:00Z",
        "time_zone": "UTC",
        "overflow": "true",
    }
    body = await (await pd.get("/schedules/PPRIMRY", params=params, headers=AUTH)).json()
    entries = body["schedule"]["final_schedule"]["rendered_schedule_entries"]
    assert (entries[0]["start"], entries[-1]["end"]) == ("2022-05-02T00:00:00Z", "2022-05-16T00:00:00Z")


async def test_schedule_window_defaults_to_two_weeks_from_since(pd):
    params = {"since": "2022-05-02T00:00:00Z", "time_zone": "UTC"}
    body = await (await pd.get("/schedules/PBACKUP", params=params, headers=AUTH)).json()
    entries = body["schedule"]["final_schedule"]["rendered_schedule_entries"]
    assert [e["user"]["summary"] for e in entries] == ["Marcus Lee", "Priya Shah"]
    assert entries[-1]["end"] == "2022-05-16T00:00:00Z"


async def test_before_the_rotation_starts_nobody_is_scheduled(pd):
    params = {"since": "2022-04-01T00:00:00Z", "until": "2022-04-10T00:00:00Z"}
    body = await (await pd.get("/schedules/PPRIMRY", params=params, headers=AUTH)).json()
    assert body["schedule"]["final_schedule"]["rendered_schedule_entries"] == []
    assert body["schedule"]["final_schedule"]["rendered_coverage_percentage"] == 0.0


async def test_schedules_list_pages_and_filters_by_name(pd):
    body = await (await pd.get("/schedules", params={"query": "backup"}, headers=AUTH)).json()
    assert [s["id"] for s in body["schedules"]] == ["PBACKUP"]
    assert (body["limit"], body["offset"], body["more"]) == (25, 0, False)
    assert "final_schedule" not in body["schedules"][0]


async def test_user_has_the_recorded_shape_with_email_and_time_zone(pd):
    resp = await pd.get("/users/PKAIAKA", headers=AUTH)
    body = await resp.json()
    assert shape_mismatches(recorded("user.json")["body"], body) == []
    assert (body["user"]["email"], body["user"]["time_zone"]) == (
        "kai.akana@example.va.gov",
        "Pacific/Honolulu",
    )


async def test_users_query_matches_name_or_email(pd):
    by_name = await (await pd.get("/users", params={"query": "rosa"}, headers=AUTH)).json()
    by_email = await (await pd.get("/users", params={"query": "TOM.NGUYEN@"}, headers=AUTH)).json()
    everyone = await (await pd.get("/users", params={"limit": "2", "offset": "4"}, headers=AUTH)).json()
    assert [u["name"] for u in by_name["users"]] == ["Rosa Martinez"]
    assert [u["name"] for u in by_email["users"]] == ["Tom Nguyen"]
    assert [u["name"] for u in everyone["users"]] == ["Rosa Martinez", "Kai Akana"]
    assert everyone["more"] is False
