"""Plan edits for the delivery-manager commands, and the diff shown by ``--dry-run`` and the audit trail.

Every edit is pure: it takes a plan and returns a new plan, or raises ``PlanEditError`` whose message
is a friendly sentence that can be shown to the delivery manager as it is. Edits that would change
nothing (moving a site to the week it is already in) return the plan unchanged.

A pulled site stays in the plan, marked pulled. Moving it, or adding it again, puts it back into the
rollout ("re-planned"); the reconciler then gives it a window even if its channel was cancelled.

When ``now`` is given, edits also refuse what can no longer happen: moving a site into a window that
is already over, or pulling or moving a site whose go-live window has already ended.

Edits know nothing of channels: before saving, callers ask ``schedule.impact`` what the new plan
would do (``open_sites_pulled`` names an open channel that ``pull_site`` would cancel, so the caller
can refuse or ask for force) and ``schedule.changes.describe_changes`` for the lines to show and
audit. ``diff`` below keeps the older wording for the callers that still use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

from schedule.errors import InvalidScheduleValue, PlanEditError
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings, window_for


def _week_text(week_start: date) -> str:
    return f"the week of {week_start.isoformat()}"


def _check_week(week_start: date, go_live_date: date | None) -> date:
    if week_start.weekday() != 0:
        monday = week_start - timedelta(days=week_start.weekday())
        raise PlanEditError(
            f"{week_start.isoformat()} is a {week_start:%A}; rollout weeks start on a Monday "
            f"(did you mean {monday.isoformat()}?)"
        )
    go_live = go_live_date or week_start
    if not week_start <= go_live <= week_start + timedelta(days=6):
        raise PlanEditError(
            f"the go-live date {go_live.isoformat()} is not in {_week_text(week_start)} "
            f"({week_start.isoformat()} to {(week_start + timedelta(days=6)).isoformat()})"
        )
    return go_live


def _check_not_over(
    entry: PlannedSite, now: datetime | None, settings: WindowSettings | None, doing: str
) -> None:
    if now is not None and now >= window_for(entry, settings).retires_at:
        raise PlanEditError(
            f"cannot {doing} {entry.site}: its go-live window "
            f"({_week_text(entry.week_start)}) has already ended"
        )


def _replace_entry(plan: RolloutPlan, new: PlannedSite) -> RolloutPlan:
    others = [entry for entry in plan.entries if entry.station != new.station]
    return RolloutPlan((*others, new))


def add_site(
    plan: RolloutPlan,
    site: Site,
    week_start: date,
    go_live_date: date | None = None,
    *,
    now: datetime | None = None,
    settings: WindowSettings | None = None,
) -> RolloutPlan:
    """Plan ``site`` for ``week_start`` (go-live on ``go_live_date``, default the Monday).

    A pulled site with the same station is re-planned with the new details.
    """
    go_live = _check_week(week_start, go_live_date)
    existing = plan.get(site.station)
    if existing is not None and not existing.pulled:
        raise PlanEditError(
            f"station {site.station} is already planned ({existing.site}, {_week_text(existing.week_start)}); "
            "use move to change its week"
        )
    entry = PlannedSite(site, week_start, go_live)
    _check_not_over(entry, now, settings, "plan")
    return _replace_entry(plan, entry)


def add_week(
    plan: RolloutPlan,
    week_start: date,
    sites: Iterable[Site | PlannedSite],
    *,
    now: datetime | None = None,
    settings: WindowSettings | None = None,
) -> RolloutPlan:
    """Add a rollout week with its sites (a ``PlannedSite`` may give its own go-live date)."""
    _check_week(week_start, None)
    if plan.sites_in_week(week_start):
        raise PlanEditError(f"{_week_text(week_start)} is already in the plan; add sites to it one by one")
    sites = list(sites)
    if not sites:
        raise PlanEditError(f"{_week_text(week_start)} needs at least one site")
    seen: set[str] = set()
    for item in sites:
        site = item.site if isinstance(item, PlannedSite) else item
        if site.station in seen:
            raise PlanEditError(f"station {site.station} is listed twice for {_week_text(week_start)}")
        seen.add(site.station)
        go_live = item.go_live_date if isinstance(item, PlannedSite) else None
        plan = add_site(plan, site, week_start, go_live, now=now, settings=settings)
    return plan


def move_site(
    plan: RolloutPlan,
    station: str,
    new_week_start: date,
    new_go_live_date: date | None = None,
    *,
    now: datetime | None = None,
    settings: WindowSettings | None = None,
) -> RolloutPlan:
    """Move a site to another week (go-live on ``new_go_live_date``, default that Monday).

    Moving a pulled site puts it back into the rollout.
    """
    existing = _require(plan, station)
    go_live = _check_week(new_week_start, new_go_live_date)
    moved = PlannedSite(existing.site, new_week_start, go_live)
    if moved == existing:
        return plan
    if not existing.pulled:
        _check_not_over(existing, now, settings, "move")
    if now is not None and now >= window_for(moved, settings).retires_at:
        raise PlanEditError(
            f"cannot move {existing.site} to {_week_text(new_week_start)}: that go-live window is already over"
        )
    return _replace_entry(plan, moved)


def pull_site(
    plan: RolloutPlan, station: str, *, now: datetime | None = None, settings: WindowSettings | None = None
) -> RolloutPlan:
    """Take a site out of the rollout (it stays in the plan, marked pulled)."""
    existing = _require(plan, station)
    if existing.pulled:
        raise PlanEditError(f"{existing.site} has already been pulled from the rollout")
    _check_not_over(existing, now, settings, "pull")
    return _replace_entry(plan, replace(existing, pulled=True))


def rename_site(plan: RolloutPlan, station: str, new_name: str) -> RolloutPlan:
    """Change a site's name (an open channel is then renamed by the reconciler)."""
    existing = _require(plan, station)
    try:
        site = replace(existing.site, name=new_name.strip())
    except InvalidScheduleValue as exc:
        raise PlanEditError(str(exc)) from None
    return _replace_entry(plan, replace(existing, site=site))


def _require(plan: RolloutPlan, station: str) -> PlannedSite:
    entry = plan.get(station) or plan.get(station.strip().upper())
    if entry is None:
        raise PlanEditError(f"station {station} is not in the rollout plan")
    return entry


def _where(entry: PlannedSite) -> str:
    text = _week_text(entry.week_start)
    if entry.go_live_date != entry.week_start:
        text += f" (go-live {entry.go_live_date:%a} {entry.go_live_date.isoformat()})"
    return text


def diff(old: RolloutPlan, new: RolloutPlan) -> list[str]:
    """Human-readable changes from ``old`` to ``new``, ordered by week then station.

    The older wording ("added ...", "moved ... from ... to ..."), kept while callers move to
    ``schedule.changes.describe_changes`` (the ``add`` / ``move`` / ``pull`` / ``update`` lines of
    docs/CONTRACTS.md section 2).
    """
    before, after = old.by_station(), new.by_station()
    changes: list[tuple[date, str, str]] = []
    for station in before.keys() | after.keys():
        was, now_ = before.get(station), after.get(station)
        if was == now_:
            continue
        if was is None or (was.pulled and now_ is not None and not now_.pulled):
            assert now_ is not None
            if not now_.pulled:
                verb = "re-planned" if was is not None else "added"
                changes.append(
                    (now_.week_start, station, f"{verb} {now_.site} ({now_.time_zone}) in {_where(now_)}")
                )
            else:
                changes.append((now_.week_start, station, f"added {now_.site}, pulled"))
            continue
        if now_ is None:
            state = " (pulled)" if was.pulled else ""
            changes.append((was.week_start, station, f"removed {was.site}{state} from {_where(was)}"))
            continue
        key = now_.week_start
        if not was.pulled and now_.pulled:
            changes.append((key, station, f"pulled {was.site} from {_where(was)}"))
        if (was.week_start, was.go_live_date) != (now_.week_start, now_.go_live_date):
            changes.append((key, station, f"moved {now_.site} from {_where(was)} to {_where(now_)}"))
        if was.name != now_.name:
            changes.append((key, station, f"renamed {station} from {was.name!r} to {now_.name!r}"))
        if was.time_zone != now_.time_zone:
            changes.append(
                (
                    key,
                    station,
                    f"changed the time zone of {now_.site} from {was.time_zone} to {now_.time_zone}",
                )
            )
    changes.sort(key=lambda change: (change[0], change[1]))
    return [text for _, _, text in changes]
