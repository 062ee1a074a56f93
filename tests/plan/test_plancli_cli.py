"""``golive schedule ...`` and ``golive roster ...`` through ``bot.cli.main`` against a SQLite file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.storage import tables
from bot.storage.database import create_engine

ROLLOUT = (
    "week_start,station,name,time_zone,go_live_date\n"
    "2022-05-02,508,Atlanta,America/New_York,\n"
    "2022-05-02,459,Honolulu,Pacific/Honolulu,2022-05-04\n"
    "2022-05-09,358,Manila,Asia/Manila,\n"
)

ROSTER = (Path(__file__).resolve().parents[2] / "schedule" / "data" / "sample_roster.csv").read_text()


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path}/t.db"
    monkeypatch.setenv("GOLIVE_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read from the repository
    return url


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def rows(url: str, table) -> list:
    async def read():
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(select(table))).all()
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_import_good_file_saves_plan_and_audits(db, tmp_path, capsys):
    assert main(["schedule", "import", write(tmp_path, "plan.csv", ROLLOUT), "--actor", "dm"]) == 0
    out = capsys.readouterr().out
    assert "3 sites in the file; 3 sites planned in all" in out
    assert "add 508 Atlanta (week 2022-05-02, go-live 2022-05-02)" in out
    sites = {row.station: row for row in rows(db, tables.sites)}
    assert set(sites) == {"508", "459", "358"}
    assert str(sites["459"].go_live_date) == "2022-05-04"
    audit = rows(db, tables.audit_log)
    assert [(a.actor, a.action) for a in audit] == [("dm", "plan.import")]
    assert "add 358 Manila" in audit[0].detail and audit[0].stations == " 358 459 508 "


def test_import_bad_file_lists_every_reason_with_line_and_changes_nothing(db, tmp_path, capsys):
    assert main(["schedule", "import", write(tmp_path, "plan.csv", ROLLOUT)]) == 0
    capsys.readouterr()
    bad = (
        "week_start,station,name,time_zone,go_live_date\n"
        "2022-05-16,600,Good Site,America/Chicago,\n"  # line 2 is fine
        "2022-05-16,,No Station,America/Chicago,\n"  # line 3
        "2022-05-17,601,Tuesday,America/Chicago,\n"  # line 4
        "2022/05/16,602,Slashes,America/Chicago,\n"  # line 5
        "2022-05-16,603,Outside,America/Chicago,2022-05-23\n"  # line 6
        "2022-05-16,604,Mars,Mars/Olympus_Mons,\n"  # line 7
        "2022-05-16,600,Again,America/Chicago,\n"  # line 8
    )
    assert main(["schedule", "import", write(tmp_path, "bad.csv", bad)]) == 1
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert "Traceback" not in captured.err
    expected = {
        3: "station is empty",
        4: "not a Monday",
        5: "is not a date in YYYY-MM-DD form",
        6: "outside the week",
        7: "is not an IANA time zone",
        8: "already appeared on line 2",
    }
    for line, reason in expected.items():
        assert any(e.startswith(f"line {line}: ") and reason in e for e in err), (line, err)
    assert not any(e.startswith("line 2:") for e in err)
    assert {row.station for row in rows(db, tables.sites)} == {"508", "459", "358"}
    assert len(rows(db, tables.audit_log)) == 1


def test_dry_run_prints_diff_and_changes_nothing(db, tmp_path, capsys):
    assert main(["schedule", "import", write(tmp_path, "plan.csv", ROLLOUT)]) == 0
    capsys.readouterr()
    changed = ROLLOUT.replace("2022-05-09,358", "2022-05-16,358").replace(
        "2022-05-02,508,Atlanta", "2022-05-02,508,Decatur"
    )
    changed = "\n".join(line for line in changed.splitlines() if not line.startswith("2022-05-02,459"))
    args = ["schedule", "import", write(tmp_path, "new.csv", changed + "\n"), "--dry-run", "--replace"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "nothing was changed" in out
    changes = out.split("change(s) would be made:")[1].split("Go-live channels:")[0].split("\n")
    assert [line.strip() for line in changes if line.strip()] == [
        'update 508 Decatur: name "Atlanta" -> "Decatur"',
        "pull 459 Honolulu (week 2022-05-02)",
        "move 358 Manila: week 2022-05-09 -> 2022-05-16",
    ]
    sites = {row.station: row for row in rows(db, tables.sites)}
    assert sites["508"].name == "Atlanta" and not sites["459"].pulled
    assert len(rows(db, tables.audit_log)) == 1


def test_replace_import_marks_missing_stations_pulled_and_merge_keeps_them(db, tmp_path, capsys):
    assert main(["schedule", "import", write(tmp_path, "plan.csv", ROLLOUT)]) == 0
    only = "week_start,station,name,time_zone\n2022-05-02,508,Atlanta,America/New_York\n"
    assert main(["schedule", "import", write(tmp_path, "one.csv", only)]) == 0
    assert {row.station: row.pulled for row in rows(db, tables.sites)} == {
        "508": False,
        "459": False,
        "358": False,
    }
    assert main(["schedule", "import", write(tmp_path, "one.csv", only), "--replace"]) == 0
    sites = {row.station: row.pulled for row in rows(db, tables.sites)}
    assert sites == {"508": False, "459": True, "358": True}


def test_missing_file_exits_2_naming_it(db, tmp_path, capsys):
    assert main(["schedule", "import", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err
    assert main(["roster", "import", str(tmp_path / "gone.csv")]) == 2
    assert "gone.csv" in capsys.readouterr().err


def test_show_and_export_round_trip(db, tmp_path, capsys):
    assert main(["schedule", "import", write(tmp_path, "plan.csv", ROLLOUT)]) == 0
    capsys.readouterr()
    out = tmp_path / "exported.csv"
    assert main(["schedule", "export", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["schedule", "export"]) == 0
    stdout = capsys.readouterr().out
    assert stdout == out.read_text(encoding="utf-8")
    # Re-importing the export changes nothing.
    assert main(["schedule", "import", str(out), "--dry-run"]) == 0
    assert "No changes" in capsys.readouterr().out

    assert main(["schedule", "show", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    atlanta = next(row for row in shown if row["station"] == "508")
    assert atlanta == {
        "week_start": "2022-05-02",
        "station": "508",
        "name": "Atlanta",
        "time_zone": "America/New_York",
        "go_live_date": "2022-05-02",
        "status": "planned",
        "pulled": False,
        "opens_at": "2022-05-02T11:00:00+00:00",
        "retires_at": "2022-05-09T21:00:00+00:00",
    }
    assert main(["schedule", "show", "--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "week_start,station,name,time_zone,go_live_date,status,pulled,opens_at,retires_at"
    assert len(csv_lines) == 4
    assert main(["schedule", "show"]) == 0
    table = capsys.readouterr().out
    assert "Honolulu" in table and "2022-05-04" in table


def test_preview_json_exact_shape_order_and_bounds(db, tmp_path, capsys):
    assert main(["schedule", "import", write(tmp_path, "plan.csv", ROLLOUT)]) == 0
    capsys.readouterr()
    # Atlanta opens 2022-05-02T11:00Z; Honolulu 2022-05-04T17:00Z; Manila 2022-05-08T23:00Z.
    args = ["schedule", "preview", "--from", "2022-05-02T11:00:00Z", "--to", "2022-05-08T23:00:00Z"]
    assert main([*args, "--format", "json"]) == 0
    actions = json.loads(capsys.readouterr().out)
    assert actions == [
        {"at": "2022-05-02T11:00:00+00:00", "action": "open", "station": "508", "name": "Atlanta"},
        {"at": "2022-05-04T17:00:00+00:00", "action": "open", "station": "459", "name": "Honolulu"},
    ]
    assert (
        main(["schedule", "preview", "--from", "2022-05-01", "--to", "2022-05-20", "--format", "json"]) == 0
    )
    everything = json.loads(capsys.readouterr().out)
    assert [a["at"] for a in everything] == sorted(a["at"] for a in everything)
    assert len(everything) == 6
    assert main(args) == 0
    assert "Atlanta" in capsys.readouterr().out


def test_preview_of_empty_plan_prints_empty_array(db, capsys):
    assert (
        main(
            [
                "schedule",
                "preview",
                "--from",
                "2022-01-01T00:00Z",
                "--to",
                "2023-01-01T00:00Z",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == "[]"


def test_roster_import_duty_and_show(db, tmp_path, capsys):
    assert main(["roster", "import", write(tmp_path, "roster.csv", ROSTER), "--dry-run"]) == 0
    assert "nothing was changed" in capsys.readouterr().out
    assert main(["roster", "duty", "--at", "2022-05-03T15:00:00Z"]) == 1  # no roster yet
    capsys.readouterr()
    assert main(["roster", "import", write(tmp_path, "roster.csv", ROSTER), "--actor", "lead"]) == 0
    capsys.readouterr()
    assert main(["roster", "duty", "--at", "2022-05-03T15:00:00Z", "--format", "json"]) == 0
    duty = json.loads(capsys.readouterr().out)
    assert duty["week_start"] == "2022-05-02"
    assert duty["primary"]["key"] == "jane" and duty["backup"]["key"] == "marcus"
    assert duty["assignee"] == "jane"
    assert main(["roster", "duty", "--at", "2022-05-03T15:00:00Z"]) == 0
    assert "Jane Doe" in capsys.readouterr().out
    assert main(["roster", "show"]) == 0
    assert "Marcus Lee" in capsys.readouterr().out
    assert [(a.actor, a.action) for a in rows(db, tables.audit_log)] == [("lead", "roster.import")]


def test_roster_import_bad_rows_change_nothing(db, tmp_path, capsys):
    assert main(["roster", "import", write(tmp_path, "roster.csv", ROSTER)]) == 0
    capsys.readouterr()
    lines = ROSTER.splitlines()
    lines[1] = lines[1].replace("America/New_York", "Nowhere/Land")  # line 2: jane's zone
    lines.append("primary,nobody,,,,,,,,,,2022-05-03,")  # last line: unknown engineer, not a Monday
    assert main(["roster", "import", write(tmp_path, "bad.csv", "\n".join(lines) + "\n")]) == 1
    err = capsys.readouterr().err
    assert "line 2: time_zone 'Nowhere/Land'" in err
    assert f"line {len(lines)}: " in err
    assert "Traceback" not in err
    assert main(["roster", "duty", "--at", "2022-05-03T15:00:00Z", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["primary"]["time_zone"] == "America/New_York"


def test_commands_on_a_database_with_a_simulated_clock_read_that_clock_not_the_wall_clock(
    db, tmp_path, capsys
):
    # A sandbox keeps its simulated clock in its database; `--state-dir .sandbox` commands must
    # judge duty and date their audit rows by it, as the running sandbox does.
    from datetime import UTC, datetime

    from bot.clock import SimulatedClock
    from bot.shared_clock import share_clock_at

    asyncio.run(share_clock_at(db, SimulatedClock(datetime(2022, 5, 3, 15, tzinfo=UTC))))
    assert main(["roster", "import", write(tmp_path, "roster.csv", ROSTER), "--actor", "lead"]) == 0
    capsys.readouterr()
    assert main(["roster", "duty", "--format", "json"]) == 0
    duty = json.loads(capsys.readouterr().out)
    assert duty["at"].startswith("2022-05-03T15:0")
    assert duty["week_start"] == "2022-05-02" and duty["assignee"] == "jane"
    [audit] = [row for row in rows(db, tables.audit_log) if row.action == "roster.import"]
    assert audit.at.date().isoformat() == "2022-05-03"
