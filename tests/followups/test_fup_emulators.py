"""The GitHub and Jira follow-up trackers against their emulators over loopback: a create whose
answer is lost is found again (never filed twice), rate limits say how long to wait, and a revoked
token is named (also by ``check``, what ``golive check`` prints)."""

from __future__ import annotations

import pytest
from fup_support import drive

from bot.ports import FollowUpRequest, Permanent, Transient


def request(number: str, assignee: str | None = "jane-doe") -> FollowUpRequest:
    marker = f"golive-followup: {number}"
    return FollowUpRequest(
        marker=marker,
        title=f"{number}: Kiosk shows error E42",
        body=f"Follow-up of ServiceNow incident {number}: https://sn.example/{number}\n\n{marker}",
        labels=("go-live", "follow-up"),
        assignee=assignee,
    )


async def test_github_a_lost_create_answer_is_found_again_so_one_issue_exists(
    github_emulator, github_tracker
):
    await drive(
        github_emulator, "POST", "/_emulator/faults", {"drop_reply": {"count": 1, "methods": ["POST"]}}
    )
    wanted = request("INC0010001")
    with pytest.raises(Transient, match="GitHub could not be reached at GOLIVE_GITHUB_API_URL"):
        await github_tracker.create(wanted)
    found = await github_tracker.find(wanted.marker)  # what the retried job does first
    assert found is not None and found.key == "#1" and found.assignee == "jane-doe"
    issues = await drive(github_emulator, "GET", "/_emulator/issues")
    assert [(i["number"], i["title"], sorted(i["labels"])) for i in issues] == [
        (1, "INC0010001: Kiosk shows error E42", ["follow-up", "go-live"])
    ]
    assert (await github_tracker.get("#1")).state == "open"
    assert await github_tracker.find("golive-followup: INC001000") is None


async def test_github_an_assignee_who_is_no_collaborator_leaves_the_issue_unassigned(github_tracker):
    issue = await github_tracker.create(request("INC0010002", assignee="somebody-else"))
    assert issue.assignee is None and issue.key == "#1"


@pytest.mark.parametrize(
    ("fault", "delay"),
    [
        ({"kind": "secondary", "status": 403, "retry_after": 42}, 42.0),
        ({"kind": "secondary", "status": 429, "retry_after": 5}, 5.0),
        ({"kind": "primary", "status": 403}, None),
    ],
)
async def test_github_rate_limits_are_transient_with_their_delay(
    github_emulator, github_tracker, fault, delay
):
    await drive(github_emulator, "POST", "/_emulator/faults", {"rate_limit": {"count": 1, **fault}})
    with pytest.raises(Transient) as raised:
        await github_tracker.create(request("INC0010003"))
    if delay is not None:
        assert raised.value.retry_after == delay
    else:  # until the primary limit's reset, within the hour
        assert raised.value.retry_after is not None and 1 <= raised.value.retry_after <= 3600
    assert (await github_tracker.create(request("INC0010003"))).key == "#1"


async def test_github_a_revoked_token_is_named_and_check_says_who_the_token_is(
    github_emulator, github_tracker
):
    assert (
        await github_tracker.check()
        == "signed in as golive-bot; issues go to golive-bridge/go-live-followups"
    )
    await drive(github_emulator, "POST", "/_emulator/faults", {"reject_auth": True})
    for call in (github_tracker.check(), github_tracker.create(request("INC0010004"))):
        with pytest.raises(Permanent, match=r"GOLIVE_GITHUB_TOKEN was refused \(401\): Bad credentials"):
            await call
    assert await drive(github_emulator, "GET", "/_emulator/issues") == []


async def test_jira_a_lost_create_answer_is_found_again_so_one_issue_exists(jira_emulator, jira_tracker):
    await drive(jira_emulator, "POST", "/_emulator/faults", {"drop_reply": {"count": 1, "methods": ["POST"]}})
    wanted = request("INC0010001")
    with pytest.raises(Transient, match="GOLIVE_JIRA_URL"):
        await jira_tracker.create(wanted)
    found = await jira_tracker.find(wanted.marker)
    assert found is not None and found.key == "GOLIVE-1" and found.url.endswith("/browse/GOLIVE-1")
    issues = await drive(jira_emulator, "GET", "/_emulator/issues")
    assert [(i["key"], i["summary"]) for i in issues] == [("GOLIVE-1", "INC0010001: Kiosk shows error E42")]
    assert (await jira_tracker.get("GOLIVE-1")).state == "To Do"


async def test_jira_a_rate_limit_is_transient_and_a_revoked_token_is_named(jira_emulator, jira_tracker):
    assert await jira_tracker.check() == "signed in as Go Live Bridge; issues go to project GOLIVE"
    await drive(jira_emulator, "POST", "/_emulator/faults", {"rate_limit": {"count": 1, "retry_after": 9}})
    with pytest.raises(Transient) as raised:
        await jira_tracker.create(request("INC0010005"))
    assert raised.value.retry_after == 9.0
    await drive(jira_emulator, "POST", "/_emulator/faults", {"reject_auth": True})
    with pytest.raises(Permanent, match=r"GOLIVE_JIRA_USER / GOLIVE_JIRA_TOKEN were refused \(401\)"):
        await jira_tracker.check()
