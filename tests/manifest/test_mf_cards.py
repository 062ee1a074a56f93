"""Adaptive Cards: every builder's output is valid 1.5 and its buttons are the verbs the bot handles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.commands import CLOSE_CODES, COMMANDS, PERSONAL, TEAM
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    add_week_form_card,
    alert_card,
    card_attachment,
    duty_card,
    handoff_card,
    help_card,
    incident_card,
    invoke_response,
    mention_entity,
    plan_change_card,
    retirement_card,
    rotation_report_card,
    welcome_card,
)
from bot.views import (
    CARD_VERBS,
    CLOSE_CODE_INPUT,
    CLOSE_NOTES_INPUT,
    SITES_INPUT,
    TRIAGE_INPUT,
    WEEK_START_INPUT,
    AddWeekFormView,
    AlertCardView,
    DutyPerson,
    DutyView,
    FirstResponseStats,
    FollowUpRef,
    HandoffView,
    IncidentCardView,
    IncidentRef,
    PlanChangeView,
    RetirementView,
    RotationReportView,
    SiteChoice,
    SiteCount,
    WelcomeView,
    escalation_text,
    retired_channel_notice,
)

TIER2 = "Scheduling Support"
PRODUCT = "eCheck-in Vet Facing Apps"
SN = "https://example.service-now.com"


def alert_view(**changes: Any) -> AlertCardView:
    values: dict[str, Any] = {
        "alert_key": "sentry:42",
        "source": "sentry",
        "title": "TypeError in check-in",
        "level": "error",
        "state": "triggered",
        "count": 3,
        "first_seen_text": "2022-05-03 15:00 UTC",
        "last_seen_text": "2022-05-03 15:05 UTC",
        "number": "INC0010009",
        "url": f"{SN}/nav_to.do?uri=incident.do?sys_id=0999",
        "group": PRODUCT,
        "tier2_group": TIER2,
        "product_group": PRODUCT,
    }
    values.update(changes)
    return AlertCardView(**values)


def incident_view(**changes: Any) -> IncidentCardView:
    values: dict[str, Any] = {
        "inquiry_key": "19:abc@thread.tacv2;messageid=1651590000000",
        "number": "INC0010001",
        "url": f"{SN}/nav_to.do?uri=incident.do?sys_id=0123",
        "state_label": "New",
        "group": TIER2,
        "assignee": None,
        "station": "528A7",
        "site_name": "Bath VA Medical Center",
        "go_live_day": 2,
        "posted_at_text": "Tue 3 May 11:00 EDT",
        "first_response_text": None,
        "suggested_group": PRODUCT,
        "triage": None,
        "duty_primary": "Ana Lopez",
        "duty_backup": "Ben Okafor",
        "tier2_group": TIER2,
        "product_group": PRODUCT,
        "triage_categories": ("Check-in kiosk", "Pre-check-in text", "vets-api", "Other"),
        "resolved": False,
    }
    values.update(changes)
    return IncidentCardView(**values)


REPORT_JSON = {
    "week": "2022-05-02",
    "inquiries": 12,
    "by_site": [
        {"station": "508", "name": "Atlanta", "inquiries": 7},
        {"station": "528A7", "name": "Bath", "inquiries": 5},
    ],
    "by_day": {"1": 6, "2": 4, "3": 2},
    "first_response": {"answered": 11, "unanswered": 1, "median_s": 95.0, "p90_s": 290.5, "within_5_min": 10},
    "re_routes": 3,
    "open_at_retirement": [{"number": "INC0010007", "url": f"{SN}/inc7"}],
}


def all_cards() -> dict[str, dict]:
    """One card per builder and notable state, with representative data."""
    return {
        "incident_new": incident_card(incident_view()),
        "incident_pending_number": incident_card(incident_view(number=None, url=None, go_live_day=None)),
        "incident_in_progress": incident_card(
            incident_view(
                state_label="In Progress",
                group=PRODUCT,
                assignee="Ana Lopez",
                first_response_text="Ana Lopez after 2 min 10 s",
                triage="vets-api",
            )
        ),
        "incident_no_triage_categories": incident_card(incident_view(triage_categories=())),
        "incident_site_unknown": incident_card(
            incident_view(station="", site_name="", site_choices=(SiteChoice("508", "Atlanta"),))
        ),
        "incident_resolved": incident_card(
            incident_view(
                state_label="Resolved",
                resolved=True,
                close_code="Solution provided",
                close_notes="Cleared the kiosk cache.",
            )
        ),
        "incident_followup_offered": incident_card(incident_view(followup_tracker="GitHub")),
        "incident_followup_filed": incident_card(
            incident_view(
                followup_tracker="GitHub",
                followup=FollowUpRef("GitHub", "#12", "https://github.com/o/r/issues/12", "open"),
            )
        ),
        "incident_resolved_followup_offered": incident_card(
            incident_view(
                state_label="Resolved", resolved=True, close_code="Solution provided", followup_tracker="Jira"
            )
        ),
        "alert": alert_card(alert_view()),
        "alert_followup_offered": alert_card(alert_view(followup_tracker="GitHub")),
        "alert_followup_filed": alert_card(
            alert_view(
                followup_tracker="Jira",
                followup=FollowUpRef("Jira", "OPS-7", "https://jira.example/browse/OPS-7", "To Do"),
            )
        ),
        "welcome": welcome_card(
            WelcomeView(
                station="508",
                site_name="Atlanta VA Medical Center",
                go_live_date_text="Monday 2 May 2022",
                window_text="2 May 07:00 to 9 May 17:00 (America/New_York)",
                duty_lines=("Ana Lopez (primary, 08:00-17:00 ET)", "Ben Okafor (backup, 08:00-17:00 CT)"),
                servicenow_url=SN,
            )
        ),
        "welcome_minimal": welcome_card(WelcomeView("508", "Atlanta", "2 May", "one week", (), SN, tips=())),
        "retirement": retirement_card(
            RetirementView("508", "Atlanta", 9, (IncidentRef("INC0010007", f"{SN}/inc7"),), SN)
        ),
        "retirement_all_closed": retirement_card(RetirementView("508", "Atlanta", 1, (), SN)),
        "duty": duty_card(
            DutyView(
                day_text="Tue 3 May",
                primary=DutyPerson("Ana Lopez", "08:00-17:00 America/New_York", working_now=True),
                backup=DutyPerson("Ben Okafor", "08:00-17:00 America/Chicago"),
                fallback=DutyPerson("Chen Wei"),
                observers=("Dee Patel",),
                next_pickup_text="Wed 4 May 08:00 EDT",
            )
        ),
        "duty_nobody": duty_card(DutyView("Sat 7 May", None, None)),
        "handoff": handoff_card(
            HandoffView(
                "Ana Lopez", "Ben Okafor", "End of Ana's day", (IncidentRef("INC0010003", f"{SN}/3"),)
            )
        ),
        "handoff_minimal": handoff_card(HandoffView(None, "Ben Okafor")),
        "help_team": help_card(TEAM, is_manager=False),
        "help_personal_manager": help_card(PERSONAL, is_manager=True),
        "add_week_form": add_week_form_card(),
        "add_week_form_errors": add_week_form_card(
            AddWeekFormView(
                "2022-05-03", "508,Atlanta,Mars/Olympus", ("week_start is not a Monday", "line 1: bad zone")
            )
        ),
        "rotation_report": rotation_report_card(RotationReportView.from_report(REPORT_JSON)),
        "rotation_report_empty": rotation_report_card(
            RotationReportView("2022-05-09", 0, (), (), FirstResponseStats(0, 0, None, None, 0), 0, 0)
        ),
        "plan_change_pending": plan_change_card(
            PlanChangeView(
                "p1",
                "Pull 508 Atlanta",
                "Morgan Manager",
                ("pull 508 Atlanta (week 2022-05-02)",),
                ("cancel 508 Atlanta: 508 Atlanta was pulled from the rollout",),
                note="Nothing changes until you press Confirm.",
            )
        ),
        "plan_change_applied": plan_change_card(
            PlanChangeView(
                "p2", "Add the week of 2022-06-06", "Morgan Manager", (), state="applied", note="Applied."
            )
        ),
    }


CARDS = all_cards()


def walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def actions_of(card: dict, kind: str | None = None) -> list[dict]:
    found = [n for n in walk(card) if str(n.get("type", "")).startswith("Action.")]
    return [a for a in found if kind is None or a["type"] == kind]


def top_level_buttons(card: dict) -> dict[str, dict]:
    return {action["title"]: action for action in card.get("actions", [])}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_is_valid_adaptive_card_1_5(name, card_errors):
    card = CARDS[name]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card_errors(card) == []
    assert json.loads(json.dumps(card)) == card  # plain JSON, no tuples or objects


@pytest.mark.parametrize("name", sorted(CARDS))
def test_buttons_are_action_execute_with_a_known_verb_and_data(name):
    card = CARDS[name]
    for action in actions_of(card):
        assert action["type"] in {"Action.Execute", "Action.ShowCard"}, action
    for action in actions_of(card, "Action.Execute"):
        assert action["verb"] in CARD_VERBS
        assert isinstance(action["data"], dict)


def test_card_verbs_are_exactly_the_verbs_the_cards_use():
    used = {a["verb"] for card in CARDS.values() for a in actions_of(card, "Action.Execute")}
    assert used == CARD_VERBS


def test_unresolved_incident_card_has_the_no_input_buttons_design_requires():
    view = incident_view()
    buttons = top_level_buttons(incident_card(view))
    assert buttons["Acknowledge"]["verb"] == "acknowledge"
    assert buttons["Acknowledge"]["data"] == {"inquiry": view.inquiry_key}
    for group in (TIER2, PRODUCT):
        assert buttons[group]["type"] == "Action.Execute"
        assert buttons[group]["verb"] == "route"
        assert buttons[group]["data"] == {"inquiry": view.inquiry_key, "group": group}
    assert buttons["Assign to me"]["verb"] == "assign_me"
    assert {"Triage", "Resolve"} <= buttons.keys()


def test_every_incident_action_names_its_inquiry():
    view = incident_view()
    actions = actions_of(incident_card(view), "Action.Execute")
    assert {a["verb"] for a in actions} == {"acknowledge", "route", "assign_me", "triage", "resolve"}
    assert all(a["data"]["inquiry"] == view.inquiry_key for a in actions)


def test_triage_and_resolve_forms_collect_their_inputs():
    card = incident_card(incident_view(triage="vets-api"))
    buttons = top_level_buttons(card)
    triage = buttons["Triage"]["card"]
    choice = next(n for n in walk(triage) if n.get("id") == TRIAGE_INPUT)
    assert [c["value"] for c in choice["choices"]] == [
        "Check-in kiosk",
        "Pre-check-in text",
        "vets-api",
        "Other",
    ]
    assert choice["value"] == "vets-api"
    assert triage["actions"][0]["verb"] == "triage"

    resolve = buttons["Resolve"]["card"]
    codes = next(n for n in walk(resolve) if n.get("id") == CLOSE_CODE_INPUT)
    assert [c["value"] for c in codes["choices"]] == list(CLOSE_CODES)
    notes = next(n for n in walk(resolve) if n.get("id") == CLOSE_NOTES_INPUT)
    assert notes["type"] == "Input.Text" and notes["isRequired"] is True
    assert resolve["actions"][0]["verb"] == "resolve"


def test_incident_number_links_to_servicenow():
    view = incident_view()
    texts = [n["text"] for n in walk(incident_card(view)) if n.get("type") == "TextBlock"]
    assert any(f"[{view.number}]({view.url})" in text for text in texts)


def test_resolved_incident_card_has_no_buttons():
    card = CARDS["incident_resolved"]
    assert actions_of(card) == []
    assert "Cleared the kiosk cache." in json.dumps(card)


def test_same_group_names_give_one_route_button():
    card = incident_card(incident_view(product_group=TIER2))
    assert [a["title"] for a in card["actions"] if a.get("verb") == "route"] == [TIER2]


def test_welcome_and_retirement_cards_carry_the_site_and_servicenow():
    assert "508 Atlanta VA Medical Center" in json.dumps(CARDS["welcome"])
    retirement = json.dumps(CARDS["retirement"])
    assert f"[INC0010007]({SN}/inc7)" in retirement and SN in retirement


def test_help_card_lists_the_registry():
    text = json.dumps(help_card(PERSONAL, is_manager=True))
    assert all(spec.usage in text for spec in COMMANDS if PERSONAL in spec.scopes)
    assert "week add" not in json.dumps(help_card(PERSONAL, is_manager=False))


def test_add_week_form_inputs_and_verb():
    card = CARDS["add_week_form_errors"]
    ids = {n["id"]: n for n in walk(card) if "id" in n}
    assert ids[WEEK_START_INPUT]["type"] == "Input.Date" and ids[WEEK_START_INPUT]["value"] == "2022-05-03"
    assert ids[SITES_INPUT]["isMultiline"] is True
    assert [a["verb"] for a in card["actions"]] == ["add_week"]
    assert "line 1: bad zone" in json.dumps(card)


def test_rotation_report_view_reads_the_report_json():
    view = RotationReportView.from_report(REPORT_JSON)
    assert view.by_site == (SiteCount("508", "Atlanta", 7), SiteCount("528A7", "Bath", 5))
    assert view.by_day == (("1", 6), ("2", 4), ("3", 2))
    assert view.open_at_retirement == 1 and view.open_incidents[0].number == "INC0010007"
    assert view.first_response.within_5_min == 10
    listed = RotationReportView.from_report(
        {**REPORT_JSON, "by_day": [{"day": 1, "inquiries": 6}], "open_at_retirement": 0}
    )
    assert listed.by_day == (("1", 6),) and listed.open_at_retirement == 0
    text = json.dumps(rotation_report_card(view))
    assert "1 min 35 s" in text and "10 of 12" in text


def test_escalation_mentions_the_backup():
    text = escalation_text("Ben Okafor", minutes=5, primary_name="Ana Lopez")
    entity = mention_entity("29:backup-id", "Ben Okafor")
    assert entity == {
        "type": "mention",
        "text": "<at>Ben Okafor</at>",
        "mentioned": {"id": "29:backup-id", "name": "Ben Okafor"},
    }
    assert entity["text"] in text and "5 minutes" in text and "Ana Lopez" in text
    assert mention_entity("x", "Y")["text"] == "<at>Y</at>"


def test_retired_channel_notice_points_to_servicenow():
    assert SN in retired_channel_notice(SN) and "INC0010009" in retired_channel_notice(SN, "INC0010009")


def test_card_attachment():
    card = CARDS["duty"]
    assert card_attachment(card) == {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": card,
    }


def test_invoke_response_shapes():
    card = CARDS["incident_in_progress"]
    assert invoke_response(200, card=card) == {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}
    assert invoke_response(200, message="Routed") == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Routed",
    }
    assert invoke_response(404, error="No such inquiry") == {
        "statusCode": 404,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "NotFound", "message": "No such inquiry"},
    }
    assert (
        invoke_response(400, error={"code": "UnknownVerb", "message": "x"})["value"]["code"] == "UnknownVerb"
    )


@pytest.mark.parametrize("kwargs", [{}, {"message": "a", "error": "b"}, {"card": {}, "message": "a"}])
def test_invoke_response_needs_exactly_one_body(kwargs):
    with pytest.raises(ValueError):
        invoke_response(200, **kwargs)


def test_invoke_response_rejects_odd_status():
    with pytest.raises(ValueError):
        invoke_response(100, message="x")


def test_card_schema_is_not_vacuous(card_errors):
    misspelt_text = incident_card(incident_view())
    misspelt_text["body"][0]["txt"] = misspelt_text["body"][0].pop("text")
    unknown_action = incident_card(incident_view())
    unknown_action["actions"][0]["type"] = "Action.Exec"
    assert card_errors(misspelt_text) and card_errors(unknown_action)
