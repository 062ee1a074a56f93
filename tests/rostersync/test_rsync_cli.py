"""``golive roster sync --from pagerduty`` through ``bot.cli.main`` against the PagerDuty emulator
(served from its own thread, since the CLI runs its own event loop) and a SQLite file."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from rsync_support import SCHEDULES, served_in_a_thread
from sqlalchemy import select

from bot.cli import main
from bot.storage import tables
from bot.storage.database import create_engine
from emulators.pagerduty import (
    PagerDutyEmulatorConfig,
    PagerDutyUser,
    create_pagerduty_emulator,
    sample_users,
)
from schedule.sample import sample_roster_csv

TOKEN = "pd-cli-token"
SINCE, UNTIL = "2022-05-02T00:00:00Z", "2022-05-30T00:00:00Z"
STRANGER = PagerDutyUser("PEARLIN", "Earline Greenholt", "earline@graham.example")


@pytest.fixture
def pagerduty_url() -> Iterator[str]:
    config = PagerDutyEmulatorConfig(
        tokens=(TOKEN,), users=(*sample_users(), STRANGER), now=lambda: datetime(2022, 5, 3, 15, tzinfo=UTC)
    )
    with served_in_a_thread(create_pagerduty_emulator(config)) as url:
        yield url


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pagerduty_url: str) -> str:
    url = f"sqlite:///{tmp_path}/golive.db"
    monkeypatch.chdir(tmp_path)  # no stray .env is read from the repository
    monkeypatch.setenv("GOLIVE_DATABASE_URL", url)
    monkeypatch.setenv("GOLIVE_PAGERDUTY_API_URL", pagerduty_url)
    monkeypatch.setenv("GOLIVE_PAGERDUTY_TOKEN", TOKEN)
    monkeypatch.setenv("GOLIVE_PAGERDUTY_SCHEDULE_IDS", ",".join(SCHEDULES))
    roster = tmp_path / "roster.csv"
    roster.write_text(sample_roster_csv(), encoding="utf-8")
    assert main(["roster", "import", str(roster)]) == 0
    return url


def set_oncalls(base: str, oncalls: list[dict]) -> None:
    async def put() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.put(f"{base}/_emulator/oncalls", json={"oncalls": oncalls}) as response:
                assert response.status == 200, await response.text()

    asyncio.run(put())


def weekly(pairs: list[tuple[str, str]]) -> list[dict]:
    mondays = ["2022-05-02", "2022-05-09", "2022-05-16", "2022-05-23", "2022-05-30"]
    oncalls = []
    for (start, end), pair in zip(itertools.pairwise(mondays), pairs, strict=False):
        for schedule, email in zip(SCHEDULES, pair, strict=True):
            oncalls.append(
                {
                    "user": email,
                    "schedule": schedule,
                    "start": f"{start}T00:00:00Z",
                    "end": f"{end}T00:00:00Z",
                }
            )
    return oncalls


def table(url: str, which) -> list:
    async def read() -> list:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(select(which))).all()
        finally:
            await engine.dispose()

    return asyncio.run(read())


def roster_csv(url: str) -> str:
    [row] = [r for r in table(url, tables.documents) if r.key == "roster"]
    return str(row.value["csv"])


JANE, MARCUS, PRIYA, TOM, ROSA = (
    f"{name}@example.va.gov"
    for name in ("jane.doe", "marcus.lee", "priya.shah", "tom.nguyen", "rosa.martinez")
)
SAMPLE = [(JANE, MARCUS), (MARCUS, PRIYA), (TOM, JANE), (PRIYA, ROSA)]


def sync(*extra: str) -> int:
    return main(["roster", "sync", "--from", "pagerduty", "--since", SINCE, "--until", UNTIL, *extra])


def test_the_sample_rota_matches_the_sample_roster(db, capsys):
    capsys.readouterr()
    assert sync() == 0
    out = capsys.readouterr().out
    assert (
        "Roster sync for the weeks 2022-05-02 to 2022-05-23" in out
        and "No changes to the stored roster." in out
    )


def test_an_unknown_person_is_named_exit_1_and_nothing_changes(db, pagerduty_url, capsys):
    set_oncalls(pagerduty_url, weekly([(JANE, MARCUS), (TOM, ROSA), (TOM, STRANGER.email), (PRIYA, ROSA)]))
    before = roster_csv(db)
    capsys.readouterr()
    assert sync() == 1
    err = capsys.readouterr().err
    assert "nothing was changed" in err
    assert "Earline Greenholt <earline@graham.example> is on call (backup schedule PBACKUP)" in err
    assert roster_csv(db) == before
    assert [a.action for a in table(db, tables.audit_log)] == ["roster.import"]


def test_dry_run_prints_each_change_and_applies_none_then_a_sync_applies_and_audits(
    db, pagerduty_url, capsys
):
    set_oncalls(pagerduty_url, weekly([(JANE, MARCUS), (TOM, ROSA), *SAMPLE[2:]]))
    before = roster_csv(db)
    capsys.readouterr()
    assert sync("--dry-run") == 0
    out = capsys.readouterr().out
    assert "(dry run, nothing was changed)" in out
    assert "week 2022-05-09: primary Marcus Lee -> Tom Nguyen, backup Priya Shah -> Rosa Martinez" in out
    assert roster_csv(db) == before
    assert sync("--actor", "ops") == 0
    assert "1 week(s) changed:" in capsys.readouterr().out
    assert roster_csv(db) != before
    audit = [a for a in table(db, tables.audit_log) if a.action == "roster.sync"]
    assert len(audit) == 1 and audit[0].actor == "ops"
    [status] = [r for r in table(db, tables.documents) if r.key == "roster_sync"]
    assert status.value["failing"] is False


def test_a_refused_token_is_named_and_an_unconfigured_sync_exits_2(db, monkeypatch, capsys):
    monkeypatch.setenv("GOLIVE_PAGERDUTY_TOKEN", "expired")
    capsys.readouterr()
    assert sync() == 1
    assert "GOLIVE_PAGERDUTY_TOKEN was refused (401)" in capsys.readouterr().err
    monkeypatch.setenv("GOLIVE_PAGERDUTY_SCHEDULE_IDS", "")
    assert sync() == 2
    assert "GOLIVE_PAGERDUTY_SCHEDULE_IDS" in capsys.readouterr().err
    monkeypatch.setenv("GOLIVE_PAGERDUTY_SCHEDULE_IDS", ",".join(SCHEDULES))
    assert main(["roster", "sync", "--from", "pagerduty", "--since", UNTIL, "--until", SINCE]) == 2
    assert "--until must be after --since" in capsys.readouterr().err


def test_golive_check_names_an_expired_pagerduty_token(db, monkeypatch, capsys):
    monkeypatch.setenv("GOLIVE_ENV", "development")
    capsys.readouterr()
    assert main(["check"]) == 0
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert lines["pagerduty"].startswith("ok") and "Go Live primary (PPRIMRY)" in lines["pagerduty"]
    monkeypatch.setenv("GOLIVE_PAGERDUTY_TOKEN", "expired")
    assert main(["check"]) == 1
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert (
        lines["pagerduty"].startswith("FAIL")
        and "GOLIVE_PAGERDUTY_TOKEN was refused (401)" in lines["pagerduty"]
    )
