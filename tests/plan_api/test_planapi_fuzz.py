"""Generated CSV bodies and query strings sent to ``POST /api/plan/import`` never get a 5xx.

Bodies are built from the pieces spreadsheets and people produce (dates in several forms, stations,
quoted names with commas, time zones good and bad, CRLF, a BOM, NUL and stray bytes), so many are
valid imports and the rest exercise every line error. State piles up on purpose: later examples meet
the sites earlier ones added. The plan starts small so thousands of examples stay quick.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedule.plan import PlannedSite, RolloutPlan, Site

SMALL_PLAN = RolloutPlan(
    (
        PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), date(2022, 5, 2)),
        PlannedSite.in_week(Site("459", "Honolulu", "Pacific/Honolulu"), date(2022, 5, 2)),
        PlannedSite.in_week(Site("358", "Manila", "Asia/Manila"), date(2022, 5, 9)),
    )
)
COLUMNS = ["week_start", "station", "name", "time_zone", "go_live_date", "WEEK_START", "extra", ""]
DATES = [
    "2022-05-02",
    "2022-05-09",
    "2022-06-06",
    "2022-05-03",
    "5/9/2022",
    "2022-5-9",
    "2022-02-30",
    "",
    "x",
]
STATIONS = ["508", "459", "358", "600", "528a7", "", "5" * 25, "50 8", "ÄÖ"]
NAMES = ["Atlanta", '"Denver, CO"', "", "x" * 250, "Café", '"unclosed', "a\x00b", "=cmd()"]
ZONES = ["America/New_York", "Pacific/Honolulu", "Mars/Base", "", "UTC", "../etc/passwd"]
cells = st.sampled_from(DATES + STATIONS + NAMES + ZONES) | st.text(max_size=6)
rows = st.lists(cells, max_size=5).map(",".join)
good_rows = st.builds(
    lambda week, station, name, zone: f"{week},{station},{name},{zone},",
    st.sampled_from(["2022-05-02", "2022-05-09", "2022-06-06", "2022-07-04"]),
    st.sampled_from(["508", "459", "358", "600", "601", "528A7", "700"]),
    st.sampled_from(["Atlanta", '"Denver, CO"', "Café", "Site"]),
    st.sampled_from(["America/New_York", "Pacific/Honolulu", "Asia/Manila"]),
)
headers = st.just("week_start,station,name,time_zone,go_live_date") | st.lists(
    st.sampled_from(COLUMNS), max_size=5
).map(",".join)
texts = st.builds(
    lambda bom, header, body, newline: ("\ufeff" if bom else "") + newline.join([header, *body]),
    st.booleans(),
    headers,
    st.lists(good_rows | rows, max_size=4),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
bodies = texts.map(lambda text: text.encode("utf-8", "surrogatepass")) | st.binary(max_size=60)
queries = st.fixed_dictionaries(
    {},
    optional={
        "mode": st.sampled_from(["merge", "replace", "merge", "replace", "MERGE", "", "x"]),
        "dry_run": st.sampled_from(["true", "false", "1", "", "false", "maybe"]),
        "force": st.sampled_from(["true", "false", "no", "yes", "false", "2"]),
    },
)


@pytest.fixture
async def small_api(make_api):
    return await make_api(plan=SMALL_PLAN)


@pytest.mark.slow
@settings(
    derandomize=True,
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, query=queries)
async def test_generated_csv_bodies_never_get_a_5xx(small_api, body, query):
    response = await small_api.upload(body, **query)
    assert response.status in (200, 400, 409, 422), (response.status, body, query)
    payload = await response.json()
    if response.status == 422:
        assert payload["errors"] and all(
            error["line"] >= 1 and error["reason"] for error in payload["errors"]
        )


query_values = st.text(max_size=12) | st.sampled_from(
    ["2022-05-02T00:00:00Z", "2022-05-02", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "site.*"]
)


@settings(
    derandomize=True,
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/api/audit", "/api/plan/preview", "/api/plan"]),
    params=st.dictionaries(st.sampled_from(["since", "action", "site", "limit", "from", "to"]), query_values),
    accept=st.sampled_from(
        ["", "text/csv", "application/json;q=0.2, text/csv;q=0.9", "x/y;q=abc", "*/*;q=nan"]
    ),
)
async def test_generated_queries_never_get_a_5xx(small_api, path, params, accept):
    response = await small_api.get(path, headers={"Accept": accept} if accept else None, **params)
    assert response.status in (200, 400, 406), (response.status, path, params, accept)
