"""How a card shows its incident's follow-up, in each state (none asked for, being filed, filed with
its link, refused), on the Teams alert card and on Slack's alert and incident messages."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.blocks import action_of, render_blocks
from bot.teams.cards import render_card
from bot.views import AlertCardView, FollowUpRef, IncidentCardView

ALERT_KEY = "sentry:42"
INQUIRY_KEY = "slack:C0GOLIVE01:1651590000.000100"
URL = "https://github.example/o/r/issues/7"

# (state, the view's follow-up fields, the "Follow-up" fact on Teams, the field on Slack)
STATES: list[tuple[str, dict[str, Any], str | None, str | None]] = [
    ("off", {}, None, None),
    ("none", {"followup_tracker": "GitHub"}, None, None),
    (
        "filing",
        {"followup_tracker": "GitHub", "followup": FollowUpRef("GitHub")},
        "Filing in GitHub…",
        "Filing in GitHub…",
    ),
    (
        "filed",
        {"followup_tracker": "GitHub", "followup": FollowUpRef("GitHub", "#7", URL, "open")},
        f"[#7]({URL}) (open)",
        f"<{URL}|#7> (open)",
    ),
    (
        "failed",
        {"followup_tracker": "Jira", "followup": FollowUpRef("Jira", failed=True)},
        "Not filed in Jira (see the thread)",
        "Not filed in Jira (see the thread)",
    ),
]
IDS = [state for state, *_ in STATES]


def alert(**followup: Any) -> AlertCardView:
    return AlertCardView(
        ALERT_KEY,
        "sentry",
        "TypeError in check-in",
        "error",
        "triggered",
        3,
        "2022-05-03 15:00 UTC",
        "2022-05-03 15:05 UTC",
        "INC0010009",
        "https://sn.example/9",
        "eCheck-in Vet Facing Apps",
        details=(("Environment", "production"), ("Project", "check-in"), ("Service", "kiosk")),
        **followup,
    )


def incident(resolved: bool = False, **followup: Any) -> IncidentCardView:
    return IncidentCardView(
        inquiry_key=INQUIRY_KEY,
        number="INC0010001",
        url="https://sn.example/1",
        state_label="Resolved" if resolved else "New",
        group="Scheduling Support",
        assignee=None,
        station="508",
        site_name="Atlanta",
        go_live_day=2,
        posted_at_text="Tue 03 May 11:00 EDT",
        first_response_text="Jane Doe after 2 min",
        suggested_group="eCheck-in Vet Facing Apps",
        triage="vets-api",
        triage_guidance="Check the API status page",
        duty_primary="Jane Doe",
        duty_backup="Marcus Lee",
        resolved=resolved,
        close_code="Solution provided" if resolved else None,
        **followup,
    )


def teams_facts(card: dict[str, Any]) -> dict[str, str]:
    return {f["title"]: f["value"] for f in card["body"][1]["facts"]}


def teams_followup_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in card.get("actions", ()) if a.get("verb") == "followup"]


def slack_followup_buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        action_of(e["action_id"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("followup")
    ]


def slack_field(blocks: list[dict[str, Any]], title: str) -> str | None:
    for block in blocks:
        for field in block.get("fields", ()):
            head, _, value = field["text"].partition("\n")
            if head == f"*{title}*":
                return str(value)
    return None


@pytest.mark.parametrize(("state", "fields", "teams", "slack"), STATES, ids=IDS)
def test_the_teams_alert_card_shows_the_follow_up_in_each_state(state, fields, teams, slack):
    card = render_card(alert(**fields))
    assert teams_facts(card).get("Follow-up") == teams
    buttons = teams_followup_buttons(card)
    if state == "none":
        assert buttons == [
            {
                "type": "Action.Execute",
                "title": "Follow-up issue",
                "verb": "followup",
                "data": {"alert": ALERT_KEY},
            }
        ]
        assert card["actions"][-1]["verb"] == "followup"  # after the alert's own buttons
    else:
        assert buttons == []
    assert [a["verb"] for a in card["actions"]][:3] == ["acknowledge", "route", "route"]


@pytest.mark.parametrize(("state", "fields", "teams", "slack"), STATES, ids=IDS)
def test_the_slack_alert_post_shows_the_follow_up_in_each_state(state, fields, teams, slack):
    blocks, _ = render_blocks(alert(**fields))
    assert slack_field(blocks, "Follow-up") == slack
    expected = [("followup", {"alert": ALERT_KEY})] if state == "none" else []
    assert slack_followup_buttons(blocks) == expected


@pytest.mark.parametrize("resolved", [False, True], ids=["open", "resolved"])
@pytest.mark.parametrize(("state", "fields", "teams", "slack"), STATES, ids=IDS)
def test_the_slack_incident_card_shows_the_follow_up_in_each_state(state, fields, teams, slack, resolved):
    blocks, _ = render_blocks(incident(resolved, **fields))
    assert slack_field(blocks, "Follow-up") == slack
    expected = [("followup", {"inquiry": INQUIRY_KEY})] if state == "none" else []
    assert slack_followup_buttons(blocks) == expected
    if state == "none":
        # The button's block sits after the engineers' buttons (or, resolved, in their place).
        kinds = [b.get("block_id") for b in blocks if b["type"] == "actions"]
        assert kinds[-1] == "followup-actions"
        assert ("incident-actions" in kinds) is not resolved


def test_a_follow_up_link_on_slack_cannot_carry_markup():
    followup = FollowUpRef("GitHub", "#7 <!channel>", "https://x.example/a|b", "open <b>")
    blocks, _ = render_blocks(incident(followup_tracker="GitHub", followup=followup))
    value = slack_field(blocks, "Follow-up")
    assert value == "#7 &lt;!channel&gt; (open &lt;b&gt;)"  # a URL Slack would misread is not linked
