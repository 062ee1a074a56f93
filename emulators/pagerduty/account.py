"""The emulated PagerDuty account at run time: the configured data plus on-calls set by a driver.

Errors: :class:`AccountError` (a driver request that does not fit the account; its message is safe
to return). A state file that cannot be read fails start-up with ``OSError``/``ValueError``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emulators.pagerduty.config import (
    EscalationPolicy,
    OnCallEntry,
    PagerDutyEmulatorConfig,
    PagerDutySchedule,
    PagerDutyUser,
    check_entry,
)
from emulators.pagerduty.rotation import derived_oncalls, overlapping
from emulators.state_file import JsonStateFile

__all__ = ["AccountError", "PagerDutyAccount", "parse_instant"]


class AccountError(ValueError):
    """A driver request that does not fit the account; the message is safe to return."""


def parse_instant(value: str) -> datetime:
    """An aware datetime from ISO 8601 with an offset (``Z`` allowed); ValueError otherwise."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        raise ValueError("a UTC offset is required")
    return moment


class PagerDutyAccount:
    def __init__(self, config: PagerDutyEmulatorConfig):
        config.check()
        self.config = config
        self.users: dict[str, PagerDutyUser] = {u.id: u for u in config.users}
        self.schedules: dict[str, PagerDutySchedule] = {s.id: s for s in config.schedules}
        self.policies: dict[str, EscalationPolicy] = {p.id: p for p in config.escalation_policies}
        self._state = JsonStateFile(config.state_dir, "pagerduty.json")
        self.explicit: tuple[OnCallEntry, ...] | None = config.oncalls
        saved = self._state.load()
        if saved is not None and saved.get("oncalls") is not None:
            self.explicit = tuple(self.entry_from_json(item) for item in saved["oncalls"])

    # ---- on-calls -----------------------------------------------------------------------------

    def oncalls(self, since: datetime, until: datetime) -> list[OnCallEntry]:
        if self.explicit is None:
            return derived_oncalls(self.config, since, until)
        return [e for e in self.explicit if overlapping(e, since, until)]

    def replace_oncalls(self, items: Any) -> None:
        if not isinstance(items, list):
            raise AccountError('"oncalls" must be a list')
        entries = tuple(self.entry_from_json(item) for item in items)
        self.explicit = entries
        self._state.save({"oncalls": [self.entry_to_json(e) for e in entries]})

    def restore_oncalls(self) -> None:
        self.explicit = self.config.oncalls
        self._state.save({"oncalls": None})

    def user_id_for(self, ref: Any) -> str:
        """A user id from an id or an email address (drivers may use either)."""
        if isinstance(ref, str):
            if ref in self.users:
                return ref
            for user in self.users.values():
                if user.email.lower() == ref.lower():
                    return user.id
        raise AccountError(f"unknown user {ref!r}")

    def entry_from_json(self, item: Any) -> OnCallEntry:
        if not isinstance(item, dict):
            raise AccountError("each on-call must be an object")
        policy = item.get("escalation_policy") or next(iter(self.policies), "")
        level = item.get("escalation_level", 1)
        schedule = item.get("schedule")
        if isinstance(level, bool) or not isinstance(level, int):
            raise AccountError("escalation_level must be an integer")
        if schedule is not None and not isinstance(schedule, str):
            raise AccountError("schedule must be a schedule id or null")
        try:
            entry = OnCallEntry(
                user_id=self.user_id_for(item.get("user")),
                escalation_policy_id=str(policy),
                escalation_level=level,
                schedule_id=schedule,
                start=self._moment(item.get("start")),
                end=self._moment(item.get("end")),
            )
            check_entry(entry, set(self.users), set(self.schedules), set(self.policies))
        except AccountError:
            raise
        except ValueError as exc:
            raise AccountError(str(exc)) from exc
        return entry

    @staticmethod
    def _moment(value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise AccountError("start and end must be ISO 8601 strings or null")
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise AccountError(f"not an ISO 8601 instant with an offset: {value!r}") from exc

    @staticmethod
    def entry_to_json(entry: OnCallEntry) -> dict[str, Any]:
        return {
            "user": entry.user_id,
            "schedule": entry.schedule_id,
            "escalation_policy": entry.escalation_policy_id,
            "escalation_level": entry.escalation_level,
            "start": None if entry.start is None else entry.start.isoformat(),
            "end": None if entry.end is None else entry.end.isoformat(),
        }

    # ---- driver view --------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        return {
            "now": self.config.now().isoformat(),
            "source": "rotation" if self.explicit is None else "entries",
            "users": [
                {"id": u.id, "name": u.name, "email": u.email, "time_zone": u.time_zone}
                for u in self.users.values()
            ],
            "schedules": [
                {
                    "id": s.id,
                    "name": s.name,
                    "time_zone": s.time_zone,
                    "layers": [
                        {
                            "id": layer.id,
                            "name": layer.name,
                            "start": layer.start.isoformat(),
                            "end": None if layer.end is None else layer.end.isoformat(),
                            "rotation_virtual_start": layer.rotation_virtual_start.isoformat(),
                            "rotation_turn_length_seconds": layer.rotation_turn_length_seconds,
                            "users": list(layer.users),
                        }
                        for layer in s.layers
                    ],
                }
                for s in self.schedules.values()
            ],
            "escalation_policies": [
                {"id": p.id, "name": p.name, "levels": [list(t) for t in p.levels]}
                for p in self.policies.values()
            ],
            "oncalls": None if self.explicit is None else [self.entry_to_json(e) for e in self.explicit],
        }
