"""GET /oncalls: the recorded shapes, classic pagination with the echoed offset, include[]=users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pdemu_support import AUTH, recorded, shape_mismatches

from emulators.pagerduty import EscalationPolicy, OnCallEntry, sample_schedules, sample_users

WINDOW = [("since", "2022-05-02T00:00:00Z"), ("until", "2022-05-30T00:00:00Z")]
BOTH = [("schedule_ids[]", "PPRIMRY"), ("schedule_ids[]", "PBACKUP")]


async def _get(client, params):
    resp = await client.get("/oncalls", params=params, headers=AUTH)
    return resp.status, await resp.json()


async def test_first_page_has_the_recorded_shape_and_says_more(pd):
    status, body = await _get(pd, [*WINDOW, *BOTH, ("limit", "1")])
    fixture = recorded("oncalls_page1.json")
    assert status == fixture["status"]
    assert shape_mismatches(fixture["body"], body) == []
    assert (body["limit"], body["offset"], body["more"], body["total"]) == (1, 0, True, None)
    assert body["oncalls"][0]["user"]["type"] == "user_reference"
    assert "email" not in body["oncalls"][0]["user"]


async def test_paging_by_the_echoed_offset_visits_every_oncall_once(pd):
    _, whole = await _get(pd, [*WINDOW, *BOTH, ("limit", "100")])
    seen, offset, pages = [], 0, 0
    while True:
        status, page = await _get(pd, [*WINDOW, *BOTH, ("limit", "3"), ("offset", str(offset))])
        assert status == 200
        assert page["offset"] == offset and page["limit"] == 3
        assert shape_mismatches(recorded("oncalls_page2.json")["body"], page) == []
        seen += page["oncalls"]
        pages += 1
        if not page["more"]:
            break
        offset += len(page["oncalls"])
    assert seen == whole["oncalls"]
    assert len(seen) == 8  # four weeks, primary and backup
    assert pages == 3


async def test_an_offset_past_the_end_is_echoed_with_an_empty_last_page(pd):
    status, body = await _get(pd, [*WINDOW, ("offset", "50")])
    assert status == 200
    assert (body["oncalls"], body["offset"], body["more"]) == ([], 50, False)


async def test_total_is_counted_only_when_asked(pd):
    _, plain = await _get(pd, [*WINDOW, ("limit", "2")])
    _, counted = await _get(pd, [*WINDOW, ("limit", "2"), ("total", "true")])
    assert plain["total"] is None
    assert counted["total"] == 8


async def test_limit_above_100_is_capped_and_echoed(pd):
    _, body = await _get(pd, [*WINDOW, ("limit", "500")])
    assert body["limit"] == 100


async def test_include_users_embeds_the_full_user_with_email(pd):
    status, body = await _get(pd, [*WINDOW, ("schedule_ids[]", "PPRIMRY"), ("include[]", "users")])
    assert status == 200
    assert shape_mismatches(recorded("oncalls_include_users.json")["body"], body) == []
    first = body["oncalls"][0]["user"]
    assert first["type"] == "user"
    assert (first["name"], first["email"]) == ("Jane Doe", "jane.doe@example.va.gov")


async def test_weekly_rotation_gives_primary_at_level_1_and_backup_at_level_2(pd):
    _, body = await _get(pd, [*WINDOW, *BOTH, ("include[]", "users"), ("time_zone", "UTC")])
    by_level = {1: [], 2: []}
    for oncall in body["oncalls"]:
        by_level[oncall["escalation_level"]].append((oncall["start"], oncall["user"]["email"]))
    assert by_level[1] == [
        ("2022-05-02T00:00:00Z", "jane.doe@example.va.gov"),
        ("2022-05-09T00:00:00Z", "marcus.lee@example.va.gov"),
        ("2022-05-16T00:00:00Z", "tom.nguyen@example.va.gov"),
        ("2022-05-23T00:00:00Z", "priya.shah@example.va.gov"),
    ]
    assert [email for _, email in by_level[2]] == [
        "marcus.lee@example.va.gov",
        "priya.shah@example.va.gov",
        "jane.doe@example.va.gov",
        "rosa.martinez@example.va.gov",
    ]


async def test_shifts_keep_their_real_boundaries_when_the_window_cuts_them(pd):
    params = [
        ("since", "2022-05-04T12:00:00Z"),
        ("until", "2022-05-05T00:00:00Z"),
        ("schedule_ids[]", "PPRIMRY"),
    ]
    _, body = await _get(pd, [*params, ("time_zone", "UTC")])
    assert [(o["start"], o["end"]) for o in body["oncalls"]] == [
        ("2022-05-02T00:00:00Z", "2022-05-09T00:00:00Z")
    ]


async def test_without_since_and_until_it_answers_who_is_on_call_now(pd):
    # The conftest clock (NOW) is inside the first sample week.
    _, body = await _get(pd, [("include[]", "users")])
    assert sorted((o["escalation_level"], o["user"]["name"]) for o in body["oncalls"]) == [
        (1, "Jane Doe"),
        (2, "Marcus Lee"),
    ]


async def test_times_carry_the_offset_of_the_requested_time_zone(pd):
    params = [("schedule_ids[]", "PPRIMRY"), ("time_zone", "America/New_York")]
    _, body = await _get(pd, params)
    assert body["oncalls"][0]["start"] == "2022-05-01T20:00:00-04:00"


async def test_filters_by_user_and_escalation_policy(pd):
    _, mine = await _get(pd, [*WINDOW, ("user_ids[]", "PJANEDO")])
    assert {o["user"]["id"] for o in mine["oncalls"]} == {"PJANEDO"}
    assert len(mine["oncalls"]) == 2  # primary week 1, backup week 3
    _, none = await _get(pd, [*WINDOW, ("escalation_policy_ids[]", "PNOSUCH")])
    assert none["oncalls"] == []


async def test_earliest_keeps_one_oncall_per_policy_level_and_user(pd):
    _, body = await _get(pd, [*WINDOW, ("earliest", "true")])
    groups = [(o["escalation_level"], o["user"]["id"]) for o in body["oncalls"]]
    assert len(groups) == len(set(groups))


async def test_a_user_targeted_directly_is_on_call_permanently(make_client):
    users = sample_users()
    policy = EscalationPolicy("PDIRECT", "Direct", ((users[0].id,),))
    client = await make_client(users=users, schedules=sample_schedules(), escalation_policies=(policy,))
    _, body = await _get(client, [*WINDOW, ("schedule_ids[]", "null")])
    assert [(o["schedule"], o["start"], o["end"]) for o in body["oncalls"]] == [(None, None, None)]


async def test_configured_entries_replace_the_rotation(make_client):
    start = datetime(2022, 5, 2, tzinfo=UTC)
    entry = OnCallEntry("PROSAMA", "PGOLIVE", 1, "PPRIMRY", start, start + timedelta(days=7))
    client = await make_client(oncalls=(entry,), time_zone="UTC")
    _, body = await _get(client, WINDOW)
    assert [(o["user"]["id"], o["start"]) for o in body["oncalls"]] == [("PROSAMA", "2022-05-02T00:00:00Z")]
