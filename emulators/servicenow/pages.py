"""The engineers' queue page: an incident list at ``/`` and an incident form at ``/incident.do``.

Form posts go through :class:`TableStore` exactly like the Table API does, so a comment typed here
is the same journal row, by the same kind of user, as one written with ``PATCH``. The page needs
no login (it is a local emulator); the engineer picks who they act as.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from emulators.servicenow.api import CONFIG_KEY, STORE_KEY
from emulators.servicenow.store import CLOSE_CODES, HOLD_REASONS, LEVELS, PRIORITY_LABELS, STATE_LABELS

__all__ = ["add_page_routes"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("emulators.servicenow", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_OPEN_STATES = ("1", "2", "3")


def _render(name: str, status: int = 200, **context: Any) -> web.Response:
    html = _ENV.get_template(name).render(**context)
    return web.Response(text=html, content_type="text/html", status=status)


def _people(request: web.Request) -> list[dict[str, str]]:
    """Who may act on the page: the human logins, the engineers, and people who are engineers or
    managers (site staff only appear as callers)."""
    config = request.app[CONFIG_KEY]
    store = request.app[STORE_KEY]
    people = []
    for user_name in config.acting_user_names:
        row = store.find("sys_user", user_name=user_name)
        people.append({"user_name": user_name, "name": row["name"] if row else user_name})
    return people


def _acting_as(request: web.Request, people: list[dict[str, str]], requested: str | None) -> str:
    allowed = [p["user_name"] for p in people]
    if requested in allowed:
        return str(requested)
    return allowed[0] if allowed else "admin"


def _person_name(store: Any, sys_id: str) -> str:
    # A reference to a user that is not there (written as a raw value) shows as the raw value.
    return (store.display_of("sys_user", sys_id) or sys_id) if sys_id else ""


def _incident_view(store: Any, row: dict[str, str]) -> dict[str, str]:
    caller = store.get("sys_user", row["caller_id"]) if row["caller_id"] else None
    return {
        **row,
        "state_label": STATE_LABELS.get(row["state"], row["state"]),
        "group_name": store.display_of("sys_user_group", row["assignment_group"]),
        "assignee_name": _person_name(store, row["assigned_to"]),
        "caller_name": (caller or {}).get("name")
        or _person_name(store, row["caller_id"])
        or row.get("u_caller_name", ""),
        "caller_email": (caller or {}).get("email", ""),
        "caller_known": "yes" if caller else "",
        "opened_by_name": _person_name(store, row["opened_by"]),
        "resolved_by_name": _person_name(store, row["resolved_by"]),
        "priority_label": PRIORITY_LABELS.get(row["priority"], row["priority"]),
        "hold_label": HOLD_REASONS.get(row["hold_reason"], row["hold_reason"]),
    }


async def incident_list(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    config = request.app[CONFIG_KEY]
    view = request.query.get("view", "all")
    group = request.query.get("group", "")
    rows = store.rows("incident")
    if view == "open":
        rows = [r for r in rows if r["state"] in _OPEN_STATES]
    elif view == "resolved":
        rows = [r for r in rows if r["state"] not in _OPEN_STATES]
    if group:
        rows = [r for r in rows if r["assignment_group"] == group]
    rows.sort(key=lambda r: (r["sys_updated_on"], r["number"]), reverse=True)
    groups = [{"sys_id": g["sys_id"], "name": g["name"]} for g in store.rows("sys_user_group")]
    return _render(
        "list.html.j2",
        incidents=[_incident_view(store, r) for r in rows],
        groups=groups,
        view=view,
        group=group,
        total=len(store.rows("incident")),
        acting=request.query.get("as", ""),
        title=f"Incidents - {config.tier2_group}",
    )


def _form_context(request: web.Request, row: dict[str, str], acting: str, **extra: Any) -> dict[str, Any]:
    store = request.app[STORE_KEY]
    config = request.app[CONFIG_KEY]
    people = _people(request)
    names = {u["user_name"]: u["name"] for u in store.rows("sys_user")}
    journal = sorted(store.journal(row["sys_id"]), key=lambda j: j["sys_created_on"], reverse=True)
    entries = [
        {
            **j,
            "author": names.get(j["sys_created_by"], j["sys_created_by"]),
            "is_note": j["element"] == "work_notes",
        }
        for j in journal
    ]
    assignable = [
        {"sys_id": u["sys_id"], "name": u["name"]}
        for u in store.rows("sys_user")
        if u["user_name"] not in (config.integration_user, "system")
    ]
    return {
        "incident": _incident_view(store, row),
        "journal": entries,
        "people": people,
        "acting": acting,
        "groups": [{"sys_id": g["sys_id"], "name": g["name"]} for g in store.rows("sys_user_group")],
        "users": assignable,
        "states": STATE_LABELS,
        "hold_reasons": HOLD_REASONS,
        "levels": LEVELS,
        "close_codes": CLOSE_CODES,
        "title": f"{row['number']} | Incident",
        **extra,
    }


async def incident_form(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    row = store.get("incident", request.query.get("sys_id", ""))
    if row is None:
        return _render("missing.html.j2", status=404, title="Record not found")
    acting = _acting_as(request, _people(request), request.query.get("as"))
    return _render("form.html.j2", **_form_context(request, row, acting))


def _form_changes(form: Any, row: dict[str, str], action: str) -> tuple[dict[str, str], str | None]:
    changes: dict[str, str] = {}
    for name in ("assignment_group", "assigned_to", "state", "hold_reason", "impact", "urgency"):
        if name in form and form[name] != row.get(name, ""):
            changes[name] = form[name]
    for name in ("close_code", "close_notes"):
        if name in form and form[name].strip() != row.get(name, ""):
            changes[name] = form[name].strip()
    if action == "resolve":
        changes["state"] = "6"
    state = changes.get("state", row["state"])
    if state == "3" and not changes.get("hold_reason", row["hold_reason"]):
        return changes, "On Hold needs an On hold reason."
    if state == "6" and row["state"] != "6":
        if not changes.get("close_code", row["close_code"]) or not changes.get(
            "close_notes", row["close_notes"]
        ):
            return changes, "Resolving needs a Resolution code and Resolution notes."
    return changes, None


async def incident_post(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    sys_id = request.query.get("sys_id", "")
    row = store.get("incident", sys_id)
    if row is None:
        return _render("missing.html.j2", status=404, title="Record not found")
    form = await request.post()
    people = _people(request)
    acting = _acting_as(request, people, str(form.get("as", "")))
    action = str(form.get("action", "update"))
    text = str(form.get("journal_text", "")).strip()
    element = "work_notes" if form.get("journal_type") == "work_notes" else "comments"
    values: dict[str, str] = {}
    error = None
    if action in ("update", "resolve"):
        values, error = _form_changes({k: str(v) for k, v in form.items()}, row, action)
    elif action == "post" and not text:
        error = "Type a comment or work note first."
    if error:
        context = _form_context(request, row, acting, error=error, draft=text, draft_type=element)
        return _render("form.html.j2", status=400, **context)
    if text:
        values[element] = text
    if values:
        store.update("incident", sys_id, values, user=acting)
    query = urlencode({"sys_id": sys_id, "as": acting})
    raise web.HTTPSeeOther(f"/incident.do?{query}")


async def nav_to(request: web.Request) -> web.Response:
    """``/nav_to.do?uri=incident.do?sys_id=...``: the instance link format, sent to the form."""
    uri = request.query.get("uri", "")
    # Only paths of this emulator: never redirect to another host.
    if not uri.startswith(("incident.do", "/incident.do", "incident_list.do", "/incident_list.do")):
        raise web.HTTPFound("/")
    raise web.HTTPFound("/" + uri.lstrip("/"))


def add_page_routes(app: web.Application) -> None:
    app.router.add_get("/", incident_list)
    app.router.add_get("/incident_list.do", incident_list)
    app.router.add_get("/incident.do", incident_form)
    app.router.add_post("/incident.do", incident_post)
    app.router.add_get("/nav_to.do", nav_to)
