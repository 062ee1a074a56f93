"""Adaptive Cards: pure functions from the view models of ``bot.views`` to Teams card JSON.

Every builder returns a plain ``dict`` (Adaptive Card 1.5, valid against the published schema) and
touches no I/O, clock or settings. Buttons are ``Action.Execute`` only (Universal Actions: Teams
sends an ``adaptiveCard/action`` invoke, see
https://learn.microsoft.com/adaptive-cards/authoring-cards/universal-action-model); each carries a
``verb`` from :data:`bot.views.CARD_VERBS` and a ``data`` object. Inputs arrive merged into ``data``
under the ids in ``bot.views.*_INPUT``.

Links are Markdown links inside ``TextBlock`` text rather than ``Action.OpenUrl`` buttons, so every
button on a card is one the bot handles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from bot.commands import CLOSE_CODES, Scope, commands_for
from bot.views import (
    CLOSE_CODE_INPUT,
    CLOSE_NOTES_INPUT,
    DATA_ALERT,
    DATA_GROUP,
    DATA_INQUIRY,
    DATA_PROPOSAL,
    DATA_STATION,
    FOLLOWUP_TITLE,
    SITES_INPUT,
    TRIAGE_INPUT,
    VERB_ACKNOWLEDGE,
    VERB_ADD_WEEK,
    VERB_ASSIGN_ME,
    VERB_FOLLOWUP,
    VERB_PLAN_CANCEL,
    VERB_PLAN_CONFIRM,
    VERB_RESOLVE,
    VERB_ROUTE,
    VERB_SET_SITE,
    VERB_TRIAGE,
    WEEK_START_INPUT,
    AddWeekFormView,
    AlertCardView,
    DutyPerson,
    DutyView,
    FollowUpRef,
    HandoffView,
    HelpView,
    IncidentCardView,
    PlanChangeView,
    RetirementView,
    RotationReportView,
    WelcomeView,
)

CARD_VERSION: Final = "1.5"
CARD_SCHEMA_URL: Final = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_CONTENT_TYPE: Final = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE: Final = "application/vnd.microsoft.activity.message"
ERROR_CONTENT_TYPE: Final = "application/vnd.microsoft.error"


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------


def _card(body: list[dict], actions: list[dict] | None = None, fallback_text: str = "") -> dict:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA_URL,
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    if fallback_text:
        card["fallbackText"] = fallback_text
    return card


def _text(text: str, **style: Any) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _heading(text: str) -> dict:
    return _text(text, size="Medium", weight="Bolder", style="heading")


def _facts(pairs: Iterable[tuple[str, str | None]]) -> dict:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs if v]}


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _link(text: str, url: str | None) -> str:
    # Square brackets in the text would end the Markdown link early.
    label = text.replace("[", "(").replace("]", ")")
    return f"[{label}]({url})" if url else label


def _execute(title: str, verb: str, data: Mapping[str, Any], style: str | None = None) -> dict:
    action: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data)}
    if style:
        action["style"] = style
    return action


def _show_card(title: str, body: list[dict], actions: list[dict]) -> dict:
    # A card inside Action.ShowCard takes no version of its own (schema note on AdaptiveCard.version).
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "body": body, "actions": actions},
    }


def _choice_set(input_id: str, label: str, choices: Sequence[str], value: str | None = None) -> dict:
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "isRequired": True,
        "errorMessage": f"Choose a {label.lower()}.",
        "choices": [{"title": choice, "value": choice} for choice in choices],
    }
    if value in choices:
        element["value"] = value
    return element


# --------------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------------


def incident_card(view: IncidentCardView) -> dict:
    """The card in an inquiry's thread: incident link, state, site, duty, and the engineers' buttons.

    Unresolved: Acknowledge, one button per assignment group titled with the group's name (data
    ``{"group": name}``), Assign to me, a triage form (when categories exist) and a resolve form.
    Resolved: no buttons but "Follow-up issue". That button (``followup_tracker`` set, no
    follow-up yet) files one GitHub or Jira issue; once asked for, a "Follow-up" fact shows it.
    """
    number = _link(view.number, view.url) if view.number else "Creating the ServiceNow incident…"
    title = f"Incident {number}" if view.number else number
    site = f"{view.station} {view.site_name}"
    if view.go_live_day is not None:
        site += f" (go-live day {view.go_live_day})"
    duty = None
    if view.duty_primary or view.duty_backup:
        duty = ", ".join(
            f"{name} ({role})"
            for name, role in ((view.duty_primary, "primary"), (view.duty_backup, "backup"))
            if name
        )
    body = [
        _heading(title),
        _facts(
            [
                ("State", view.state_label),
                ("Group", view.group),
                ("Assigned to", view.assignee or "Unassigned"),
                ("Site", site),
                ("Posted", view.posted_at_text),
                ("First response", view.first_response_text or "Waiting"),
                ("Suggested group", view.suggested_group if view.suggested_group != view.group else None),
                ("Triage", view.triage),
                ("On duty", duty),
                ("Follow-up", followup_text(view.followup)),
            ]
        ),
    ]
    if view.triage and view.triage_guidance:
        body.append(_text(f"{view.triage}: {view.triage_guidance}", isSubtle=True))
    inquiry = {DATA_INQUIRY: view.inquiry_key}
    if view.followup_tracker and view.followup is None:
        # In the body, not among the card's actions: Teams shows at most 6 of those.
        body.append({"type": "ActionSet", "actions": [_execute(FOLLOWUP_TITLE, VERB_FOLLOWUP, inquiry)]})
    if view.resolved:
        resolution = view.close_code or "Resolved"
        if view.close_notes:
            resolution += f": {view.close_notes}"
        if view.resolved_by:
            resolution += f" (resolved by {view.resolved_by})"
        body.append(_text(resolution, isSubtle=True))
        return _card(body, fallback_text=f"Incident {view.number or ''} resolved".strip())

    actions = [_execute("Acknowledge", VERB_ACKNOWLEDGE, inquiry, style="positive")]
    for group in dict.fromkeys((view.tier2_group, view.product_group)):  # de-duplicated, ordered
        actions.append(_execute(group, VERB_ROUTE, {**inquiry, DATA_GROUP: group}))
    actions.append(_execute("Assign to me", VERB_ASSIGN_ME, inquiry))
    if view.triage_categories:
        actions.append(
            _show_card(
                "Triage",
                [_choice_set(TRIAGE_INPUT, "Category", view.triage_categories, view.triage)],
                [_execute("Set triage", VERB_TRIAGE, inquiry)],
            )
        )
    if view.site_choices:
        # The inquiry's channel did not tell its site (a watched Slack channel): anyone may say it.
        picker = {
            "type": "Input.ChoiceSet",
            "id": DATA_STATION,
            "label": "Site",
            "style": "compact",
            "isRequired": True,
            "errorMessage": "Choose a site.",
            "choices": [{"title": f"{c.station} {c.name}", "value": c.station} for c in view.site_choices],
        }
        actions.append(_show_card("Site", [picker], [_execute("Set site", VERB_SET_SITE, inquiry)]))
    actions.append(
        _show_card(
            "Resolve",
            [
                _choice_set(CLOSE_CODE_INPUT, "Close code", CLOSE_CODES),
                {
                    "type": "Input.Text",
                    "id": CLOSE_NOTES_INPUT,
                    "label": "Resolution notes",
                    "isMultiline": True,
                    "isRequired": True,
                    "errorMessage": "Resolution notes are required.",
                    "placeholder": "What fixed it, or the workaround given",
                    "maxLength": 4000,
                },
            ],
            [_execute("Resolve incident", VERB_RESOLVE, inquiry, style="destructive")],
        )
    )
    return _card(body, actions, fallback_text=f"Incident {view.number or '(pending)'}: {view.state_label}")


def followup_text(followup: FollowUpRef | None) -> str | None:
    """The "Follow-up" fact: the issue's link and state, or that it is being filed."""
    if followup is None:
        return None
    if not followup.key:
        return (
            f"Not filed in {followup.tracker} (see the thread)"
            if followup.failed
            else f"Filing in {followup.tracker}…"
        )
    state = f" ({followup.state})" if followup.state else ""
    return f"{_link(followup.key, followup.url)}{state}"


_ALERT_SOURCES: Final[Mapping[str, str]] = {
    "sentry": "Sentry",
    "datadog": "Datadog",
    "pagerduty": "PagerDuty",
    "bugsnag": "Bugsnag",
    "storm": "Alert storm",
}


def alert_card(view: AlertCardView) -> dict:
    """An alert group's (or an alert storm's) post in the alert channel, updated in place.

    Buttons: Acknowledge, one per assignment group titled with the group's name, and "Follow-up
    issue" (``followup_tracker`` set, no follow-up yet); each carries ``{"alert": <correlation id>}``.
    Once a follow-up was asked for, a "Follow-up" fact shows it (being filed, not filed, its link).
    """
    source = _ALERT_SOURCES.get(view.source, view.source)
    state = "Recovered" if view.recovered else view.state.capitalize()
    incident = _link(view.number, view.url) if view.number else "Creating the ServiceNow incident…"
    heading = f"{source}: {view.title}" if not view.storm else f"Alert storm: {view.title}"
    body: list[dict] = [
        _text(
            heading,
            size="Medium",
            weight="Bolder",
            style="heading",
            color="Good" if view.recovered else "Attention" if view.level == "critical" else "Default",
        ),
        _facts(
            [
                ("State", state),
                ("Level", view.level),
                ("Alerts", str(view.count)),
                ("First seen", view.first_seen_text),
                ("Last seen", view.last_seen_text),
                ("Incident", incident),
                ("Group", view.group),
                ("Acknowledged", view.acknowledged_text or "Waiting"),
                *view.details,
                ("Follow-up", followup_text(view.followup)),
            ]
        ),
    ]
    if view.links:
        body.append(_text(" · ".join(_link(link.label, link.url) for link in view.links)))
    if view.storm:
        lines = [
            f"{_ALERT_SOURCES.get(m.source, m.source)}: {m.title} ({m.count}, {m.state})"
            for m in view.members
        ]
        if view.more_members:
            lines.append(f"… and {view.more_members} more")
        body += [_text("Groups in this storm", weight="Bolder"), _text(_bullets(lines))]
    alert = {DATA_ALERT: view.alert_key}
    actions = [_execute("Acknowledge", VERB_ACKNOWLEDGE, alert, style="positive")]
    for group in dict.fromkeys((view.tier2_group, view.product_group)):
        actions.append(_execute(group, VERB_ROUTE, {**alert, DATA_GROUP: group}))
    if view.followup_tracker and view.followup is None:
        actions.append(_execute(FOLLOWUP_TITLE, VERB_FOLLOWUP, alert))
    return _card(body, actions, fallback_text=f"{heading} ({state}, {view.count} alerts)")


def welcome_card(view: WelcomeView) -> dict:
    """Posted when a site's go-live channel opens."""
    body = [
        _heading(f"Welcome to the Go Live channel for {view.station} {view.site_name}"),
        _facts([("Go-live", view.go_live_date_text), ("Channel open", view.window_text)]),
    ]
    if view.duty_lines:
        body += [_text("On duty", weight="Bolder"), _text(_bullets(view.duty_lines))]
    if view.tips:
        body += [_text("How to ask for help", weight="Bolder"), _text(_bullets(view.tips))]
    body.append(
        _text(
            f"After the go-live week, please use {_link('ServiceNow', view.servicenow_url)} "
            "for product support.",
            isSubtle=True,
        )
    )
    return _card(body, fallback_text=f"Welcome to the Go Live channel for {view.station} {view.site_name}")


def retirement_card(view: RetirementView) -> dict:
    """Posted when a go-live channel retires (before it is archived)."""
    plural = "inquiry was" if view.inquiries == 1 else "inquiries were"
    body = [
        _heading(f"The go-live week for {view.station} {view.site_name} has ended"),
        _text(f"{view.inquiries} {plural} raised in this channel. Thank you!"),
    ]
    if view.open_incidents:
        body += [
            _text("Still open (engineers keep working on these in ServiceNow):", weight="Bolder"),
            _text(_bullets(_link(ref.number, ref.url) for ref in view.open_incidents)),
        ]
    else:
        body.append(_text("Every incident from this channel is resolved."))
    body.append(_text(f"{view.support_text} {_link('Open ServiceNow', view.servicenow_url)}"))
    body.append(_text("This channel is now read-only.", isSubtle=True))
    return _card(body, fallback_text=f"The go-live week for {view.station} {view.site_name} has ended")


def duty_card(view: DutyView) -> dict:
    """The ``duty`` reply: who is on duty for the day, and whether they are working right now."""

    def line(person: DutyPerson | None) -> str | None:
        if person is None:
            return None
        parts = [person.name]
        if person.hours_text:
            parts.append(person.hours_text)
        parts.append("working now" if person.working_now else "off now")
        return ", ".join(parts)

    body = [
        _heading(f"On duty {view.day_text}"),
        _facts(
            [
                ("Primary", line(view.primary) or "Nobody"),
                ("Backup", line(view.backup) or "Nobody"),
                ("Fallback", line(view.fallback)),
                ("Observers", ", ".join(view.observers) or None),
            ]
        ),
    ]
    if view.next_pickup_text:
        body.append(_text(f"Next pick-up: {view.next_pickup_text}", isSubtle=True))
    return _card(body, fallback_text=f"On duty {view.day_text}")


def handoff_card(view: HandoffView) -> dict:
    """Notice that duty (or an inquiry) passed from one engineer to another."""
    who = f"{view.from_name} handed over to {view.to_name}" if view.from_name else f"{view.to_name} took over"
    body = [_text(who, weight="Bolder")]
    if view.reason:
        body.append(_text(view.reason))
    if view.open_incidents:
        body += [
            _text("Open incidents:", weight="Bolder"),
            _text(_bullets(_link(ref.number, ref.url) for ref in view.open_incidents)),
        ]
    return _card(body, fallback_text=who)


def help_card(scope: Scope, is_manager: bool) -> dict:
    """The ``help`` reply as a card, from the command registry."""
    specs = commands_for(scope, is_manager)
    body = [
        _heading("Go Live Bridge commands"),
        {"type": "FactSet", "facts": [{"title": spec.usage, "value": spec.description} for spec in specs]},
    ]
    if scope == "team":
        body.append(
            _text("In a go-live channel every new post becomes a ServiceNow incident.", isSubtle=True)
        )
    return _card(body, fallback_text="Go Live Bridge commands")


def add_week_form_card(view: AddWeekFormView | None = None) -> dict:
    """Managers' form: a rollout week's Monday and its sites, one ``station,name,time_zone[,date]``
    per line (the rollout CSV columns after ``week_start``)."""
    view = view or AddWeekFormView()
    body: list[dict] = [_heading("Add a rollout week")]
    if view.errors:
        body.append(_text(_bullets(view.errors), color="Attention"))
    week: dict[str, Any] = {
        "type": "Input.Date",
        "id": WEEK_START_INPUT,
        "label": "Week start (a Monday)",
        "isRequired": True,
        "errorMessage": "Pick the Monday of the week.",
    }
    if view.week_start:
        week["value"] = view.week_start
    sites: dict[str, Any] = {
        "type": "Input.Text",
        "id": SITES_INPUT,
        "label": "Sites: station,name,time_zone[,go_live_date] per line",
        "isMultiline": True,
        "isRequired": True,
        "errorMessage": "Add at least one site.",
        "placeholder": "508,Atlanta VA Medical Center,America/New_York,2022-05-04",
    }
    if view.sites_text:
        sites["value"] = view.sites_text
    body += [week, sites]
    return _card(body, [_execute("Add week", VERB_ADD_WEEK, {"form": VERB_ADD_WEEK})], "Add a rollout week")


def plan_change_card(view: PlanChangeView) -> dict[str, Any]:
    """A plan change before it is made: the change lines, the channels it would open, close or move,
    and Confirm / Cancel while it is pending (afterwards the card says what became of it)."""
    body: list[dict[str, Any]] = [
        _heading(view.title),
        _text(f"Asked by {view.requester}", isSubtle=True, spacing="None"),
        _text("Changes", weight="Bolder"),
        _text(_bullets(view.changes) if view.changes else "Nothing would change."),
        _text("Go-live channels", weight="Bolder"),
        _text(_bullets(view.channels) if view.channels else "No channel opens, closes or moves."),
    ]
    if view.note:
        color = {"applied": "Good", "stale": "Attention", "cancelled": "Default"}.get(view.state, "Accent")
        body.append(_text(view.note, color=color, weight="Bolder" if view.state != "pending" else "Default"))
    actions = None
    if view.state == "pending":
        data = {DATA_PROPOSAL: view.proposal_id}
        actions = [
            _execute("Confirm", VERB_PLAN_CONFIRM, data, style="positive"),
            _execute("Cancel", VERB_PLAN_CANCEL, data),
        ]
    return _card(body, actions, fallback_text=view.title)


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def rotation_report_card(view: RotationReportView) -> dict:
    """The end-of-rotation report for the team review."""
    fr = view.first_response
    total = fr.answered + fr.unanswered
    within = f"{fr.within_5_min} of {total}" if total else "n/a"
    body: list[dict] = [
        _heading(f"Rotation report: week of {view.week}"),
        _facts(
            [
                ("Inquiries", str(view.inquiries)),
                ("Answered", str(fr.answered)),
                ("Unanswered", str(fr.unanswered)),
                ("Median first response", _seconds(fr.median_s)),
                ("90th percentile", _seconds(fr.p90_s)),
                ("Within 5 minutes", within),
                ("Re-routes", str(view.re_routes)),
                ("Open at retirement", str(view.open_at_retirement)),
            ]
        ),
    ]
    if view.by_site:
        body += [
            _text("By site", weight="Bolder", separator=True),
            _facts((f"{s.station} {s.name}", str(s.inquiries)) for s in view.by_site),
        ]
    if view.by_day:
        body += [
            _text("By day of window", weight="Bolder", separator=True),
            _facts((f"Day {day}" if day.isdigit() else day, str(count)) for day, count in view.by_day),
        ]
    if any(count for _, count in view.by_triage):
        body += [
            _text("By triage category", weight="Bolder", separator=True),
            _facts((category, str(count)) for category, count in view.by_triage if count),
        ]
    if view.open_incidents:
        body += [
            _text("Still open", weight="Bolder", separator=True),
            _text(_bullets(_link(ref.number, ref.url) for ref in view.open_incidents)),
        ]
    return _card(body, fallback_text=f"Rotation report: week of {view.week}")


def mention_entity(user_id: str, name: str) -> dict:
    """A Teams mention entity; the message text must contain ``<at>{name}</at>`` exactly."""
    return {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": user_id, "name": name}}


# --------------------------------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------------------------------


def card_attachment(card: Mapping[str, Any]) -> dict:
    return {"contentType": CARD_CONTENT_TYPE, "content": dict(card)}


_ERROR_CODES: Final[Mapping[int, str]] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def invoke_response(
    status: int,
    card: Mapping[str, Any] | None = None,
    message: str | None = None,
    error: str | Mapping[str, str] | None = None,
) -> dict:
    """The body of an ``adaptiveCard/action`` invoke answer (sent with HTTP 200; Universal Actions,
    https://learn.microsoft.com/adaptive-cards/authoring-cards/universal-action-model).

    Exactly one of ``card`` (a replacement card), ``message`` (a string Teams shows) or ``error``
    (a message, or a ``{"code", "message"}`` object) must be given.
    """
    if not 200 <= status <= 599:
        raise ValueError(f"statusCode must be 200-599, not {status}")
    given = [part is not None for part in (card, message, error)]
    if sum(given) != 1:
        raise ValueError("give exactly one of card, message or error")
    if card is not None:
        return {"statusCode": status, "type": CARD_CONTENT_TYPE, "value": dict(card)}
    if message is not None:
        return {"statusCode": status, "type": MESSAGE_CONTENT_TYPE, "value": message}
    assert error is not None
    if isinstance(error, str):
        value = {"code": _ERROR_CODES.get(status, "Error"), "message": error}
    else:
        value = {"code": error.get("code", _ERROR_CODES.get(status, "Error")), "message": error["message"]}
    return {"statusCode": status, "type": ERROR_CONTENT_TYPE, "value": value}


def render_card(view: object) -> dict:
    """The Adaptive Card of any view model of ``bot.views``."""
    if isinstance(view, IncidentCardView):
        return incident_card(view)
    if isinstance(view, WelcomeView):
        return welcome_card(view)
    if isinstance(view, RetirementView):
        return retirement_card(view)
    if isinstance(view, DutyView):
        return duty_card(view)
    if isinstance(view, HandoffView):
        return handoff_card(view)
    if isinstance(view, HelpView):
        return help_card("personal" if view.scope == "personal" else "team", view.is_manager)
    if isinstance(view, AddWeekFormView):
        return add_week_form_card(view)
    if isinstance(view, RotationReportView):
        return rotation_report_card(view)
    if isinstance(view, PlanChangeView):
        return plan_change_card(view)
    if isinstance(view, AlertCardView):
        return alert_card(view)
    raise TypeError(f"no Adaptive Card for {type(view).__name__}")
