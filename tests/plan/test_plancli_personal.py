"""Personal-chat commands (``bot.bridge.personal``) against a real SQLite database and a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from testkit.bridge import FakeBridge, fake_bridge

from bot import views
from bot.bridge import records
from bot.bridge.personal import parse_add_week_form
from bot.ports import CardAction, Person, PersonalMessage
from bot.storage import tables
from schedule.plan import PlannedSite, RolloutPlan, Site

MANAGER = Person("29:manager", "Maria Manager", "11111111-2222-3333-4444-555555555555")
STAFF = Person("29:staff", "Sam Staff", "99999999-8888-7777-6666-555555555555")
JANE = Person(
    "29:jane", "Jane Doe", "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01"
)  # an engineer of the sample roster
NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
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

    async def plan(self) -> RolloutPlan:
        async with self.store.read() as connection:
            return await records.load_plan(connection)

    async def audit(self) -> list:
        async with self.store.read() as connection:
            return (await connection.execute(select(tables.audit_log).order_by(tables.audit_log.c.id))).all()


@pytest.fixture
async def bench(tmp_path):
    async with fake_bridge(
        tmp_path, now=NOW, plan=PLAN, open_channels=False, manager_aad_ids=MANAGER.aad_object_id.upper()
    ) as bridge:
        async with bridge.runtime.store.write() as connection:
            await records.save_roster_csv(bridge.runtime.store, connection, ROSTER, NOW)
        yield Bench(bridge)


async def test_manager_adds_site_plan_changes_audited_and_reply_queued(bench):
    reply = await bench.say(
        "site add 2022-05-09 528A7 Syracuse VA Medical Center America/New_York 2022-05-11"
    )
    assert reply.startswith("Done: added 528A7 Syracuse VA Medical Center (America/New_York)")
    entry = (await bench.plan()).get("528A7")
    assert (
        entry is not None
        and entry.go_live_date == date(2022, 5, 11)
        and entry.name == "Syracuse VA Medical Center"
    )
    [audit] = await bench.audit()
    assert audit.action == "plan.site_add" and MANAGER.aad_object_id in audit.actor
    assert "added 528A7" in audit.detail
    [job] = await bench.replies()
    assert job["conversation_id"] == f"a:{MANAGER.id}" and job["platform"] == "teams"


async def test_manager_moves_and_pulls_sites(bench):
    assert "moved 459 Honolulu" in await bench.say("site move 459 2022-05-16 2022-05-18")
    assert (await bench.plan()).get("459").week_start == date(2022, 5, 16)
    assert "pulled 459 Honolulu" in await bench.say("site pull 459")
    assert (await bench.plan()).get("459").pulled
    assert [a.action for a in await bench.audit()] == ["plan.site_move", "plan.site_pull"]


async def test_non_manager_is_refused_politely(bench):
    reply = await bench.say("site pull 459", author=STAFF)
    assert "only delivery managers" in reply
    assert not (await bench.plan()).get("459").pulled
    # The plan is unchanged; the refusal itself is audited (who tried what).
    assert [(a.action, a.detail) for a in await bench.audit()] == [
        ("action.refused", "`site pull` in personal (teams)")
    ]
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
    assert len(await bench.audit()) == 1


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


async def test_add_week_card_adds_the_week(bench):
    data = {
        views.WEEK_START_INPUT: "2022-05-23",
        views.SITES_INPUT: '600,Chicago,America/Chicago\n\n601,"Denver, CO",America/Denver,2022-05-25\n',
        "form": views.VERB_ADD_WEEK,
    }
    response = await bench.add_week(data)
    assert response.status == 200 and "Added the week of 2022-05-23" in response.message
    plan = await bench.plan()
    assert [e.station for e in plan.sites_in_week(date(2022, 5, 23))] == ["600", "601"]
    assert plan.get("601").name == "Denver, CO" and plan.get("601").go_live_date == date(2022, 5, 25)
    [audit] = await bench.audit()
    assert audit.action == "plan.week_add"
    again = await bench.add_week(data)
    assert again.status == 200
    assert len(await bench.audit()) == 1


async def test_add_week_card_rejects_bad_lines_and_non_managers(bench):
    bad = {
        views.WEEK_START_INPUT: "2022-05-23",
        views.SITES_INPUT: "600,Chicago,America/Chicago\n601,Nowhere,Mars/Base\n602,Late,America/Denver,2022-06-01",
    }
    response = await bench.add_week(bad)
    assert response.status == 400
    message = response.message
    assert "site line 2: time_zone 'Mars/Base'" in message and "site line 3: go_live_date" in message
    assert "site line 1" not in message
    tuesday = await bench.add_week({**bad, views.WEEK_START_INPUT: "2022-05-24"})
    assert tuesday.status == 400 and "not a Monday" in tuesday.message
    taken = await bench.add_week(
        {views.WEEK_START_INPUT: "2022-05-09", views.SITES_INPUT: "600,Chicago,America/Chicago"}
    )
    assert taken.status == 400 and "already in the plan" in taken.message
    refused = await bench.add_week(bad, actor=STAFF)
    assert refused.status == 403
    assert await bench.plan() == PLAN
    # A rejected submission leaves no inbox row, so resending it after a fix is not taken as a duplicate.
    async with bench.store.read() as connection:
        invokes = (
            await connection.execute(select(tables.inbox).where(tables.inbox.c.kind == "invoke"))
        ).all()
    assert invokes == []
    fixed = {views.WEEK_START_INPUT: "2022-05-30", views.SITES_INPUT: "600,Chicago,America/Chicago"}
    assert (await bench.add_week(fixed)).status == 200


def test_add_week_form_lines_are_numbered_as_typed():
    week, sites, problems = parse_add_week_form("2022-05-23", "\n600,,America/Chicago\n")
    assert week == date(2022, 5, 23) and sites == []
    assert problems == ["site line 2: name is empty"]
    assert parse_add_week_form("", "x")[2] == ["the week start is empty"]
    assert "add at least one site" in parse_add_week_form("2022-05-23", "  \n")[2][0]


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
