"""What a proposed plan change does to the channels: the reconciler's own answer, told beforehand."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.changes import merge_plan, replace_plan
from schedule.csvio import parse_rollout_csv
from schedule.edits import add_site, add_week, move_site, pull_site, rename_site
from schedule.errors import PlanEditError
from schedule.impact import channel_impact, open_sites_pulled
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings, window_for
from schedule.reconciler import ChannelState, apply_actions, reconcile
from schedule.sample import sample_plan

NOW = datetime(2022, 5, 3, 15, tzinfo=UTC)  # Tuesday of the first sample week
WINDOW = WindowSettings()
NEW_WEEK_FILE = (
    "week_start,station,name,time_zone\n"
    "2022-08-29,900,Manchester NH,America/New_York\n2022-08-29,901,Bangor,America/New_York\n"
)


def caught_up(plan: RolloutPlan, now: datetime, states=None) -> dict[str, ChannelState]:
    """The channel states after the lifecycle ran its tick at ``now``."""
    states = states or {}
    return apply_actions(states, reconcile(plan, states, now, WINDOW))


PLAN = sample_plan()
STATES = caught_up(PLAN, NOW)
OPEN = sorted(station for station, state in STATES.items() if state.status == "open")


def test_the_first_week_has_its_channels_open_at_the_demo_instant():
    assert OPEN == ["459", "463", "508", "528A7", "644", "672"]  # Manila opens on Wednesday


def test_merging_a_new_weeks_file_opens_closes_and_moves_nothing():
    new = merge_plan(PLAN, parse_rollout_csv(NEW_WEEK_FILE))
    assert channel_impact(PLAN, new, STATES, NOW, WINDOW) == []
    assert open_sites_pulled(PLAN, new, STATES) == []


def test_replace_names_every_open_site_it_would_pull_and_each_channel_it_would_close():
    new = replace_plan(PLAN, parse_rollout_csv(NEW_WEEK_FILE))
    assert [site.station for site in open_sites_pulled(PLAN, new, STATES)] == OPEN
    impacts = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    closing = [impact.station for impact in impacts if impact.closes_a_channel]
    assert closing == OPEN
    assert all(impact.kind == "cancel" for impact in impacts)
    # The never-opened sites are cancelled too, but that archives nothing.
    assert len(impacts) == len(PLAN.active())


def test_pull_site_of_an_open_site_is_reported_so_the_caller_can_refuse_or_force():
    new = pull_site(PLAN, "508", now=NOW, settings=WINDOW)
    [site] = open_sites_pulled(PLAN, new, STATES)
    assert site.station == "508"
    [impact] = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    assert (impact.kind, impact.station, impact.channel_id, impact.closes_a_channel) == (
        "cancel",
        "508",
        STATES["508"].channel_id,
        True,
    )
    assert impact.describe() == "cancel 508 Atlanta: 508 Atlanta was pulled from the rollout"


def test_pulling_a_site_whose_channel_is_not_open_yet_is_not_an_open_site_pulled():
    new = pull_site(PLAN, "509", now=NOW, settings=WINDOW)
    assert open_sites_pulled(PLAN, new, STATES) == []
    [impact] = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    assert impact.kind == "cancel" and not impact.closes_a_channel


def test_moving_an_open_site_later_keeps_its_channel_open_and_moves_its_retirement():
    new = move_site(PLAN, "508", date(2022, 5, 9))
    [impact] = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    assert (impact.kind, impact.status, impact.action) == ("move", "open", None)
    assert impact.window_after == window_for(new.get("508"), WINDOW)
    assert impact.describe() == (
        "move 508 Atlanta: stays open; retires 2022-05-09 17:00 EDT -> 2022-05-16 17:00 EDT"
    )
    # and the reconciler agrees: nothing now, a retirement at the new end
    assert reconcile(new, STATES, NOW, WINDOW) == []
    retire_at = impact.window_after.retires_at
    assert [(a.kind, a.station) for a in reconcile(new, STATES, retire_at, WINDOW) if a.station == "508"] == [
        ("retire", "508")
    ]


def test_moving_a_planned_site_tells_the_old_and_new_opening():
    new = move_site(PLAN, "509", date(2022, 5, 16), date(2022, 5, 18))
    [impact] = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    assert impact.kind == "move" and impact.status == "planned"
    assert impact.reason.startswith("opens 2022-05-09 07:00 EDT -> 2022-05-18 07:00 EDT")


def test_adding_a_site_whose_window_is_open_opens_its_channel_at_the_next_tick():
    site = Site("700", "Guam South", "Pacific/Guam")
    new = add_site(PLAN, site, date(2022, 5, 2), date(2022, 5, 3))
    [impact] = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    assert (impact.kind, impact.station, impact.window_before) == ("open", "700", None)


def test_renaming_an_open_site_renames_its_channel():
    new = rename_site(PLAN, "508", "Atlanta VAMC")
    [impact] = channel_impact(PLAN, new, STATES, NOW, WINDOW)
    assert (impact.kind, impact.action.display_name) == ("rename", "Go Live - 508 Atlanta VAMC")


def test_an_action_already_due_under_the_current_plan_is_not_the_changes_doing():
    stale = {}  # the lifecycle has not run yet: every first-week channel is due to open anyway
    new = merge_plan(PLAN, parse_rollout_csv(NEW_WEEK_FILE))
    assert channel_impact(PLAN, new, stale, NOW, WINDOW) == []


EDIT_STATIONS = [entry.station for entry in PLAN.entries[:21]]  # the first three weeks


@st.composite
def edits(draw):
    """A delivery-manager edit of the sample plan, as it would reach channel_impact."""
    kind = draw(st.sampled_from(["move", "pull", "add", "week", "rename", "import"]))
    station = draw(st.sampled_from(EDIT_STATIONS))
    week = date(2022, 4, 25) + timedelta(weeks=draw(st.integers(0, 3)))
    if kind == "move":
        return lambda plan: move_site(plan, station, week, week + timedelta(days=draw(st.integers(0, 6))))
    if kind == "pull":
        return lambda plan: pull_site(plan, station)
    if kind == "rename":
        return lambda plan: rename_site(plan, station, draw(st.sampled_from(["North", "South VAMC"])))
    site = Site("900", "New Site", draw(st.sampled_from(["America/New_York", "Pacific/Honolulu"])))
    if kind == "add":
        return lambda plan: add_site(plan, site, week, week + timedelta(days=draw(st.integers(0, 6))))
    if kind == "week":
        return lambda plan: add_week(plan, date(2022, 8, 29), [site])
    text = f"week_start,station,name,time_zone\n{week},{station},Renamed,America/Chicago\n"
    return lambda plan: merge_plan(plan, parse_rollout_csv(text))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    edits(),
    st.integers(0, 21 * 24).map(lambda hours: datetime(2022, 5, 1, tzinfo=UTC) + timedelta(hours=hours)),
)
def test_channel_impact_agrees_with_what_the_reconciler_does_at_the_next_tick(edit, now):
    states = caught_up(PLAN, now)
    try:
        new = edit(PLAN)
    except PlanEditError:
        return
    impacts = channel_impact(PLAN, new, states, now, WINDOW)
    due = {(action.kind, action.station) for action in reconcile(new, states, now, WINDOW)}
    # States are caught up with the current plan, so everything the new plan does now is the change's.
    assert {(i.kind, i.station) for i in impacts if i.kind != "move"} == due
    for impact in impacts:
        if impact.kind == "move":
            assert impact.status in ("planned", "open") and impact.window_before != impact.window_after
    pulled_open = {site.station for site in open_sites_pulled(PLAN, new, states)}
    assert pulled_open == {i.station for i in impacts if i.kind == "cancel" and i.status == "open"}


def test_sites_unknown_to_the_current_plan_are_never_named_as_open_sites_pulled():
    states = {"999": ChannelState("999", "open", "19:x", "Go Live - 999 Gone")}
    plan = RolloutPlan((PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), date(2022, 5, 2)),))
    assert open_sites_pulled(plan, RolloutPlan(), states) == []
