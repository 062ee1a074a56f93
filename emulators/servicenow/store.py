"""Records of the emulated instance and the rules ServiceNow applies when they are written.

One store serves the Table API and the queue page, so a comment typed on the page and one sent
through ``PATCH /api/now/table/incident/{id}`` produce the same journal row and the same
``sys_mod_count`` step. Records are kept in memory and, when a path is given, written through to a
SQLite file so a restarted emulator keeps its incidents. All stored values are strings; reference
fields hold the referenced sys_id.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def format_sn_datetime(moment: datetime) -> str:
    """An aware datetime as ServiceNow's UTC ``YYYY-MM-DD HH:MM:SS`` (how the instance stores it)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


__all__ = [
    "CHOICES",
    "COLUMNS",
    "DISPLAY_FIELD",
    "JOURNAL_FIELDS",
    "REFERENCES",
    "STATE_LABELS",
    "TableStore",
    "UnknownTable",
    "priority_for",
]

STATE_LABELS = {
    "1": "New",
    "2": "In Progress",
    "3": "On Hold",
    "6": "Resolved",
    "7": "Closed",
    "8": "Canceled",
}
LEVELS = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
PRIORITY_LABELS = {
    "1": "1 - Critical",
    "2": "2 - High",
    "3": "3 - Moderate",
    "4": "4 - Low",
    "5": "5 - Planning",
}
# Standard hold reasons; the numeric codes are not confirmed by an official source.
HOLD_REASONS = {
    "1": "Awaiting Caller",
    "5": "Awaiting Change",
    "3": "Awaiting Problem",
    "4": "Awaiting Vendor",
}
CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "incident": {
        "state": STATE_LABELS,
        "incident_state": STATE_LABELS,
        "impact": LEVELS,
        "urgency": LEVELS,
        "severity": LEVELS,
        "priority": PRIORITY_LABELS,
        "hold_reason": HOLD_REASONS,
    }
}
CLOSE_CODES = (
    "Duplicate",
    "Known error",
    "No resolution provided",
    "Resolved by caller",
    "Resolved by change",
    "Resolved by problem",
    "Resolved by request",
    "Solution provided",
    "Workaround provided",
)

_SYSTEM = ("sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "sys_mod_count")
COLUMNS: dict[str, tuple[str, ...]] = {
    "incident": (
        "number",
        "short_description",
        "description",
        "state",
        "incident_state",
        "impact",
        "urgency",
        "priority",
        "severity",
        "active",
        "category",
        "subcategory",
        "contact_type",
        "caller_id",
        "opened_by",
        "opened_at",
        "assignment_group",
        "assigned_to",
        "hold_reason",
        "close_code",
        "close_notes",
        "resolved_at",
        "resolved_by",
        "closed_at",
        "closed_by",
        "correlation_id",
        "correlation_display",
        "comments",
        "work_notes",
        "reopen_count",
        "escalation",
        "sys_class_name",
        *_SYSTEM,
    ),
    "sys_user": ("user_name", "name", "first_name", "last_name", "email", "title", "active", *_SYSTEM),
    "sys_user_group": ("name", "description", "email", "manager", "type", "active", *_SYSTEM),
    "sys_journal_field": ("element_id", "name", "element", "value", *_SYSTEM),
}
REFERENCES: dict[str, dict[str, str]] = {
    "incident": {
        "caller_id": "sys_user",
        "opened_by": "sys_user",
        "assignment_group": "sys_user_group",
        "assigned_to": "sys_user",
        "resolved_by": "sys_user",
        "closed_by": "sys_user",
    },
    "sys_user_group": {"manager": "sys_user"},
    "sys_user": {},
    "sys_journal_field": {},
}
DISPLAY_FIELD = {
    "incident": "number",
    "sys_user": "name",
    "sys_user_group": "name",
    "sys_journal_field": "sys_id",
}
JOURNAL_FIELDS = ("comments", "work_notes")
_COMPUTED = frozenset({"priority", "sys_class_name", "incident_state", *_SYSTEM})
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


class UnknownTable(KeyError):
    pass


def priority_for(impact: str, urgency: str) -> str:
    """ServiceNow's default impact x urgency lookup (1 Critical .. 5 Planning)."""
    try:
        i, u = int(impact), int(urgency)
    except ValueError:
        return "5"
    i, u = min(max(i, 1), 3), min(max(u, 1), 3)
    return str(min(i + u - 1, 5))


def as_text(value: Any) -> str:
    """A JSON value as ServiceNow would store it: always a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and "value" in value:
        return as_text(value["value"])
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


class TableStore:
    def __init__(self, path: Path | None, clock: Callable[[], datetime]):
        self._clock = clock
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL,"
            " sys_id TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (tbl, sys_id))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        self._db.commit()
        self._tables: dict[str, dict[str, dict[str, str]]] = {name: {} for name in COLUMNS}
        for tbl, sys_id, data in self._db.execute("SELECT tbl, sys_id, data FROM records ORDER BY seq"):
            if tbl in self._tables:
                self._tables[tbl][sys_id] = json.loads(data)

    def close(self) -> None:
        self._db.close()

    # ---- reading -------------------------------------------------------------------------
    def _table(self, table: str) -> dict[str, dict[str, str]]:
        try:
            return self._tables[table]
        except KeyError:
            raise UnknownTable(table) from None

    def rows(self, table: str) -> list[dict[str, str]]:
        return list(self._table(table).values())

    def get(self, table: str, sys_id: str) -> dict[str, str] | None:
        return self._table(table).get(sys_id)

    def find(self, table: str, **values: str) -> dict[str, str] | None:
        for row in self._table(table).values():
            if all(row.get(k) == v for k, v in values.items()):
                return row
        return None

    def has_field(self, table: str, name: str) -> bool:
        return name in COLUMNS[table] or name.startswith("u_")

    def value_at(self, table: str, row: Mapping[str, str], path: str) -> str | None:
        """A (dot-walked) field's stored value; None when the table has no such field."""
        head, _, rest = path.partition(".")
        if not self.has_field(table, head):
            return None
        value = row.get(head, "")
        if not rest:
            return value
        target = REFERENCES[table].get(head)
        if target is None:
            return None
        referenced = self._tables[target].get(value)
        if referenced is None:
            return "" if self.has_field(target, rest.partition(".")[0]) else None
        return self.value_at(target, referenced, rest)

    def display_of(self, table: str, sys_id: str) -> str:
        row = self._tables[table].get(sys_id)
        return "" if row is None else row.get(DISPLAY_FIELD[table], "")

    def journal(self, incident_sys_id: str) -> list[dict[str, str]]:
        return [r for r in self._tables["sys_journal_field"].values() if r["element_id"] == incident_sys_id]

    # ---- writing -------------------------------------------------------------------------
    def _persist(self, table: str, row: dict[str, str]) -> None:
        self._db.execute(
            "INSERT INTO records (tbl, sys_id, data) VALUES (?, ?, ?)"
            " ON CONFLICT (tbl, sys_id) DO UPDATE SET data = excluded.data",
            (table, row["sys_id"], json.dumps(row)),
        )
        self._db.commit()

    def _next_number(self, name: str, start: int) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = start if row is None else row[0] + 1
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    def _resolve_reference(self, table: str, name: str, value: str, by_display: bool) -> str:
        target = REFERENCES[table].get(name)
        if target is None or not value or not by_display or value in self._tables[target]:
            return value
        keys = ("user_name", "name", "email") if target == "sys_user" else (DISPLAY_FIELD[target],)
        for key in keys:
            found = self.find(target, **{key: value})
            if found is not None:
                return found["sys_id"]
        return ""

    def _writable(
        self, table: str, values: Mapping[str, Any], *, by_display: bool, allow_sys_id: bool
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Split a request body into stored field changes and journal entries; ignore the rest."""
        changes: dict[str, str] = {}
        journal: dict[str, str] = {}
        for name, raw in values.items():
            if not isinstance(name, str) or not self.has_field(table, name):
                continue  # ServiceNow ignores unknown fields
            text = as_text(raw)
            if table == "incident" and name in JOURNAL_FIELDS:
                if text.strip():
                    journal[name] = text
                continue
            if name == "sys_id" and allow_sys_id and _SYS_ID.match(text):
                changes[name] = text
                continue
            if name in _COMPUTED:
                continue
            if by_display and table in CHOICES and name in CHOICES[table]:
                labels = {label.lower(): code for code, label in CHOICES[table][name].items()}
                text = labels.get(text.lower(), text)
            changes[name] = self._resolve_reference(table, name, text, by_display)
        return changes, journal

    def _user_sys_id(self, user_name: str) -> str:
        found = self.find("sys_user", user_name=user_name)
        return "" if found is None else found["sys_id"]

    def insert(
        self, table: str, values: Mapping[str, Any], *, user: str, input_display_value: bool = False
    ) -> dict[str, str]:
        rows = self._table(table)
        changes, journal = self._writable(table, values, by_display=input_display_value, allow_sys_id=True)
        now = format_sn_datetime(self._clock())
        sys_id = changes.pop("sys_id", None) or uuid.uuid4().hex
        if sys_id in rows:
            sys_id = uuid.uuid4().hex
        row = {name: "" for name in COLUMNS[table] if name not in JOURNAL_FIELDS}
        if table == "incident":
            row.update(
                state="1",
                impact="3",
                urgency="3",
                severity="3",
                active="true",
                opened_at=now,
                opened_by=self._user_sys_id(user),
                reopen_count="0",
                escalation="0",
                sys_class_name="incident",
            )
        elif "active" in row:
            row["active"] = "true"
        row.update(changes)
        if table == "incident":
            if not row["number"]:
                row["number"] = f"INC{self._next_number('incident', 10001):07d}"
            self._apply_incident_rules(row, {}, user, now, explicit=changes)
        row.update(
            sys_id=sys_id,
            sys_created_on=now,
            sys_created_by=user,
            sys_updated_on=now,
            sys_updated_by=user,
            sys_mod_count="0",
        )
        rows[sys_id] = row
        self._persist(table, row)
        self._write_journal(sys_id, journal, user, now)
        return row

    def update(
        self,
        table: str,
        sys_id: str,
        values: Mapping[str, Any],
        *,
        user: str,
        input_display_value: bool = False,
    ) -> dict[str, str] | None:
        rows = self._table(table)
        row = rows.get(sys_id)
        if row is None:
            return None
        changes, journal = self._writable(table, values, by_display=input_display_value, allow_sys_id=False)
        now = format_sn_datetime(self._clock())
        before = dict(row)
        updated = {**row, **changes}
        if table == "incident":
            self._apply_incident_rules(updated, before, user, now, explicit=changes)
        if updated == before and not journal:
            return row  # nothing changed: ServiceNow does not save, sys_mod_count stays
        updated.update(
            sys_updated_on=now,
            sys_updated_by=user,
            sys_mod_count=str(int(before.get("sys_mod_count") or 0) + 1),
        )
        rows[sys_id] = updated
        self._persist(table, updated)
        self._write_journal(sys_id, journal, user, now)
        return updated

    def delete(self, table: str, sys_id: str) -> bool:
        rows = self._table(table)
        if rows.pop(sys_id, None) is None:
            return False
        self._db.execute("DELETE FROM records WHERE tbl = ? AND sys_id = ?", (table, sys_id))
        self._db.commit()
        return True

    def _apply_incident_rules(
        self,
        row: dict[str, str],
        before: Mapping[str, str],
        user: str,
        now: str,
        explicit: Mapping[str, str] | None = None,
    ) -> None:
        """The business rules of a base instance that the bridge relies on."""
        explicit = explicit or {}
        state = row["state"] if row["state"] in STATE_LABELS else before.get("state", "1")
        row["state"] = row["incident_state"] = state
        row["priority"] = priority_for(row["impact"], row["urgency"])
        old_state = before.get("state")
        if state != "3" and "hold_reason" not in explicit:
            row["hold_reason"] = ""
        if state == "6" and old_state != "6":
            row["resolved_at"] = row["resolved_at"] if "resolved_at" in explicit else now
            row["resolved_by"] = row["resolved_by"] if "resolved_by" in explicit else self._user_sys_id(user)
        if state in ("7", "8") and old_state not in ("7", "8"):
            row["closed_at"] = now
            row["closed_by"] = self._user_sys_id(user)
            if not row["resolved_at"]:
                row["resolved_at"] = now
        if state in ("1", "2", "3") and old_state in ("6", "7", "8"):
            row.update(resolved_at="", resolved_by="", closed_at="", closed_by="")
            row["reopen_count"] = str(int(row.get("reopen_count") or 0) + 1)
        row["active"] = "false" if state in ("7", "8") else "true"

    def _write_journal(self, sys_id: str, journal: Mapping[str, str], user: str, now: str) -> None:
        for element, text in journal.items():
            entry = {
                "sys_id": uuid.uuid4().hex,
                "element_id": sys_id,
                "name": "incident",
                "element": element,
                "value": text,
                "sys_created_on": now,
                "sys_created_by": user,
                "sys_updated_on": now,
                "sys_updated_by": user,
                "sys_mod_count": "0",
            }
            self._tables["sys_journal_field"][entry["sys_id"]] = entry
            self._persist("sys_journal_field", entry)

    # ---- seeding -------------------------------------------------------------------------
    def seed_user(self, user_name: str, name: str, email: str = "") -> dict[str, str]:
        """The ``sys_user`` of ``user_name``, created, or brought up to date with a newer name or
        e-mail (a restart with a changed roster keeps the row and its sys_id)."""
        first, _, last = name.partition(" ")
        wanted = {"name": name, "first_name": first, "last_name": last}
        if email:
            wanted["email"] = email
        found = self.find("sys_user", user_name=user_name)
        if found is None:
            return self.insert("sys_user", {"user_name": user_name, "email": email, **wanted}, user="system")
        if any(found.get(key) != value for key, value in wanted.items()):
            return self.update("sys_user", found["sys_id"], wanted, user="system") or found
        return found

    def seed_group(self, name: str, description: str = "") -> dict[str, str]:
        found = self.find("sys_user_group", name=name)
        if found is not None:
            return found
        return self.insert("sys_user_group", {"name": name, "description": description}, user="system")
