"""One typed settings object, read once at start-up (environment and `.env`, prefix ``GOLIVE_``).

Every variable is documented in `.env.example`. Secrets are ``SecretStr`` so they are masked in
``repr`` and logs; adapters receive only the slice they need (see the ``*_config`` methods).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from ipaddress import ip_address
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.logs import LogFormat

DEFAULT_SQLITE_FILE = "golive.db"


class Environment(StrEnum):
    PRODUCTION = "production"
    DEVELOPMENT = "development"


class AppType(StrEnum):
    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class FollowUpTrackerKind(StrEnum):
    GITHUB = "github"
    JIRA = "jira"


class ConfigurationError(RuntimeError):
    """The settings cannot run the product; the message names the setting to fix."""


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value may be a secret (GOLIVE_API_TOKENS); errors never echo it.
    model_config = SettingsConfigDict(
        env_prefix="GOLIVE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    env: Environment = Environment.PRODUCTION
    host: str = "127.0.0.1"
    port: int = 3978
    public_url: str = ""
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_FILE}"

    microsoft_app_id: str = ""
    microsoft_app_password: SecretStr = SecretStr("")
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: AppType = AppType.SINGLE_TENANT
    # Where inbound Bot Framework tokens are validated (the Teams emulator serves its own).
    openid_metadata_url: str = ""
    # Seconds one fetch of that metadata and its keys may take (off the event loop; then 401).
    openid_timeout_s: float = Field(5.0, gt=0)
    allowed_service_url_prefixes: str = ""
    allowed_tenant_ids: str = ""

    team_id: str = ""
    graph_url: str = "https://graph.microsoft.com/v1.0"
    channel_name_template: str = "Go Live - {station} {name}"

    servicenow_url: str = ""
    servicenow_user: str = "golive.integration"
    servicenow_password: SecretStr = SecretStr("")
    servicenow_timeout_s: float = 10.0
    servicenow_max_concurrency: int = 8
    servicenow_poll_interval_s: float = 15.0
    servicenow_callback_secret: SecretStr = SecretStr("")
    tier2_group: str = "Scheduling Support"
    product_group: str = "eCheck-in Vet Facing Apps"
    product_name: str = "eCheck-in"
    routing_rules_file: str = ""

    # Slack (the DSVA channels): on when both the bot token and the signing secret are set.
    slack_bot_token: SecretStr = SecretStr("")
    slack_signing_secret: SecretStr = SecretStr("")
    slack_api_url: str = "https://slack.com/api/"
    slack_channels: str = "check-in-go-live"

    window_open_hour: int = Field(7, ge=0, le=23)
    window_days: int = Field(7, ge=1, le=60)
    window_retire_hour: int = Field(17, ge=0, le=23)

    first_response_minutes: float = 5.0
    second_escalation_minutes: float = 15.0
    delivery_lead_aad_id: str = ""
    manager_aad_ids: str = ""
    management_channel_id: str = ""

    # Development only: run the product's clock from this instant at this speed (the sandbox's --now/--speed).
    simulated_now: datetime | None = None
    simulated_speed: float = Field(1.0, gt=0)

    # Days message text is kept after its incident was resolved and its channel retired (0: at once).
    retention_days: int = Field(30, ge=0, le=3650)
    # Attempts before an event or job that keeps failing unexpectedly becomes a dead letter.
    max_attempts: int = Field(8, ge=1, le=100)
    outbox_workers: int = 8
    tick_seconds: float = Field(15.0, gt=0)
    dashboard_token: SecretStr = SecretStr("")
    # Teams tab sign-in for the dashboard tab: the Teams JS SDK the tab page loads, the authority
    # whose {tenant}/v2.0 OpenID metadata publishes the signing keys, and extra accepted audiences
    # (always accepted: api://{public host}/{app id} and the app id).
    teams_js_url: str = "https://res.cdn.office.net/teams-js/2.34.0/js/MicrosoftTeams.min.js"
    teams_sso_authority: str = "https://login.microsoftonline.com"
    teams_sso_audiences: str = ""
    # Bearer tokens of the plan API, each named for the audit trail: "name:token,name2:token2".
    api_tokens: SecretStr = SecretStr("")
    log_level: str = "INFO"
    # text | json; unset: json in production, text in development (``effective_log_format``).
    log_format: LogFormat | None = None

    # Monitoring alerts (POST /alerts/{sentry,datadog,pagerduty,bugsnag}); an empty secret refuses
    # every delivery of that source with 401.
    sentry_client_secret: SecretStr = SecretStr("")
    datadog_webhook_token: SecretStr = SecretStr("")
    pagerduty_webhook_secret: SecretStr = SecretStr("")
    bugsnag_webhook_token: SecretStr = SecretStr("")
    alert_group: str = ""  # empty: the product group
    teams_alert_channel: str = "APM Alerts"
    slack_alert_channel: str = "check-in-experience-apm"
    alert_max_new_per_minute: int = Field(10, ge=0, le=10_000)

    # Duty from PagerDuty (on when the token and both schedule ids are set): primary, then backup.
    pagerduty_token: SecretStr = SecretStr("")
    pagerduty_api_url: str = "https://api.pagerduty.com"
    pagerduty_schedule_ids: str = ""
    pagerduty_sync_interval_s: float = Field(3600.0, ge=60)

    # Follow-up issues from incident cards: GitHub issues or Jira issues.
    followup_tracker: FollowUpTrackerKind = FollowUpTrackerKind.GITHUB
    followup_labels: str = ""
    github_token: SecretStr = SecretStr("")
    github_api_url: str = "https://api.github.com"
    github_repo: str = ""
    jira_url: str = ""
    jira_project: str = ""
    jira_user: str = ""
    jira_token: SecretStr = SecretStr("")
    jira_issue_type: str = "Task"

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type_case_insensitive(cls, value: object) -> object:
        if isinstance(value, str):
            for member in AppType:
                if member.value.lower() == value.strip().lower():
                    return member
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format_empty_is_unset(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.TEXT if self.development else LogFormat.JSON

    @field_validator("api_tokens")
    @classmethod
    def _api_tokens_well_formed(cls, value: SecretStr) -> SecretStr:
        parse_api_tokens(value.get_secret_value())
        return value

    @property
    def api_token_names(self) -> dict[str, str]:
        """The plan API's tokens -> the name each is audited under."""
        return parse_api_tokens(self.api_tokens.get_secret_value())

    @field_validator("followup_tracker", mode="before")
    @classmethod
    def _tracker_case_insensitive(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("pagerduty_api_url", "github_api_url", "jira_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        """Tokens travel to these URLs: https, or plain http only to this machine (an emulator)."""
        value = value.strip()
        if value and not secure_or_loopback(value):
            raise ValueError("must be an https:// URL (http:// only on loopback, for an emulator)")
        return value

    @field_validator("github_repo")
    @classmethod
    def _owner_slash_name(cls, value: str) -> str:
        value = value.strip()
        owner, slash, name = value.partition("/")
        if value and not (slash and owner and name and "/" not in name):
            raise ValueError("must be owner/name")
        return value

    @field_validator("pagerduty_schedule_ids")
    @classmethod
    def _two_schedules(cls, value: str) -> str:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if len(ids) > 2:
            raise ValueError("name the primary schedule, then the backup schedule (two ids)")
        return ",".join(ids)

    @property
    def pagerduty_schedules(self) -> tuple[str, ...]:
        """(primary schedule id, backup schedule id) as configured (empty when unset)."""
        return tuple(part for part in self.pagerduty_schedule_ids.split(",") if part)

    @property
    def pagerduty_enabled(self) -> bool:
        return bool(self.pagerduty_token.get_secret_value()) and len(self.pagerduty_schedules) == 2

    @property
    def followup_label_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(part.strip() for part in self.followup_labels.split(",") if part.strip()))

    def followup_missing(self) -> list[str]:
        """The settings the chosen follow-up tracker still needs (empty: follow-ups are on)."""
        if self.followup_tracker is FollowUpTrackerKind.GITHUB:
            wanted = {
                "GOLIVE_GITHUB_TOKEN": self.github_token.get_secret_value(),
                "GOLIVE_GITHUB_REPO": self.github_repo,
            }
        else:
            wanted = {
                "GOLIVE_JIRA_URL": self.jira_url,
                "GOLIVE_JIRA_PROJECT": self.jira_project,
                "GOLIVE_JIRA_USER": self.jira_user,
                "GOLIVE_JIRA_TOKEN": self.jira_token.get_secret_value(),
            }
        return [name for name, value in wanted.items() if not value]

    @property
    def development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def auth_disabled(self) -> bool:
        return not self.microsoft_app_id

    @property
    def slack_enabled(self) -> bool:
        """Slack is on when both its bot token and its signing secret are set."""
        return bool(self.slack_bot_token.get_secret_value() and self.slack_signing_secret.get_secret_value())

    @property
    def slack_watched_channels(self) -> tuple[str, ...]:
        """The Slack channels (names, or ids) whose top-level posts are inquiries, in order."""
        names = [part.strip().lstrip("#") for part in self.slack_channels.split(",")]
        return tuple(dict.fromkeys(name for name in names if name))

    @property
    def manager_ids(self) -> frozenset[str]:
        return _split(self.manager_aad_ids)

    @property
    def tenant_allow_list(self) -> frozenset[str]:
        return _split(self.allowed_tenant_ids)

    @property
    def accepted_tenants(self) -> frozenset[str]:
        """Tenants whose activities are accepted: a SingleTenant bot's own tenant, plus
        ``GOLIVE_ALLOWED_TENANT_IDS``; empty (any tenant) only for a multi-tenant bot without a list."""
        tenants = set(self.tenant_allow_list)
        if self.microsoft_app_type is AppType.SINGLE_TENANT and self.microsoft_app_tenant_id:
            tenants.add(self.microsoft_app_tenant_id)
        return frozenset(tenants)

    @property
    def service_url_allow_list(self) -> tuple[str, ...]:
        return tuple(sorted(_split(self.allowed_service_url_prefixes)))

    def check_can_serve(self) -> None:
        """Refuse configurations that would run a production bot without authentication."""
        if self.development:
            return
        if not self.microsoft_app_id:
            raise ConfigurationError(
                "GOLIVE_MICROSOFT_APP_ID is empty: refusing to start in production with bot "
                "authentication disabled (set GOLIVE_ENV=development for local runs)"
            )
        if self.microsoft_app_type is AppType.MULTI_TENANT:
            raise ConfigurationError(
                "GOLIVE_MICROSOFT_APP_TYPE=MultiTenant can no longer be registered: use SingleTenant "
                "or UserAssignedMSI"
            )
        if self.microsoft_app_type is AppType.SINGLE_TENANT:
            if not self.microsoft_app_password.get_secret_value():
                raise ConfigurationError("GOLIVE_MICROSOFT_APP_PASSWORD is empty (required for SingleTenant)")
            if not self.microsoft_app_tenant_id:
                raise ConfigurationError(
                    "GOLIVE_MICROSOFT_APP_TENANT_ID is empty (required for SingleTenant)"
                )


def secure_or_loopback(url: str) -> bool:
    """True for an https URL, or an http URL whose host is this machine (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _split(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


API_TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
MIN_API_TOKEN_LENGTH = 16


def parse_api_tokens(value: str) -> dict[str, str]:
    """``name:token,name2:token2`` -> {token: name}; ``ValueError`` names the entry (never a token)."""
    tokens: dict[str, str] = {}
    for number, entry in enumerate((part.strip() for part in value.split(",")), start=1):
        if not entry:
            continue
        name, sep, token = entry.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not API_TOKEN_NAME.fullmatch(name):
            raise ValueError(f"entry {number} must be name:token with a name of letters, digits, . _ -")
        if len(token) < MIN_API_TOKEN_LENGTH or any(c.isspace() for c in token):
            raise ValueError(
                f"the token of {name!r} must be at least {MIN_API_TOKEN_LENGTH} characters, without spaces"
            )
        if name in tokens.values():
            raise ValueError(f"the name {name!r} is given twice")
        if token in tokens:
            raise ValueError(f"the token of {name!r} is also another entry's")
        tokens[token] = name
    return tokens
