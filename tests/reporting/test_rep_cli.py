"""``golive report rotation``: output shapes per format and exit codes."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from testkit.reporting import seeded_database

from bot.cli import main


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = asyncio.run(seeded_database(tmp_path))
    monkeypatch.setenv("GOLIVE_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    return url


def test_json_has_the_public_shape(database, capsys):
    assert main(["report", "rotation", "--week", "2022-05-02", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {
        "week",
        "inquiries",
        "by_site",
        "by_day",
        "first_response",
        "re_routes",
        "open_at_retirement",
    } <= set(report)
    assert report["week"] == "2022-05-02" and report["inquiries"] == 8
    assert all({"station", "name", "inquiries"} <= set(site) for site in report["by_site"])
    assert report["by_day"][0] == {"day": 1, "inquiries": 3}
    assert {"answered", "unanswered", "median_s", "p90_s", "within_5_min"} <= set(report["first_response"])
    assert isinstance(report["re_routes"], int) and isinstance(report["open_at_retirement"], int)


def test_markdown_is_the_default_format(database, capsys):
    assert main(["report", "rotation", "--week", "2022-05-02"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Rotation report: week of 2022-05-02\n")
    assert "## By site" in out and "## Going live next week (2022-05-09)" in out


def test_csv_has_one_row_per_site_and_a_total(database, capsys):
    assert main(["report", "rotation", "--week", "2022-05-02", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["station"] for r in rows] == ["508", "640", "528A7", "TOTAL"]
    assert rows[-1]["inquiries"] == "8"


def test_a_week_with_no_data_prints_zeros(database, capsys):
    assert main(["report", "rotation", "--week", "2030-01-07", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inquiries"] == 0 and report["by_site"] == [] and report["open_at_retirement"] == 0
    assert report["first_response"]["answered"] == 0 and report["first_response"]["median_s"] is None


def test_an_empty_new_database_reports_zeros(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOLIVE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh' / 'golive.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "rotation", "--week", "2022-05-02", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["inquiries"] == 0


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2022-05-04", "is a Wednesday; give the Monday of the rollout week (2022-05-02)"),
        ("next-week", "not a date in YYYY-MM-DD form"),
        ("2022-13-01", "not a valid date"),
    ],
)
def test_a_bad_week_exits_2_with_a_clear_message(database, capsys, week, message):
    assert main(["report", "rotation", "--week", week, "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_an_unknown_format_is_a_usage_error(database, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "rotation", "--week", "2022-05-02", "--format", "xml"])
    assert exit_info.value.code == 2
