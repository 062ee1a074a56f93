"""Reading a delivery: header lookup, secret comparison, times and field-path reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from alerts_support import MARKER

from bot.alerts import AlertRejected
from bot.alerts.delivery import epoch_time, header, iso_time, read_body, same_secret


class Shape(msgspec.Struct):
    id: str
    items: list[int] | None = None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-08-19T20:58:37.391000Z", datetime(2019, 8, 19, 20, 58, 37, 391000, tzinfo=UTC)),
        ("2020-04-09T17:16:27+02:00", datetime(2020, 4, 9, 15, 16, 27, tzinfo=UTC)),
        ("2020-04-09T15:16:27", datetime(2020, 4, 9, 15, 16, 27, tzinfo=UTC)),
        ("0001-01-01T00:00:00+01:00", None),
        ("9999-12-31T23:59:59-01:00", None),
        ("1900-01-01T00:00:00Z", None),
        ("yesterday", None),
        ("2020-04-09T15:16:27Z" + " " * 40, None),
        ("", None),
        (None, None),
    ],
)
def test_iso_times_are_read_as_aware_utc_or_not_at_all(text, expected):
    assert iso_time(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1700000400000", datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        ("1700000400", datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        ("1700000400.5", datetime(2023, 11, 14, 22, 20, 0, 500000, tzinfo=UTC)),
        (1700000400, datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        (True, None),
        ("-5", None),
        ("9" * 16, None),
        ("1e9", None),
    ],
)
def test_epoch_times_are_seconds_or_milliseconds(value, expected):
    assert epoch_time(value) == expected


def test_headers_are_found_whatever_their_case():
    assert header({"x-golive-token": "t"}, "X-Golive-Token") == "t"
    assert header({"X-GOLIVE-TOKEN": "t"}, "X-Golive-Token") == "t"
    assert header({}, "X-Golive-Token") is None


def test_secret_comparison_survives_characters_utf8_cannot_encode():
    assert not same_secret("\ud800", "secret")
    assert same_secret("secret", "secret")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"items":[1]}', "field id is missing"),
        (
            b'{"id":"' + MARKER.encode() + b'","items":[1,"' + MARKER.encode() + b'"]}',
            "field items[1] has the wrong type",
        ),
        (b'{"id":5}', "field id has the wrong type"),
        (b"[1]", "JSON top level is not an object"),
    ],
)
def test_reasons_name_the_field_path_and_never_a_value(raw, reason):
    with pytest.raises(AlertRejected) as rejected:
        read_body(raw, Shape)
    assert rejected.value.reason == reason
