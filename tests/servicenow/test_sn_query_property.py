"""Arbitrary text can never add conditions to an encoded query the gateway builds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.servicenow.encoded_query import parse_encoded_query
from servicenow.errors import UnsafeQueryValue
from servicenow.query import EncodedQuery, condition

SCALAR_OPS = ["=", "!=", "LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH", "<", "<=", ">", ">="]
# Text rich in the grammar's own characters, so Hypothesis tries the dangerous cases often.
tricky = st.text(alphabet=st.sampled_from(list("^ORNQDEBYIKLTSWAH=!<>@,:.javascript x01\n")), max_size=30)
values = st.one_of(st.text(max_size=40), tricky)


@given(op=st.sampled_from(SCALAR_OPS), value=values)
def test_any_scalar_value_is_one_condition_or_refused(op: str, value: str) -> None:
    try:
        text = condition("correlation_id", op, value)
    except UnsafeQueryValue:
        return
    parsed = parse_encoded_query(text)
    assert parsed.order == []
    [[clause]] = parsed.groups
    [cond] = clause
    assert (cond.field, cond.op, cond.value) == ("correlation_id", op, value)


@given(items=st.lists(values, min_size=1, max_size=5))
def test_any_list_is_one_in_condition_or_refused(items: list[str]) -> None:
    try:
        text = condition("element_id", "IN", items)
    except UnsafeQueryValue:
        return
    [[clause]] = parse_encoded_query(text).groups
    [cond] = clause
    assert cond.op == "IN" and cond.value.split(",") == items


@given(first=values, second=values)
def test_a_conjunction_keeps_exactly_its_conditions(first: str, second: str) -> None:
    try:
        text = EncodedQuery().where("correlation_id", "=", first).where("state", "!=", second).build()
    except UnsafeQueryValue:
        return
    [group] = parse_encoded_query(text).groups
    assert [(c[0].field, c[0].value) for c in group] == [("correlation_id", first), ("state", second)]


@pytest.mark.parametrize(
    "value", ["x^NQactive=true", "a^ORnumber=1", "javascript:gs.getUserID()", " JavaScript:x", "a\nb"]
)
def test_known_injections_are_refused(value: str) -> None:
    with pytest.raises(UnsafeQueryValue):
        condition("correlation_id", "=", value)


def test_bad_field_names_and_operators_are_refused() -> None:
    with pytest.raises(UnsafeQueryValue):
        condition("correlation_id^NQactive", "=", "x")
    with pytest.raises(UnsafeQueryValue):
        condition("state", "BETWEEN", "1@2")
    with pytest.raises(UnsafeQueryValue):
        condition("state", "IN", ["1,2"])


def test_unsafe_error_message_does_not_echo_the_value() -> None:
    with pytest.raises(UnsafeQueryValue) as raised:
        condition("correlation_id", "=", "SSN 123-45-6789 ^NQ")
    assert "123-45" not in str(raised.value)
