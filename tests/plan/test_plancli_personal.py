"""Personal-chat commands (``bot.bridge.personal``) against a real SQLite database and a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from testkit.bridge import FakeBridge, fake_bridge

from bot import views
from bot.bridge import records
from bot.bridge.personal import PREVIEW_NOTE
from bot.ports import CardAction, ChannelPost, Person, PersonalMessage, ThreadRef
from bot.storage import tables
from schedule.plan import PlannedSite, RolloutPlan, Site

MANAGER = Person("29:manager", "Maria Manager", "11111111-2222-3333-4444-555555555555")
OTHER_MANAGER = Person("29:other", "Olga Other", "22222222-3333-4444-5555-666666666666")
STAFF = Person("29:staff", "Sam Staff", "99999999-8888-7777-6666-555555555555")
JANE = Person(
    "29:jane", "Jane Doe", "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01"
)  # an engineer of the sample roster
NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
MANAGEMENT = "19:management@thread.tacv2"
ROSTER = (Path(__file__).resolve().parents[2] / "schedule" / "data" / "sample_roster.csv").read_text()
PLAN = RolloutPlan(
    (
        PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), date(2022, 5, 2)),
        PlannedSite.in_week(Site("459", "Honolulu", "Pacific/Honolulu"), date(2022, 5, 9)),
    )
)


class Bench:
    def __init__(self, bridge: FakeBridge) -> None:
        self.bridge = bridge
        self.store = bridge.runtime.store
        self._ids = 0

    async def say(self, text: str, author: Person = MANAGER, message_id: str | None = None) -> str | None:
        """Send a personal message; return the text of the newest reply job."""
        self._ids += 1
        await self.bridge.runtime.service.on_personal_message(
            PersonalMessage("teams", f"a:{author.id}", message_id or f"m{self._ids}", author, text, NOW)
        )
        replies = await self.replies()
        return replies[-1]["text"] if replies else None

    async def replies(self) -> list[dict]:
        async with self.store.read() as connection:
            result = await connection.execute(
                select(tables.outbox.c.payload)
                .where(tables.outbox.c.kind == "reply_direct")
                .order_by(tables.outbox.c.id)
            )
            return [row.payload for row in result]

    async def add_week(self, data: dict, actor: Person = MANAGER, activity: str = "card1"):
        action = CardAction("teams", "a:conv", activity, views.VERB_ADD_WEEK, data, actor, NOW)
        return await self.bridge.runtime.service.on_card_action(action)

    async def press(self, verb: str, proposal: str, actor: Person = MANAGER, activity: str = "preview"):
        action = CardAction("teams", "a:conv", activity, verb, {views.DATA_PROPOSAL: proposal}, actor, NOW)
        return await self.bridge.runtime.service.on_card_action(action)

    async def confirm_last(self) -> None:
        outcome = await self.press(views.VERB_PLAN_CONFIRM, (await self.replies())[-1]["proposal"])
        assert outcome.status == 200, outcome.message

    async def plan(self) -> RolloutPlan:
        async with self.store.read() as connection:
            return await records.load_plan(connection)

    async def audit(self) -> list:
        async with self.store.read() as connection:
            return (await connection.execute(select(tables.audit_log).order_by(tables.audit_log.c.id))).all()


@pytest.fixture
async def bench(tmp_path):
    async with fake_bridge(
        tmp_path,
        now=NOW,
        plan=PLAN,
        open_channels=False,
        manager_aad_ids=f"{MANAGER.aad_object_id.upper()},{OTHER_MANAGER.aad_object_id}",
        management_channel_id=MANAGEMENT,
    ) as bridge:
        async with bridge.runtime.store.write() as connection:
            await records.save_roster_csv(bridge.runtime.store, connection, ROSTER, NOW)
        yield Bench(bridge)


async def test_site_add_answers_with_a_preview_and_applies_only_on_confirm(bench):
    reply = await bench.say(
        "site add 2022-05-09 528A7 Syracuse VA Medical Center America/New_York 2022-05-11"
    )
    assert reply == PREVIEW_NOTE
    [job] = await bench.replies()
    assert job["conversation_id"] == f"a:{MANAGER.id}" and job["platform"] == "teams"
    assert (await bench.plan()) == PLAN and await bench.audit() == []  # nothing before Confirm

    await bench.bridge.drain()
    [(_, message)] = bench.bridge.chat.direct
    view = message.view
    assert isinstance(view, views.PlanChangeView) and view.state == "pending"
    assert view.changes == ("add 528A7 Syracuse VA Medical Center (week 2022-05-09, go-live 2022-05-11)",)
    assert view.proposal_id == job["proposal"]

    confirmed = await bench.press(views.VERB_PLAN_CONFIRM, job["proposal"])
    assert confirmed.status == 200 and confirmed.view.state == "applied"
    entry = (await bench.plan()).get("528A7")
    assert entry is not None and entry.go_live_date == date(2022, 5, 11)
    assert entry.name == "Syracuse VA Medical Center"
    [audit] = await bench.audit()
    assert audit.action == "site.add" and MANAGER.aad_object_id in audit.actor
    assert "add 528A7" in audit.detail and audit.stations == " 528A7 "

    again = await bench.press(views.VERB_PLAN_CONFIRM, job["proposal"])  # a redelivered press
    assert again.status == 200 and "already applied" in again.message
    assert len(await bench.audit()) == 1


async def test_cancel_changes_nothing_and_a_cancelled_preview_cannot_be_confirmed(bench):
    await bench.say("site pull 459")
    proposal = (await bench.replies())[-1]["proposal"]
    cancelled = await bench.press(views.VERB_PLAN_CANCEL, proposal)
    assert cancelled.status == 200 and cancelled.view.state == "cancelled"
    refused = await bench.press(views.VERB_PLAN_CONFIRM, proposal)
    assert refused.status == 409 and "cancelled" in refused.message
    assert await bench.plan() == PLAN and await bench.audit() == []


async def test_only_the_manager_who_asked_can_confirm(bench):
    await bench.say("site pull 459")
    proposal = (await bench.replies())[-1]["proposal"]
    other = await bench.press(views.VERB_PLAN_CONFIRM, proposal, actor=OTHER_MANAGER)
    assert other.status == 403 and MANAGER.name in other.message
    staff = await bench.press(views.VERB_PLAN_CONFIRM, proposal, actor=STAFF)
    assert staff.status == 403
    assert await bench.plan() == PLAN
    assert [a.action for a in await bench.audit()] == ["action.refused", "action.refused"]
    assert (await bench.press(views.VERB_PLAN_CONFIRM, proposal)).status == 200
    assert (await bench.plan()).get("459").pulled


async def test_a_stale_preview_is_refused_and_the_plan_keeps_the_newer_change(bench):
    await bench.say("site move 459 2022-05-16")
    move = (await bench.replies())[-1]["proposal"]
    await bench.say("site pull 459")
    pull = (await bench.replies())[-1]["proposal"]
    assert (await bench.press(views.VERB_PLAN_CONFIRM, pull)).status == 200
    stale = await bench.press(views.VERB_PLAN_CONFIRM, move)
    assert stale.status == 409 and "changed since this preview" in stale.message
    entry = (await bench.plan()).get("459")
    assert entry.pulled and entry.week_start == date(2022, 5, 9)
    assert [a.action for a in await bench.audit()] == ["site.pull"]


async def test_manager_moves_and_pulls_sites_after_confirming(bench):
    assert await bench.say("site move 459 2022-05-16 2022-05-18") == PREVIEW_NOTE
    await bench.confirm_last()
    assert (await bench.plan()).get("459").week_start == date(2022, 5, 16)
    assert await bench.say("site pull 459") == PREVIEW_NOTE
    await bench.confirm_last()
    assert (await bench.plan()).get("459").pulled
    assert [a.action for a in await bench.audit()] == ["site.move", "site.pull"]
    assert "move 459 Honolulu: week 2022-05-09 -> 2022-05-16" in (await bench.audit())[0].detail


async def test_non_manager_is_refused_politely_and_the_refusal_is_audited(bench):
    reply = await bench.say("site pull 459", author=STAFF)
    assert "only delivery managers" in reply
    assert not (await bench.plan()).get("459").pulled
    [refused] = await bench.audit()
    assert refused.action == "action.refused" and "site pull" in refused.detail
    assert "only delivery managers" in await bench.say("week add 2022-06-06", author=STAFF)


async def test_bad_dates_get_friendly_replies(bench):
    assert "is not a date in YYYY-MM-DD form" in await bench.say("site add 2022-5-9 600 Test America/Chicago")
    assert "is not a real date" in await bench.say("site move 508 2022-02-30")
    tuesday = await bench.say("site move 459 2022-05-10")
    assert "I could not change the plan" in tuesday and "did you mean 2022-05-09" in tuesday
    assert "already over" in await bench.say("site move 508 2022-04-04")  # that window is over
    assert "not an IANA time zone" in await bench.say("site add 2022-05-16 600 Test Mars/Base")
    assert "not in the rollout plan" in await bench.say("site pull 999")
    assert await bench.audit() == []
    assert await bench.plan() == PLAN


async def test_duplicate_delivery_is_handled_once(bench):
    await bench.say("site pull 459", message_id="same")
    await bench.say("site pull 459", message_id="same")
    assert len(await bench.replies()) == 1
    async with bench.store.read() as connection:
        assert len((await connection.execute(select(tables.plan_proposals))).all()) == 1


async def test_read_only_commands_answer_anyone(bench):
    assert "`duty`" in await bench.say("help", author=STAFF)
    assert "site add" not in await bench.say("help", author=STAFF)
    assert "site add" in await bench.say("help")
    duty = await bench.say("duty", author=STAFF)
    assert "Primary: Jane Doe" in duty and "Backup: Marcus Lee" in duty
    shown = await bench.say("schedule show", author=STAFF)
    assert "2022-05-02: 508 Atlanta" in shown and "2022-05-09: 459 Honolulu" in shown
    week = await bench.say("schedule show 2022-05-11", author=STAFF)
    assert "Week of 2022-05-09" in week and "459 Honolulu" in week
    preview = await bench.say("schedule preview", author=STAFF)
    # Honolulu opens 2022-05-09 07:00 HST (17:00 UTC); Atlanta retires that day 17:00 EDT (21:00 UTC).
    assert "17:00 UTC (07:00 HST local): open 459 Honolulu" in preview
    assert "21:00 UTC (17:00 EDT local): retire 508 Atlanta" in preview
    assert preview.index("open 459") < preview.index("retire 508")
    assert "primary Jane Doe, backup Marcus Lee" in await bench.say("roster show", author=STAFF)
    assert "I did not understand" in await bench.say("hello there", author=STAFF)


async def test_swap_is_for_engineers_on_the_roster_only(bench):
    assert "only engineers on the duty roster" in await bench.say("swap", author=STAFF)
    answer = await bench.say("swap", author=JANE)
    assert answer.startswith(("Done:", "Only today's primary or backup", "No roster week"))


async def test_week_add_replies_with_the_form_card(bench):
    await bench.say("week add 2022-06-06")
    job = (await bench.replies())[-1]
    assert job["form_week"] == "2022-06-06"
    assert "station,name,time_zone" in job["text"]
    assert "already in the plan" in await bench.say("week add 2022-05-09")
    assert "is a Tuesday" in await bench.say("week add 2022-06-07")


async def test_add_week_card_previews_then_adds_the_week_on_confirm(bench):
    data = {
        views.WEEK_START_INPUT: "2022-05-23",
        views.SITES_INPUT: '600,Chicago,America/Chicago\n\n601,"Denver, CO",America/Denver,2022-05-25\n',
        "form": views.VERB_ADD_WEEK,
    }
    response = await bench.add_week(data)
    assert response.status == 200 and isinstance(response.view, views.PlanChangeView)
    assert response.view.title == "Add the week of 2022-05-23 with 2 site(s)"
    assert len(response.view.changes) == 2
    assert await bench.plan() == PLAN  # nothing before Confirm
    confirmed = await bench.press(views.VERB_PLAN_CONFIRM, response.view.proposal_id)
    assert confirmed.status == 200
    plan = await bench.plan()
    assert [e.station for e in plan.sites_in_week(date(2022, 5, 23))] == ["600", "601"]
    assert plan.get("601").name == "Denver, CO" and plan.get("601").go_live_date == date(2022, 5, 25)
    [audit] = await bench.audit()
    assert audit.action == "plan.week_add" and audit.stations == " 600 601 "


async def test_add_week_card_reports_every_problem_at_once_on_the_form(bench):
    bad = {
        views.WEEK_START_INPUT: "2022-05-24",  # a Tuesday
        views.SITES_INPUT: (
            "600,Chicago,America/Chicago\n"
            "601,Nowhere,Mars/Base\n"  # line 2: bad zone
            "459,Honolulu again,Pacific/Honolulu\n"  # line 3: already planned
            "602,Late,America/Denver,5/9/2022"  # line 4: not ISO
        ),
    }
    response = await bench.add_week(bad)
    assert response.status == 200 and isinstance(response.view, views.AddWeekFormView)
    errors = response.view.errors
    assert any("is a Tuesday, not a Monday" in e for e in errors)
    assert any(e.startswith("site line 2: time_zone 'Mars/Base'") for e in errors)
    assert any(e.startswith("site line 3: station 459 is already planned") for e in errors)
    assert any(e.startswith("site line 4:") and "2022-05-09" in e for e in errors)
    assert not any(e.startswith("site line 1") for e in errors)
    assert response.view.sites_text == bad[views.SITES_INPUT]  # the form keeps what was typed
    refused = await bench.add_week(bad, actor=STAFF)
    assert refused.status == 403
    assert await bench.plan() == PLAN
    fixed = {views.WEEK_START_INPUT: "2022-05-30", views.SITES_INPUT: "600,Chicago,America/Chicago"}
    assert isinstance((await bench.add_week(fixed)).view, views.PlanChangeView)


async def test_audit_command_lists_the_latest_changes_filtered_by_action_or_site(bench):
    await bench.say("site move 459 2022-05-16")
    await bench.confirm_last()
    await bench.say("site pull 508")
    await bench.confirm_last()
    everything = await bench.say("audit")
    assert everything.index("site.pull") < everything.index("site.move")  # newest first
    assert "site.move" not in await bench.say("audit site.pull")
    only_459 = await bench.say("audit 459")
    assert "site.move" in only_459 and "site.pull" not in only_459
    assert "site.pull" in await bench.say("audit site 508")
    assert "not an action" in await bench.say("audit plan.*x")
    assert "only delivery managers" in await bench.say("audit", author=STAFF)


def test_managers_come_from_settings_case_insensitively(monkeypatch, tmp_path):
    from bot.app import bridge_config
    from bot.settings import Settings

    monkeypatch.setenv("GOLIVE_MANAGER_AAD_IDS", f"{MANAGER.aad_object_id.upper()}, other")
    monkeypatch.setenv("GOLIVE_WINDOW_DAYS", "5")
    config = bridge_config(Settings(_env_file=None))
    assert config.is_manager(MANAGER.aad_object_id) and not config.is_manager(STAFF.aad_object_id)
    assert config.window.window_days == 5


async def test_manager_imports_a_roster_from_teams_all_or_nothing(bench):
    from schedule.sample import sample_roster_csv

    good = sample_roster_csv()
    assert (await bench.say("roster import\n" + good)).startswith("Done: the roster now has")
    bad = good.replace("America/New_York", "America/Atlantis", 1)
    answer = await bench.say("roster import\n" + bad)
    assert answer.startswith("Nothing changed") and "line " in answer and "Atlantis" in answer
    assert "delivery managers" in await bench.say("roster import\n" + good, author=STAFF)


async def test_a_preview_is_refused_when_a_channel_it_would_close_has_opened_since(bench):
    await bench.say("site pull 459")  # Honolulu's channel is still planned: a plain pull
    proposal = (await bench.replies())[-1]["proposal"]
    bench.bridge.clock.set(datetime(2022, 5, 9, 18, 0, tzinfo=UTC))  # 08:00 in Honolulu: its channel opens
    await bench.bridge.runtime.lifecycle.tick()
    stale = await bench.press(views.VERB_PLAN_CONFIRM, proposal)
    assert stale.status == 409 and "459 Honolulu" in stale.message and "opened since" in stale.message
    assert not (await bench.plan()).get("459").pulled
    assert await bench.audit() == []


async def test_a_command_in_the_management_channel_answers_with_the_preview_in_its_thread(bench):
    thread = ThreadRef("teams", MANAGEMENT, "root-1")
    post = ChannelPost(thread, "root-1", MANAGER, "<at>Go Live Bridge</at> site pull 459", NOW, True, False)
    await bench.bridge.runtime.service.on_channel_post(post)
    await bench.bridge.drain()
    [answer] = bench.bridge.chat.in_thread(thread)
    view = answer.message.view
    assert isinstance(view, views.PlanChangeView) and view.changes == ("pull 459 Honolulu (week 2022-05-09)",)
    assert (await bench.press(views.VERB_PLAN_CONFIRM, view.proposal_id)).status == 200
    assert (await bench.plan()).get("459").pulled


async def test_force_is_a_word_of_site_pull_only(bench):
    assert await bench.say("site add 2022-05-16 600 Air Force Base America/Denver") == PREVIEW_NOTE
    await bench.confirm_last()
    assert (await bench.plan()).get("600").name == "Air Force Base"
