"""The shared JSON safety gate refuses, with a reason, every body the product could not keep."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.jsonsafety import MAX_BYTES, UnsafeJson, load_json, load_json_object, nesting_depth


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def reason_for(raw: bytes) -> str:
    with pytest.raises(UnsafeJson) as refused:
        load_json(raw)
    return refused.value.reason


@pytest.mark.parametrize("nest", [nested_arrays, nested_objects])
def test_nesting_of_64_levels_is_accepted(nest):
    assert load_json(nest(64)) is not None


@pytest.mark.parametrize("nest", [nested_arrays, nested_objects])
def test_nesting_of_65_levels_is_refused(nest):
    assert reason_for(nest(65)) == "JSON is nested deeper than 64 levels"


def test_very_deep_nesting_is_refused_before_the_decoder_recurses():
    assert "nested deeper" in reason_for(nested_arrays(200_000))


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = "[" * 100 + '\\"' + "{" * 100
    assert load_json(json.dumps({"title": text}).encode()) == {"title": text}


def test_depth_counts_the_top_level_container_as_one():
    assert nesting_depth(b"{}") == 1
    assert nesting_depth(b'{"a":[1,{"b":[]}]}') == 4
    assert nesting_depth(b"1") == 0


@pytest.mark.parametrize(
    "raw",
    [b"NaN", b'{"a":NaN}', b"[Infinity]", b'{"a":-Infinity}', b'{"a": 1, "b": NaN}'],
)
def test_nan_and_infinity_are_refused(raw):
    assert reason_for(raw) == "JSON has NaN or Infinity, which JSON does not allow"


@pytest.mark.parametrize("raw", [b'{"a":1e400}', b"[-1e999]", b"[1" + b"0" * 5000 + b"]"])
def test_numbers_out_of_range_are_refused(raw):
    assert reason_for(raw) == "JSON has a number out of range"


@pytest.mark.parametrize(
    "raw",
    [
        b'"\\ud800"',
        b'{"title":"x\\udfff"}',
        b'{"\\ud83d":1}',
        b'["\\ud800\\u0041"]',
        b'["\\ude00\\ud83d"]',
        b'["\\uD800"]',
        b'["\\ud800\\\\udc00"]',
    ],
)
def test_lone_surrogate_escapes_are_refused(raw):
    assert reason_for(raw) == "JSON has a lone UTF-16 surrogate escape"


def test_a_surrogate_pair_escape_is_accepted():
    assert load_json(b'{"title":"go \\ud83d\\ude80 live"}') == {"title": "go \U0001f680 live"}


@pytest.mark.parametrize("raw", [b'"\\u0000"', b'{"a":"x\\u0000y"}', b'{"a\\u0000":1}', b'["\\\\\\u0000"]'])
def test_nul_characters_are_refused(raw):
    assert reason_for(raw) == "JSON has a NUL character (\\u0000)"


def test_an_escaped_backslash_before_u0000_is_plain_text_and_accepted():
    assert load_json(b'["\\\\u0000"]') == ["\\u0000"]


def test_a_raw_nul_byte_is_refused():
    assert reason_for(b'{"a":"x\x00"}') == "body has a NUL byte"


@pytest.mark.parametrize("raw", [b'{"a":"\xff"}', b'{"a":"\xed\xa0\x80"}'])
def test_bytes_that_are_not_utf8_are_refused(raw):
    assert reason_for(raw) == "body is not UTF-8"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "body is empty"),
        (b"  \n", "body is empty"),
        (b"\xef\xbb\xbf{}", "body starts with a byte-order mark"),
        (b"{", "body is not valid JSON"),
        (b'{"a":1,}', "body is not valid JSON"),
        (b"{} {}", "body is not valid JSON"),
        (b"{'a':1}", "body is not valid JSON"),
    ],
)
def test_other_malformed_bodies_are_refused_with_a_reason(raw, reason):
    assert reason_for(raw) == reason


def test_a_body_over_the_limit_is_refused_and_one_at_the_limit_accepted():
    at_limit = b'"' + b"a" * (MAX_BYTES - 2) + b'"'
    assert len(load_json(at_limit)) == MAX_BYTES - 2
    assert reason_for(at_limit + b" ") == f"body is larger than {MAX_BYTES} bytes"


def test_the_limits_can_be_set_per_endpoint():
    with pytest.raises(UnsafeJson, match="larger than 10 bytes"):
        load_json(b'{"a":"bbbbbbbb"}', max_bytes=10)
    with pytest.raises(UnsafeJson, match="deeper than 2"):
        load_json(nested_arrays(3), max_depth=2)


@pytest.mark.parametrize("raw", [b"[]", b"1", b'"text"', b"null"])
def test_load_json_object_refuses_a_top_level_that_is_not_an_object(raw):
    with pytest.raises(UnsafeJson, match="top level is not an object"):
        load_json_object(raw)


def test_ordinary_json_round_trips():
    document = {"a": [1, 2.5, True, None, "é ✓"], "b": {"c": ""}}
    assert load_json_object(json.dumps(document, ensure_ascii=False).encode()) == document
    assert load_json_object(json.dumps(document).encode()) == document


def test_a_reason_never_quotes_the_body():
    for raw in [
        b'{"secret Jane Doe":NaN}',
        b'{"a":"Jane Doe\\ud800"}',
        b'{"a":"Jane Doe\\u0000"}',
        b"Jane Doe",
    ]:
        assert "Jane" not in reason_for(raw)


@settings(derandomize=True, max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_load_or_raise_unsafe_json(raw):
    try:
        load_json(raw)
    except UnsafeJson as refused:
        assert refused.reason.isascii() and len(refused.reason) < 100


@settings(derandomize=True, max_examples=500, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    )
)
def test_python_json_output_is_accepted_exactly_when_it_is_safe(value):
    unsafe = _unsafe(value, 1)
    try:
        loaded = load_json(json.dumps(value).encode())
    except UnsafeJson:
        assert unsafe
    else:
        assert not unsafe
        assert loaded == value


def _unsafe(value: object, depth: int) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, list | dict):
        if depth > 64:
            return True
        items = list(value.items()) if isinstance(value, dict) else [(None, item) for item in value]
        return any(_unsafe(key, depth) or _unsafe(item, depth + 1) for key, item in items)
    return False


@settings(derandomize=True, max_examples=500, deadline=None)
@given(text=st.text(alphabet="[]{}", max_size=60), limit=st.integers(min_value=0, max_value=8))
def test_the_fast_depth_check_agrees_with_the_exact_depth(text, limit):
    from bot.alerts.jsonsafety import _deeper_than

    assert _deeper_than(text.encode(), limit) == (nesting_depth(text.encode()) > limit)


def test_a_string_full_of_escaped_quotes_and_backslashes_hides_no_brackets():
    text = '\\" [[[[ \\\\" ]]'
    document = {"a": text, "b": [[["\\"]]]}
    assert load_json(json.dumps(document).encode()) == document
    assert "nested deeper" in reason_for(json.dumps({"a": text, "b": json.loads(nested_arrays(64))}).encode())
