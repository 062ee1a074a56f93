"""The Alert contract: bounded, cleaned text, https links, aware times, a plain group key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts import Alert
from bot.alerts.model import TAGS_MAX, clip, https_link, is_plain_key, make_links, make_tag, make_tags


def alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "source": "sentry",
        "group_key": "1170820242",
        "delivery_id": "event:e4874d664c3540c1a32eab185f12c5ab",
        "title": "ReferenceError: blooopy is not defined",
        "level": "error",
        "state": "triggered",
    } | changes
    return Alert(**fields)  # type: ignore[arg-type]


def test_a_valid_alert_defaults_to_one_occurrence_and_no_names():
    made = alert()
    assert (made.count, made.links, made.tags, made.environment, made.first_seen) == (1, (), (), None, None)
    assert made.correlation_id == "sentry:1170820242"


@pytest.mark.parametrize(
    "changes",
    [
        {"source": "nagios"},
        {"group_key": "has space"},
        {"group_key": "x" * 201},
        {"delivery_id": ""},
        {"title": "x" * 201},
        {"title": "two\nlines"},
        {"level": "fatal"},
        {"state": "open"},
        {"links": (("Page", "http://example.com/"),)},
        {"first_seen": datetime(2026, 1, 1)},
        {"count": 0},
        {"count": True},
        {"environment": ""},
        {"tags": ("x" * 101,)},
    ],
)
def test_an_alert_that_breaks_the_contract_cannot_be_made(changes):
    with pytest.raises(ValueError, match="invalid Alert fields"):
        alert(**changes)


def test_clip_cleans_control_characters_and_cuts_with_an_ellipsis():
    assert clip("  a\x00b\n\tc\u2028d  ", 100) == "a b c d"
    assert clip("abcdef", 4) == "abc…"
    assert clip(" \n ", 10) is None
    assert clip(None, 10) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "javascript:alert(1)",
        "https:///nohost",
        "https://exa mple.com/",
        "https://example.com/\n",
        "//example.com/x",
        "https://example.com/" + "a" * 2100,
        "https://[::1",
    ],
)
def test_only_absolute_https_links_are_kept(url):
    assert https_link("Page", url) is None


def test_an_https_link_keeps_its_url_exactly():
    url = "https://app.datadoghq.com/event/jump_to?event_id=1&x=%20y"
    assert https_link("Datadog event", url) == ("Datadog event", url)


def test_links_are_deduplicated_and_bounded():
    links = make_links(*[("Page", f"https://e.example/{n % 7}") for n in range(20)])
    assert len(links) == 5
    assert len({url for _, url in links}) == 5


def test_tags_are_key_value_deduplicated_and_bounded():
    assert make_tag("env", "  prod ") == "env:prod"
    assert make_tag("env", "") is None
    assert make_tags("a:1", None, "a:1", "b:2") == ("a:1", "b:2")
    assert len(make_tags(*[f"t:{n}" for n in range(50)])) == TAGS_MAX


@pytest.mark.parametrize(
    "key", ["1170820242", "metric_alert:4", "monitor:98765432", "PGR0VU2", "body:" + "a" * 64]
)
def test_group_keys_from_every_source_are_plain(key):
    assert is_plain_key(key)


def test_aware_times_are_accepted():
    made = alert(first_seen=datetime(2026, 1, 1, tzinfo=UTC), last_seen=datetime(2026, 1, 2, tzinfo=UTC))
    assert made.last_seen is not None and made.first_seen is not None
    assert made.last_seen > made.first_seen
