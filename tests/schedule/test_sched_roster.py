"""Who is on duty and who picks up: across time zones, DST, working-hour edges and fallback days."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from schedule.errors import InvalidScheduleValue
from schedule.roster import (
    MONDAY_TO_FRIDAY,
    NO_DUTY,
    DutyRoster,
    Engineer,
    RosterWeek,
    cover_day,
    duty_at,
    duty_changes,
    is_working,
    next_pickup,
    next_roster_pickup,
    pick_assignee,
    role_of,
    week_at,
)
from schedule.sample import sample_roster


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def engineer(
    key: str, zone: str, access: bool = True, start=time(8), end=time(17), days=MONDAY_TO_FRIDAY
) -> Engineer:
    guid = str(uuid.uuid5(uuid.NAMESPACE_DNS, key))
    return Engineer(key, key.title(), guid, f"{key}.user", zone, start, end, days, access)


NY = engineer("ny", "America/New_York")
HI = engineer("hi", "Pacific/Honolulu", access=False, start=time(7), end=time(16))
PHX = engineer("phx", "America/Phoenix", start=time(9), end=time(18))
LA = engineer("la", "America/Los_Angeles", access=False)
WEEK = date(2022, 5, 2)
ROSTER = DutyRoster.of(
    [NY, HI, PHX, LA],
    [
        RosterWeek(WEEK, "ny", "hi", {date(2022, 5, 4): "phx"}, ("la",)),
        RosterWeek(WEEK + timedelta(days=7), "hi", "phx"),
    ],
)


def test_primary_is_picked_when_working():
    at = utc(2022, 5, 3, 15)  # Tue 11:00 EDT, 05:00 HST
    duty = duty_at(ROSTER, at)
    assert (duty.primary, duty.backup, duty.fallback, duty.observers) == (NY, HI, None, (LA,))
    assert pick_assignee(duty, at) == NY


def test_backup_is_picked_after_the_primarys_day_ends_in_another_zone():
    at = utc(2022, 5, 3, 22)  # 18:00 EDT: New York is done; 12:00 in Honolulu
    assert pick_assignee(duty_at(ROSTER, at), at) == HI


def test_nobody_is_picked_when_no_one_on_duty_is_working():
    at = utc(2022, 5, 4, 3)  # 23:00 EDT, 17:00 HST
    assert pick_assignee(duty_at(ROSTER, at), at) is None


def test_working_hours_include_the_start_minute_and_exclude_the_end_minute():
    assert not is_working(NY, utc(2022, 5, 3, 11, 59, 59))  # 07:59:59 EDT
    assert is_working(NY, utc(2022, 5, 3, 12))  # 08:00 EDT
    assert is_working(NY, utc(2022, 5, 3, 20, 59, 59))
    assert not is_working(NY, utc(2022, 5, 3, 21))  # 17:00 EDT


def test_working_hours_follow_dst_in_the_engineers_zone():
    # 13:00 UTC is 08:00 EST in winter (working) and 09:00 EDT in summer (working); 12:30 UTC only in summer.
    assert not is_working(NY, utc(2022, 11, 8, 12, 30))  # 07:30 EST
    assert is_working(NY, utc(2022, 11, 8, 13))
    assert is_working(NY, utc(2022, 11, 4, 12, 30))  # 08:30 EDT (before the change on the 6th)
    # Phoenix keeps MST all year: 16:00 UTC is 09:00 both in summer and in winter
    assert is_working(PHX, utc(2022, 7, 5, 16)) and is_working(PHX, utc(2022, 12, 6, 16))


def test_working_days_are_judged_on_the_local_date():
    # Friday 15:00 in Honolulu is already Saturday 01:00 UTC
    assert is_working(HI, utc(2022, 5, 7, 1))
    # Monday 01:00 UTC is still Sunday in New York
    assert not is_working(NY, utc(2022, 5, 9, 1))


def test_is_working_refuses_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working(NY, datetime(2022, 5, 3, 12))


def test_fallback_is_first_pick_on_their_date_on_their_own_clock():
    at = utc(2022, 5, 4, 17)  # Wed 10:00 MST in Phoenix, 13:00 EDT in New York
    duty = duty_at(ROSTER, at)
    assert duty.fallback == PHX and duty.fallback_date == date(2022, 5, 4)
    assert duty.chain == (PHX, NY, HI)
    assert pick_assignee(duty, at) == PHX
    assert role_of(ROSTER, PHX.aad_object_id, at) == "fallback"


def test_primary_covers_the_fallback_date_when_the_fallback_is_not_working():
    at = utc(2022, 5, 4, 13)  # Wed 09:00 EDT, 06:00 in Phoenix
    assert pick_assignee(duty_at(ROSTER, at), at) == NY


def test_fallback_date_ends_at_midnight_on_the_fallbacks_clock():
    assert duty_at(ROSTER, utc(2022, 5, 5, 6, 59)).fallback == PHX  # 23:59 Wed in Phoenix
    assert duty_at(ROSTER, utc(2022, 5, 5, 7)).fallback is None  # 00:00 Thu in Phoenix


def test_week_takes_effect_at_monday_midnight_on_the_primarys_clock():
    # week 2's primary is in Honolulu: it starts at Mon 00:00 HST = Mon 10:00 UTC
    assert duty_at(ROSTER, utc(2022, 5, 9, 9, 59)).primary == NY
    assert duty_at(ROSTER, utc(2022, 5, 9, 10)).primary == HI
    # week 1's primary is in New York: it starts at Mon 00:00 EDT = Mon 04:00 UTC
    assert duty_at(ROSTER, utc(2022, 5, 2, 3, 59)) == NO_DUTY
    assert week_at(ROSTER, utc(2022, 5, 2, 4)).week_start == WEEK


def test_last_week_ends_seven_local_days_after_it_starts():
    assert duty_at(ROSTER, utc(2022, 5, 16, 9, 59)).primary == HI
    assert duty_at(ROSTER, utc(2022, 5, 16, 10)) == NO_DUTY


def test_roles_by_entra_object_id():
    at = utc(2022, 5, 3, 15)
    assert role_of(ROSTER, NY.aad_object_id, at) == "primary"
    assert role_of(ROSTER, HI.aad_object_id.upper(), at) == "backup"
    assert role_of(ROSTER, LA.aad_object_id, at) == "observer"
    assert role_of(ROSTER, PHX.aad_object_id, at) is None
    assert role_of(ROSTER, "not-a-known-id", at) is None
    assert role_of(ROSTER, NY.aad_object_id, utc(2022, 5, 10, 15)) is None  # week 2: not on duty


def test_next_pickup_is_now_when_someone_is_working():
    at = utc(2022, 5, 3, 15)
    assert next_pickup(duty_at(ROSTER, at), at) == at


def test_next_pickup_is_the_next_start_of_a_working_day():
    at = utc(
        2022, 5, 4, 3
    )  # Tue 23:00 EDT; Honolulu starts 07:00 HST = 17:00 UTC, New York 08:00 EDT = 12:00 UTC
    # Wednesday is Phoenix's fallback date: 09:00 MST = 16:00 UTC, after New York's start
    assert next_pickup(duty_at(ROSTER, at), at) == utc(2022, 5, 4, 12)


def test_next_pickup_over_the_weekend_is_monday_morning():
    at = utc(2022, 5, 7, 3)  # Friday 17:00 in Honolulu, the last one working
    duty = duty_at(ROSTER, at)
    assert pick_assignee(duty, at) is None
    assert next_pickup(duty, at) == utc(2022, 5, 9, 12)  # Mon 08:00 EDT


def test_next_pickup_counts_the_fallback_only_on_their_date():
    only_fallback = duty_at(ROSTER, utc(2022, 5, 4, 17))
    later = utc(2022, 5, 5, 2)  # Wed 19:00 Phoenix
    solo = type(only_fallback)(None, None, PHX, (), WEEK, date(2022, 5, 4))
    assert next_pickup(solo, later) is None
    assert next_pickup(only_fallback, later) == utc(2022, 5, 5, 12)


def test_next_pickup_returns_none_for_nobody_on_duty():
    assert next_pickup(NO_DUTY, utc(2022, 5, 3)) is None


def test_next_roster_pickup_follows_the_hand_off_to_the_next_week():
    at = utc(2022, 5, 7, 3)  # Fri evening; next week's pair is Honolulu + Phoenix
    assert next_roster_pickup(ROSTER, at) == utc(2022, 5, 9, 16)  # Mon 09:00 MST in Phoenix


def test_duty_changes_lists_week_hand_offs_and_fallback_days_only():
    changes = duty_changes(ROSTER, utc(2022, 5, 1), utc(2022, 5, 20))
    assert [(at, before.who, after.who) for at, before, after in changes] == [
        (utc(2022, 5, 2, 4), (None, None, None), ("ny", "hi", None)),
        (utc(2022, 5, 4, 7), ("ny", "hi", None), ("ny", "hi", "phx")),
        (utc(2022, 5, 5, 7), ("ny", "hi", "phx"), ("ny", "hi", None)),
        (utc(2022, 5, 9, 10), ("ny", "hi", None), ("hi", "phx", None)),
        (utc(2022, 5, 16, 10), ("hi", "phx", None), (None, None, None)),
    ]


def test_duty_changes_is_half_open():
    assert duty_changes(ROSTER, utc(2022, 5, 2, 4, 0, 1), utc(2022, 5, 4, 7)) == []


def test_duty_changes_skips_boundaries_where_nobody_changes():
    roster = DutyRoster.of(
        [NY, HI], [RosterWeek(WEEK, "ny", "hi"), RosterWeek(WEEK + timedelta(days=7), "ny", "hi")]
    )
    assert [at for at, _, _ in duty_changes(roster, utc(2022, 5, 1), utc(2022, 5, 20))] == [
        utc(2022, 5, 2, 4),
        utc(2022, 5, 16, 4),
    ]


def test_a_pair_without_production_access_is_refused():
    with pytest.raises(InvalidScheduleValue, match="production access"):
        DutyRoster.of([HI, LA], [RosterWeek(WEEK, "hi", "la")])


def test_roster_refuses_same_primary_and_backup_unknown_engineers_and_stray_fallback_dates():
    with pytest.raises(InvalidScheduleValue, match="two different engineers"):
        DutyRoster.of([NY], [RosterWeek(WEEK, "ny", "ny")])
    with pytest.raises(InvalidScheduleValue, match="not a known engineer"):
        DutyRoster.of([NY], [RosterWeek(WEEK, "ny", "ghost")])
    with pytest.raises(InvalidScheduleValue, match="outside the week"):
        DutyRoster.of([NY, HI, PHX], [RosterWeek(WEEK, "ny", "hi", {date(2022, 5, 9): "phx"})])
    with pytest.raises(InvalidScheduleValue, match="already the primary"):
        DutyRoster.of([NY, HI], [RosterWeek(WEEK, "ny", "hi", {date(2022, 5, 3): "ny"})])


def test_a_fallback_date_of_the_backup_is_read_as_a_swap_so_the_backup_leads_as_primary():
    # Changed on purpose: this used to give "primary ny, backup hi, fallback hi" (the swap bug).
    roster = DutyRoster.of([NY, HI], [RosterWeek(WEEK, "ny", "hi", {date(2022, 5, 3): "hi"})])
    assert roster.week(WEEK) == RosterWeek(WEEK, "ny", "hi", swaps=frozenset({date(2022, 5, 3)}))
    duty = duty_at(roster, datetime(2022, 5, 3, 20, 0, tzinfo=UTC))
    assert (duty.primary, duty.backup, duty.fallback, duty.swapped) == (HI, NY, None, True)


def test_cover_day_by_the_backup_records_a_swap_and_by_the_primary_hands_the_day_back():
    roster = DutyRoster.of([NY, HI], [RosterWeek(WEEK, "ny", "hi")])
    swapped = cover_day(roster, "hi", date(2022, 5, 3))
    assert swapped.week(WEEK).swaps == {date(2022, 5, 3)} and swapped.week(WEEK).fallback == {}
    assert cover_day(swapped, "ny", date(2022, 5, 3)) == roster


def test_engineer_refuses_bad_hours_days_and_zone():
    with pytest.raises(InvalidScheduleValue):
        engineer("x", "America/New_York", start=time(17), end=time(8))
    with pytest.raises(InvalidScheduleValue):
        engineer("x", "America/New_York", days=frozenset({0}))
    with pytest.raises(InvalidScheduleValue):
        engineer("x", "Central Standard Time")


def test_roster_values_are_hashable_and_compare_by_value():
    assert hash(ROSTER) == hash(DutyRoster.of([PHX, LA, HI, NY], reversed(ROSTER.weeks)))
    assert ROSTER.week(WEEK).fallback == {date(2022, 5, 4): "phx"}


def test_sample_roster_has_someone_working_on_the_demo_morning():
    roster = sample_roster()
    at = utc(2022, 5, 3, 15)
    duty = duty_at(roster, at)
    assert pick_assignee(duty, at) is not None
    assert duty.observers  # a new member shadows in the first week
