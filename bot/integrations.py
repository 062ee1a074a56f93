"""The PagerDuty roster source and the follow-up tracker, built from the settings (or not, when
their settings are incomplete). One place, shared by the composition root, ``golive check`` and
``golive roster sync``, so all three agree on what "configured" means.
"""

from __future__ import annotations

from bot.followups.github import GitHubConfig, GitHubFollowUps
from bot.followups.jira import JiraConfig, JiraFollowUps
from bot.pagerduty import PagerDutyConfig, PagerDutyRoster
from bot.settings import FollowUpTrackerKind, Settings

__all__ = ["followup_tracker", "pagerduty_roster", "tracker_name"]

TRACKER_NAMES = {FollowUpTrackerKind.GITHUB: "GitHub", FollowUpTrackerKind.JIRA: "Jira"}


def pagerduty_roster(settings: Settings) -> PagerDutyRoster | None:
    """The PagerDuty roster source, when a token and both schedule ids are set."""
    if not settings.pagerduty_enabled:
        return None
    return PagerDutyRoster(
        PagerDutyConfig(
            api_url=settings.pagerduty_api_url,
            token=settings.pagerduty_token.get_secret_value(),
            schedule_ids=settings.pagerduty_schedules,
        )
    )


def tracker_name(settings: Settings) -> str:
    """ "GitHub" or "Jira": where follow-up issues go."""
    return TRACKER_NAMES[settings.followup_tracker]


def followup_tracker(settings: Settings) -> GitHubFollowUps | JiraFollowUps | None:
    """The follow-up tracker ``GOLIVE_FOLLOWUP_TRACKER`` names, when its settings are complete."""
    if settings.followup_missing():
        return None
    if settings.followup_tracker is FollowUpTrackerKind.GITHUB:
        return GitHubFollowUps(
            GitHubConfig(
                api_url=settings.github_api_url,
                token=settings.github_token.get_secret_value(),
                repo=settings.github_repo,
            )
        )
    return JiraFollowUps(
        JiraConfig(
            url=settings.jira_url,
            project=settings.jira_project,
            user=settings.jira_user,
            token=settings.jira_token.get_secret_value(),
            issue_type=settings.jira_issue_type,
        )
    )
