"""Authentication, PagerDuty's error envelope, injected faults and generated query strings."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdemu_support import AUTH, TOKEN, recorded, shape_mismatches


async def test_missing_credentials_get_the_recorded_401(pd):
    resp = await pd.get("/oncalls")
    fixture = recorded("error_401.json")
    assert resp.status == fixture["status"]
    assert await resp.json() == fixture["body"]


async def test_a_wrong_token_or_scheme_is_401(pd):
    for header in ("Token token=wrong", f"Basic {TOKEN}", "Token", f"token={TOKEN}"):
        resp = await pd.get("/users", headers={"Authorization": header})
        assert resp.status == 401, header


async def test_token_and_bearer_forms_are_accepted_and_accept_header_is_optional(pd):
    for header in (f"Token token={TOKEN}", f'Token token="{TOKEN}"', f"Bearer {TOKEN}"):
        resp = await pd.get("/users", headers={"Authorization": header})
        assert resp.status == 200, header


async def test_a_revoked_token_and_an_expired_account_are_401(pd):
    await pd.post("/_emulator/faults", json={"revoked_tokens": [TOKEN]})
    assert (await pd.get("/users", headers=AUTH)).status == 401
    await pd.post("/_emulator/faults", json={"revoked_tokens": None, "reject_auth": True})
    assert (await pd.get("/users", headers=AUTH)).status == 401
    await pd.delete("/_emulator/faults")
    assert (await pd.get("/users", headers=AUTH)).status == 200


async def test_every_answer_reports_the_rate_limit(pd):
    resp = await pd.get("/oncalls", headers=AUTH)
    assert resp.headers["ratelimit-limit"] == "960"
    assert int(resp.headers["ratelimit-remaining"]) == 959
    assert 1 <= int(resp.headers["ratelimit-reset"]) <= 60


async def test_bad_parameters_get_the_recorded_400(pd):
    fixture = recorded("error_400.json")
    for params in (
        {"since": "not-a-date"},
        {"since": "2022-05-09T00:00:00Z", "until": "2022-05-02T00:00:00Z"},
        {"since": "2022-01-01T00:00:00Z", "until": "2022-06-01T00:00:00Z"},
        {"limit": "abc"},
        {"limit": "0"},
        {"offset": "-1"},
        {"offset": "9990", "limit": "25"},
        {"include[]": "teams"},
        {"time_zone": "Mars/Olympus"},
    ):
        resp = await pd.get("/oncalls", params=params, headers=AUTH)
        body = await resp.json()
        assert resp.status == 400, params
        assert shape_mismatches(fixture["body"], body) == [], params
        assert body["error"]["code"] == 2001


async def test_unknown_ids_and_paths_are_404_with_the_envelope(pd):
    for path in ("/users/PNOSUCH", "/schedules/PNOSUCH", "/incidents"):
        resp = await pd.get(path, headers=AUTH)
        assert resp.status == 404, path
        assert await resp.json() == {"error": {"message": "Not Found", "code": 2100}}


async def test_rate_limit_fault_answers_429_like_pagerduty_without_retry_after(pd):
    await pd.post("/_emulator/faults", json={"rate_limit": {"after": 1, "count": 2, "retry_after": 20}})
    fixture = recorded("rate_limited_429.json")
    assert (await pd.get("/users", headers=AUTH)).status == 200
    for _ in range(2):
        resp = await pd.get("/users", headers=AUTH)
        assert resp.status == fixture["status"]
        assert await resp.json() == fixture["body"]
        assert {k: resp.headers[k] for k in fixture["headers"]} == fixture["headers"]
        assert all(name not in resp.headers for name in fixture["absent_headers"])
    assert (await pd.get("/users", headers=AUTH)).status == 200
    assert await (await pd.get("/_emulator/faults")).json() == {}


async def test_status_fault_answers_the_status_for_count_calls(pd):
    await pd.post("/_emulator/faults", json={"status": 503, "count": 1})
    resp = await pd.get("/users", headers=AUTH)
    assert resp.status == 503
    assert set((await resp.json())["error"]) == {"message", "code"}
    assert (await pd.get("/users", headers=AUTH)).status == 200


async def test_faults_that_make_no_sense_are_refused(pd):
    for patch in ({"bogus": 1}, {"status": 200}, {"rate_limit": {"count": "x"}}, {"latency_ms": -1}, [1]):
        resp = await pd.post("/_emulator/faults", json=patch)
        assert resp.status == 400, patch


_PARAMS = st.sampled_from(
    [
        "since",
        "until",
        "limit",
        "offset",
        "total",
        "earliest",
        "time_zone",
        "include[]",
        "schedule_ids[]",
        "user_ids[]",
        "escalation_policy_ids[]",
    ]
)
_VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(-(10**12), 10**12).map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2022-05-02T00:00:00Z", "2022-05-02", "true", "users", "PPRIMRY", "UTC", "null"]),
)


@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(params=st.lists(st.tuples(_PARAMS, _VALUES), max_size=6))
async def test_generated_query_strings_never_get_a_5xx(pd, params):
    for path in ("/oncalls", "/schedules/PPRIMRY", "/users", "/schedules"):
        resp = await pd.get(path, params=params, headers=AUTH)
        assert resp.status < 500, (path, params)
        await resp.read()
