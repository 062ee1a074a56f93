"""The Teams app manifest validates against Microsoft's published schema (v1.22)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.commands import COMMANDS, manifest_commands, parse_command
from manifest import (
    MANIFEST_VERSION,
    RSC_CHANNEL_MESSAGES,
    ManifestConfig,
    ManifestConfigError,
    build_manifest,
)

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
BOT_ID = "8b0a6f5e-1c2d-4e3f-9a8b-7c6d5e4f3a2b"


def config(**changes) -> ManifestConfig:
    base = ManifestConfig.for_public_url(APP_ID, "https://golive.example.org", bot_id=BOT_ID)
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    "cfg",
    [
        config(),
        config(dashboard_url="https://golive.example.org/dashboard", valid_domains=("golive.example.org",)),
        config(extra_rsc_permissions=("Channel.Create.Group",), version="2.10.3"),
    ],
    ids=["plain", "dashboard", "extra-rsc"],
)
def test_manifest_passes_the_official_schema(cfg, manifest_errors):
    manifest = build_manifest(cfg, COMMANDS)
    assert manifest["manifestVersion"] == MANIFEST_VERSION == "1.22"
    assert manifest["$schema"].endswith("/v1.22/MicrosoftTeams.schema.json")
    assert manifest_errors(manifest) == []


def test_manifest_schema_check_is_not_vacuous(manifest_errors):
    manifest = build_manifest(config(), COMMANDS)
    assert manifest_errors({**manifest, "manifestVersion": "1.17"})  # `const` is enforced
    assert manifest_errors({**manifest, "id": "not-a-guid"})
    assert manifest_errors({**manifest, "unknownField": True})


def test_bot_is_in_team_and_personal_scopes_with_the_registry_commands():
    manifest = build_manifest(config(), COMMANDS)
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert bot["scopes"] == ["team", "personal"]
    lists = {tuple(entry["scopes"]): entry["commands"] for entry in bot["commandLists"]}
    assert set(lists) == {("team",), ("personal",)}
    for (scope,), commands in lists.items():
        assert [c["title"] for c in commands] == [spec.name for spec in manifest_commands(scope)]
        assert len(commands) <= 10
        for command in commands:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 32
            parsed = parse_command(command["title"])
            assert parsed is not None and parsed.name == command["title"]


def test_rsc_asks_only_for_channel_messages():
    manifest = build_manifest(config(), COMMANDS)
    assert manifest["webApplicationInfo"]["id"] == BOT_ID
    assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": RSC_CHANNEL_MESSAGES, "type": "Application"}
    ]
    assert RSC_CHANNEL_MESSAGES == "ChannelMessage.Read.Group"
    assert "permissions" not in manifest  # no device or identity permissions


def test_dashboard_tab_only_when_configured_and_its_domain_is_valid():
    assert "staticTabs" not in build_manifest(config(), COMMANDS)
    manifest = build_manifest(config(dashboard_url="https://dash.example.org/app?x=1"), COMMANDS)
    (tab,) = manifest["staticTabs"]
    assert tab["contentUrl"] == "https://dash.example.org/app?x=1" and tab["scopes"] == ["personal"]
    assert manifest["validDomains"] == ["dash.example.org"]


def test_manifest_icons_and_texts():
    manifest = build_manifest(config(), COMMANDS)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["developer"]["privacyUrl"] == "https://golive.example.org/privacy"
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"app_id": "golive"}, "app_id"),
        ({"bot_id": ""}, "bot_id"),
        ({"short_name": "x" * 31}, "short_name"),
        ({"short_description": ""}, "short_description"),
        ({"website_url": "http://golive.example.org"}, "website_url"),
        ({"dashboard_url": "ftp://x"}, "dashboard_url"),
        ({"version": "1.0"}, "version"),
        ({"accent_color": "blue"}, "accent_color"),
        ({"valid_domains": ("https://x.org",)}, "valid_domains"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(ManifestConfigError) as raised:
        config(**changes)
    assert any(problem.startswith(field) for problem in raised.value.problems)


def test_too_many_manifest_commands_in_a_scope_is_refused():
    flood = [
        dataclasses.replace(COMMANDS[0], name=f"c{i}", manifest_scopes=frozenset({"team"})) for i in range(11)
    ]
    with pytest.raises(ValueError, match="10"):
        build_manifest(config(), flood)
