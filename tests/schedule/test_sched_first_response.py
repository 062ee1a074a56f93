"""The first-response clock waits for working hours, and nobody is @mentioned in their night."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.first_response import escalation_target, first_response_clock_start
from schedule.roster import (
    MONDAY_TO_FRIDAY,
    NO_DUTY,
    DutyRoster,
    Engineer,
    RosterWeek,
    duty_at,
    is_working,
    next_pickup,
    pick_assignee,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def engineer(
    key: str, zone: str, start: time = time(8), end: time = time(17), days=MONDAY_TO_FRIDAY
) -> Engineer:
    guid = str(uuid.uuid5(uuid.NAMESPACE_DNS, key))
    return Engineer(key, key.title(), guid, f"{key}.user", zone, start, end, days, True)


NY = engineer("ny", "America/New_York")
LA = engineer("la", "America/Los_Angeles")
BERLIN = engineer("berlin", "Europe/Berlin")
HI = engineer("hi", "Pacific/Honolulu", time(7), time(16))
MANILA = engineer("manila", "Asia/Manila", time(9), time(18))


def duty_of(primary: Engineer, backup: Engineer, at: datetime, fallback: dict | None = None, extra=()):
    monday = (at - timedelta(days=3)).date()
    monday -= timedelta(days=monday.weekday())
    weeks = [RosterWeek(monday + timedelta(weeks=n), primary.key, backup.key, fallback or {}) for n in (0, 1)]
    roster = DutyRoster.of({primary, backup, *extra}, weeks)
    return duty_at(roster, at)


def test_the_clock_starts_at_the_post_when_someone_is_working():
    at = utc(2022, 5, 3, 15)  # 11:00 in New York
    assert first_response_clock_start(duty_of(NY, HI, at), at) == at


def test_a_night_post_starts_the_clock_at_the_earliest_start_of_working_hours_across_zones():
    at = utc(2022, 5, 3, 2)  # Mon 19:00 in Los Angeles (done), Tue 04:00 in Berlin (not yet)
    assert first_response_clock_start(duty_of(LA, BERLIN, at), at) == utc(2022, 5, 3, 6)  # 08:00 CEST
    at = utc(2022, 5, 4, 3)  # Tue 23:00 in New York, Tue 17:00 in Honolulu
    assert first_response_clock_start(duty_of(NY, HI, at), at) == utc(2022, 5, 4, 12)  # 08:00 EDT


def test_a_friday_evening_post_waits_for_monday_morning():
    at = utc(2022, 5, 7, 3)  # Friday 17:00 in Honolulu: the last of them just stopped
    duty = duty_of(NY, HI, at)
    assert pick_assignee(duty, at) is None
    assert first_response_clock_start(duty, at) == utc(2022, 5, 9, 12)  # Monday 08:00 EDT


def test_a_weekend_post_waits_for_the_first_working_day_in_each_zone():
    at = utc(2022, 5, 7, 20)  # Saturday
    # Manila's Monday 09:00 is Monday 01:00 UTC, long before New York's Monday
    assert first_response_clock_start(duty_of(NY, MANILA, at), at) == utc(2022, 5, 9, 1)


def test_the_clock_start_follows_the_spring_forward_change():
    at = utc(2022, 3, 12, 20)  # Saturday; clocks in New York go forward on Sunday the 13th
    # Monday 08:00 is 12:00 UTC under EDT (it was 13:00 UTC the Monday before, under EST)
    assert first_response_clock_start(duty_of(NY, LA, at), at) == utc(2022, 3, 14, 12)
    assert first_response_clock_start(duty_of(NY, LA, utc(2022, 3, 5, 20)), utc(2022, 3, 5, 20)) == utc(
        2022, 3, 7, 13
    )


def test_the_clock_start_follows_the_fall_back_change():
    at = utc(2022, 11, 5, 3)  # Friday 20:00 PDT in Los Angeles; clocks go back on Sunday the 6th
    assert first_response_clock_start(duty_of(NY, LA, at), at) == utc(2022, 11, 7, 13)  # 08:00 EST


def test_an_engineer_whose_zone_jumps_over_the_start_of_work_starts_when_the_clock_lands():
    early = engineer("early", "America/New_York", time(2, 30), time(10))
    weekend = engineer("weekend", "America/New_York", time(2, 30), time(10), frozenset({7}))
    at = utc(2022, 3, 13, 6)  # Sunday 01:00 EST; 02:30 does not exist that night
    duty = duty_of(early, weekend, at)
    # 02:30 does not exist: work starts when the clock jumps to 03:00 EDT, as is_working sees it
    assert first_response_clock_start(duty, at) == utc(2022, 3, 13, 7)
    assert not is_working(early, utc(2022, 3, 13, 6, 59, 59))
    assert is_working(weekend, utc(2022, 3, 13, 7))


def test_the_fallback_counts_only_on_their_date():
    roster = DutyRoster.of(
        [NY, HI, MANILA], [RosterWeek(date(2022, 5, 2), "ny", "hi", {date(2022, 5, 4): "manila"})]
    )
    at = utc(2022, 5, 4, 2, 30)  # Tue 22:30 New York, Tue 16:30 Honolulu, Wed 10:30 Manila (its date)
    duty = duty_at(roster, at)
    assert duty.fallback == MANILA and first_response_clock_start(duty, at) == at
    at = utc(2022, 5, 3, 10)  # Tue 06:00 New York, Tue 00:00 Honolulu, Tue 18:00 Manila (not its date)
    duty = duty_at(roster, at)
    assert duty.fallback is None
    assert first_response_clock_start(duty, at) == utc(2022, 5, 3, 12)  # New York 08:00, not Manila
    at = utc(2022, 5, 4, 11)  # Wed 19:00 Manila: its day is over and Thursday is not its date
    duty = duty_at(roster, at)
    assert duty.fallback == MANILA
    assert first_response_clock_start(duty, at) == utc(2022, 5, 4, 12)


def test_with_nobody_on_duty_the_clock_starts_at_once():
    assert first_response_clock_start(NO_DUTY, utc(2022, 5, 3)) == utc(2022, 5, 3)


def test_the_clock_refuses_a_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        first_response_clock_start(NO_DUTY, datetime(2022, 5, 3))


def test_escalation_goes_to_the_backup_then_the_primary_then_the_fallback_if_working():
    roster = DutyRoster.of(
        [NY, HI, BERLIN], [RosterWeek(date(2022, 5, 2), "ny", "hi", {date(2022, 5, 4): "berlin"})]
    )
    tuesday_evening = utc(2022, 5, 3, 19)  # both working: 15:00 New York, 09:00 Honolulu
    assert escalation_target(duty_at(roster, tuesday_evening), tuesday_evening) == HI
    assert escalation_target(duty_at(roster, tuesday_evening), tuesday_evening, exclude=HI) == NY
    morning = utc(2022, 5, 3, 13)  # 09:00 New York; Honolulu asleep
    assert escalation_target(duty_at(roster, morning), morning) == NY
    wednesday = utc(2022, 5, 4, 9)  # 11:00 in Berlin (fallback's date); New York and Honolulu asleep
    assert escalation_target(duty_at(roster, wednesday), wednesday) == BERLIN
    night = utc(2022, 5, 4, 4)  # nobody working
    assert escalation_target(duty_at(roster, night), night) is None


ZONES = [
    "America/New_York",
    "America/Chicago",
    "Pacific/Honolulu",
    "Asia/Manila",
    "Europe/Berlin",
    "America/Phoenix",
]


@st.composite
def duties(draw):
    people = [
        engineer(
            f"e{index}",
            draw(st.sampled_from(ZONES)),
            time(draw(st.integers(0, 12)), draw(st.sampled_from([0, 30]))),
            time(draw(st.integers(13, 23))),
            draw(st.frozensets(st.integers(1, 7), min_size=1)),
        )
        for index in range(3)
    ]
    at = utc(2022, 3, 1) + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 300)))
    fallback_day = draw(st.sampled_from([None, *(at.date() + timedelta(days=d) for d in (-1, 0, 1))]))
    monday = at.date() - timedelta(days=at.date().weekday())
    fallback = (
        {fallback_day: "e2"}
        if fallback_day and fallback_day >= monday and fallback_day < monday + timedelta(days=7)
        else {}
    )
    weeks = [
        RosterWeek(monday + timedelta(weeks=n), "e0", "e1", fallback if n == 0 else {}) for n in (-1, 0, 1)
    ]
    return duty_at(DutyRoster.of(people, weeks), at), at


@settings(derandomize=True, max_examples=300, deadline=None)
@given(duties())
def test_the_clock_start_is_the_first_instant_someone_on_duty_works(case):
    duty, posted_at = case
    start = first_response_clock_start(duty, posted_at)
    assert start >= posted_at
    assert start == (next_pickup(duty, posted_at) or posted_at)  # the "picked up at" reply says the same
    on_duty = [e for e in duty.chain if e is not duty.fallback or duty.fallback_date is not None]
    if start > posted_at:
        assert not any(is_working(e, posted_at) for e in on_duty)
        assert not any(
            is_working(e, start - timedelta(microseconds=1)) for e in duty.chain if e is not duty.fallback
        )
        assert any(is_working(e, start) for e in on_duty)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(duties(), st.integers(0, 3 * 24 * 4).map(lambda q: timedelta(minutes=15 * q)), st.booleans())
def test_nobody_outside_working_hours_is_ever_mentioned_or_picked(case, later, exclude_backup):
    duty, posted_at = case
    at = posted_at + later
    exclude = duty.backup if exclude_backup else None
    target = escalation_target(duty, at, exclude)
    if target is not None:
        assert is_working(target, at) and target != exclude and target in duty.chain
    else:
        assert not any(
            is_working(e, at) for e in (duty.backup, duty.primary, duty.fallback) if e and e != exclude
        )
    picked = pick_assignee(duty, at)
    assert picked is None or is_working(picked, at)
