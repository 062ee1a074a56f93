"""The engineers' queue page and incident form of the emulator."""

from __future__ import annotations

import aiohttp
from testkit.servicenow import Emulator

INCIDENTS = "/api/now/table/incident"


async def _incident(http: aiohttp.ClientSession, **fields: str) -> dict:
    async with http.post(INCIDENTS, json={"short_description": "Kiosk <b>frozen</b>", **fields}) as response:
        return (await response.json())["result"]


async def test_queue_page_lists_incidents(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    group = emulator.store.find("sys_user_group", name="Scheduling Support")["sys_id"]
    created = await _incident(http, assignment_group=group)
    async with http.get("/", headers={"Accept": "text/html"}) as response:
        assert response.status == 200 and response.content_type == "text/html"
        html = await response.text()
    assert created["number"] in html and "Scheduling Support" in html and "New" in html
    assert "Kiosk &lt;b&gt;frozen&lt;/b&gt;" in html  # escaped, not raw markup
    assert html.count('class="incident-row"') == 1


async def test_queue_page_filters_open_and_resolved(http: aiohttp.ClientSession) -> None:
    created = await _incident(http)
    await _incident(http)
    async with http.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "6"}) as response:
        assert response.status == 200
    async with http.get("/?view=open") as response:
        assert (await response.text()).count('class="incident-row"') == 1
    async with http.get("/?view=resolved") as response:
        assert created["number"] in await response.text()


async def test_form_comment_creates_journal_row_by_that_user(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    created = await _incident(http)
    form = {
        "as": "jdoe",
        "action": "post",
        "journal_text": "We are looking into it",
        "journal_type": "comments",
    }
    async with http.post(f"/incident.do?sys_id={created['sys_id']}", data=form) as response:
        assert response.status == 200  # after the redirect back to the form
        html = await response.text()
    assert "We are looking into it" in html and "Jane Doe" in html
    [entry] = emulator.store.journal(created["sys_id"])
    assert (entry["element"], entry["sys_created_by"], entry["value"]) == (
        "comments",
        "jdoe",
        "We are looking into it",
    )
    row = emulator.store.get("incident", created["sys_id"])
    assert row["sys_mod_count"] == "1" and row["sys_updated_by"] == "jdoe"


async def test_form_work_note_and_reassignment(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    created = await _incident(http)
    product = emulator.store.find("sys_user_group", name="eCheck-in Vet Facing Apps")["sys_id"]
    rroe = emulator.store.find("sys_user", user_name="rroe")["sys_id"]
    form = {
        "as": "admin",
        "action": "update",
        "assignment_group": product,
        "assigned_to": rroe,
        "state": "2",
        "journal_text": "moving to product",
        "journal_type": "work_notes",
    }
    async with http.post(f"/incident.do?sys_id={created['sys_id']}", data=form) as response:
        assert response.status == 200
    row = emulator.store.get("incident", created["sys_id"])
    assert (row["assignment_group"], row["assigned_to"], row["state"]) == (product, rroe, "2")
    assert row["sys_mod_count"] == "1"  # one save, like one Table API update
    [entry] = emulator.store.journal(created["sys_id"])
    assert (entry["element"], entry["sys_created_by"]) == ("work_notes", "admin")


async def test_form_resolve_needs_code_and_notes(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    created = await _incident(http)
    url = f"/incident.do?sys_id={created['sys_id']}"
    async with http.post(url, data={"as": "admin", "action": "resolve"}) as response:
        assert response.status == 400 and "Resolution code" in await response.text()
    form = {"as": "admin", "action": "resolve", "close_code": "Solution provided", "close_notes": "Rebooted"}
    async with http.post(url, data=form) as response:
        assert response.status == 200
    row = emulator.store.get("incident", created["sys_id"])
    assert (row["state"], row["close_code"], row["close_notes"]) == ("6", "Solution provided", "Rebooted")


async def test_form_on_hold_needs_a_reason(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    created = await _incident(http)
    url = f"/incident.do?sys_id={created['sys_id']}"
    async with http.post(url, data={"as": "admin", "action": "update", "state": "3"}) as response:
        assert response.status == 400
    async with http.post(
        url, data={"as": "admin", "action": "update", "state": "3", "hold_reason": "1"}
    ) as response:
        assert response.status == 200
    assert emulator.store.get("incident", created["sys_id"])["hold_reason"] == "1"


async def test_nav_to_redirects_only_inside_the_emulator(http: aiohttp.ClientSession) -> None:
    created = await _incident(http)
    async with http.get(
        f"/nav_to.do?uri=incident.do?sys_id={created['sys_id']}", allow_redirects=False
    ) as response:
        assert response.status == 302
        assert response.headers["Location"] == f"/incident.do?sys_id={created['sys_id']}"
    async with http.get("/nav_to.do?uri=//evil.example/x", allow_redirects=False) as response:
        assert response.headers["Location"] == "/"


async def test_unknown_incident_form_is_404(http: aiohttp.ClientSession) -> None:
    async with http.get(f"/incident.do?sys_id={'0' * 32}") as response:
        assert response.status == 404


async def test_queue_page_and_form_show_caller_assignee_and_resolver_by_name(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    caller = emulator.store.find("sys_user", user_name="sclerk")
    engineer = emulator.store.find("sys_user", user_name="jdoe")
    created = await _incident(http, caller_id=caller["sys_id"], assigned_to=engineer["sys_id"])
    body = {
        "state": "6",
        "close_code": "Solution provided",
        "close_notes": "ok",
        "resolved_by": engineer["sys_id"],
    }
    async with http.patch(f"{INCIDENTS}/{created['sys_id']}", json=body) as response:
        assert response.status == 200
    async with http.get("/") as response:
        listing = await response.text()
    assert "Sam Clerk" in listing and "Jane Doe" in listing
    async with http.get(f"/incident.do?sys_id={created['sys_id']}") as response:
        form = await response.text()
    assert 'id="caller">Sam Clerk <span class="muted">&lt;Sam.Clerk@example.va.gov&gt;</span>' in form
    assert '<span id="resolved-by">by Jane Doe</span>' in form
    assert 'id="opened-by">Go Live Integration<' in form


async def test_form_offers_engineers_and_managers_but_not_site_staff_to_act_as(
    http: aiohttp.ClientSession,
) -> None:
    created = await _incident(http)
    async with http.get(f"/incident.do?sys_id={created['sys_id']}") as response:
        form = await response.text()
    acting = form.split('aria-label="Acting as"')[1].split("</select>")[0]
    assert "Jane Doe (jdoe)" in acting and "Morgan Manager (morgan.manager)" in acting
    assert "Pat Frontdesk" not in acting and "Sam Clerk" not in acting
