"""The settings slice the use cases need (built once by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports import Platform
from schedule.plan import WindowSettings


@dataclass(frozen=True)
class BridgeConfig:
    tier2_group: str
    product_group: str
    product_name: str
    window: WindowSettings
    first_response_minutes: float = 5.0
    second_escalation_minutes: float = 15.0
    servicenow_url: str = ""
    channel_template: str = "Go Live - {station} {name}"
    management_channel_id: str = ""
    manager_ids: frozenset[str] = frozenset()
    integration_user: str = "golive.integration"
    delivery_lead: tuple[str, str] | None = None  # (Entra object id, name)
    # Channels watched for inquiries outside the go-live channels, as (platform, channel name or id):
    # Slack's DSVA channels. Hand-off notices go there too.
    watched_channels: tuple[tuple[Platform, str], ...] = ()
    followup_tracker: str = ""  # "GitHub" or "Jira" when follow-up issues are on

    @property
    def correlation_display(self) -> str:
        return f"{self.product_name} Go Live"

    @property
    def groups(self) -> tuple[str, str]:
        return (self.tier2_group, self.product_group)

    def is_manager(self, aad_object_id: str | None) -> bool:
        if not aad_object_id:
            return False
        wanted = aad_object_id.strip().lower()
        return any(manager.strip().lower() == wanted for manager in self.manager_ids)
