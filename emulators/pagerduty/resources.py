"""PagerDuty's JSON for users, schedules, escalation policies and on-calls (REST API v2).

Shapes follow the response examples of PagerDuty's OpenAPI description (PagerDuty/api-schema,
reference/REST/openapiv3.json) that ``tests/fixtures/pagerduty/`` records: references are
``{id, type: "<kind>_reference", summary, self, html_url}``; times carry the offset of the zone the
call asked for (``time_zone``) or of the account, and ``Z`` for UTC.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from emulators.pagerduty.account import PagerDutyAccount
from emulators.pagerduty.config import OnCallEntry, PagerDutySchedule, longest_turn
from emulators.pagerduty.rotation import Shift, clip, coverage_percentage, final_shifts, layer_shifts

__all__ = ["Renderer"]

_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


class Renderer:
    """Renders one answer: the links of the host it came to, in the time zone it asked for."""

    def __init__(self, account: PagerDutyAccount, api_base: str, zone: ZoneInfo):
        self.account = account
        self.api_base = api_base.rstrip("/")
        self.html_base = f"https://{account.config.subdomain}.pagerduty.com"
        self.zone = zone

    def time(self, moment: datetime | None) -> str | None:
        if moment is None:
            return None
        shown = moment.astimezone(self.zone).isoformat(timespec="seconds")
        if self.zone.key in _UTC_NAMES:
            return shown.replace("+00:00", "Z")
        return shown

    def _reference(self, kind: str, collection: str, item_id: str, summary: str) -> dict[str, Any]:
        return {
            "id": item_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{self.api_base}/{collection}/{item_id}",
            "html_url": f"{self.html_base}/{collection}/{item_id}",
        }

    # ---- users --------------------------------------------------------------------------------

    def user_reference(self, user_id: str) -> dict[str, Any]:
        return self._reference("user", "users", user_id, self.account.users[user_id].name)

    def user(self, user_id: str) -> dict[str, Any]:
        user = self.account.users[user_id]
        return {
            "id": user.id,
            "type": "user",
            "summary": user.name,
            "self": f"{self.api_base}/users/{user.id}",
            "html_url": f"{self.html_base}/users/{user.id}",
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "color": "green",
            "role": user.role,
            "avatar_url": f"https://secure.gravatar.com/avatar/{user.id.lower()}.png?d=mm&r=PG",
            "description": "",
            "invitation_sent": False,
            "contact_methods": [
                {
                    "id": "C" + user.id[1:],
                    "type": "email_contact_method_reference",
                    "summary": "Default",
                    "self": f"{self.api_base}/users/{user.id}/contact_methods/C{user.id[1:]}",
                }
            ],
            "notification_rules": [
                {
                    "id": "N" + user.id[1:],
                    "type": "assignment_notification_rule_reference",
                    "summary": "Default",
                    "self": f"{self.api_base}/users/{user.id}/notification_rules/N{user.id[1:]}",
                    "html_url": None,
                }
            ],
            "job_title": user.job_title,
            "teams": [],
        }

    # ---- escalation policies ------------------------------------------------------------------

    def policy_reference(self, policy_id: str) -> dict[str, Any]:
        return self._reference(
            "escalation_policy", "escalation_policies", policy_id, self.account.policies[policy_id].name
        )

    def _target(self, target: str) -> dict[str, Any]:
        if target in self.account.schedules:
            return self.schedule_reference(target)
        return self.user_reference(target)

    def policy(self, policy_id: str) -> dict[str, Any]:
        policy = self.account.policies[policy_id]
        return {
            "id": policy.id,
            "type": "escalation_policy",
            "summary": policy.name,
            "self": f"{self.api_base}/escalation_policies/{policy.id}",
            "html_url": f"{self.html_base}/escalation_policies/{policy.id}",
            "name": policy.name,
            "escalation_rules": [
                {
                    "id": f"R{policy.id[1:]}{level}",
                    "escalation_delay_in_minutes": 30,
                    "targets": [self._target(t) for t in targets],
                }
                for level, targets in enumerate(policy.levels, start=1)
            ],
            "num_loops": 0,
            "on_call_handoff_notifications": "if_has_services",
            "services": [],
            "teams": [],
            "description": "",
        }

    # ---- schedules ----------------------------------------------------------------------------

    def schedule_reference(self, schedule_id: str) -> dict[str, Any]:
        return self._reference("schedule", "schedules", schedule_id, self.account.schedules[schedule_id].name)

    def _entries(self, shifts: list[Shift]) -> list[dict[str, Any]]:
        return [
            {"start": self.time(s.start), "end": self.time(s.end), "user": self.user_reference(s.user_id)}
            for s in shifts
        ]

    def schedule(
        self,
        schedule: PagerDutySchedule,
        window: tuple[datetime, datetime] | None = None,
        overflow: bool = False,
    ) -> dict[str, Any]:
        """A schedule; with a window, its layers' and final ``rendered_schedule_entries`` too."""
        policies = [p.id for p in self.account.policies.values() if any(schedule.id in t for t in p.levels)]
        user_ids = list(dict.fromkeys(u for layer in schedule.layers for u in layer.users))
        body: dict[str, Any] = {
            "id": schedule.id,
            "type": "schedule",
            "summary": schedule.name,
            "self": f"{self.api_base}/schedules/{schedule.id}",
            "html_url": f"{self.html_base}/schedules/{schedule.id}",
            "name": schedule.name,
            "time_zone": schedule.time_zone,
            "description": schedule.description,
            "escalation_policies": [self.policy_reference(p) for p in policies],
            "users": [self.user_reference(u) for u in user_ids],
            "teams": [],
        }
        layers = []
        for layer in schedule.layers:
            rendered: dict[str, Any] = {"name": layer.name}
            if window is not None:
                shifts = layer_shifts(layer, *window)
                shown = shifts if overflow else clip(shifts, *window)
                rendered["rendered_schedule_entries"] = self._entries(shown)
                rendered["rendered_coverage_percentage"] = coverage_percentage(shifts, *window)
            rendered.update(
                {
                    "id": layer.id,
                    "start": self.time(layer.start),
                    "end": self.time(layer.end),
                    "rotation_virtual_start": self.time(layer.rotation_virtual_start),
                    "rotation_turn_length_seconds": layer.rotation_turn_length_seconds,
                    "users": [{"user": self.user_reference(u)} for u in dict.fromkeys(layer.users)],
                    "restrictions": [],
                }
            )
            layers.append(rendered)
        body["schedule_layers"] = layers
        if window is not None:
            final = self._final(schedule, window, overflow)
            body["overrides_subschedule"] = {
                "name": "Overrides",
                "rendered_schedule_entries": [],
                "rendered_coverage_percentage": 0,
            }
            body["final_schedule"] = {
                "name": "Final Schedule",
                "rendered_schedule_entries": self._entries(final),
                "rendered_coverage_percentage": coverage_percentage(final, *window),
            }
        return body

    def _final(
        self, schedule: PagerDutySchedule, window: tuple[datetime, datetime], overflow: bool
    ) -> list[Shift]:
        since, until = window
        explicit = self.account.explicit
        if explicit is None:
            if not overflow:
                return final_shifts(schedule, since, until)
            # Whole shifts: render a window one turn wider, keep what overlaps the asked one.
            margin = longest_turn(self.account.config)
            wide = final_shifts(schedule, since - margin, until + margin)
            return [s for s in wide if s.start < until and s.end > since]
        chosen = [
            Shift(e.start or since, e.end or until, e.user_id)
            for e in explicit
            if e.schedule_id == schedule.id
            and (e.start is None or e.start < until)
            and (e.end is None or e.end > since)
        ]
        chosen.sort(key=lambda s: (s.start, s.user_id))
        return chosen if overflow else clip(chosen, since, until)

    # ---- on-calls -----------------------------------------------------------------------------

    def oncall(self, entry: OnCallEntry, include: Collection[str]) -> dict[str, Any]:
        schedule: dict[str, Any] | None = None
        if entry.schedule_id is not None:
            schedule = (
                self.schedule(self.account.schedules[entry.schedule_id])
                if "schedules" in include
                else self.schedule_reference(entry.schedule_id)
            )
        return {
            "escalation_policy": (
                self.policy(entry.escalation_policy_id)
                if "escalation_policies" in include
                else self.policy_reference(entry.escalation_policy_id)
            ),
            "escalation_level": entry.escalation_level,
            "schedule": schedule,
            "user": self.user(entry.user_id) if "users" in include else self.user_reference(entry.user_id),
            "start": self.time(entry.start),
            "end": self.time(entry.end),
        }
