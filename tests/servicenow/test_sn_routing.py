"""Group suggestions from the packaged rules, and the triage categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicenow.routing import (
    TRIAGE_CATEGORIES,
    RoutingRuleError,
    Suggestion,
    load_routing_rules,
    suggest_group,
)

PRODUCT = "eCheck-in Vet Facing Apps"


@pytest.fixture(scope="module")
def rules():
    return load_routing_rules()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Veterans say pre-check-in shows an error", "pre-check-in"),
        ("The Veteran did not get the text with the link", "text message link"),
        ("Patient never received the SMS", "text message link"),
        ("vets-api returned 500", "vets-api"),
        ("The eCheck-in page is blank on the phone", "eCheck-in front end"),
    ],
)
def test_product_problems_suggest_the_product_group(rules, text: str, rule: str) -> None:
    assert suggest_group(text, rules) == Suggestion(PRODUCT, rule)


def test_vista_scheduling_stays_with_tier2(rules) -> None:
    assert suggest_group("Clinic profile in VistA is wrong", rules) == Suggestion(
        "Scheduling Support", "VistA scheduling"
    )


def test_unrelated_text_has_no_suggestion(rules) -> None:
    assert suggest_group("How do I change my password mechanisms?", rules) is None


def test_group_names_come_from_settings() -> None:
    rules = load_routing_rules(product_group="Product X", tier2_group="Tier Two")
    assert suggest_group("pre-check-in broken", rules).group == "Product X"


def test_rules_file_can_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nname = "kiosk"\ngroup = "Kiosk Team"\npatterns = [\'\\bkiosk\\b\']\n')
    assert suggest_group("The KIOSK froze", load_routing_rules(path)) == Suggestion("Kiosk Team", "kiosk")


def test_bad_rules_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nname = "x"\ngroup = "g"\npatterns = ["("]\n')
    with pytest.raises(RoutingRuleError):
        load_routing_rules(path)
    path.write_text('[[rule]]\nname = "x"\n')
    with pytest.raises(RoutingRuleError):
        load_routing_rules(path)


def test_triage_categories_follow_the_playbook() -> None:
    assert [c.label for c in TRIAGE_CATEGORIES] == [
        "Bug",
        "Error",
        "Quick question",
        "Training need",
        "Documented answer",
        "Not our system",
        "Data the user can get",
        "Admin action",
        "Data change request",
    ]
    assert len({c.key for c in TRIAGE_CATEGORIES}) == 9
