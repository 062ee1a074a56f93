"""The dashboard tab's Teams sign-in, checked on the server: a good token passes; an expired one, one
from another tenant, one for another application, one signed by a stranger's key or issued by someone
else are refused with a reason; keys that cannot be fetched are their own error."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.teams.sso import TabKeysUnavailable, TabSsoConfig, TabTokenError, TabTokenValidator, tab_audiences

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP_ID = "3f1b0a52-6c1e-4a44-9d2e-6d8b2f1e0c11"
AUDIENCE = f"api://golive.example.va.gov/{APP_ID}"
AUTHORITY = "https://login.example"
ISSUER = f"{AUTHORITY}/{TENANT}/v2.0"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "use": "sig"}


class Tenant:
    """The tenant's OpenID metadata and keys, as the validator fetches them."""

    def __init__(self) -> None:
        self.keys = [jwk(KEY, "k1")]
        self.fetches = 0
        self.down = False

    async def fetch(self, url: str) -> Any:
        self.fetches += 1
        if self.down:
            raise TimeoutError("metadata timed out")
        if url == f"{AUTHORITY}/{TENANT}/v2.0/.well-known/openid-configuration":
            return {"issuer": f"{AUTHORITY}/{{tenantid}}/v2.0", "jwks_uri": f"{AUTHORITY}/{TENANT}/keys"}
        assert url == f"{AUTHORITY}/{TENANT}/keys"
        return {"keys": self.keys}


def token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "aud": AUDIENCE,
        "iss": ISSUER,
        "tid": TENANT,
        "oid": "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01",
        "name": "Jane Doe",
        "preferred_username": "jane.doe@example.va.gov",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 3600,
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def tenant() -> Tenant:
    return Tenant()


@pytest.fixture
def validator(tenant: Tenant) -> TabTokenValidator:
    audiences = tab_audiences(APP_ID, "https://golive.example.va.gov")
    return TabTokenValidator(TabSsoConfig(TENANT, audiences, AUTHORITY, leeway_s=30), fetch_json=tenant.fetch)


async def test_a_good_token_names_the_signed_in_user(validator):
    user = await validator.validate(token())
    assert (user.object_id, user.tenant_id, user.name, user.upn) == (
        "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01",
        TENANT,
        "Jane Doe",
        "jane.doe@example.va.gov",
    )
    assert "Jane" not in repr(user)


async def test_the_app_id_and_the_v1_issuer_are_accepted_too(validator):
    await validator.validate(token(aud=APP_ID, iss=f"https://sts.windows.net/{TENANT}/"))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200, "iat": int(time.time()) - 7200},
            "expired",
        ),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        (
            {
                "tid": "00000000-0000-4000-8000-000000000bad",
                "iss": f"{AUTHORITY}/00000000-0000-4000-8000-000000000bad/v2.0",
            },
            "another tenant",
        ),
        ({"aud": "api://golive.example.va.gov/00000000-0000-4000-8000-000000000bad"}, "another application"),
        ({"iss": "https://login.evil.example/v2.0"}, "issued by someone else"),
        ({"oid": None}, "names no user"),
        ({"tid": None}, "no tid claim"),
    ],
)
async def test_a_token_is_refused_with_the_reason(validator, changes, reason):
    with pytest.raises(TabTokenError, match=reason) as refused:
        await validator.validate(token(**changes))
    assert not isinstance(refused.value, TabKeysUnavailable)


async def test_a_token_signed_by_another_key_is_refused(validator, tenant):
    with pytest.raises(TabTokenError, match="signature"):
        await validator.validate(token(key=STRANGER))
    with pytest.raises(TabTokenError, match="does not publish"):
        await validator.validate(token(key=STRANGER, kid="k-unknown"))


async def test_a_new_key_is_fetched_once_and_then_remembered(validator, tenant):
    await validator.validate(token())
    fetched = tenant.fetches
    tenant.keys.append(jwk(STRANGER, "k2"))
    # A kid seen for the first time right after a fetch: keys are not fetched again within a minute.
    with pytest.raises(TabTokenError, match="does not publish"):
        await validator.validate(token(key=STRANGER, kid="k2"))
    assert tenant.fetches == fetched
    await validator.validate(token())
    assert tenant.fetches == fetched


async def test_unreachable_keys_are_their_own_error(validator, tenant):
    tenant.down = True
    with pytest.raises(TabKeysUnavailable):
        await validator.validate(token())


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
async def test_any_garbage_is_refused_never_an_unexpected_error(garbage):
    tenant = Tenant()
    validator = TabTokenValidator(TabSsoConfig(TENANT, (AUDIENCE,), AUTHORITY), fetch_json=tenant.fetch)
    with pytest.raises(TabTokenError):
        await validator.validate(garbage)


def test_audiences_are_the_apps_api_on_its_public_host_and_the_app_id():
    assert tab_audiences(APP_ID, "https://golive.example.va.gov/") == (AUDIENCE, APP_ID)
    assert tab_audiences("", "", "api://x/y, api://z") == ("api://x/y", "api://z")
