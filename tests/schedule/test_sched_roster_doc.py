"""The roster CSV example in docs/ROSTER_CSV.md is a roster the import accepts, swap row included."""

import re
from datetime import date
from pathlib import Path

from schedule.roster import parse_roster_csv

DOC = Path(__file__).resolve().parents[2] / "docs" / "ROSTER_CSV.md"


def test_the_documented_example_imports_with_its_swap_and_fallback():
    example = re.search(r"```csv\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert example is not None
    week = parse_roster_csv(example[1]).week(date(2022, 5, 2))
    assert week.swaps == {date(2022, 5, 3)} and week.fallback == {date(2022, 5, 6): "kai"}
