"""Sample data: the original rollout plan and a duty roster to go with it.

``sample_plan()`` is the original rollout: 17 weeks from 2022-05-02 to 2022-08-22, about seven VA
medical centres a week, by station number, with their IANA time zones. Weeks with a Monday holiday
(Memorial Day, Juneteenth observed, Independence Day) go live on the Tuesday, and a few sites go live
mid-week. ``sample_roster()`` has six engineers in six time zones, a primary and a backup for every
sample week, some fallback days and an observer in the first weeks.

The same data ships as CSV in ``schedule/data/`` (``sample_rollout.csv``, ``sample_roster.csv``);
a test checks the files still equal ``export_rollout_csv(sample_plan())`` and
``export_roster_csv(sample_roster())``. To regenerate them after changing the data here (this package
itself never writes files)::

    GOLIVE_WRITE_SAMPLE_CSV=1 .venv/bin/pytest tests/schedule/test_sched_sample.py
"""

from __future__ import annotations

from datetime import date, time, timedelta
from importlib import resources

from schedule.plan import PlannedSite, RolloutPlan, Site
from schedule.roster import MONDAY_TO_FRIDAY, DutyRoster, Engineer, RosterWeek

FIRST_WEEK = date(2022, 5, 2)

NY, CHI, DEN, LA = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
DET, IND, PHX = "America/Detroit", "America/Indiana/Indianapolis", "America/Phoenix"

# (week offset, go-live weekday 0=Mon or None for the Monday, station, name, zone)
_ROLLOUT: tuple[tuple[int, int | None, str, str, str], ...] = (
    # 2022-05-02: the far-flung sites first, so the demo shows every kind of zone
    (0, None, "508", "Atlanta", NY),
    (0, None, "528A7", "Syracuse", NY),
    (0, None, "459", "Honolulu", "Pacific/Honolulu"),
    (0, None, "463", "Anchorage", "America/Anchorage"),
    (0, None, "644", "Phoenix", PHX),
    (0, None, "672", "San Juan", "America/Puerto_Rico"),
    (0, 2, "358", "Manila", "Asia/Manila"),
    # 2022-05-09
    (1, None, "509", "Augusta", NY),
    (1, None, "521", "Birmingham", CHI),
    (1, None, "534", "Charleston", NY),
    (1, None, "544", "Columbia SC", NY),
    (1, None, "557", "Dublin", NY),
    (1, 2, "619", "Montgomery", CHI),
    (1, 2, "679", "Tuscaloosa", CHI),
    # 2022-05-16
    (2, None, "516", "Bay Pines", NY),
    (2, None, "546", "Miami", NY),
    (2, None, "548", "West Palm Beach", NY),
    (2, None, "573", "Gainesville", NY),
    (2, None, "673", "Tampa", NY),
    (2, None, "675", "Orlando", NY),
    (2, 3, "459GE", "Guam", "Pacific/Guam"),
    # 2022-05-23
    (3, None, "596", "Lexington", NY),
    (3, None, "603", "Louisville", NY),
    (3, None, "614", "Memphis", CHI),
    (3, None, "621", "Mountain Home", NY),
    (3, None, "626", "Nashville", CHI),
    (3, None, "581", "Huntington", NY),
    (3, None, "517", "Beckley", NY),
    # 2022-05-30 (Memorial Day: go-live on Tuesday)
    (4, 1, "538", "Chillicothe", NY),
    (4, 1, "539", "Cincinnati", NY),
    (4, 1, "541", "Cleveland", NY),
    (4, 1, "552", "Dayton", NY),
    (4, 1, "757", "Columbus", NY),
    (4, 1, "506", "Ann Arbor", DET),
    (4, 1, "553", "Detroit", DET),
    # 2022-06-06
    (5, None, "515", "Battle Creek", DET),
    (5, None, "655", "Saginaw", DET),
    (5, None, "583", "Indianapolis", IND),
    (5, None, "610", "Marion IN", IND),
    (5, None, "550", "Danville", CHI),
    (5, None, "585", "Iron Mountain", "America/Menominee"),
    (5, None, "537", "Chicago", CHI),
    # 2022-06-13
    (6, None, "556", "North Chicago", CHI),
    (6, None, "578", "Hines", CHI),
    (6, None, "607", "Madison", CHI),
    (6, None, "676", "Tomah", CHI),
    (6, None, "695", "Milwaukee", CHI),
    (6, None, "618", "Minneapolis", CHI),
    (6, None, "656", "St. Cloud", CHI),
    # 2022-06-20 (Juneteenth observed: go-live on Tuesday)
    (7, 1, "437", "Fargo", CHI),
    (7, 1, "438", "Sioux Falls", CHI),
    (7, 1, "568", "Fort Meade", DEN),
    (7, 1, "636", "Omaha", CHI),
    (7, 1, "636A6", "Des Moines", CHI),
    (7, 1, "636A8", "Iowa City", CHI),
    (7, 1, "589", "Kansas City", CHI),
    # 2022-06-27
    (8, None, "589A4", "Columbia MO", CHI),
    (8, None, "589A5", "Topeka", CHI),
    (8, None, "589A7", "Wichita", CHI),
    (8, None, "657", "St. Louis", CHI),
    (8, None, "657A4", "Poplar Bluff", CHI),
    (8, None, "657A5", "Marion IL", CHI),
    (8, 2, "635", "Oklahoma City", CHI),
    # 2022-07-04 (Independence Day: go-live on Tuesday)
    (9, 1, "623", "Muskogee", CHI),
    (9, 1, "502", "Alexandria", CHI),
    (9, 1, "520", "Biloxi", CHI),
    (9, 1, "564", "Fayetteville AR", CHI),
    (9, 1, "586", "Jackson", CHI),
    (9, 1, "598", "Little Rock", CHI),
    (9, 1, "629", "New Orleans", CHI),
    # 2022-07-11
    (10, None, "667", "Shreveport", CHI),
    (10, None, "549", "Dallas", CHI),
    (10, None, "671", "San Antonio", CHI),
    (10, None, "674", "Temple", CHI),
    (10, None, "740", "Harlingen", CHI),
    (10, None, "504", "Amarillo", CHI),
    (10, 2, "519", "Big Spring", CHI),
    (10, 2, "580", "Houston", CHI),
    # 2022-07-18
    (11, None, "756", "El Paso", DEN),
    (11, None, "501", "Albuquerque", DEN),
    (11, None, "436", "Fort Harrison", DEN),
    (11, None, "442", "Cheyenne", DEN),
    (11, None, "554", "Aurora", DEN),
    (11, None, "575", "Grand Junction", DEN),
    (11, None, "660", "Salt Lake City", DEN),
    (11, 3, "666", "Sheridan", DEN),
    # 2022-07-25
    (12, None, "649", "Prescott", PHX),
    (12, None, "678", "Tucson", PHX),
    (12, None, "593", "Las Vegas", LA),
    (12, None, "654", "Reno", LA),
    (12, None, "531", "Boise", "America/Boise"),
    (12, None, "668", "Spokane", LA),
    (12, None, "687", "Walla Walla", LA),
    # 2022-08-01
    (13, None, "663", "Seattle", LA),
    (13, None, "648", "Portland", LA),
    (13, None, "653", "Roseburg", LA),
    (13, None, "692", "White City", LA),
    (13, None, "570", "Fresno", LA),
    (13, None, "612A4", "Sacramento", LA),
    (13, None, "640", "Palo Alto", LA),
    # 2022-08-08
    (14, None, "662", "San Francisco", LA),
    (14, None, "600", "Long Beach", LA),
    (14, None, "605", "Loma Linda", LA),
    (14, None, "664", "San Diego", LA),
    (14, None, "691", "West Los Angeles", LA),
    (14, 2, "593GA", "Pahrump", LA),
    (14, 2, "654GB", "Carson Valley", LA),
    # 2022-08-15
    (15, None, "402", "Togus", NY),
    (15, None, "405", "White River Junction", NY),
    (15, None, "518", "Bedford", NY),
    (15, None, "523", "Boston", NY),
    (15, None, "608", "Manchester", NY),
    (15, None, "631", "Northampton", NY),
    (15, None, "650", "Providence", NY),
    (15, 2, "689", "West Haven", NY),
    # 2022-08-22
    (16, None, "526", "Bronx", NY),
    (16, None, "528", "Buffalo", NY),
    (16, None, "528A8", "Albany", NY),
    (16, None, "561", "East Orange", NY),
    (16, None, "630", "New York Harbor", NY),
    (16, None, "632", "Northport", NY),
    (16, 2, "642", "Philadelphia", NY),
)


def sample_plan() -> RolloutPlan:
    """The original rollout: 2022-05-02 to 2022-08-22, about seven sites a week."""
    entries = []
    for week_offset, weekday, station, name, time_zone in _ROLLOUT:
        week_start = FIRST_WEEK + timedelta(weeks=week_offset)
        go_live = week_start + timedelta(days=weekday or 0)
        entries.append(PlannedSite(Site(station, name, time_zone), week_start, go_live))
    return RolloutPlan(tuple(entries))


def _engineer(
    key: str,
    name: str,
    guid: str,
    zone: str,
    start: time,
    end: time,
    production_access: bool,
    work_days: frozenset[int] = MONDAY_TO_FRIDAY,
) -> Engineer:
    user = name.lower().replace(" ", ".")
    return Engineer(
        key=key,
        name=name,
        aad_object_id=guid,
        servicenow_user=user,
        time_zone=zone,
        work_start=start,
        work_end=end,
        work_days=work_days,
        production_access=production_access,
        email=f"{user}@example.va.gov",
        github_login=name.lower().replace(" ", "-"),  # the GitHub emulator's sample logins
    )


SAMPLE_ENGINEERS = (
    _engineer("jane", "Jane Doe", "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01", NY, time(8), time(17), True),
    _engineer("marcus", "Marcus Lee", "6c1daf5f-2a8e-4d3b-8f4c-1b2e3d4f5a02", CHI, time(8), time(17), True),
    _engineer("priya", "Priya Shah", "7d2eb060-3b9f-4e4c-9a5d-2c3f4e5a6b03", DEN, time(8), time(17), False),
    _engineer("tom", "Tom Nguyen", "8e3fc171-4ca0-4f5d-8b6e-3d4a5f6b7c04", LA, time(8), time(17), True),
    _engineer("rosa", "Rosa Martinez", "9f40d282-5db1-4a6e-9c7f-4e5b6a7c8d05", PHX, time(9), time(18), True),
    _engineer(
        "kai",
        "Kai Akana",
        "a051e393-6ec2-4b7f-8d80-5f6c7b8d9e06",
        "Pacific/Honolulu",
        time(7),
        time(16),
        False,
    ),
)

# (primary, backup) per sample week, in order; every pair has production access.
_PAIRS = (
    ("jane", "marcus"),
    ("marcus", "priya"),
    ("tom", "jane"),
    ("priya", "rosa"),
    ("rosa", "kai"),
    ("jane", "tom"),
    ("marcus", "rosa"),
    ("kai", "jane"),
    ("tom", "priya"),
    ("rosa", "marcus"),
    ("jane", "kai"),
    ("priya", "tom"),
    ("marcus", "jane"),
    ("kai", "rosa"),
    ("tom", "marcus"),
    ("rosa", "priya"),
    ("jane", "tom"),
)
# week offset -> {weekday (0=Mon): fallback engineer}
_FALLBACKS = {
    0: {4: "rosa"},
    2: {2: "priya"},
    4: {4: "jane"},
    9: {1: "priya"},
    15: {3: "kai", 4: "kai"},
}
# Kai is new: shadows the first three weeks before taking a turn.
_OBSERVERS = {0: ("kai",), 1: ("kai",), 2: ("kai",)}


def sample_roster() -> DutyRoster:
    """Six engineers in six zones, on duty for every sample week."""
    weeks = []
    for offset, (primary, backup) in enumerate(_PAIRS):
        week_start = FIRST_WEEK + timedelta(weeks=offset)
        fallback = {week_start + timedelta(days=d): key for d, key in _FALLBACKS.get(offset, {}).items()}
        weeks.append(RosterWeek(week_start, primary, backup, fallback, _OBSERVERS.get(offset, ())))
    return DutyRoster.of(SAMPLE_ENGINEERS, weeks)


def _data_file(name: str) -> str:
    return resources.files("schedule").joinpath("data", name).read_text(encoding="utf-8")


def sample_rollout_csv() -> str:
    """The shipped ``schedule/data/sample_rollout.csv`` (the sample plan as rollout CSV)."""
    return _data_file("sample_rollout.csv")


def sample_roster_csv() -> str:
    """The shipped ``schedule/data/sample_roster.csv`` (the sample roster as roster CSV)."""
    return _data_file("sample_roster.csv")
