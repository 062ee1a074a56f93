"""`swap` is a roster fact: primary and backup exchange roles for one day on the week's clock, and
everything that asks who is on duty follows it. (The bug it fixes: after a swap, duty said
"Primary Jane, Backup Marcus, Fallback Marcus" and Marcus was asked first and @mentioned again.)"""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.errors import InvalidScheduleValue, RosterImportError
from schedule.first_response import escalation_target
from schedule.roster import (
    MONDAY_TO_FRIDAY,
    DutyRoster,
    Engineer,
    RosterWeek,
    cover_day,
    duty_at,
    duty_changes,
    duty_day,
    export_roster_csv,
    parse_roster_csv,
    pick_assignee,
    role_of,
    swap_day,
    swap_today,
)
from schedule.sample import sample_roster


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def engineer(key: str, zone: str, start: time = time(8), end: time = time(17)) -> Engineer:
    guid = str(uuid.uuid5(uuid.NAMESPACE_DNS, key))
    return Engineer(key, key.title(), guid, f"{key}.user", zone, start, end, MONDAY_TO_FRIDAY, True)


NY = engineer("ny", "America/New_York")  # 12:00-21:00 UTC in May
HI = engineer("hi", "Pacific/Honolulu", time(7), time(16))  # 17:00-02:00 UTC
PHX = engineer("phx", "America/Phoenix", time(9), time(18))  # 16:00-01:00 UTC
WEEK = date(2022, 5, 2)
TUESDAY = date(2022, 5, 3)
ROSTER = DutyRoster.of([NY, HI, PHX], [RosterWeek(WEEK, "ny", "hi", {date(2022, 5, 6): "phx"})])
SWAPPED = swap_day(ROSTER, TUESDAY, utc(2022, 5, 3, 15))


def test_a_swap_on_tuesday_exchanges_primary_and_backup_on_tuesday_only():
    for day in (2, 4, 5):
        duty = duty_at(SWAPPED, utc(2022, 5, day, 18))
        assert (duty.primary, duty.backup, duty.swapped) == (NY, HI, False)
    duty = duty_at(SWAPPED, utc(2022, 5, 3, 18))
    assert (duty.primary, duty.backup, duty.fallback, duty.swapped) == (HI, NY, None, True)


def test_the_swapped_day_is_a_day_on_the_primarys_clock():
    # Tuesday in New York runs 04:00 UTC Tuesday to 04:00 UTC Wednesday
    assert duty_at(SWAPPED, utc(2022, 5, 3, 3, 59)).primary == NY
    assert duty_at(SWAPPED, utc(2022, 5, 3, 4)).primary == HI
    assert duty_at(SWAPPED, utc(2022, 5, 4, 3, 59)).primary == HI
    # 04:00 UTC Wednesday is still Tuesday 18:00 in Honolulu, but the week runs on New York's clock
    assert duty_at(SWAPPED, utc(2022, 5, 4, 4)).primary == NY


def test_swapping_again_hands_the_day_back():
    assert swap_day(SWAPPED, TUESDAY, utc(2022, 5, 3, 20)) == ROSTER


def test_role_of_pick_assignee_and_escalation_follow_the_swap():
    at = utc(2022, 5, 3, 18)  # both working: 14:00 in New York, 08:00 in Honolulu
    assert role_of(SWAPPED, HI.aad_object_id.upper(), at) == "primary"
    assert role_of(SWAPPED, NY.aad_object_id, at) == "backup"
    assert pick_assignee(duty_at(SWAPPED, at), at) == HI
    assert pick_assignee(duty_at(ROSTER, at), at) == NY
    assert escalation_target(duty_at(SWAPPED, at), at) == NY
    assert escalation_target(duty_at(ROSTER, at), at) == HI


def test_the_sample_week_swap_asks_marcus_first_and_mentions_jane_never_marcus_twice():
    roster = sample_roster()
    at = utc(2022, 5, 3, 15)  # Tuesday 11:00 in New York (Jane), 10:00 in Chicago (Marcus)
    duty = duty_at(swap_today(roster, at), at)
    assert (duty.primary.key, duty.backup.key, duty.fallback) == ("marcus", "jane", None)
    assert pick_assignee(duty, at).key == "marcus"
    assert escalation_target(duty, at).key == "jane"


def test_a_swap_on_a_fallback_day_leaves_the_fallback_alone():
    friday = swap_day(ROSTER, date(2022, 5, 6), utc(2022, 5, 6, 13))
    duty = duty_at(friday, utc(2022, 5, 6, 18))
    assert (duty.primary, duty.backup, duty.fallback) == (HI, NY, PHX)
    assert duty.chain == (PHX, HI, NY)


def test_swap_today_uses_the_day_on_the_weeks_clock():
    late = utc(2022, 5, 4, 2)  # Tuesday 22:00 in New York, Tuesday 16:00 in Honolulu
    assert duty_day(ROSTER, late) == TUESDAY
    assert swap_today(ROSTER, late).week(WEEK).swaps == {TUESDAY}
    with pytest.raises(InvalidScheduleValue, match="no roster week is in force"):
        swap_today(ROSTER, utc(2022, 6, 1, 12))


def test_a_day_that_is_over_or_outside_every_week_cannot_be_swapped():
    with pytest.raises(InvalidScheduleValue, match="already over"):
        swap_day(ROSTER, date(2022, 5, 2), utc(2022, 5, 3, 4))
    with pytest.raises(InvalidScheduleValue, match="no roster week holds 2022-05-10"):
        swap_day(ROSTER, date(2022, 5, 10), utc(2022, 5, 3, 4))
    # a day later in the week may be planned ahead
    assert swap_day(ROSTER, date(2022, 5, 5), utc(2022, 5, 3, 4)).week(WEEK).swaps == {date(2022, 5, 5)}


def test_swap_boundaries_are_hand_offs():
    changes = duty_changes(SWAPPED, utc(2022, 5, 3), utc(2022, 5, 5))
    assert [(at, before.who, after.who) for at, before, after in changes] == [
        (utc(2022, 5, 3, 4), ("ny", "hi", None), ("hi", "ny", None)),
        (utc(2022, 5, 4, 4), ("hi", "ny", None), ("ny", "hi", None)),
    ]


def test_swaps_survive_the_roster_csv_round_trip_as_swap_rows():
    text = export_roster_csv(SWAPPED)
    assert "swap,hi,,,,,,,,,,2022-05-02,2022-05-03,," in text.splitlines()
    assert parse_roster_csv(text) == SWAPPED


def test_a_legacy_fallback_of_the_backup_is_read_as_a_swap():
    legacy = cover_day(ROSTER, "hi", TUESDAY)  # how `swap` was stored before
    assert legacy == SWAPPED
    text = export_roster_csv(ROSTER).replace(
        "backup,hi,,,,,,,,,,2022-05-02,,,",
        "backup,hi,,,,,,,,,,2022-05-02,,,\nfallback,hi,,,,,,,,,,,2022-05-03,,",
    )
    assert parse_roster_csv(text) == SWAPPED


def test_swap_rows_must_name_the_pair_and_a_day_once():
    base = export_roster_csv(ROSTER)
    with pytest.raises(RosterImportError) as caught:
        parse_roster_csv(
            base
            + "swap,phx,,,,,,,,,,,2022-05-03,,\n"
            + "swap,hi,,,,,,,,,,,2022-05-04,,\nswap,ny,,,,,,,,,,,2022-05-04,,\n"
            + "swap,ny,,,,,,,,,,,,,\n"
        )
    lines = len(base.splitlines())
    assert [str(error) for error in caught.value.errors] == [
        f"line {lines + 1}: swap on 2022-05-03 names phx, who is neither the primary (ny) nor the backup (hi) "
        "of week 2022-05-02",
        f"line {lines + 3}: 2022-05-04 is already swapped (line {lines + 2})",
        f"line {lines + 4}: date is empty (the day primary and backup swap)",
    ]


ZONES = [
    "America/New_York",
    "America/Chicago",
    "Pacific/Honolulu",
    "America/Phoenix",
    "Asia/Manila",
    "Europe/Berlin",
]


@st.composite
def swapped_rosters(draw):
    engineers = [
        engineer(
            f"e{index}",
            draw(st.sampled_from(ZONES)),
            time(draw(st.integers(0, 12))),
            time(draw(st.integers(13, 23))),
        )
        for index in range(4)
    ]
    weeks = []
    for offset in range(draw(st.integers(1, 3))):
        monday = WEEK + timedelta(weeks=offset)
        primary, backup, third, fourth = draw(st.permutations([e.key for e in engineers]))
        days = [monday + timedelta(days=d) for d in range(7)]
        fallback = {
            day: draw(st.sampled_from([backup, third, fourth]))
            for day in draw(st.sets(st.sampled_from(days)))
        }
        swaps = draw(st.frozensets(st.sampled_from(days)))
        weeks.append(RosterWeek(monday, primary, backup, fallback, (), swaps))
    return DutyRoster.of(engineers, weeks)


instants = st.integers(0, 24 * 4 * 24).map(lambda quarter: utc(2022, 5, 1) + timedelta(minutes=15 * quarter))


@settings(derandomize=True, max_examples=200, deadline=None)
@given(swapped_rosters(), instants)
def test_the_fallback_is_never_the_primary_or_the_backup(roster, at):
    duty = duty_at(roster, at)
    if duty.fallback is not None:
        assert duty.fallback not in (duty.primary, duty.backup)
    assert pick_assignee(duty, at) in (*duty.chain, None)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(swapped_rosters(), instants, st.integers(0, 20).map(lambda n: WEEK + timedelta(days=n)))
def test_swapping_a_day_twice_is_no_change_and_once_exchanges_exactly_the_pair(roster, at, day):
    try:
        once = swap_day(roster, day, at)
    except InvalidScheduleValue:
        return
    assert swap_day(once, day, at) == roster
    before, after = duty_at(roster, at), duty_at(once, at)
    assert {before.primary, before.backup} == {after.primary, after.backup}
    assert before.fallback == after.fallback
    assert parse_roster_csv(export_roster_csv(once)) == once
