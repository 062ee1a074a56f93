"""Personal-chat commands (``bot.bridge.personal``) against a real SQLite database and a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import cards
from bot.bridge import records
from bot.bridge.inquiries import BridgeConfig
from bot.bridge.personal import PersonalCommands, PersonalConfig, add_week_form, parse_add_week_form
from bot.bridge.render import Renderer
from bot.clock import FrozenClock
from bot.events import CardAction, Person, PersonalMessage, TeamsPlace
from bot.settings import Settings
from bot.storage import tables
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings

MANAGER = Person("29:manager", "Maria Manager", "11111111-2222-3333-4444-555555555555")
STAFF = Person("29:staff", "Sam Staff", "99999999-8888-7777-6666-555555555555")
JANE = Person(
    "29:jane", "Jane Doe", "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01"
)  # an engineer of the sample roster
PLACE = TeamsPlace("http://127.0.0.1:3980/", "tenant", None, None, "28:bot", "Go Live Bridge")
NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
ROSTER = (Path(__file__).resolve().parents[2] / "schedule" / "data" / "sample_roster.csv").read_text()
PLAN = RolloutPlan(
    (
        PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), date(2022, 5, 2)),
        PlannedSite.in_week(Site("459", "Honolulu", "Pacific/Honolulu"), date(2022, 5, 9)),
    )
)


class Bench:
    def __init__(self, store: Store, commands: PersonalCommands) -> None:
        self.store = store
        self.commands = commands
        self.wakes = 0
        self._ids = 0

    async def say(self, text: str, author: Person = MANAGER, message_id: str | None = None) -> str | None:
        """Send a personal message; return the text of the newest reply job."""
        self._ids += 1
        message = PersonalMessage(PLACE, f"a:{author.id}", message_id or f"m{self._ids}", author, text, NOW)
        await self.commands.on_personal_message(message)
        replies = await self.replies()
        return replies[-1]["text"] if replies else None

    async def replies(self) -> list[dict]:
        async with self.store.read() as connection:
            result = await connection.execute(
                select(tables.outbox.c.payload)
                .where(tables.outbox.c.kind == "reply")
                .order_by(tables.outbox.c.id)
            )
            return [row.payload for row in result]

    async def plan(self) -> RolloutPlan:
        async with self.store.read() as connection:
            return await records.load_plan(connection)

    async def audit(self) -> list:
        async with self.store.read() as connection:
            return (await connection.execute(select(tables.audit_log).order_by(tables.audit_log.c.id))).all()


@pytest.fixture
async def bench(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    await migrate(engine)
    store = Store(engine)
    async with store.write() as connection:
        await records.save_plan(connection, PLAN, NOW)
        await records.save_roster_csv(store, connection, ROSTER, NOW)
    window = WindowSettings()
    renderer = Renderer(BridgeConfig("Scheduling Support", "eCheck-in Vet Facing Apps", "eCheck-in", window))
    holder: dict[str, Bench] = {}

    def wake() -> None:
        holder["bench"].wakes += 1

    config = PersonalConfig(window=window, manager_ids=frozenset({MANAGER.aad_object_id.upper()}))
    commands = PersonalCommands(store, FrozenClock(NOW), config, renderer, wake)
    holder["bench"] = Bench(store, commands)
    yield holder["bench"]
    await engine.dispose()


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
    assert job["conversation_id"] == f"a:{MANAGER.id}" and job["service_url"] == PLACE.service_url
    assert bench.wakes == 1


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
    assert await bench.audit() == []
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
    assert bench.wakes == 1


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
    assert job["card"] == add_week_form(date(2022, 6, 6))
    assert "station,name,time_zone" in job["text"]
    assert "already in the plan" in await bench.say("week add 2022-05-09")
    assert "is a Tuesday" in await bench.say("week add 2022-06-07")


def card_action(data: dict, actor: Person = MANAGER, activity: str = "card1") -> CardAction:
    return CardAction(PLACE, "a:conv", activity, cards.VERB_ADD_WEEK, data, actor, NOW)


async def test_add_week_card_adds_the_week(bench):
    data = {
        cards.WEEK_START_INPUT: "2022-05-23",
        cards.SITES_INPUT: '600,Chicago,America/Chicago\n\n601,"Denver, CO",America/Denver,2022-05-25\n',
        "form": cards.VERB_ADD_WEEK,
    }
    response = await bench.commands.on_add_week_card(card_action(data))
    assert response["statusCode"] == 200 and "Added the week of 2022-05-23" in response["value"]
    plan = await bench.plan()
    assert [e.station for e in plan.sites_in_week(date(2022, 5, 23))] == ["600", "601"]
    assert plan.get("601").name == "Denver, CO" and plan.get("601").go_live_date == date(2022, 5, 25)
    [audit] = await bench.audit()
    assert audit.action == "plan.week_add"
    again = await bench.commands.on_add_week_card(card_action(data))
    assert again["statusCode"] == 200
    assert len(await bench.audit()) == 1


async def test_add_week_card_rejects_bad_lines_and_non_managers(bench):
    bad = {
        cards.WEEK_START_INPUT: "2022-05-23",
        cards.SITES_INPUT: "600,Chicago,America/Chicago\n601,Nowhere,Mars/Base\n602,Late,America/Denver,2022-06-01",
    }
    response = await bench.commands.on_add_week_card(card_action(bad))
    assert response["statusCode"] == 400
    message = response["value"]["message"]
    assert "site line 2: time_zone 'Mars/Base'" in message and "site line 3: go_live_date" in message
    assert "site line 1" not in message
    tuesday = await bench.commands.on_add_week_card(
        card_action({**bad, cards.WEEK_START_INPUT: "2022-05-24"})
    )
    assert tuesday["statusCode"] == 400 and "not a Monday" in tuesday["value"]["message"]
    taken = await bench.commands.on_add_week_card(
        card_action({cards.WEEK_START_INPUT: "2022-05-09", cards.SITES_INPUT: "600,Chicago,America/Chicago"})
    )
    assert taken["statusCode"] == 400 and "already in the plan" in taken["value"]["message"]
    refused = await bench.commands.on_add_week_card(card_action(bad, actor=STAFF))
    assert refused["statusCode"] == 403
    assert await bench.plan() == PLAN
    # A rejected submission leaves no inbox row, so resending it after a fix is not taken as a duplicate.
    async with bench.store.read() as connection:
        invokes = (
            await connection.execute(select(tables.inbox).where(tables.inbox.c.kind == "invoke"))
        ).all()
    assert invokes == []
    fixed = {cards.WEEK_START_INPUT: "2022-05-30", cards.SITES_INPUT: "600,Chicago,America/Chicago"}
    assert (await bench.commands.on_add_week_card(card_action(fixed)))["statusCode"] == 200


def test_add_week_form_lines_are_numbered_as_typed():
    week, sites, problems = parse_add_week_form("2022-05-23", "\n600,,America/Chicago\n")
    assert week == date(2022, 5, 23) and sites == []
    assert problems == ["site line 2: name is empty"]
    assert parse_add_week_form("", "x")[2] == ["the week start is empty"]
    assert "add at least one site" in parse_add_week_form("2022-05-23", "  \n")[2][0]


def test_config_from_settings(monkeypatch):
    monkeypatch.setenv("GOLIVE_MANAGER_AAD_IDS", f"{MANAGER.aad_object_id}, other")
    monkeypatch.setenv("GOLIVE_WINDOW_DAYS", "5")
    config = PersonalConfig.from_settings(Settings(_env_file=None))
    assert config.is_manager(MANAGER) and not config.is_manager(STAFF)
    assert config.window.window_days == 5


async def test_manager_imports_a_roster_from_teams_all_or_nothing(bench):
    from schedule.sample import sample_roster_csv

    good = sample_roster_csv()
    assert (await bench.say("roster import\n" + good)).startswith("Done: the roster now has")
    bad = good.replace("America/New_York", "America/Atlantis", 1)
    answer = await bench.say("roster import\n" + bad)
    assert answer.startswith("Nothing changed") and "line " in answer and "Atlantis" in answer
    assert "delivery managers" in await bench.say("roster import\n" + good, author=STAFF)
