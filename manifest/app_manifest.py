"""The Teams app manifest (schema v1.22) built from settings and the bot's command registry.

Permissions, and why there are no more of them:

- ``ChannelMessage.Read.Group`` (resource-specific consent, Application). Without it a bot in a
  channel only receives posts that @mention it; site staff just post their question, so the bot must
  see every post in the go-live channels. The team owner grants it when installing the app in the
  Go Live team, and it covers that team only.
- Nothing else by default. Channel management (create, archive, delete the go-live channels, list
  them) goes through Microsoft Graph with the app's own token (client credentials), using
  application permissions granted once by a tenant admin (for example ``Channel.Create``,
  ``ChannelSettings.ReadWrite.All``, ``Channel.Delete.All``); those are Entra app registrations, not
  manifest entries. Posting, replying and updating cards use the Bot Connector, which needs no
  permission beyond the bot being installed. Tenants that prefer team-scoped consent for channel
  management can add the RSC equivalents (``Channel.Create.Group``, ``ChannelSettings.ReadWrite.Group``,
  ``Channel.Delete.Group``) through ``ManifestConfig.extra_rsc_permissions``.

The manifest takes the commands as anything shaped like ``bot.commands.CommandSpec`` so that this
package does not import the bot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from manifest.icons import ACCENT_COLOR

MANIFEST_VERSION: Final = "1.22"
MANIFEST_SCHEMA_URL: Final = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
COLOR_ICON_FILE: Final = "color.png"
OUTLINE_ICON_FILE: Final = "outline.png"
BOT_SCOPES: Final[tuple[str, ...]] = ("team", "personal")
RSC_CHANNEL_MESSAGES: Final = "ChannelMessage.Read.Group"
DASHBOARD_ENTITY_ID: Final = "golive-dashboard"
# Stand-ins so `golive manifest build` works in a fresh clone without settings; Teams refuses to
# install a package built with them, so upload needs the real app id and an https public URL.
PLACEHOLDER_APP_ID: Final = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_PUBLIC_URL: Final = "https://localhost"

# Teams limits (manifest schema and the Teams command-menu documentation).
MAX_COMMANDS_PER_SCOPE: Final = 10
MAX_COMMAND_TITLE: Final = 32
MAX_COMMAND_DESCRIPTION: Final = 128

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ManifestConfigError(ValueError):
    """The configuration cannot make a valid manifest; ``problems`` names each field to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ManifestCommand(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def manifest_scopes(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class ManifestConfig:
    app_id: str
    bot_id: str
    short_name: str
    full_name: str
    short_description: str
    full_description: str
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str
    valid_domains: tuple[str, ...] = ()
    version: str = "1.0.0"
    dashboard_url: str | None = None
    accent_color: str = ACCENT_COLOR
    extra_rsc_permissions: tuple[str, ...] = ()
    # The tab's page inside Teams (it signs in through Teams); the dashboard_url opens in a browser.
    dashboard_tab_url: str | None = None
    # The app's API for Teams single sign-on (``api://{host}/{app id}``), webApplicationInfo.resource.
    sso_resource: str | None = None

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ManifestConfigError(problems)

    @classmethod
    def for_public_url(
        cls,
        app_id: str,
        public_url: str,
        *,
        bot_id: str | None = None,
        version: str = "1.0.0",
        dashboard_url: str | None = None,
        developer_name: str = "Go Live Bridge team",
        dashboard_tab_url: str | None = None,
    ) -> ManifestConfig:
        """The product's default texts, with the support, privacy and terms pages under ``public_url``.

        An empty ``app_id`` or a ``public_url`` that is not https (the sandbox's loopback address)
        falls back to :data:`PLACEHOLDER_APP_ID` / :data:`PLACEHOLDER_PUBLIC_URL`.
        """
        app_id = app_id or PLACEHOLDER_APP_ID
        base = (public_url if _is_https_url(public_url) else PLACEHOLDER_PUBLIC_URL).rstrip("/")
        return cls(
            app_id=app_id,
            bot_id=bot_id or app_id,
            short_name="Go Live Bridge",
            full_name="Go Live Bridge: go-live channels linked to ServiceNow",
            short_description="Go-live support channels whose posts become ServiceNow incidents.",
            full_description=(
                "Go Live Bridge opens a Teams channel for each site during its go-live week and "
                "retires it afterwards. Every question posted there becomes a ServiceNow incident in "
                "Tier 2 support; the engineers on duty answer in the thread, route, triage and resolve "
                "from the incident card, and ServiceNow updates show up in the thread. Managers keep "
                "the rollout plan and duty roster with bot commands, and each rotation ends with a "
                "report of what came in and how fast it was answered."
            ),
            developer_name=developer_name,
            website_url=f"{base}/",
            privacy_url=f"{base}/privacy",
            terms_url=f"{base}/terms",
            version=version,
            dashboard_url=dashboard_url,
            dashboard_tab_url=dashboard_tab_url,
            # Teams SSO needs the Application ID URI of the app's API on the tab's own host.
            sso_resource=f"api://{urlsplit(dashboard_tab_url).netloc}/{app_id}"
            if dashboard_tab_url
            else None,
        )

    def problems(self) -> list[str]:
        problems = []
        for field in ("app_id", "bot_id"):
            if not _GUID.match(getattr(self, field)):
                problems.append(f"{field} must be a GUID (the Entra app id), not {getattr(self, field)!r}")
        limits = {
            "short_name": 30,
            "full_name": 100,
            "short_description": 80,
            "full_description": 4000,
            "developer_name": 32,
        }
        for field, limit in limits.items():
            value = getattr(self, field)
            if not value.strip():
                problems.append(f"{field} is empty")
            elif len(value) > limit:
                problems.append(f"{field} is {len(value)} characters; Teams allows {limit}")
        for field in ("website_url", "privacy_url", "terms_url", "dashboard_url", "dashboard_tab_url"):
            value = getattr(self, field)
            if value is not None and not _is_https_url(value):
                problems.append(f"{field} must be an https:// URL, not {value!r}")
        if not _SEMVER.match(self.version):
            problems.append(f"version must be MAJOR.MINOR.PATCH, not {self.version!r}")
        if not _HEX_COLOR.match(self.accent_color):
            problems.append(f"accent_color must look like #1A2B3C, not {self.accent_color!r}")
        for domain in self.valid_domains:
            if "://" in domain or "/" in domain or not domain:
                problems.append(f"valid_domains holds host names only, not {domain!r}")
        return problems


def _is_https_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.netloc)


def _command_lists(commands: Iterable[ManifestCommand]) -> list[dict[str, Any]]:
    commands = tuple(commands)
    lists = []
    for scope in BOT_SCOPES:
        chosen = [spec for spec in commands if scope in spec.manifest_scopes]
        if not chosen:
            continue
        if len(chosen) > MAX_COMMANDS_PER_SCOPE:
            raise ValueError(f"{len(chosen)} manifest commands in scope {scope!r}; Teams shows 10")
        for spec in chosen:
            if len(spec.name) > MAX_COMMAND_TITLE or len(spec.description) > MAX_COMMAND_DESCRIPTION:
                raise ValueError(f"command {spec.name!r} is too long for the Teams command menu")
        lists.append(
            {
                "scopes": [scope],
                "commands": [{"title": spec.name, "description": spec.description} for spec in chosen],
            }
        )
    return lists


def build_manifest(config: ManifestConfig, commands: Iterable[ManifestCommand]) -> dict[str, Any]:
    """The manifest.json content; the icons are referenced as ``color.png`` and ``outline.png``."""
    domains = list(config.valid_domains)
    for url in (config.dashboard_url, config.dashboard_tab_url):
        if url:
            domains.append(urlsplit(url).netloc)
    bot: dict[str, Any] = {
        "botId": config.bot_id,
        "scopes": list(BOT_SCOPES),
        "supportsFiles": False,
        "isNotificationOnly": False,
    }
    command_lists = _command_lists(commands)
    if command_lists:
        bot["commandLists"] = command_lists
    manifest: dict[str, Any] = {
        "$schema": MANIFEST_SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": config.version,
        "id": config.app_id,
        "developer": {
            "name": config.developer_name,
            "websiteUrl": config.website_url,
            "privacyUrl": config.privacy_url,
            "termsOfUseUrl": config.terms_url,
        },
        "name": {"short": config.short_name, "full": config.full_name},
        "description": {"short": config.short_description, "full": config.full_description},
        "icons": {"color": COLOR_ICON_FILE, "outline": OUTLINE_ICON_FILE},
        "accentColor": config.accent_color,
        "bots": [bot],
        "validDomains": list(dict.fromkeys(domains)),
        # RSC needs the bot's Entra app id here; "resource" is unused by RSC but Teams expects a value,
        # and the tab's single sign-on gets tokens for it (the app's api://{host}/{app id}).
        "webApplicationInfo": {
            "id": config.bot_id,
            "resource": config.sso_resource or "https://RscPermission",
        },
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": name, "type": "Application"}
                    for name in dict.fromkeys((RSC_CHANNEL_MESSAGES, *config.extra_rsc_permissions))
                ]
            }
        },
        "defaultInstallScope": "team",
        "defaultGroupCapability": {"team": "bot"},
    }
    if config.dashboard_url:
        manifest["staticTabs"] = [
            {
                "entityId": DASHBOARD_ENTITY_ID,
                "name": "Dashboard",
                "contentUrl": config.dashboard_tab_url or config.dashboard_url,
                "websiteUrl": config.dashboard_url,
                "scopes": ["personal"],
            }
        ]
    return manifest
