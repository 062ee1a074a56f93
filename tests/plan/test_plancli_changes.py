"""``golive schedule import`` as a delivery manager uses it mid-rollout: a merge never closes a live
channel, ``--replace`` refuses to pull open sites unless forced, spreadsheets are read as saved, and
``--state-dir`` / ``golive audit`` read the product's own database.

The product runs on the fakes (``fake_bridge``: the sample plan with the first week's channels open)
in ``tmp_path/golive.db``; the CLI works on the same file through ``--state-dir``, in a thread
because it runs its own event loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from testkit.bridge import FakeBridge, fake_bridge

from bot.bridge import records
from bot.cli import main
from bot.storage import tables

NEW_WEEK = (
    "week_start,station,name,time_zone\n"
    "2022-06-06,998,Chicago Lakeside,America/Chicago\n"
    "2022-06-06,601,Denver Federal Center,America/Denver\n"
)


@pytest.fixture(autouse=True)
def no_stray_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("GOLIVE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the repository is read


async def golive(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


def write(tmp_path: Path, name: str, text: str, newline: str = "\n", bom: bool = False) -> str:
    path = tmp_path / name
    data = text.replace("\n", newline)
    path.write_bytes(("\ufeff" if bom else "").encode() + data.encode("utf-8"))
    return str(path)


async def open_channels(bridge: FakeBridge) -> set[str]:
    async with bridge.runtime.store.read() as connection:
        rows = (
            await connection.execute(select(tables.channels).where(tables.channels.c.status == "open"))
        ).all()
    return {row.station for row in rows}


async def settle(bridge: FakeBridge) -> None:
    """The next lifecycle tick and everything it queues."""
    await bridge.tick()
    await bridge.drain()


async def test_merge_import_during_the_first_week_keeps_every_open_channel_open_and_adds_the_new_sites(
    tmp_path, capsys
):
    async with fake_bridge(tmp_path) as bridge:
        live = await open_channels(bridge)
        assert len(live) == 6  # the first week's channels (Manila opens on Wednesday)
        assert (
            await golive(
                "schedule", "import", write(tmp_path, "new-week.csv", NEW_WEEK), "--state-dir", str(tmp_path)
            )
            == 0
        )
        out = capsys.readouterr().out
        assert "(merge)" in out and "2 change(s):" in out
        assert "add 998 Chicago Lakeside (week 2022-06-06, go-live 2022-06-06)" in out
        assert "pull" not in out

        await settle(bridge)
        assert await open_channels(bridge) == live
        assert not any(channel.archived for channel in bridge.directory.channels.values())
        async with bridge.runtime.store.read() as connection:
            plan = await records.load_plan(connection)
        assert {"998", "601"} <= {entry.station for entry in plan.active()}
        assert len(plan.active()) == len(plan.entries)  # nothing was pulled
        assert len(plan.active()) > 100


async def test_replace_refuses_naming_each_open_site_and_changes_nothing(tmp_path, capsys):
    async with fake_bridge(tmp_path) as bridge:
        live = await open_channels(bridge)
        path = write(tmp_path, "new-week.csv", NEW_WEEK)
        assert await golive("schedule", "import", path, "--replace", "--state-dir", str(tmp_path)) == 1
        err = capsys.readouterr().err
        assert "would pull 6 site(s) whose go-live channel is open; nothing was changed" in err
        for station, name in [
            ("508", "Atlanta"),
            ("528A7", "Syracuse"),
            ("459", "Honolulu"),
            ("672", "San Juan"),
        ]:
            assert f"  {station} {name}\n" in err
        assert "--force" in err

        assert (
            await golive("schedule", "import", path, "--replace", "--dry-run", "--state-dir", str(tmp_path))
            == 1
        )
        dry = capsys.readouterr()
        assert "pull 508 Atlanta (week 2022-05-02)" in dry.out and "cancel 508 Atlanta" in dry.out
        assert "nothing was changed" in dry.err

        await settle(bridge)
        assert await open_channels(bridge) == live
        async with bridge.runtime.store.read() as connection:
            assert not any(entry.pulled for entry in (await records.load_plan(connection)).entries)
            assert (await connection.execute(select(tables.audit_log))).all() == []

        assert (
            await golive("schedule", "import", path, "--replace", "--force", "--state-dir", str(tmp_path))
            == 0
        )
        await settle(bridge)
        assert await open_channels(bridge) == set()  # forced: the pulled sites' channels are archived
        assert sum(channel.archived for channel in bridge.directory.channels.values()) == 6


async def test_spreadsheet_saved_files_are_accepted_and_us_dates_refused_with_a_hint(tmp_path, capsys):
    async with fake_bridge(tmp_path, open_channels=False):
        saved = NEW_WEEK + ",,,\n,,,\n\n"  # the empty rows a spreadsheet leaves after the data
        path = write(tmp_path, "excel.csv", saved, newline="\r\n", bom=True)
        assert await golive("schedule", "import", path, "--dry-run", "--state-dir", str(tmp_path)) == 0
        assert "2 change(s) would be made" in capsys.readouterr().out

        us = NEW_WEEK.replace("2022-06-06,601", "6/6/2022,601")
        assert (
            await golive("schedule", "import", write(tmp_path, "us.csv", us), "--state-dir", str(tmp_path))
            == 1
        )
        err = capsys.readouterr().err
        assert (
            'line 3: week_start "6/6/2022" is not a date in YYYY-MM-DD form (for example 2022-06-06)' in err
        )
        assert "nothing was imported" in err


async def test_report_and_audit_read_the_state_dir_and_warn_about_a_new_or_empty_database(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert await golive("report", "rotation", "--week", "2022-05-02", "--state-dir", str(elsewhere)) == 0
    first = capsys.readouterr()
    assert "did not exist; a new, empty database was created" in first.err
    assert str(elsewhere / "golive.db") in first.err
    assert await golive("audit", "--state-dir", str(elsewhere), "--format", "json") == 0
    second = capsys.readouterr()
    assert "is empty: no rollout plan, roster or audit trail" in second.err
    assert json.loads(second.out) == []  # the warning never mixes into the JSON

    # Without --state-dir or GOLIVE_DATABASE_URL the default ./golive.db is named.
    assert await golive("report", "rotation", "--week", "2022-05-02") == 0
    assert "golive.db did not exist" in capsys.readouterr().err

    assert await golive("audit", "--state-dir", str(tmp_path / "missing")) == 2
    assert "no such directory" in capsys.readouterr().err


async def test_golive_audit_prints_the_trail_newest_first_as_json_with_filters(tmp_path, capsys):
    async with fake_bridge(tmp_path, open_channels=False):
        state = ["--state-dir", str(tmp_path)]
        assert (
            await golive("schedule", "import", write(tmp_path, "a.csv", NEW_WEEK), "--actor", "dm", *state)
            == 0
        )
        moved = NEW_WEEK.replace("2022-06-06,601", "2022-06-13,601")
        assert (
            await golive("schedule", "import", write(tmp_path, "b.csv", moved), "--actor", "lead", *state)
            == 0
        )
        capsys.readouterr()

        assert await golive("audit", "--format", "json", *state) == 0
        entries = json.loads(capsys.readouterr().out)
        assert [set(entry) for entry in entries] == [{"at", "actor", "action", "detail"}] * 2
        assert [(e["actor"], e["action"]) for e in entries] == [
            ("lead", "plan.import"),
            ("dm", "plan.import"),
        ]
        assert "move 601 Denver Federal Center: week 2022-06-06 -> 2022-06-13" in entries[0]["detail"]

        assert await golive("audit", "--format", "json", "--site", "998", *state) == 0
        assert [e["actor"] for e in json.loads(capsys.readouterr().out)] == ["dm"]
        assert await golive("audit", "--format", "json", "--since", entries[0]["at"], *state) == 0
        assert [e["actor"] for e in json.loads(capsys.readouterr().out)] == ["lead"]
        assert await golive("audit", "--format", "json", "--action", "site.*", *state) == 0
        assert json.loads(capsys.readouterr().out) == []
        assert await golive("audit", *state) == 0
        table = capsys.readouterr().out
        assert table.index("lead") < table.index("dm") and "plan.import" in table
        assert await golive("audit", "--action", "drop table", *state) == 2
        assert "is not an action" in capsys.readouterr().err
