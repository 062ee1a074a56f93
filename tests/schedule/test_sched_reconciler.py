"""The reconciler opens each channel at its instant, once, retires it after its window, renames,
cancels pulled sites, and catches up after missed ticks."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.edits import move_site, pull_site, rename_site
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings, window_for
from schedule.reconciler import (
    ChannelAction,
    ChannelState,
    apply_action,
    apply_actions,
    channel_display_name,
    missed_windows,
    reconcile,
)
from schedule.sample import sample_plan


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


WEEK = date(2022, 5, 2)
ATLANTA = PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), WEEK)
HONOLULU = PlannedSite.in_week(Site("459", "Honolulu", "Pacific/Honolulu"), WEEK)
PLAN = RolloutPlan((ATLANTA, HONOLULU))
ONE = RolloutPlan((ATLANTA,))
OPENS_508 = utc(2022, 5, 2, 11)
RETIRES_508 = utc(2022, 5, 9, 21)
SETTINGS = WindowSettings()


def kinds(actions: list[ChannelAction]) -> list[tuple[str, str]]:
    return [(a.kind, a.station) for a in actions]


def test_nothing_happens_before_the_opening_instant():
    assert reconcile(PLAN, {}, OPENS_508 - timedelta(microseconds=1), SETTINGS) == []


def test_channel_opens_at_the_local_opening_instant():
    actions = reconcile(PLAN, {}, OPENS_508, SETTINGS)
    assert kinds(actions) == [("open", "508")]
    action = actions[0]
    assert action.display_name == "Go Live - 508 Atlanta"
    assert action.channel_id is None
    assert action.due_at == OPENS_508
    assert action.window == window_for(ATLANTA, SETTINGS)


def test_planned_state_is_the_same_as_no_state():
    states = {"508": ChannelState("508", "planned")}
    assert kinds(reconcile(PLAN, states, OPENS_508, SETTINGS)) == [("open", "508")]


def test_open_is_never_repeated_after_it_was_applied():
    states = apply_actions({}, reconcile(PLAN, {}, OPENS_508, SETTINGS))
    for later in (OPENS_508, OPENS_508 + timedelta(minutes=1), RETIRES_508 - timedelta(seconds=1)):
        assert all(a.kind != "open" or a.station != "508" for a in reconcile(PLAN, states, later, SETTINGS))


def test_a_restart_with_the_stored_states_opens_nothing_again():
    now = utc(2022, 5, 3, 15)
    states = apply_actions({}, reconcile(PLAN, {}, now, SETTINGS))
    stored = {
        station: ChannelState(s.station, s.status, s.channel_id, s.display_name)
        for station, s in states.items()
    }
    assert reconcile(PLAN, stored, now, SETTINGS) == []
    assert reconcile(PLAN, stored, now + timedelta(hours=3), SETTINGS) == []


def test_channel_retires_at_the_end_of_its_window():
    states = {"508": ChannelState("508", "open", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    assert reconcile(ONE, states, RETIRES_508 - timedelta(microseconds=1), SETTINGS) == []
    actions = reconcile(ONE, states, RETIRES_508, SETTINGS)
    assert kinds(actions) == [("retire", "508")]
    assert actions[0].channel_id == "19:a@thread.tacv2"
    assert reconcile(ONE, apply_actions(states, actions), RETIRES_508 + timedelta(days=30), SETTINGS) == []


def test_retired_channel_is_never_opened_again_even_if_the_site_moves_to_a_later_week():
    states = {"508": ChannelState("508", "retired", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    moved = move_site(ONE, "508", date(2022, 6, 6))
    assert reconcile(moved, states, utc(2022, 6, 7, 15), SETTINGS) == []


def test_channel_is_renamed_when_the_plan_renames_the_site():
    states = {"508": ChannelState("508", "open", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    renamed = rename_site(ONE, "508", "Atlanta VAMC")
    actions = reconcile(renamed, states, utc(2022, 5, 3, 15), SETTINGS)
    assert kinds(actions) == [("rename", "508")]
    assert actions[0].display_name == "Go Live - 508 Atlanta VAMC"
    assert reconcile(renamed, apply_actions(states, actions), utc(2022, 5, 3, 15), SETTINGS) == []


def test_channel_is_renamed_when_the_name_template_changes():
    states = {"508": ChannelState("508", "open", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    actions = reconcile(ONE, states, utc(2022, 5, 3, 15), SETTINGS, name_template="{station} {name} go-live")
    assert [(a.kind, a.display_name) for a in actions] == [("rename", "508 Atlanta go-live")]


def test_pulled_site_with_an_open_channel_is_cancelled_once():
    states = {"508": ChannelState("508", "open", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    pulled = pull_site(ONE, "508")
    actions = reconcile(pulled, states, utc(2022, 5, 3, 15), SETTINGS)
    assert kinds(actions) == [("cancel", "508")]
    assert actions[0].channel_id == "19:a@thread.tacv2"
    after = apply_actions(states, actions)
    assert after["508"].status == "cancelled"
    assert reconcile(pulled, after, utc(2022, 5, 4, 15), SETTINGS) == []


def test_pulled_site_that_never_opened_is_marked_cancelled_and_never_opens():
    pulled = pull_site(ONE, "508")
    actions = reconcile(pulled, {"508": ChannelState("508", "planned")}, utc(2022, 4, 20), SETTINGS)
    assert [(a.kind, a.channel_id) for a in actions] == [("cancel", None)]
    after = apply_actions({"508": ChannelState("508", "planned")}, actions)
    assert reconcile(pulled, after, OPENS_508, SETTINGS) == []


def test_site_removed_from_the_plan_has_its_channel_cancelled():
    states = {"999": ChannelState("999", "open", "19:z@thread.tacv2", "Go Live - 999 Gone")}
    actions = reconcile(PLAN, states, utc(2022, 4, 20), SETTINGS)
    assert [(a.kind, a.station, a.channel_id) for a in actions] == [("cancel", "999", "19:z@thread.tacv2")]
    assert reconcile(PLAN, apply_actions(states, actions), utc(2022, 4, 21), SETTINGS) == []


def test_pulled_site_put_back_into_a_later_week_opens_in_its_new_window():
    pulled = pull_site(ONE, "508")
    states = {"508": ChannelState("508", "cancelled", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    replanned = move_site(pulled, "508", date(2022, 6, 6))
    assert reconcile(replanned, states, utc(2022, 6, 6, 10, 59), SETTINGS) == []
    actions = reconcile(replanned, states, utc(2022, 6, 6, 11), SETTINGS)
    assert [(a.kind, a.channel_id) for a in actions] == [("open", "19:a@thread.tacv2")]


def test_open_channel_of_a_site_moved_to_a_later_week_stays_open_until_the_new_window_ends():
    states = {"508": ChannelState("508", "open", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    moved = move_site(ONE, "508", date(2022, 5, 16))
    assert reconcile(moved, states, RETIRES_508, SETTINGS) == []
    assert kinds(reconcile(moved, states, utc(2022, 5, 23, 21), SETTINGS)) == [("retire", "508")]


def test_catch_up_opens_a_window_in_progress_now():
    actions = reconcile(PLAN, {}, utc(2022, 5, 5, 12), SETTINGS)
    assert kinds(actions) == [("open", "508"), ("open", "459")]
    assert actions[0].due_at == OPENS_508  # the instant it was due, for the log


def test_catch_up_gives_no_channel_to_a_site_whose_whole_window_was_missed():
    later = RETIRES_508 + timedelta(days=1)
    assert reconcile(PLAN, {}, later, SETTINGS) == []
    assert [e.station for e in missed_windows(PLAN, {}, later, SETTINGS)] == ["459", "508"]


def test_catch_up_retires_an_open_channel_long_after_its_window():
    states = {"508": ChannelState("508", "open", "19:a@thread.tacv2", "Go Live - 508 Atlanta")}
    assert kinds(reconcile(ONE, states, utc(2022, 7, 1), SETTINGS)) == [("retire", "508")]


def test_window_spanning_november_dst_change_retires_at_local_17_est():
    plan = RolloutPlan(
        (
            PlannedSite.in_week(
                Site("508", "Atlanta", "America/New_York"), date(2022, 10, 31), date(2022, 11, 1)
            ),
        )
    )
    assert reconcile(plan, {}, utc(2022, 11, 1, 10, 59), SETTINGS) == []
    states = apply_actions({}, reconcile(plan, {}, utc(2022, 11, 1, 11), SETTINGS))  # 07:00 EDT
    assert reconcile(plan, states, utc(2022, 11, 8, 21), SETTINGS) == []  # 16:00 EST
    assert kinds(reconcile(plan, states, utc(2022, 11, 8, 22), SETTINGS)) == [("retire", "508")]  # 17:00 EST


def test_actions_are_ordered_by_due_instant_then_station():
    actions = reconcile(sample_plan(), {}, utc(2022, 5, 3, 15), SETTINGS)
    assert [a.due_at for a in actions] == sorted(a.due_at for a in actions)
    assert {a.station for a in actions} == {"508", "528A7", "459", "463", "644", "672"}


def test_reconcile_refuses_naive_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        reconcile(PLAN, {}, datetime(2022, 5, 3, 12), SETTINGS)


def test_display_name_drops_characters_teams_refuses_and_fits_50_characters():
    assert channel_display_name("508", "Atlanta") == "Go Live - 508 Atlanta"
    assert channel_display_name("402", 'Togus, ME #1 "Main"') == "Go Live - 402 Togus ME 1 Main"
    long = channel_display_name("612A4", "Sacramento VA Medical Center at Mather Field Campus")
    assert len(long) <= 50 and long.startswith("Go Live - 612A4 Sacramento")


def test_apply_action_records_the_new_channel_id_and_name():
    action = reconcile(PLAN, {}, OPENS_508, SETTINGS)[0]
    state = apply_action(None, action, channel_id="19:new@thread.tacv2")
    assert state == ChannelState("508", "open", "19:new@thread.tacv2", "Go Live - 508 Atlanta")


# --- properties -------------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Phoenix",
    "Asia/Manila",
    "America/Puerto_Rico",
]
FIRST = date(2022, 10, 3)  # the weeks around the November DST change


@st.composite
def plans(draw) -> RolloutPlan:
    entries = []
    for index in range(draw(st.integers(1, 6))):
        week = FIRST + timedelta(weeks=draw(st.integers(0, 5)))
        go_live = week + timedelta(days=draw(st.integers(0, 6)))
        entries.append(
            PlannedSite(Site(str(500 + index), f"Site {index}", draw(st.sampled_from(ZONES))), week, go_live)
        )
    return RolloutPlan(tuple(entries))


START = datetime(2022, 9, 30, tzinfo=UTC)
ticks = st.lists(st.integers(0, 60 * 24 * 60), min_size=1, max_size=40).map(
    lambda minutes: [START + timedelta(minutes=m) for m in sorted(minutes)]
)
window_settings = st.builds(
    WindowSettings,
    open_hour=st.integers(0, 12),
    window_days=st.integers(1, 8),
    retire_hour=st.integers(12, 23),
)


def run(plan: RolloutPlan, times: list[datetime], config: WindowSettings, states=None):
    states = dict(states or {})
    log: list[ChannelAction] = []
    for now in times:
        actions = reconcile(plan, states, now, config)
        log.extend(actions)
        states = apply_actions(states, actions)
        assert reconcile(plan, states, now, config) == [], "applying the actions must leave nothing to do"
    return states, log


@settings(derandomize=True, max_examples=120, deadline=None)
@given(plans(), ticks, window_settings)
def test_any_tick_sequence_opens_and_retires_each_site_at_most_once(plan, times, config):
    _, log = run(plan, times, config)
    for kind in ("open", "retire"):
        stations = [a.station for a in log if a.kind == kind]
        assert len(stations) == len(set(stations))
    for action in log:
        window = window_for(plan.by_station()[action.station], config)
        if action.kind == "open":
            assert action.due_at == window.opens_at
        if action.kind == "retire":
            assert action.due_at == window.retires_at
    assert all(a.kind in ("open", "retire") for a in log)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(plans(), ticks, window_settings)
def test_repeating_every_tick_changes_nothing(plan, times, config):
    once, log_once = run(plan, times, config)
    twice, log_twice = run(plan, [t for t in times for _ in range(2)], config)
    assert once == twice and log_once == log_twice


@settings(derandomize=True, max_examples=60, deadline=None)
@given(plans(), ticks, st.data())
def test_edits_between_ticks_never_open_a_channel_twice(plan, times, data):
    states: dict[str, ChannelState] = {}
    opened: list[str] = []
    for now in times:
        if data.draw(st.booleans()):
            station = data.draw(st.sampled_from([e.station for e in plan.entries]))
            entry = plan.by_station()[station]
            if not entry.pulled and data.draw(st.booleans()):
                plan = pull_site(plan, station)
            elif not entry.pulled:
                plan = move_site(plan, station, FIRST + timedelta(weeks=data.draw(st.integers(0, 6))))
        actions = reconcile(plan, states, now, SETTINGS)
        opened += [a.station for a in actions if a.kind == "open"]
        states = apply_actions(states, actions)
        assert reconcile(plan, states, now, SETTINGS) == []
    assert len(opened) == len(set(opened))
    for entry in plan.entries:
        if entry.pulled:
            assert states.get(entry.station, ChannelState(entry.station, "planned")).status in (
                "cancelled",
                "retired",
            )
