"""Block Kit: pure functions from the view models of ``bot.views`` to Slack message blocks.

The Slack twin of ``bot.teams.cards``: :func:`render_blocks` returns the blocks of a view and the
plain ``text`` Slack shows in notifications (always sent with blocks, as Slack asks). Buttons carry
the same verbs and data as the Teams cards: a button's ``action_id`` is ``verb`` (``verb:n`` when a
verb appears twice on one message) and its ``value`` the action's data as compact JSON; a select's
chosen option carries the data the same way. :func:`action_of` reads them back.

Slack's limits (https://docs.slack.dev/reference/block-kit/blocks) are held here: at most 50 blocks, section
text 3000 characters, fields 10 of 2000, button text 75 and value 2000, option text 75 and value
150, 100 options, ids 255. Text from people or ServiceNow is escaped (``&``, ``<``, ``>``), so it can
never become a link, a mention or ``<!channel>``. Resolving needs typed notes, which a message's
buttons cannot collect: the card tells engineers to type ``resolve`` in the thread instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from bot.commands import Scope, commands_for
from bot.views import (
    DATA_ALERT,
    DATA_GROUP,
    DATA_INQUIRY,
    DATA_PROPOSAL,
    DATA_STATION,
    FOLLOWUP_TITLE,
    TRIAGE_INPUT,
    VERB_ACKNOWLEDGE,
    VERB_ASSIGN_ME,
    VERB_FOLLOWUP,
    VERB_PLAN_CANCEL,
    VERB_PLAN_CONFIRM,
    VERB_ROUTE,
    VERB_SET_SITE,
    VERB_TRIAGE,
    AddWeekFormView,
    AlertCardView,
    DutyPerson,
    DutyView,
    FollowUpRef,
    HandoffView,
    HelpView,
    IncidentCardView,
    IncidentRef,
    PlanChangeView,
    RetirementView,
    RotationReportView,
    WelcomeView,
)

MAX_BLOCKS: Final = 50
SECTION_TEXT: Final = 3000
FIELD_TEXT: Final = 2000
MAX_FIELDS: Final = 10
BUTTON_TEXT: Final = 75
BUTTON_VALUE: Final = 2000
OPTION_TEXT: Final = 75
OPTION_VALUE: Final = 150
MAX_OPTIONS: Final = 100
MAX_ID: Final = 255
#: The ``block_id`` prefix of the block carrying a message's idempotency key (see ``key_block_id``).
KEY_PREFIX: Final = "golive-key:"

Block = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters as entities: the text shows as typed, never as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(label: str, url: str | None) -> str:
    """A mrkdwn link; the label may not hold ``|`` or ``>`` (escaping covers ``>``)."""
    text = escape(label).replace("|", "/")
    if not url or any(ch in url for ch in "<>| \n"):
        return text
    return f"<{url}|{text}>"


def _plain(text: str, limit: int = BUTTON_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id[:MAX_ID]
    return block


def _fields(pairs: Iterable[tuple[str, str | None]]) -> Block | None:
    fields = [
        {"type": "mrkdwn", "text": _clip(f"*{escape(title)}*\n{value}", FIELD_TEXT)}
        for title, value in pairs
        if value
    ][:MAX_FIELDS]
    return {"type": "section", "fields": fields} if fields else None


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SECTION_TEXT)}]}


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def _refs(refs: Sequence[IncidentRef]) -> str:
    return _bullets(_link(ref.number, ref.url) for ref in refs)


# --------------------------------------------------------------------------------------------------
# Interactive elements
# --------------------------------------------------------------------------------------------------


def _value(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _button(title: str, action_id: str, data: dict[str, Any], style: str | None = None) -> Block:
    value = _value(data)
    if len(value) > BUTTON_VALUE:
        raise ValueError("a button's data is longer than Slack allows")
    button: Block = {"type": "button", "text": _plain(title), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def _select(
    action_id: str, placeholder: str, options: Sequence[tuple[str, dict[str, Any]]], chosen: str | None = None
) -> Block | None:
    """A static select; each option is (label, data). Options whose data is too long are left out."""
    rendered = []
    initial = None
    for label, data in options[:MAX_OPTIONS]:
        value = _value(data)
        if len(value) > OPTION_VALUE:
            continue
        option = {"text": _plain(label, OPTION_TEXT), "value": value}
        rendered.append(option)
        if chosen is not None and label == chosen:
            initial = option
    if not rendered:
        return None
    element: Block = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": _plain(placeholder),
        "options": rendered,
    }
    if initial is not None:
        element["initial_option"] = initial
    return element


def action_of(action_id: str, value: str | None) -> tuple[str, dict[str, Any]]:
    """(verb, data) of a pressed button or a chosen option, as rendered here; data is ``{}`` when
    the value is not a JSON object."""
    verb = action_id.split(":", 1)[0]
    data: Any = None
    if value:
        try:
            data = json.loads(value)
        except ValueError:
            data = None
    return verb, data if isinstance(data, dict) else {}


def followup_text(followup: FollowUpRef | None) -> str | None:
    """The "Follow-up" field (mrkdwn): the issue's link and state, or that it is being filed."""
    if followup is None:
        return None
    if not followup.key:
        if followup.failed:
            return escape(f"Not filed in {followup.tracker} (see the thread)")
        return escape(f"Filing in {followup.tracker}…")
    state = f" ({escape(followup.state)})" if followup.state else ""
    return f"{_link(followup.key, followup.url)}{state}"


def _followup_blocks(tracker: str | None, followup: FollowUpRef | None, data: dict[str, Any]) -> list[Block]:
    """The follow-up of a card's incident: its field once asked for, else (follow-ups on) the
    "Follow-up issue" button carrying the card's data, as on the Teams card."""
    if followup is not None:
        field = _fields([("Follow-up", followup_text(followup))])
        return [field] if field else []
    if not tracker:
        return []
    return [
        {
            "type": "actions",
            "block_id": "followup-actions",
            "elements": [_button(FOLLOWUP_TITLE, VERB_FOLLOWUP, data)],
        }
    ]


# --------------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------------


def incident_blocks(view: IncidentCardView) -> tuple[list[Block], str]:
    """The reply in an inquiry's thread: the incident, its state and the engineers' buttons.

    Unresolved: Acknowledge, one button per assignment group labelled with its name, Assign to me,
    a triage select (when categories exist) and, when the site is not known, a site picker.
    Resolved or not: "Follow-up issue" (follow-ups on, none asked for yet), then its "Follow-up" field.
    """
    if view.number:
        title = f"*Incident {_link(view.number, view.url)}*"
        fallback = f"Incident {view.number}: {view.state_label}"
    else:
        title = "*Creating the ServiceNow incident…*"
        fallback = "Creating the ServiceNow incident"
    site = f"{view.station} {view.site_name}".strip()
    if site and view.go_live_day is not None:
        site += f" (go-live day {view.go_live_day})"
    duty = ", ".join(
        f"{name} ({role})"
        for name, role in ((view.duty_primary, "primary"), (view.duty_backup, "backup"))
        if name
    )
    blocks: list[Block] = [section(title)]
    facts = _fields(
        [
            ("State", escape(view.state_label)),
            ("Group", escape(view.group)),
            ("Assigned to", escape(view.assignee or "Unassigned")),
            ("Site", escape(site) if site else "Not known yet"),
            ("Posted", escape(view.posted_at_text)),
            ("First response", escape(view.first_response_text or "Waiting")),
            (
                "Suggested group",
                escape(view.suggested_group)
                if view.suggested_group and view.suggested_group != view.group
                else None,
            ),
            ("Triage", escape(view.triage) if view.triage else None),
            ("Guide", escape(view.triage_guidance) if view.triage_guidance else None),
            ("On duty", escape(duty) if duty else None),
        ]
    )
    if facts:
        blocks.append(facts)
    inquiry = {DATA_INQUIRY: view.inquiry_key}
    followup = _followup_blocks(view.followup_tracker, view.followup, inquiry)
    if view.resolved:
        blocks += followup
        resolution = view.close_code or "Resolved"
        if view.close_notes:
            resolution += f": {view.close_notes}"
        if view.resolved_by:
            resolution += f" (by {view.resolved_by})"
        blocks.append(_context(escape(resolution)))
        return blocks, fallback

    buttons = [_button("Acknowledge", VERB_ACKNOWLEDGE, inquiry, style="primary")]
    for number, group in enumerate(dict.fromkeys((view.tier2_group, view.product_group)), start=1):
        buttons.append(_button(group, f"{VERB_ROUTE}:{number}", {**inquiry, DATA_GROUP: group}))
    buttons.append(_button("Assign to me", VERB_ASSIGN_ME, inquiry))
    blocks.append({"type": "actions", "block_id": "incident-actions", "elements": buttons})
    selects = []
    if view.triage_categories:
        triage = _select(
            VERB_TRIAGE,
            "Triage",
            [(label, {**inquiry, TRIAGE_INPUT: label}) for label in view.triage_categories],
            view.triage,
        )
        if triage is not None:
            selects.append(triage)
    if view.site_choices:
        sites = _select(
            VERB_SET_SITE,
            "Which site?",
            [(f"{c.station} {c.name}", {**inquiry, DATA_STATION: c.station}) for c in view.site_choices],
        )
        if sites is not None:
            selects.append(sites)
    if selects:
        blocks.append({"type": "actions", "block_id": "incident-choices", "elements": selects})
    blocks += followup
    blocks.append(_context("To resolve, reply in this thread: `@golive resolve <close code> | <notes>`"))
    return blocks, fallback


def welcome_blocks(view: WelcomeView) -> tuple[list[Block], str]:
    title = f"Welcome to the Go Live channel for {view.station} {view.site_name}"
    blocks = [
        section(f"*{escape(title)}*"),
        *[
            b
            for b in [
                _fields(
                    [("Go-live", escape(view.go_live_date_text)), ("Channel open", escape(view.window_text))]
                )
            ]
            if b
        ],
    ]
    if view.duty_lines:
        blocks.append(section("*On duty*\n" + _bullets(escape(line) for line in view.duty_lines)))
    if view.tips:
        blocks.append(section("*How to ask for help*\n" + _bullets(escape(tip) for tip in view.tips)))
    blocks.append(
        _context(
            f"After the go-live week, please use {_link('ServiceNow', view.servicenow_url)} for product support."
        )
    )
    return blocks, title


def retirement_blocks(view: RetirementView) -> tuple[list[Block], str]:
    title = f"The go-live week for {view.station} {view.site_name} has ended"
    plural = "inquiry was" if view.inquiries == 1 else "inquiries were"
    blocks = [
        section(f"*{escape(title)}*"),
        section(f"{view.inquiries} {plural} raised in this channel. Thank you!"),
    ]
    if view.open_incidents:
        blocks.append(
            section(
                "*Still open* (engineers keep working on these in ServiceNow):\n" + _refs(view.open_incidents)
            )
        )
    else:
        blocks.append(section("Every incident from this channel is resolved."))
    blocks.append(section(f"{escape(view.support_text)} {_link('Open ServiceNow', view.servicenow_url)}"))
    return blocks, title


def duty_blocks(view: DutyView) -> tuple[list[Block], str]:
    def line(person: DutyPerson | None) -> str | None:
        if person is None:
            return None
        parts = [person.name]
        if person.hours_text:
            parts.append(person.hours_text)
        parts.append("working now" if person.working_now else "off now")
        return escape(", ".join(parts))

    title = f"On duty {view.day_text}"
    blocks: list[Block] = [section(f"*{escape(title)}*")]
    facts = _fields(
        [
            ("Primary", line(view.primary) or "Nobody"),
            ("Backup", line(view.backup) or "Nobody"),
            ("Fallback", line(view.fallback)),
            ("Observers", escape(", ".join(view.observers)) or None),
        ]
    )
    if facts:
        blocks.append(facts)
    if view.next_pickup_text:
        blocks.append(_context(f"Next pick-up: {escape(view.next_pickup_text)}"))
    return blocks, title


def handoff_blocks(view: HandoffView) -> tuple[list[Block], str]:
    who = f"{view.from_name} handed over to {view.to_name}" if view.from_name else f"{view.to_name} took over"
    blocks = [section(f"*{escape(who)}*")]
    if view.reason:
        blocks.append(section(escape(view.reason)))
    if view.open_incidents:
        blocks.append(section("*Open incidents:*\n" + _refs(view.open_incidents)))
    return blocks, who


def help_blocks(view: HelpView) -> tuple[list[Block], str]:
    scope: Scope = "personal" if view.scope == "personal" else "team"
    specs = commands_for(scope, view.is_manager)
    lines = [f"`{escape(spec.usage)}`: {escape(spec.description)}" for spec in specs]
    blocks = [section("*Go Live Bridge commands*"), section("\n".join(lines) or "No commands here.")]
    if scope == "team":
        blocks.append(
            _context(
                "Mention me (`@golive ...`) in a thread, or use `/golive ...`. In a watched channel every new post becomes a ServiceNow incident."
            )
        )
    return blocks, "Go Live Bridge commands"


def add_week_form_blocks(view: AddWeekFormView) -> tuple[list[Block], str]:
    """Slack has no form in a message: the manager is shown the commands that do the same."""
    week = view.week_start or "<YYYY-MM-DD>"
    blocks = [section("*Add a rollout week*")]
    if view.errors:
        blocks.append(section(_bullets(escape(error) for error in view.errors)))
    blocks.append(
        section(
            escape(
                f"Send `week add {week}`, then `site add {week} <station> <name> <time zone> [go-live date]` for each site."
            )
        )
    )
    return blocks, "Add a rollout week"


def _duration(value: float | None) -> str:
    if value is None:
        return "n/a"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def rotation_report_blocks(view: RotationReportView) -> tuple[list[Block], str]:
    fr = view.first_response
    total = fr.answered + fr.unanswered
    title = f"Rotation report: week of {view.week}"
    blocks: list[Block] = [section(f"*{escape(title)}*")]
    facts = _fields(
        [
            ("Inquiries", str(view.inquiries)),
            ("Answered", str(fr.answered)),
            ("Unanswered", str(fr.unanswered)),
            ("Median first response", _duration(fr.median_s)),
            ("90th percentile", _duration(fr.p90_s)),
            ("Within 5 minutes", f"{fr.within_5_min} of {total}" if total else "n/a"),
            ("Re-routes", str(view.re_routes)),
            ("Open at retirement", str(view.open_at_retirement)),
        ]
    )
    if facts:
        blocks.append(facts)
    if view.by_site:
        blocks.append(
            section(
                "*By site*\n" + _bullets(escape(f"{s.station} {s.name}: {s.inquiries}") for s in view.by_site)
            )
        )
    if view.by_day:
        blocks.append(
            section(
                "*By day of window*\n"
                + _bullets(escape(f"Day {d}: {n}" if d.isdigit() else f"{d}: {n}") for d, n in view.by_day)
            )
        )
    if view.open_incidents:
        blocks.append(section("*Still open*\n" + _refs(view.open_incidents)))
    return blocks, title


ALERT_SOURCES: Final[dict[str, str]] = {
    "sentry": "Sentry",
    "datadog": "Datadog",
    "pagerduty": "PagerDuty",
    "bugsnag": "Bugsnag",
    "storm": "Alert storm",
}


def alert_blocks(view: AlertCardView) -> tuple[list[Block], str]:
    """An alert group's (or an alert storm's) post in the alert channel: Acknowledge, one button
    per assignment group and "Follow-up issue" (or its field once asked for), each carrying
    ``{"alert": <correlation id>}`` as the Teams card does."""
    source = ALERT_SOURCES.get(view.source, view.source)
    state = "Recovered" if view.recovered else view.state.capitalize()
    heading = f"Alert storm: {view.title}" if view.storm else f"{source}: {view.title}"
    incident = _link(view.number, view.url) if view.number else "Creating the ServiceNow incident…"
    blocks: list[Block] = [section(f"*{escape(heading)}*")]
    facts = _fields(
        [
            ("State", escape(state)),
            ("Level", escape(view.level)),
            ("Alerts", str(view.count)),
            ("First seen", escape(view.first_seen_text)),
            ("Last seen", escape(view.last_seen_text)),
            ("Incident", incident),
            ("Group", escape(view.group)),
            ("Acknowledged", escape(view.acknowledged_text or "Waiting")),
            *((escape(title), escape(value)) for title, value in view.details),
        ]
    )
    if facts:
        blocks.append(facts)
    if view.links:
        blocks.append(_context(" · ".join(_link(link.label, link.url) for link in view.links)))
    if view.storm and view.members:
        lines = [
            escape(f"{ALERT_SOURCES.get(m.source, m.source)}: {m.title} ({m.count}, {m.state})")
            for m in view.members
        ]
        if view.more_members:
            lines.append(f"… and {view.more_members} more")
        blocks.append(section("*Groups in this storm*\n" + _bullets(lines)))
    alert = {DATA_ALERT: view.alert_key}
    buttons = [_button("Acknowledge", VERB_ACKNOWLEDGE, alert, style="primary")]
    for number, group in enumerate(dict.fromkeys((view.tier2_group, view.product_group)), start=1):
        buttons.append(_button(group, f"{VERB_ROUTE}:{number}", {**alert, DATA_GROUP: group}))
    blocks.append({"type": "actions", "block_id": "alert-actions", "elements": buttons})
    blocks += _followup_blocks(view.followup_tracker, view.followup, alert)
    return blocks, f"{heading} ({state}, {view.count} alerts)"


def plan_change_blocks(view: PlanChangeView) -> tuple[list[Block], str]:
    """A plan change before it is made, with Confirm / Cancel while it is pending."""
    blocks: list[Block] = [
        section(f"*{escape(view.title)}*"),
        _context(f"Asked by {escape(view.requester)}"),
        section("*Changes*\n" + (_bullets(escape(c) for c in view.changes) or "Nothing would change.")),
        section(
            "*Go-live channels*\n"
            + (_bullets(escape(c) for c in view.channels) or "No channel opens, closes or moves.")
        ),
    ]
    if view.note:
        blocks.append(section(escape(view.note)))
    if view.state == "pending":
        data = {DATA_PROPOSAL: view.proposal_id}
        blocks.append(
            {
                "type": "actions",
                "block_id": "plan-actions",
                "elements": [
                    _button("Confirm", VERB_PLAN_CONFIRM, data, style="primary"),
                    _button("Cancel", VERB_PLAN_CANCEL, data),
                ],
            }
        )
    return blocks, view.title


def render_blocks(view: object) -> tuple[list[Block], str]:
    """The blocks and notification text of any view model of ``bot.views``."""
    if isinstance(view, IncidentCardView):
        return incident_blocks(view)
    if isinstance(view, WelcomeView):
        return welcome_blocks(view)
    if isinstance(view, RetirementView):
        return retirement_blocks(view)
    if isinstance(view, DutyView):
        return duty_blocks(view)
    if isinstance(view, HandoffView):
        return handoff_blocks(view)
    if isinstance(view, HelpView):
        return help_blocks(view)
    if isinstance(view, AddWeekFormView):
        return add_week_form_blocks(view)
    if isinstance(view, RotationReportView):
        return rotation_report_blocks(view)
    if isinstance(view, AlertCardView):
        return alert_blocks(view)
    if isinstance(view, PlanChangeView):
        return plan_change_blocks(view)
    raise TypeError(f"no Block Kit rendering for {type(view).__name__}")


def key_block_id(key: str) -> str:
    """The ``block_id`` that carries a message's idempotency key (found again by ``find_posted``)."""
    return (KEY_PREFIX + key)[:MAX_ID]


def message_blocks(text: str | None, view: object | None, key: str | None) -> tuple[list[Block], str]:
    """A whole message: ``text`` (already mrkdwn) first, then the view's blocks; the first block
    carries the key. Returns (blocks, notification text); blocks are empty for plain text without
    a key."""
    blocks: list[Block] = []
    fallback = text or ""
    if text and (view is not None or key):
        blocks.append(section(text))
    if view is not None:
        view_blocks, view_text = render_blocks(view)
        blocks.extend(view_blocks)
        fallback = f"{text} {escape(view_text)}" if text else escape(view_text)
    if key:
        if not blocks:
            blocks.append(section(escape(key)))
        blocks[0] = {**blocks[0], "block_id": key_block_id(key)}
    return blocks[:MAX_BLOCKS], _clip(fallback or " ", 3000)


__all__ = [
    "KEY_PREFIX",
    "action_of",
    "escape",
    "key_block_id",
    "message_blocks",
    "render_blocks",
]
