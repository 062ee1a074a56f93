"""The PagerDuty adapter against PagerDuty's own recorded answers (tests/fixtures/pagerduty), served
by a tiny aiohttp app: paging, ``include[]=users``, a user read by id, and the error envelope."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rsync_support import answer, recorded

from bot.pagerduty import PagerDutyConfig, PagerDutyRoster
from bot.ports import OnCallEntry, Permanent, PortError, Transient

SINCE = datetime(2015, 3, 6, tzinfo=UTC)
UNTIL = datetime(2015, 3, 9, tzinfo=UTC)
SPEC_SCHEDULE = "PI7DH85"


def spec_adapter(url: str, page_size: int = 1) -> PagerDutyRoster:
    return PagerDutyRoster(
        PagerDutyConfig(url, "recorded-token", (SPEC_SCHEDULE, "PBACKUP"), page_size=page_size)
    )


async def serve(aiohttp_server: Any, routes: dict[str, Any]) -> tuple[str, list[web.Request]]:
    seen: list[web.Request] = []

    @web.middleware
    async def remember(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request)
        return await handler(request)

    app = web.Application(middlewares=[remember])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/"), seen


async def oncall_pages(request: web.Request) -> web.Response:
    page = "oncalls_page2.json" if request.query.get("offset") == "1" else "oncalls_page1.json"
    return answer(recorded(page))


async def the_user(request: web.Request) -> web.Response:
    return answer(recorded("user.json"))


async def test_on_calls_follow_more_with_the_echoed_offset_and_ask_for_users(aiohttp_server):
    url, seen = await serve(aiohttp_server, {"/oncalls": oncall_pages, "/users/{id}": the_user})
    adapter = spec_adapter(url)
    try:
        entries = await adapter.on_call(SINCE, UNTIL)
    finally:
        await adapter.close()
    oncalls = [r for r in seen if r.path == "/oncalls"]
    assert [r.query["offset"] for r in oncalls] == ["0", "1"]
    first = oncalls[0]
    assert first.query.getall("include[]") == ["users"]
    assert first.query.getall("schedule_ids[]") == [SPEC_SCHEDULE, "PBACKUP"]
    assert first.query["since"] == "2015-03-06T00:00:00Z" and first.query["until"] == "2015-03-09T00:00:00Z"
    assert first.headers["Authorization"] == "Token token=recorded-token"
    assert first.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
    assert [(e.schedule_id, e.start.isoformat(), e.end.isoformat()) for e in entries] == [
        (SPEC_SCHEDULE, "2015-03-06T15:28:51-05:00", "2015-03-07T15:28:51-05:00"),
        (SPEC_SCHEDULE, "2015-03-07T15:28:51-05:00", "2015-03-08T15:28:51-05:00"),
    ]


async def test_a_user_given_as_a_reference_is_read_once_by_id(aiohttp_server):
    url, seen = await serve(aiohttp_server, {"/oncalls": oncall_pages, "/users/{id}": the_user})
    adapter = spec_adapter(url)
    try:
        entries = await adapter.on_call(SINCE, UNTIL)
    finally:
        await adapter.close()
    # Both pages name PT23IWX by reference only: one GET /users for the email, not one per entry.
    assert [r.path for r in seen if r.path.startswith("/users/")] == ["/users/PT23IWX"]
    assert {e.email for e in entries} == {"125.greenholt.earline@graham.name"}
    assert {e.name for e in entries} == {"Earline Greenholt"}


async def test_include_users_gives_the_email_without_another_call(aiohttp_server):
    async def oncalls(request: web.Request) -> web.Response:
        return answer(recorded("oncalls_include_users.json"))

    url, seen = await serve(aiohttp_server, {"/oncalls": oncalls})
    adapter = spec_adapter(url, page_size=25)
    try:
        [entry] = await adapter.on_call(SINCE, UNTIL)
    finally:
        await adapter.close()
    assert [r.path for r in seen] == ["/oncalls"]
    assert entry == OnCallEntry(
        email="125.greenholt.earline@graham.name",
        name="Earline Greenholt",
        schedule_id=SPEC_SCHEDULE,
        start=datetime(2015, 3, 6, 15, 28, 51, tzinfo=UTC) + timedelta(hours=5),
        end=datetime(2015, 3, 7, 15, 28, 51, tzinfo=UTC) + timedelta(hours=5),
    )


async def test_a_permanent_on_call_is_clamped_to_the_window_and_a_direct_target_left_out(aiohttp_server):
    document = recorded("oncalls_include_users.json")
    permanent = copy.deepcopy(document["body"]["oncalls"][0])
    permanent["start"] = permanent["end"] = None
    direct = copy.deepcopy(permanent)
    direct["schedule"] = None
    document["body"]["oncalls"] = [permanent, direct]

    async def oncalls(request: web.Request) -> web.Response:
        return answer(document)

    url, _ = await serve(aiohttp_server, {"/oncalls": oncalls})
    adapter = spec_adapter(url, page_size=25)
    try:
        [entry] = await adapter.on_call(SINCE, UNTIL)
    finally:
        await adapter.close()
    assert (entry.start, entry.end) == (SINCE, UNTIL)


@pytest.mark.parametrize(
    ("fixture", "error", "words"),
    [
        ("error_401.json", Permanent, "GOLIVE_PAGERDUTY_TOKEN was refused (401): Authentication failed"),
        ("error_400.json", Permanent, "GOLIVE_PAGERDUTY_SCHEDULE_IDS"),
        ("rate_limited_429.json", Transient, "PagerDuty rate limit reached (429)"),
    ],
)
async def test_a_refusal_names_the_setting_at_fault(aiohttp_server, fixture, error, words):
    async def refuse(request: web.Request) -> web.Response:
        return answer(recorded(fixture))

    url, _ = await serve(aiohttp_server, {"/oncalls": refuse})
    adapter = spec_adapter(url)
    try:
        with pytest.raises(error) as raised:
            await adapter.on_call(SINCE, UNTIL)
    finally:
        await adapter.close()
    assert words in str(raised.value)


async def test_a_rate_limit_waits_for_the_reset_pagerduty_names(aiohttp_server):
    async def refuse(request: web.Request) -> web.Response:
        return answer(recorded("rate_limited_429.json"))

    url, _ = await serve(aiohttp_server, {"/oncalls": refuse})
    adapter = spec_adapter(url)
    try:
        with pytest.raises(Transient) as raised:
            await adapter.on_call(SINCE, UNTIL)
    finally:
        await adapter.close()
    assert raised.value.retry_after == 20.0


async def test_a_server_error_or_no_server_is_transient(aiohttp_server):
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="upstream connect error")

    url, _ = await serve(aiohttp_server, {"/oncalls": broken})
    for base in (url, f"http://127.0.0.1:{unused_port()}"):
        adapter = spec_adapter(base)
        try:
            with pytest.raises(Transient) as raised:
                await adapter.on_call(SINCE, UNTIL)
        finally:
            await adapter.close()
        assert "PagerDuty" in str(raised.value)


async def test_the_user_endpoint_answers_with_name_and_email(aiohttp_server):
    url, _ = await serve(aiohttp_server, {"/users/{id}": the_user})
    adapter = spec_adapter(url)
    try:
        assert await adapter.user("PXPGF42") == ("Earline Greenholt", "125.greenholt.earline@graham.name")
    finally:
        await adapter.close()


async def test_check_reads_both_schedules_and_names_a_missing_one(aiohttp_server):
    async def schedule(request: web.Request) -> web.Response:
        if request.match_info["id"] == SPEC_SCHEDULE:
            return answer(recorded("schedule.json"))
        return web.json_response({"error": {"message": "Not Found", "code": 2100}}, status=404)

    url, _ = await serve(aiohttp_server, {"/schedules/{id}": schedule})
    adapter = spec_adapter(url)
    try:
        with pytest.raises(Permanent) as raised:
            await adapter.check()
    finally:
        await adapter.close()
    assert "backup schedule PBACKUP" in str(raised.value)
    assert "GOLIVE_PAGERDUTY_SCHEDULE_IDS" in str(raised.value)


# Whatever a server answers GET /oncalls with, the adapter returns entries or raises a port error.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_oncall = st.fixed_dictionaries(
    {},
    optional={
        "user": st.one_of(
            _json,
            st.fixed_dictionaries(
                {"id": st.text(max_size=6), "email": st.emails() | st.none(), "name": _json}
            ),
        ),
        "schedule": st.one_of(_json, st.fixed_dictionaries({"id": st.sampled_from([SPEC_SCHEDULE, "PX"])})),
        "start": st.one_of(_json, st.just("2015-03-06T15:28:51-05:00")),
        "end": st.one_of(_json, st.just("2015-03-08T15:28:51Z")),
    },
)
_page = st.fixed_dictionaries(
    {},
    optional={
        "oncalls": st.one_of(_json, st.lists(_oncall, max_size=4)),
        "more": st.booleans() | _json,
        "offset": st.integers(min_value=-5, max_value=20_000) | _json,
        "limit": _json,
    },
)


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pages=st.lists(_page, min_size=1, max_size=3), status=st.sampled_from([200, 200, 200, 400, 404, 500]))
async def test_any_answer_gives_entries_or_a_port_error(aiohttp_server, pages, status):
    calls = {"n": 0}

    async def oncalls(request: web.Request) -> web.Response:
        body = pages[min(calls["n"], len(pages) - 1)]
        calls["n"] += 1
        if calls["n"] > 50:
            body = {"oncalls": [], "more": False}
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    async def user(request: web.Request) -> web.Response:
        return web.json_response({"user": {"name": "Somebody", "email": "somebody@example.com"}})

    url, _ = await serve(aiohttp_server, {"/oncalls": oncalls, "/users/{id}": user})
    adapter = spec_adapter(url, page_size=2)
    try:
        entries = await adapter.on_call(SINCE, UNTIL)
    except PortError:
        return
    finally:
        await adapter.close()
    for entry in entries:
        assert SINCE <= entry.start and entry.end <= UNTIL
        assert entry.schedule_id == SPEC_SCHEDULE
