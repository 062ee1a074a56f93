"""Signed business-rule callbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicenow.callback import (
    MalformedSignature,
    MissingSignature,
    SignatureMismatch,
    StaleSignature,
    sign,
    verify_signature,
)

BODY = b'{"sys_id":"abc","sys_mod_count":"3"}'
NOW = 1_700_000_000


def test_valid_hex_signature_is_accepted() -> None:
    assert verify_signature(sign("s1", BODY, NOW), BODY, ["s1"], now=NOW + 10) == NOW


def test_base64_signature_like_glide_is_accepted() -> None:
    mac = base64.b64encode(hmac.new(b"s1", f"{NOW}.".encode() + BODY, hashlib.sha256).digest()).decode()
    assert verify_signature(f"t={NOW},v1={mac}", BODY, ["s1"], now=NOW) == NOW
    assert verify_signature(sign("s1", BODY, NOW, encoding="base64"), BODY, ["s1"], now=NOW) == NOW


def test_rotated_secrets_both_verify() -> None:
    for secret in ("old", "new"):
        verify_signature(sign(secret, BODY, NOW), BODY, ["new", "old"], now=NOW)


def test_missing_header_is_refused() -> None:
    with pytest.raises(MissingSignature) as raised:
        verify_signature(None, BODY, ["s1"], now=NOW)
    assert raised.value.reason == "missing"


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", f"t={NOW}", "v1=" + "0" * 64, f"t={NOW},v1=zz"])
def test_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(MalformedSignature):
        verify_signature(header, BODY, ["s1"], now=NOW)


def test_tampered_body_is_refused() -> None:
    with pytest.raises(SignatureMismatch):
        verify_signature(sign("s1", BODY, NOW), BODY + b" ", ["s1"], now=NOW)


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureMismatch):
        verify_signature(sign("other", BODY, NOW), BODY, ["s1"], now=NOW)


def test_replayed_old_signature_is_refused() -> None:
    with pytest.raises(StaleSignature) as raised:
        verify_signature(sign("s1", BODY, NOW), BODY, ["s1"], now=NOW + 301)
    assert raised.value.reason == "stale"
    with pytest.raises(StaleSignature):
        verify_signature(sign("s1", BODY, NOW + 400), BODY, ["s1"], now=NOW)


@given(body=st.binary(max_size=200), flip=st.integers(min_value=0, max_value=199))
def test_any_changed_byte_breaks_the_signature(body: bytes, flip: int) -> None:
    header = sign("s1", body, NOW)
    assert verify_signature(header, body, ["s1"], now=NOW) == NOW
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        with pytest.raises(SignatureMismatch):
            verify_signature(header, tampered, ["s1"], now=NOW)
