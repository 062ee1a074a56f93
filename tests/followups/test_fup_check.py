"""``golive check`` for the follow-up tracker: signed in and allowed, or an expired token named."""

from __future__ import annotations

from fup_support import drive

from bot.check import run_checks
from bot.settings import Environment, Settings
from emulators import github, jira


def settings(tmp_path, **values) -> Settings:
    return Settings(env=Environment.DEVELOPMENT, database_url=f"sqlite:///{tmp_path / 'golive.db'}", **values)


def line(results, what: str) -> tuple[str, str]:
    [(status, _, detail)] = [r for r in results if r[1] == what]
    return status, detail


async def test_check_signs_in_to_github_and_names_an_expired_token(tmp_path, github_emulator):
    config = settings(
        tmp_path,
        github_api_url=str(github_emulator.make_url("")).rstrip("/"),
        github_token=github.DEFAULT_TOKEN,
        github_repo=github.DEFAULT_REPO,
    )
    assert line(await run_checks(config), "followups") == (
        "ok",
        "GitHub: signed in as golive-bot; issues go to golive-bridge/go-live-followups",
    )
    await drive(github_emulator, "POST", "/_emulator/faults", {"reject_auth": True})
    assert line(await run_checks(config), "followups") == (
        "FAIL",
        "GitHub: GOLIVE_GITHUB_TOKEN was refused (401): Bad credentials",
    )


async def test_check_names_a_repository_the_token_cannot_see(tmp_path, github_emulator):
    config = settings(
        tmp_path,
        github_api_url=str(github_emulator.make_url("")).rstrip("/"),
        github_token=github.DEFAULT_TOKEN,
        github_repo="golive-bridge/elsewhere",
    )
    status, detail = line(await run_checks(config), "followups")
    assert status == "FAIL" and "GOLIVE_GITHUB_REPO golive-bridge/elsewhere was not found" in detail


async def test_check_signs_in_to_jira_and_names_refused_credentials(tmp_path, jira_emulator):
    config = settings(
        tmp_path,
        followup_tracker="jira",
        jira_url=str(jira_emulator.make_url("")).rstrip("/"),
        jira_project=jira.DEFAULT_PROJECT,
        jira_user=jira.BOT_EMAIL,
        jira_token=jira.DEFAULT_API_TOKEN,
    )
    assert line(await run_checks(config), "followups") == (
        "ok",
        "Jira: signed in as Go Live Bridge; issues go to project GOLIVE",
    )
    await drive(jira_emulator, "POST", "/_emulator/faults", {"reject_auth": True})
    assert line(await run_checks(config), "followups") == (
        "FAIL",
        "Jira: GOLIVE_JIRA_USER / GOLIVE_JIRA_TOKEN were refused (401)",
    )


async def test_check_warns_when_follow_ups_or_pagerduty_are_not_set_up(tmp_path):
    results = await run_checks(
        settings(tmp_path, followup_tracker="jira", jira_url="https://x.atlassian.net")
    )
    assert line(results, "followups") == (
        "warn",
        "Jira follow-ups are off (GOLIVE_JIRA_PROJECT, GOLIVE_JIRA_USER, GOLIVE_JIRA_TOKEN empty)",
    )
    assert line(results, "pagerduty")[0] == "warn"
    results = await run_checks(settings(tmp_path, pagerduty_token="t", pagerduty_schedule_ids="PONE"))
    assert line(results, "pagerduty") == (
        "FAIL",
        "GOLIVE_PAGERDUTY_SCHEDULE_IDS must name the primary, then the backup schedule",
    )
