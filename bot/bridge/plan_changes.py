"""Plan changes, one way for every door: the CLI, the HTTP API and the chat commands all propose a new
plan here, see what it would change, and apply it under the same rules (docs/CONTRACTS.md sections
2 and 7, "Plan changes").

The rules
- An import merges by default (``schedule.changes.merge_plan``: the file's sites are added or
  updated, the others stay as they are); ``replace`` makes the plan exactly the file
  (``replace_plan``: stations missing from it are pulled).
- No change pulls a site whose go-live channel is open unless it is forced: ``OpenSitesPulled``
  names each such site and nothing is written. A dry run answers the same way, so it tells what the
  real run would do.
- A change is saved together with one audit row (the action names of docs/CONTRACTS.md section 6:
  ``plan.import``, ``plan.week_add``, ``site.add``, ``site.move``, ``site.pull``), its detail the
  summary and one line per change, its stations the sites it touched.

Chat previews. A chat change is not applied when asked: :func:`store_proposal` keeps the proposed
plan exactly as the preview card shows it (``plan_proposals``), keyed by an unguessable id that the
card's Confirm and Cancel buttons carry. :func:`confirm` applies it once, only for the person who
asked, and only when the plan is still the one the preview was computed from (its fingerprint) and
no channel it would close has opened since; otherwise the preview is stale and refused with a
message. :func:`cancel` drops it; nothing changes.

Errors: one tree, each message a sentence for people::

    PlanChangeError
    └── OpenSitesPulled     the change would pull sites whose channel is open (``sites``, ``proposal``)

Confirm and Cancel answer with a :class:`Decision` (an HTTP-like status and a message) instead of
raising, because a stale preview is also recorded as such in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import views
from bot.bridge import records
from bot.bridge.people import actor_label
from bot.ports import Person
from bot.storage import tables
from bot.storage.store import Store
from schedule.changes import PlanChange, merge_plan, plan_changes, replace_plan
from schedule.impact import ChannelImpact, channel_impact, open_sites_pulled
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings, window_for
from schedule.reconciler import DEFAULT_NAME_TEMPLATE, ChannelState

ImportMode = Literal["merge", "replace"]
IMPORT_MODES: tuple[ImportMode, ...] = ("merge", "replace")
ProposalStatus = Literal["pending", "applied", "cancelled", "stale"]

STALE = (
    "The rollout plan has changed since this preview, so nothing was applied. "
    "Ask again to see what the change would do now."
)


class PlanChangeError(Exception):
    """A plan change that cannot be made as asked; the message says why, for people."""


class OpenSitesPulled(PlanChangeError):
    """The change would pull sites whose go-live channel is open (``sites``, by station)."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self.sites = proposal.open_pulled
        named = ", ".join(str(site) for site in self.sites)
        super().__init__(f"it would pull {len(self.sites)} site(s) whose go-live channel is open: {named}")


@dataclass(frozen=True)
class Proposal:
    """A proposed plan and everything it would do, computed against the current plan."""

    action: str
    summary: str
    current: RolloutPlan
    new: RolloutPlan
    changes: tuple[PlanChange, ...]
    impact: tuple[ChannelImpact, ...]
    open_pulled: tuple[Site, ...]
    base: str

    @property
    def lines(self) -> list[str]:
        """One line per change (``add 600 Chicago (week 2022-06-06, go-live 2022-06-06)``)."""
        return [change.describe() for change in self.changes]

    @property
    def channel_lines(self) -> list[str]:
        """One line per go-live channel that would open, close or move."""
        return [impact.describe() for impact in self.impact]

    @property
    def stations(self) -> tuple[str, ...]:
        return tuple(sorted({change.station for change in self.changes}))

    def audit_detail(self) -> str:
        return "\n".join([self.summary, *self.lines, *(f"channel: {line}" for line in self.channel_lines)])

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "summary": self.summary,
            "changes": [change.as_json() for change in self.changes],
            "channels": [impact_json(impact) for impact in self.impact],
            "open_sites_pulled": [{"station": s.station, "name": s.name} for s in self.open_pulled],
        }


def impact_json(impact: ChannelImpact) -> dict[str, Any]:
    return {
        "kind": impact.kind,
        "station": impact.station,
        "name": impact.name,
        "status": impact.status,
        "reason": impact.reason,
        "text": impact.describe(),
    }


@dataclass(frozen=True)
class PlanRules:
    """The settings every door computes a change with (built once by the composition root)."""

    window: WindowSettings = field(default_factory=WindowSettings)
    channel_template: str = DEFAULT_NAME_TEMPLATE


# --- computing -------------------------------------------------------------------------------------


def fingerprint(plan: RolloutPlan) -> str:
    """A digest of every entry of ``plan``: equal plans, equal fingerprints (a stale preview check)."""
    text = json.dumps(plan_json(plan), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan_json(plan: RolloutPlan) -> list[dict[str, Any]]:
    return [
        {
            "station": entry.station,
            "name": entry.name,
            "time_zone": entry.time_zone,
            "week_start": entry.week_start.isoformat(),
            "go_live_date": entry.go_live_date.isoformat(),
            "pulled": entry.pulled,
        }
        for entry in plan.entries
    ]


def plan_from_json(rows: list[Mapping[str, Any]]) -> RolloutPlan:
    return RolloutPlan(
        tuple(
            PlannedSite(
                Site(str(row["station"]), str(row["name"]), str(row["time_zone"])),
                date.fromisoformat(str(row["week_start"])),
                date.fromisoformat(str(row["go_live_date"])),
                bool(row["pulled"]),
            )
            for row in rows
        )
    )


def propose(
    action: str,
    summary: str,
    current: RolloutPlan,
    new: RolloutPlan,
    states: Mapping[str, ChannelState],
    now: datetime,
    rules: PlanRules,
) -> Proposal:
    """What changing ``current`` into ``new`` would do at ``now`` (pure)."""
    return Proposal(
        action=action,
        summary=summary,
        current=current,
        new=new,
        changes=tuple(plan_changes(current, new)),
        impact=tuple(channel_impact(current, new, states, now, rules.window, rules.channel_template)),
        open_pulled=tuple(open_sites_pulled(current, new, states)),
        base=fingerprint(current),
    )


def imported_plan(current: RolloutPlan, incoming: RolloutPlan, mode: ImportMode) -> RolloutPlan:
    return merge_plan(current, incoming) if mode == "merge" else replace_plan(current, incoming)


async def load_state(connection: AsyncConnection) -> tuple[RolloutPlan, dict[str, ChannelState]]:
    """The stored plan and go-live channel states."""
    return await records.load_plan(connection), await records.load_channel_states(connection)


async def apply(connection: AsyncConnection, proposal: Proposal, actor: str, now: datetime) -> bool:
    """Save the proposed plan and audit it (inside the caller's transaction); False when it changes
    nothing, and then nothing is written."""
    if not proposal.changes:
        return False
    await records.save_plan(connection, proposal.new, now)
    await records.audit(connection, now, actor, proposal.action, proposal.audit_detail(), proposal.stations)
    return True


# --- the plan as rows (``schedule show --format json``, ``GET /api/plan``) ---------------------------


def site_status(entry: PlannedSite, states: Mapping[str, ChannelState]) -> str:
    """``planned``, ``open``, ``retired``, ``cancelled`` (the channel's) or ``pulled``."""
    state = states.get(entry.station)
    if entry.pulled:
        return "cancelled" if state is not None and state.status == "cancelled" else "pulled"
    if state is None or state.status not in ("open", "retired", "cancelled"):
        return "planned"
    return state.status


def plan_rows(
    plan: RolloutPlan, window: WindowSettings, states: Mapping[str, ChannelState] | None = None
) -> list[dict[str, Any]]:
    """One dict per entry (pulled ones included), the shape of ``schedule show --format json``."""
    rows = []
    for entry in plan.entries:
        opened = None if entry.pulled else window_for(entry, window)
        rows.append(
            {
                "week_start": entry.week_start.isoformat(),
                "station": entry.station,
                "name": entry.name,
                "time_zone": entry.time_zone,
                "go_live_date": entry.go_live_date.isoformat(),
                "status": site_status(entry, states or {}),
                "pulled": entry.pulled,
                "opens_at": opened.opens_at.isoformat() if opened else None,
                "retires_at": opened.retires_at.isoformat() if opened else None,
            }
        )
    return rows


# --- importing a rollout file (CLI and HTTP API) ----------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    mode: ImportMode
    dry_run: bool
    applied: bool
    proposal: Proposal

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "dry_run": self.dry_run,
            "applied": self.applied,
            **self.proposal.as_json(),
        }


def import_summary(source: str, incoming: RolloutPlan, mode: ImportMode) -> str:
    return (
        f"imported {source} ({mode}): {len(incoming)} site(s) in {len(incoming.weeks())} week(s) in the file"
    )


async def import_plan(
    store: Store,
    incoming: RolloutPlan,
    *,
    mode: ImportMode,
    force: bool,
    dry_run: bool,
    actor: str,
    source: str,
    now: datetime,
    rules: PlanRules,
) -> ImportResult:
    """Merge or replace the stored plan with ``incoming``, all or nothing.

    Raises ``OpenSitesPulled`` (nothing written) when the change would pull a site whose channel is
    open and ``force`` is not given, dry run or not.
    """
    async with store.write() as connection:
        current, states = await load_state(connection)
        new = imported_plan(current, incoming, mode)
        proposal = propose(
            "plan.import", import_summary(source, incoming, mode), current, new, states, now, rules
        )
        if proposal.open_pulled and not force:
            raise OpenSitesPulled(proposal)
        applied = False if dry_run else await apply(connection, proposal, actor, now)
    return ImportResult(mode, dry_run, applied, proposal)


# --- chat previews ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredProposal:
    id: str
    action: str
    summary: str
    requester: str
    requested_by: str
    status: ProposalStatus
    changes: tuple[str, ...]
    channels: tuple[str, ...]
    force: bool
    base: str
    plan: RolloutPlan
    decided_by: str | None = None


@dataclass(frozen=True)
class Decision:
    """The answer to Confirm or Cancel: an HTTP-like status, a sentence, and the proposal as it now is."""

    status: int
    message: str
    proposal: StoredProposal | None = None


def person_key(person: Person | None) -> str:
    """Who may confirm: the same Entra object id (or platform id) as the person who asked."""
    if person is None:
        return ""
    return (person.aad_object_id or person.id or "").strip().lower()


async def store_proposal(
    connection: AsyncConnection,
    proposal: Proposal,
    requester: Person,
    platform: str,
    now: datetime,
    *,
    force: bool = False,
) -> str:
    """Keep ``proposal`` for its Confirm; returns the id its buttons carry."""
    proposal_id = secrets.token_urlsafe(18)
    await connection.execute(
        tables.plan_proposals.insert().values(
            id=proposal_id,
            created_at=now,
            requested_by=person_key(requester)[:200],
            requester=requester.name[:200],
            platform=platform,
            action=proposal.action,
            summary=proposal.summary,
            base_fingerprint=proposal.base,
            plan=plan_json(proposal.new),
            shown={"changes": proposal.lines, "channels": proposal.channel_lines},
            force=force,
            status="pending",
        )
    )
    return proposal_id


async def load_proposal(connection: AsyncConnection, proposal_id: str) -> StoredProposal | None:
    if not proposal_id or len(proposal_id) > 40:
        return None
    row = (
        await connection.execute(
            select(tables.plan_proposals).where(tables.plan_proposals.c.id == proposal_id)
        )
    ).first()
    if row is None:
        return None
    shown = row.shown or {}
    return StoredProposal(
        id=row.id,
        action=row.action,
        summary=row.summary,
        requester=row.requester,
        requested_by=row.requested_by,
        status=row.status,
        changes=tuple(shown.get("changes", ())),
        channels=tuple(shown.get("channels", ())),
        force=bool(row.force),
        base=row.base_fingerprint,
        plan=plan_from_json(row.plan),
        decided_by=row.decided_by,
    )


def proposal_view(stored: StoredProposal) -> views.PlanChangeView:
    notes = {
        "pending": "Nothing changes until you press Confirm.",
        "applied": f"Applied by {stored.decided_by or stored.requester}.",
        "cancelled": "Cancelled: nothing was changed.",
        "stale": "Not applied: the plan changed since this preview. Ask again.",
    }
    return views.PlanChangeView(
        proposal_id=stored.id,
        title=stored.summary[:1].upper() + stored.summary[1:],
        requester=stored.requester,
        changes=stored.changes,
        channels=stored.channels,
        state=stored.status,
        note=notes.get(stored.status, ""),
    )


async def _set_status(
    connection: AsyncConnection, proposal_id: str, status: ProposalStatus, actor: Person, now: datetime
) -> bool:
    """Move a pending proposal to ``status``; False when it was no longer pending (someone else won)."""
    proposals = tables.plan_proposals
    result = await connection.execute(
        update(proposals)
        .where(proposals.c.id == proposal_id, proposals.c.status == "pending")
        .values(status=status, decided_at=now, decided_by=actor.name[:200])
    )
    return bool(result.rowcount)


async def _closed(connection: AsyncConnection, proposal_id: str, verb: str) -> Decision:
    stored = await load_proposal(connection, proposal_id)
    if stored is None:
        return Decision(404, "That preview is not known to Go Live Bridge.")
    if stored.status == "applied":
        return Decision(200 if verb == "confirm" else 409, "This change was already applied.", stored)
    if stored.status == "cancelled":
        if verb == "cancel":
            return Decision(200, "This change was already cancelled; nothing was changed.", stored)
        return Decision(
            409, "This change was cancelled, so nothing was applied. Ask again to make it.", stored
        )
    return Decision(409, STALE, stored)


async def _checked(
    connection: AsyncConnection, proposal_id: str, actor: Person, verb: str
) -> tuple[StoredProposal | None, Decision | None]:
    stored = await load_proposal(connection, proposal_id)
    if stored is None:
        return None, Decision(404, "That preview is not known to Go Live Bridge.")
    if person_key(actor) != stored.requested_by:
        return None, Decision(403, f"Only {stored.requester}, who asked for this change, can {verb} it.")
    if stored.status != "pending":
        return None, await _closed(connection, proposal_id, verb)
    return stored, None


async def confirm(
    connection: AsyncConnection, proposal_id: str, actor: Person, now: datetime, rules: PlanRules
) -> Decision:
    """Apply a previewed change exactly as shown, once (inside the caller's transaction)."""
    stored, refusal = await _checked(connection, proposal_id, actor, "confirm")
    if refusal is not None:
        return refusal
    assert stored is not None
    current, states = await load_state(connection)
    if fingerprint(current) != stored.base:
        await _set_status(connection, proposal_id, "stale", actor, now)
        return Decision(409, STALE, await load_proposal(connection, proposal_id))
    proposal = propose(stored.action, stored.summary, current, stored.plan, states, now, rules)
    if proposal.open_pulled and not stored.force:
        await _set_status(connection, proposal_id, "stale", actor, now)
        named = ", ".join(str(site) for site in proposal.open_pulled)
        return Decision(
            409,
            f"A go-live channel has opened since this preview ({named}), so nothing was applied. "
            "Ask again to see what the change would do now.",
            await load_proposal(connection, proposal_id),
        )
    if not await _set_status(connection, proposal_id, "applied", actor, now):
        return await _closed(connection, proposal_id, "confirm")
    await apply(connection, proposal, actor_label(actor), now)
    return Decision(
        200, "Applied: " + "; ".join(stored.changes) + ".", await load_proposal(connection, proposal_id)
    )


async def cancel(connection: AsyncConnection, proposal_id: str, actor: Person, now: datetime) -> Decision:
    """Drop a previewed change: nothing changes."""
    _stored, refusal = await _checked(connection, proposal_id, actor, "cancel")
    if refusal is not None:
        return refusal
    if not await _set_status(connection, proposal_id, "cancelled", actor, now):
        return await _closed(connection, proposal_id, "cancel")
    return Decision(200, "Cancelled: nothing was changed.", await load_proposal(connection, proposal_id))
