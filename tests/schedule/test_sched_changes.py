"""Merging and replacing the plan with an imported file, and the change lines shown and audited."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.changes import describe_changes, merge_plan, plan_changes, replace_plan
from schedule.csvio import parse_rollout_csv
from schedule.edits import add_site, move_site, pull_site, rename_site
from schedule.plan import PlannedSite, RolloutPlan, Site
from schedule.sample import sample_plan

WEEK = date(2022, 5, 2)
ATLANTA = Site("508", "Atlanta", "America/New_York")
SYRACUSE = Site("528A7", "Syracuse", "America/New_York")
HONOLULU = Site("459", "Honolulu", "Pacific/Honolulu")
PLAN = RolloutPlan((PlannedSite.in_week(ATLANTA, WEEK), PlannedSite.in_week(SYRACUSE, WEEK)))
NEW_WEEK_FILE = (
    "week_start,station,name,time_zone,go_live_date\n"
    "2022-08-29,900,Manchester NH,America/New_York,\n"
    "2022-08-29,901,Bangor,America/New_York,2022-08-31\n"
)


def kinds(changes) -> list[tuple[str, str]]:
    return [(change.kind, change.station) for change in changes]


def test_a_two_row_file_of_a_new_week_merged_in_the_first_week_adds_two_sites_and_pulls_none():
    current = sample_plan()
    merged = merge_plan(current, parse_rollout_csv(NEW_WEEK_FILE))
    changes = plan_changes(current, merged)
    assert kinds(changes) == [("add", "900"), ("add", "901")]
    assert [change.describe() for change in changes] == [
        "add 900 Manchester NH (week 2022-08-29, go-live 2022-08-29)",
        "add 901 Bangor (week 2022-08-29, go-live 2022-08-31)",
    ]
    assert len(merged.active()) == len(current.active()) + 2
    assert all(merged.get(entry.station) == entry for entry in current.entries)


def test_the_same_file_as_a_replace_pulls_every_other_site_but_deletes_none():
    current = sample_plan()
    replaced = replace_plan(current, parse_rollout_csv(NEW_WEEK_FILE))
    pulls = [change for change in plan_changes(current, replaced) if change.kind == "pull"]
    assert len(pulls) == len(current.active()) == 122
    assert len(replaced) == len(current) + 2  # nothing deleted: pulled sites stay in the plan
    assert [entry.station for entry in replaced.active()] == ["900", "901"]


def test_merge_updates_name_zone_week_and_go_live_and_puts_a_pulled_site_back():
    current = pull_site(PLAN, "528A7")
    incoming = RolloutPlan(
        (
            PlannedSite(Site("508", "Atlanta VAMC", "America/Chicago"), date(2022, 5, 9), date(2022, 5, 11)),
            PlannedSite.in_week(SYRACUSE, date(2022, 5, 16)),
        )
    )
    merged = merge_plan(current, incoming)
    assert merged.get("508") == incoming.get("508")
    assert merged.get("528A7") == PlannedSite.in_week(SYRACUSE, date(2022, 5, 16))  # un-pulled
    assert describe_changes(current, merged) == [
        "move 508 Atlanta VAMC: week 2022-05-02 -> 2022-05-09, go-live 2022-05-02 -> 2022-05-11",
        'update 508 Atlanta VAMC: name "Atlanta" -> "Atlanta VAMC", time zone America/New_York -> America/Chicago',
        "restore 528A7 Syracuse (week 2022-05-16, go-live 2022-05-16)",
    ]


def test_replace_marks_missing_sites_pulled_and_keeps_pulled_ones_pulled():
    current = RolloutPlan((*PLAN.entries, PlannedSite(HONOLULU, WEEK, WEEK, pulled=True)))
    replaced = replace_plan(current, RolloutPlan((PlannedSite.in_week(ATLANTA, WEEK),)))
    assert replaced.get("528A7").pulled and replaced.get("459").pulled and not replaced.get("508").pulled
    assert describe_changes(current, replaced) == ["pull 528A7 Syracuse (week 2022-05-02)"]


def test_change_lines_for_each_kind_of_edit():
    new = add_site(PLAN, HONOLULU, date(2022, 5, 9), date(2022, 5, 12))
    new = move_site(new, "508", date(2022, 5, 9))
    new = pull_site(new, "528A7")
    assert describe_changes(PLAN, new) == [
        "pull 528A7 Syracuse (week 2022-05-02)",
        "move 508 Atlanta: week 2022-05-02 -> 2022-05-09",
        "add 459 Honolulu (week 2022-05-09, go-live 2022-05-12)",
    ]
    assert describe_changes(PLAN, move_site(PLAN, "508", WEEK, date(2022, 5, 4))) == [
        "move 508 Atlanta: go-live 2022-05-02 -> 2022-05-04"
    ]
    assert describe_changes(PLAN, rename_site(PLAN, "508", "Atlanta VAMC")) == [
        'update 508 Atlanta VAMC: name "Atlanta" -> "Atlanta VAMC"'
    ]


def test_a_station_missing_from_the_new_plan_is_a_pull_because_saving_marks_it_pulled():
    changes = plan_changes(PLAN, RolloutPlan((PLAN.get("508"),)))
    assert kinds(changes) == [("pull", "528A7")]
    assert changes[0].after is None and changes[0].before == PLAN.get("528A7")


def test_change_details_name_each_field_with_old_and_new_values():
    [move] = plan_changes(PLAN, move_site(PLAN, "508", date(2022, 5, 9), date(2022, 5, 10)))
    assert [(c.field, c.old, c.new) for c in move.detail] == [
        ("week_start", "2022-05-02", "2022-05-09"),
        ("go_live_date", "2022-05-02", "2022-05-10"),
    ]
    assert move.as_json()["text"] == move.describe()


def test_equal_plans_have_no_changes():
    assert plan_changes(PLAN, RolloutPlan(tuple(reversed(PLAN.entries)))) == []


ZONES = ["America/New_York", "Pacific/Honolulu", "America/Phoenix", "Asia/Manila"]
stations = st.sampled_from([f"{n}" for n in range(500, 520)] + ["528A7", "459GE"])


@st.composite
def plans(draw, pulled_allowed: bool = True) -> RolloutPlan:
    entries = []
    for station in draw(st.lists(stations, unique=True, max_size=10)):
        week = date.fromordinal(WEEK.toordinal() + 7 * draw(st.integers(0, 8)))
        entries.append(
            PlannedSite(
                Site(
                    station,
                    draw(st.sampled_from(["Atlanta", "Augusta", "Tampa"])),
                    draw(st.sampled_from(ZONES)),
                ),
                week,
                date.fromordinal(week.toordinal() + draw(st.integers(0, 6))),
                pulled=pulled_allowed and draw(st.booleans()),
            )
        )
    return RolloutPlan(tuple(entries))


@settings(derandomize=True, max_examples=200, deadline=None)
@given(plans(), plans(pulled_allowed=False))
def test_merge_never_pulls_a_site_and_leaves_the_sites_it_does_not_name_alone(current, incoming):
    merged = merge_plan(current, incoming)
    assert not [change for change in plan_changes(current, merged) if change.kind == "pull"]
    for entry in current.entries:
        if incoming.get(entry.station) is None:
            assert merged.get(entry.station) == entry
    for entry in incoming.entries:
        assert merged.get(entry.station) == entry


@settings(derandomize=True, max_examples=200, deadline=None)
@given(plans(), plans(pulled_allowed=False))
def test_replace_pulls_exactly_the_planned_sites_missing_from_the_file(current, incoming):
    replaced = replace_plan(current, incoming)
    pulled = {change.station for change in plan_changes(current, replaced) if change.kind == "pull"}
    assert pulled == {e.station for e in current.active() if incoming.get(e.station) is None}
    assert {e.station for e in replaced.active()} == {e.station for e in incoming.entries}
    assert set(current.by_station()) <= set(replaced.by_station())


@settings(derandomize=True, max_examples=100, deadline=None)
@given(plans(), plans())
def test_change_lines_do_not_depend_on_entry_order(old, new):
    shuffled = RolloutPlan(tuple(reversed(new.entries)))
    assert describe_changes(old, new) == describe_changes(old, shuffled)
    # No change exactly when every station reads the same (a pulled station may simply be gone).
    same = all(
        old.get(station) == new.get(station) or (new.get(station) is None and old.get(station).pulled)
        for station in old.by_station().keys() | new.by_station().keys()
    )
    assert (plan_changes(old, new) == []) == same
