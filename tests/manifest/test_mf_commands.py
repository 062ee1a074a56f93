"""The command registry: one list read by the parser, ``help`` and the manifest."""

from __future__ import annotations

import dataclasses

import pytest

from bot.commands import (
    CLOSE_CODES,
    COMMANDS,
    MANIFEST_MAX_COMMANDS,
    MANIFEST_MAX_DESCRIPTION,
    MANIFEST_MAX_TITLE,
    PERSONAL,
    SCOPES,
    TEAM,
    CommandSpec,
    ParsedCommand,
    commands_for,
    find_command,
    help_text,
    manifest_commands,
    parse_command,
    parse_resolve_args,
    parse_route_target,
)

PRODUCT_COMMANDS = {
    "help",
    "duty",
    "log",
    "ack",
    "route",
    "assign me",
    "resolve",
    "triage",
    "status",
    "swap",
    "roster import",
    "schedule show",
    "schedule preview",
    "week add",
    "site add",
    "site move",
    "site pull",
    "roster show",
    "audit",
}


def test_registry_has_every_product_command_once():
    names = [spec.name for spec in COMMANDS]
    assert len(names) == len(set(names))
    assert set(names) == PRODUCT_COMMANDS


def test_registry_is_immutable():
    assert isinstance(COMMANDS, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        COMMANDS[0].name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda spec: spec.name)
def test_each_command_fits_the_teams_menu_and_parses_as_itself(spec: CommandSpec):
    assert spec.name == spec.name.lower().strip()
    assert 0 < len(spec.name) <= MANIFEST_MAX_TITLE
    assert 0 < len(spec.description) <= MANIFEST_MAX_DESCRIPTION
    assert spec.scopes and spec.scopes <= set(SCOPES)
    assert spec.manifest_scopes <= spec.scopes
    assert spec.usage.startswith(spec.name)
    parsed = parse_command(spec.name)
    assert parsed is not None and parsed.name == spec.name and parsed.args == []


@pytest.mark.parametrize("scope", SCOPES)
def test_manifest_lists_at_most_ten_commands_per_scope_all_parseable(scope):
    chosen = manifest_commands(scope)
    assert 0 < len(chosen) <= MANIFEST_MAX_COMMANDS
    for spec in chosen:
        parsed = parse_command(spec.name)
        assert parsed is not None and parsed.spec is spec


def test_manifest_choice_is_the_most_used_commands():
    assert [s.name for s in manifest_commands(TEAM)] == [
        "help",
        "duty",
        "log",
        "ack",
        "route",
        "assign me",
        "resolve",
        "triage",
        "status",
        "schedule show",
    ]
    personal = {s.name for s in manifest_commands(PERSONAL)}
    assert {"help", "duty", "swap", "schedule show", "week add", "site pull"} <= personal


@pytest.mark.parametrize(
    ("text", "name", "args", "raw_args"),
    [
        ("help", "help", [], ""),
        ("HELP", "help", [], ""),
        ("/help", "help", [], ""),
        ("  / duty  ", "duty", [], ""),
        ("route tier2", "route", ["tier2"], "tier2"),
        ("Route   Product", "route", ["Product"], "Product"),
        ("assign   me", "assign me", [], ""),
        ("Assign Me", "assign me", [], ""),
        ("<at>Go Live Bridge</at> ack", "ack", [], ""),
        ("<at>Go Live Bridge</at>&nbsp;status", "status", [], ""),
        ("<p>duty</p>", "duty", [], ""),
        ("schedule show", "schedule show", [], ""),
        ("schedule show 2022-05-09", "schedule show", ["2022-05-09"], "2022-05-09"),
        ("SCHEDULE  preview", "schedule preview", [], ""),
        ("week add 2022-08-29", "week add", ["2022-08-29"], "2022-08-29"),
        (
            'site add 2022-05-09 528A7 "Bath VA Medical Center" America/New_York 2022-05-11',
            "site add",
            ["2022-05-09", "528A7", "Bath VA Medical Center", "America/New_York", "2022-05-11"],
            '2022-05-09 528A7 "Bath VA Medical Center" America/New_York 2022-05-11',
        ),
        (
            "site add 2022-05-09 508 \u201cPalo Alto\u201d America/Los_Angeles",
            "site add",
            ["2022-05-09", "508", "Palo Alto", "America/Los_Angeles"],
            '2022-05-09 508 "Palo Alto" America/Los_Angeles',
        ),
        (
            'site add 2022-05-09 508 "Palo Alto America/Los_Angeles',
            "site add",
            ["2022-05-09", "508", '"Palo', "Alto", "America/Los_Angeles"],
            '2022-05-09 508 "Palo Alto America/Los_Angeles',
        ),
        ("site move 508 2022-05-16", "site move", ["508", "2022-05-16"], "508 2022-05-16"),
        ("site pull 508", "site pull", ["508"], "508"),
        ("roster show", "roster show", [], ""),
        ("triage Check-in kiosk", "triage", ["Check-in", "kiosk"], "Check-in kiosk"),
        (
            "resolve Solution provided | Restarted the kiosk; it's fine now",
            "resolve",
            ["Solution", "provided", "|", "Restarted", "the", "kiosk;", "it's", "fine", "now"],
            "Solution provided | Restarted the kiosk; it's fine now",
        ),
    ],
)
def test_parse_command(text, name, args, raw_args):
    assert parse_command(text) == ParsedCommand(name=name, args=args, raw_args=raw_args)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "/", "helpdesk", "help, the kiosk shows an error", "schedule", "site", "assign", "hello"],
)
def test_text_that_is_not_a_command_parses_to_none(text):
    assert parse_command(text) is None


def test_a_question_starting_with_a_command_word_parses_as_that_command():
    # Why the handler parses commands only from @mentions and engineers (see the module docstring).
    parsed = parse_command("help me, the kiosk shows an error")
    assert parsed is not None and parsed.name == "help"


@pytest.mark.parametrize(
    ("args", "target"),
    [(["tier2"], "tier2"), (["Tier", "2"], "tier2"), (["T2"], "tier2"), (["product"], "product"), ([], None)],
)
def test_route_target(args, target):
    assert parse_route_target(args) == target


def test_resolve_args_accept_any_case_and_spacing_of_a_close_code():
    assert parse_resolve_args("workaround   PROVIDED |  cleared cache ") == (
        "Workaround provided",
        "cleared cache",
    )


@pytest.mark.parametrize("raw", ["Solution provided", "Fixed it | notes", "Duplicate |  ", ""])
def test_resolve_args_need_a_known_close_code_and_notes(raw):
    assert parse_resolve_args(raw) is None


def test_close_codes_are_servicenows():
    assert len(CLOSE_CODES) == 9 and "Solution provided" in CLOSE_CODES


def test_help_hides_manager_commands_from_others():
    engineer = help_text(PERSONAL, is_manager=False)
    manager = help_text(PERSONAL, is_manager=True)
    assert "week add" not in engineer and "site pull" not in engineer and "audit" not in engineer
    assert "`week add <YYYY-MM-DD>`" in manager and "`site pull <station> [force]`" in manager
    assert "`audit [action] [station]`" in manager


def test_help_lists_exactly_the_commands_of_the_scope():
    text = help_text(TEAM, is_manager=False)
    for spec in COMMANDS:
        assert (f"`{spec.usage}`" in text) == spec.available(TEAM, False)
    assert [s.name for s in commands_for(TEAM, False)][:2] == ["help", "duty"]


def test_find_command_normalises_spacing_and_case():
    assert find_command("Assign  ME") is not None
    assert find_command("nope") is None
