"""Block Kit: each view renders within Slack's limits, buttons carry the Teams cards' verbs and data,
people's text can never become markup; Slack's markup read back as plain text, mentions written out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.blocks import KEY_PREFIX, action_of, escape, message_blocks, render_blocks
from bot.slack.text import mentioned_user_ids, plain_text, to_mrkdwn
from bot.views import (
    CARD_VERBS,
    AddWeekFormView,
    AlertCardView,
    AlertLink,
    DutyPerson,
    DutyView,
    FirstResponseStats,
    FollowUpRef,
    HandoffView,
    HelpView,
    IncidentCardView,
    IncidentRef,
    PlanChangeView,
    RetirementView,
    RotationReportView,
    SiteChoice,
    SiteCount,
    StormMember,
    WelcomeView,
)

TIER2, PRODUCT = "Scheduling Support", "eCheck-in Vet Facing Apps"
KEY = "slack:C0GOLIVE01:1651590000.000100"


def incident(**changes: Any) -> IncidentCardView:
    values: dict[str, Any] = dict(
        inquiry_key=KEY,
        number="INC0010001",
        url="https://example.service-now.com/nav_to.do?uri=incident.do?sys_id=1",
        state_label="New",
        group=TIER2,
        assignee=None,
        station="508",
        site_name="Atlanta",
        go_live_day=2,
        posted_at_text="Tue 03 May 11:00 EDT",
        triage_categories=("Check-in kiosk", "vets-api"),
        tier2_group=TIER2,
        product_group=PRODUCT,
    )
    values.update(changes)
    return IncidentCardView(**values)


VIEWS = {
    "incident": incident(),
    "incident_site_unknown": incident(station="", site_name="", site_choices=(SiteChoice("508", "Atlanta"),)),
    "incident_resolved": incident(
        resolved=True, close_code="Solution provided", close_notes="<!channel> fixed"
    ),
    "incident_followup_offered": incident(followup_tracker="GitHub"),
    "incident_resolved_followup_filed": incident(
        resolved=True,
        followup_tracker="Jira",
        followup=FollowUpRef("Jira", "OPS-7", "https://jira.example/browse/OPS-7", "To Do"),
    ),
    "alert_followup_offered": AlertCardView(
        "sentry:42",
        "sentry",
        "TypeError",
        "error",
        "firing",
        3,
        "Tue 11:00",
        "Tue 11:05",
        None,
        None,
        TIER2,
        details=(("Environment", "prod"), ("Project", "p"), ("Service", "s")),
        followup_tracker="GitHub",
    ),
    "welcome": WelcomeView("508", "Atlanta", "Mon 2 May", "2-9 May", ("Jane Doe (primary)",), "https://sn"),
    "retirement": RetirementView("508", "Atlanta", 3, (IncidentRef("INC1", "https://sn/1"),), "https://sn"),
    "duty": DutyView("Tue 03 May", DutyPerson("Jane Doe", "09:00-17:00", True), None),
    "handoff": HandoffView(
        "Jane Doe", "Marcus Lee", "On duty from Mon", (IncidentRef("INC1", "https://sn/1"),)
    ),
    "help": HelpView("team"),
    "add_week": AddWeekFormView("2022-05-09", errors=("line 2: bad zone",)),
    "alert": AlertCardView(
        "sentry:42",
        "sentry",
        "TypeError in check-in",
        "error",
        "firing",
        3,
        "Tue 11:00",
        "Tue 11:05",
        "INC0010009",
        "https://sn/9",
        TIER2,
        links=(AlertLink("Sentry", "https://sentry.example/42"),),
    ),
    "alert_storm": AlertCardView(
        "storm:1",
        "storm",
        "12 groups",
        "critical",
        "firing",
        40,
        "Tue 11:00",
        "Tue 11:01",
        None,
        None,
        PRODUCT,
        storm=True,
        members=(StormMember("datadog", "CPU high", 3, "firing"),),
        more_members=11,
    ),
    "plan_change": PlanChangeView("p1", "Add week 2022-05-09", "Morgan Manager", ("add 509 Augusta",)),
    "report": RotationReportView(
        "2022-05-02",
        3,
        (SiteCount("508", "Atlanta", 3),),
        (("1", 2), ("2", 1)),
        FirstResponseStats(2, 1, 60.0, 90.0, 2),
        1,
        0,
    ),
}


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_view_renders_within_slacks_limits(name: str):
    blocks, text = render_blocks(VIEWS[name])
    assert 0 < len(blocks) <= 50 and text
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))
    for block in blocks:
        assert block["type"] in {"section", "actions", "context"}
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
        assert len(block.get("fields", [])) <= 10
    actions = [e["action_id"] for e in elements(blocks)]
    assert len(actions) == len(set(actions))
    for element in elements(blocks):
        if element["type"] == "button":
            assert len(element["text"]["text"]) <= 75 and len(element["value"]) <= 2000
        else:
            assert len(element["options"]) <= 100
            assert all(len(o["value"]) <= 150 and len(o["text"]["text"]) <= 75 for o in element["options"])
    json.dumps(blocks)


def test_the_incident_buttons_carry_the_same_verbs_and_data_as_the_teams_card():
    blocks, _ = render_blocks(incident())
    buttons = {e["text"]["text"]: e for e in elements(blocks) if e["type"] == "button"}
    assert list(buttons)[:3] == ["Acknowledge", TIER2, PRODUCT]
    assert action_of(buttons["Acknowledge"]["action_id"], buttons["Acknowledge"]["value"]) == (
        "acknowledge",
        {"inquiry": KEY},
    )
    assert action_of(buttons[PRODUCT]["action_id"], buttons[PRODUCT]["value"]) == (
        "route",
        {"inquiry": KEY, "group": PRODUCT},
    )
    for element in elements(blocks):
        values = (
            [element["value"]] if element["type"] == "button" else [o["value"] for o in element["options"]]
        )
        for value in values:
            assert action_of(element["action_id"], value)[0] in CARD_VERBS


def test_the_site_picker_offers_the_open_sites_and_carries_the_set_site_verb():
    blocks, _ = render_blocks(VIEWS["incident_site_unknown"])
    [picker] = [e for e in elements(blocks) if e["action_id"] == "set_site"]
    [option] = picker["options"]
    assert option["text"]["text"] == "508 Atlanta"
    assert action_of("set_site", option["value"]) == ("set_site", {"inquiry": KEY, "station": "508"})
    assert "Not known yet" in json.dumps(blocks)


def test_a_resolved_incident_has_no_buttons_and_its_notes_cannot_ping_the_channel():
    blocks, _ = render_blocks(VIEWS["incident_resolved"])
    assert elements(blocks) == []
    assert "<!channel>" not in json.dumps(blocks) and "&lt;!channel&gt;" in json.dumps(blocks)


def test_the_key_rides_in_the_first_blocks_id():
    blocks, text = message_blocks("Logged as ServiceNow incident INC0010001.", incident(), "card:" + KEY)
    assert blocks[0]["block_id"] == KEY_PREFIX + "card:" + KEY
    assert text.startswith("Logged as ServiceNow incident INC0010001.")
    assert message_blocks("plain", None, None) == ([], "plain")


def test_an_unknown_value_is_an_empty_action():
    assert action_of("a", "click_me_123") == ("a", {})
    assert action_of("route:2", "[1]") == ("route", {})


@settings(max_examples=300, derandomize=True)
@given(st.text(max_size=200))
def test_any_text_escaped_shows_as_typed(text: str):
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert plain_text(escaped, {}, None)[0] == text.strip()


def test_slack_markup_reads_as_plain_text_and_the_bots_mention_is_reported():
    text = "<@U0BOT> kiosk at <#C1|check-in-go-live> broke, see <https://x.example/a|the log> &amp; ask <@U2>"
    readable, mentioned = plain_text(text, {"U2": "Jane Doe"}, "U0BOT")
    assert mentioned
    assert readable == "kiosk at #check-in-go-live broke, see the log (https://x.example/a) & ask @Jane Doe"
    assert mentioned_user_ids(text) == ["U0BOT", "U2"]
    assert plain_text("<!here> help", {}, "U0BOT") == ("@here help", False)


def test_mentions_are_written_with_slack_ids_and_other_text_is_escaped():
    text = "<at>Marcus Lee</at>, this inquiry has had no response for 5 minutes <b>"
    assert to_mrkdwn(text, {"Marcus Lee": "U0MARCUS"}) == (
        "<@U0MARCUS>, this inquiry has had no response for 5 minutes &lt;b&gt;"
    )
    assert to_mrkdwn("<at>Nobody</at> hi", {}) == "@Nobody hi"


def test_alert_buttons_carry_the_alert_not_an_inquiry():
    blocks, text = render_blocks(VIEWS["alert"])
    buttons = {e["text"]["text"]: e for e in elements(blocks)}
    assert action_of(buttons["Acknowledge"]["action_id"], buttons["Acknowledge"]["value"]) == (
        "acknowledge",
        {"alert": "sentry:42"},
    )
    assert list(buttons) == ["Acknowledge", TIER2, PRODUCT] and "3 alerts" in text


def test_a_pending_plan_change_has_confirm_and_cancel_and_a_decided_one_none():
    blocks, _ = render_blocks(VIEWS["plan_change"])
    assert [action_of(e["action_id"], e["value"]) for e in elements(blocks)] == [
        ("plan_confirm", {"proposal": "p1"}),
        ("plan_cancel", {"proposal": "p1"}),
    ]
    applied = PlanChangeView("p1", "Add week", "Morgan Manager", (), state="applied", note="Applied.")
    assert elements(render_blocks(applied)[0]) == []
