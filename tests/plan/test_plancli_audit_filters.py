"""The audit trail's filters, as typed in Teams (``audit site.pull 508``) or given to the CLI and the
API: accepted and normalised, or refused with a reason; never anything else."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bridge.audit_trail import AuditFilterError, check_action, check_station, parse_filters


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], (None, None)),
        (["site.pull"], ("site.pull", None)),
        (["Site"], ("site.*", None)),
        (["plan."], ("plan.*", None)),
        (["508"], (None, "508")),
        (["528a7", "incident.*"], ("incident.*", "528A7")),
        (["inbox"], ("inbox.*", None)),
        (["retention"], ("retention.*", None)),
        (["incident.triage"], ("incident.triage", None)),
    ],
)
def test_filters_are_normalised(words, expected):
    assert parse_filters(words) == expected


@pytest.mark.parametrize(
    "words", [["site.pull", "plan.import"], ["508", "459"], ["plan.*x"], ["50 8"], ["%"]]
)
def test_bad_filters_are_refused_with_a_reason(words):
    with pytest.raises(AuditFilterError, match=r"\w"):
        parse_filters(words)


@settings(derandomize=True, max_examples=1000)
@given(st.lists(st.text(max_size=14), max_size=3))
def test_generated_words_are_accepted_as_safe_filters_or_refused(words):
    try:
        action, station = parse_filters(words)
    except AuditFilterError as error:
        assert str(error)
        return
    # What reaches the LIKE patterns holds no wildcard but a family's trailing "*".
    assert action is None or re.fullmatch(r"[a-z][a-z_]*\.[a-z_]*\*?", action)
    assert station is None or re.fullmatch(r"[0-9A-Z]{1,20}", station)
    assert action is None or check_action(action) == action
    assert station is None or check_station(station) == station
