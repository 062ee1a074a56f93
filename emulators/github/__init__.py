"""A local GitHub for development and tests: the REST API subset for issues, comments and search.

Public surface::

    GitHubEmulatorConfig(...), GitHubUser, GitHubRepo     # emulators.github.config
    create_github_emulator(config) -> web.Application
    await run_github_emulator(host, port, config)        # serves until cancelled
    main(argv) -> int                                    # python -m emulators.github
"""

from emulators.github.app import create_github_emulator, main, run_github_emulator
from emulators.github.config import (
    BOT_LOGIN,
    DEFAULT_REPO,
    DEFAULT_TOKEN,
    GitHubEmulatorConfig,
    GitHubRepo,
    GitHubUser,
    sample_repos,
    sample_users,
)

__all__ = [
    "BOT_LOGIN",
    "DEFAULT_REPO",
    "DEFAULT_TOKEN",
    "GitHubEmulatorConfig",
    "GitHubRepo",
    "GitHubUser",
    "create_github_emulator",
    "main",
    "run_github_emulator",
    "sample_repos",
    "sample_users",
]
