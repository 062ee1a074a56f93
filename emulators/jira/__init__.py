"""A local Jira Cloud site for development and tests: REST v3 issue create, get and JQL search.

Public surface::

    JiraEmulatorConfig(...), JiraUser, JiraProject, JiraIssueType   # emulators.jira.config
    create_jira_emulator(config) -> web.Application
    config_for_account(email, token, project, state_dir) -> JiraEmulatorConfig
    await run_jira_emulator(host, port, config)          # serves until cancelled
    main(argv) -> int                                    # python -m emulators.jira
"""

from emulators.jira.app import config_for_account, create_jira_emulator, main, run_jira_emulator
from emulators.jira.config import (
    BOT_EMAIL,
    DEFAULT_API_TOKEN,
    DEFAULT_PROJECT,
    JiraEmulatorConfig,
    JiraIssueType,
    JiraProject,
    JiraUser,
    account_id_for,
    sample_projects,
    sample_users,
)

__all__ = [
    "BOT_EMAIL",
    "DEFAULT_API_TOKEN",
    "DEFAULT_PROJECT",
    "JiraEmulatorConfig",
    "JiraIssueType",
    "JiraProject",
    "JiraUser",
    "account_id_for",
    "config_for_account",
    "create_jira_emulator",
    "main",
    "run_jira_emulator",
    "sample_projects",
    "sample_users",
]
