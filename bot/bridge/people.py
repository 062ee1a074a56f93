"""Who someone is to the bridge: an engineer on the roster, a delivery manager, or site staff.

One lookup for every door (a Teams post, a card button, a Slack message, a command), so a post and a
``swap`` can never disagree about who is an engineer: Entra object ids and emails compare
case-insensitively.
"""

from __future__ import annotations

from bot.ports import Mention, Person
from schedule.roster import DutyRoster, Engineer


def engineer_for(roster: DutyRoster | None, person: Person | None) -> Engineer | None:
    """The roster engineer ``person`` is, by Entra object id, else by email."""
    if roster is None or person is None:
        return None
    if person.aad_object_id:
        engineer = roster.by_aad_object_id(person.aad_object_id)
        if engineer is not None:
            return engineer
    if person.email:
        wanted = person.email.strip().lower()
        return next(
            (e for e in roster.engineers.values() if e.email and e.email.strip().lower() == wanted), None
        )
    return None


def actor_label(person: Person | None) -> str:
    """How the audit trail names someone: their name and the id that identifies them."""
    if person is None:
        return "unknown"
    return f"{person.name} ({person.aad_object_id or person.email or person.id})"[:200]


def mention_of(engineer: Engineer) -> Mention:
    """How to reach an engineer on any platform."""
    return Mention(engineer.name, engineer.aad_object_id, engineer.email, engineer.slack_user_id)
