"""The Bot Framework signing keys are fetched off the event loop: one shared fetch with a timeout,
cached for a day, a failure remembered for a back-off, an unknown key id refreshing at most once per
period, and botbuilder taking every metadata URL's keys from the ring."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from botframework.connector.auth import (
    AuthenticationConstants,
    GovernmentConstants,
    JwtTokenExtractor,
    VerifyOptions,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from bot.teams.openid import (
    MICROSOFT_CHANNEL_METADATA_URL,
    KeyPolicy,
    KeysUnavailable,
    OpenIdKeyRing,
    OpenIdKeys,
    SigningKeyError,
    UnknownSigningKey,
    metadata_source,
    parse_key_set,
)

METADATA_URL = "https://login.example/v1/.well-known/openidconfiguration"
KEYS_URL = "https://login.example/v1/.well-known/keys"
_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(kid: str) -> dict[str, Any]:
    key = json.loads(RSAAlgorithm.to_jwk(_PRIVATE.public_key()))
    key.update({"kid": kid, "use": "sig", "endorsements": ["msteams"]})
    return key


class FakeIssuer:
    """Answers the metadata and key-set GETs; counts them; can fail, hang or be held."""

    def __init__(self, *kids: str) -> None:
        self.kids = list(kids or ["key-1"])
        self.gets: list[str] = []
        self.failing = False
        self.hang = False
        self.held: asyncio.Event | None = None
        self.called = asyncio.Event()

    async def __call__(self, url: str) -> Any:
        self.gets.append(url)
        self.called.set()
        if self.held is not None:
            await self.held.wait()
        if self.hang:
            await asyncio.Event().wait()
        if self.failing:
            raise OSError("connection refused")
        if url == METADATA_URL:
            return {"issuer": "https://api.botframework.com", "jwks_uri": KEYS_URL}
        return {"keys": [jwk(kid) for kid in self.kids]}

    @property
    def metadata_fetches(self) -> int:
        return self.gets.count(METADATA_URL)


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def options() -> VerifyOptions:
    return VerifyOptions(issuer=[], audience=None, clock_tolerance=300, ignore_expiration=False)


def keys_for(issuer: FakeIssuer, ticker: Ticker | None = None, **policy: float) -> OpenIdKeys:
    return OpenIdKeys(METADATA_URL, issuer, KeyPolicy(**policy), ticker or Ticker())


async def test_keys_are_fetched_once_and_cached():
    issuer = FakeIssuer("key-1")
    keys = keys_for(issuer)
    first = await keys.get("key-1")
    second = await keys.get("key-1")
    assert first is second
    assert first.endorsements == ["msteams"]
    assert issuer.gets == [METADATA_URL, KEYS_URL]


async def test_keys_older_than_a_day_are_fetched_again():
    issuer, ticker = FakeIssuer("key-1"), Ticker()
    keys = keys_for(issuer, ticker)
    await keys.get("key-1")
    ticker.now += 24 * 3600 - 1
    await keys.get("key-1")
    assert issuer.metadata_fetches == 1
    ticker.now += 2
    await keys.get("key-1")
    assert issuer.metadata_fetches == 2


async def test_concurrent_token_checks_share_one_fetch():
    issuer = FakeIssuer("key-1")
    issuer.held = asyncio.Event()
    keys = keys_for(issuer)
    checks = [asyncio.create_task(keys.get("key-1")) for _ in range(20)]
    await issuer.called.wait()
    issuer.held.set()
    results = await asyncio.gather(*checks)
    assert len({id(result) for result in results}) == 1
    assert issuer.gets == [METADATA_URL, KEYS_URL]


async def test_a_check_that_goes_away_does_not_cancel_the_fetch_for_the_others():
    issuer = FakeIssuer("key-1")
    issuer.held = asyncio.Event()
    keys = keys_for(issuer)
    leaving = asyncio.create_task(keys.get("key-1"))
    staying = asyncio.create_task(keys.get("key-1"))
    await issuer.called.wait()
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    issuer.held.set()
    assert (await staying).endorsements == ["msteams"]
    assert issuer.metadata_fetches == 1


async def test_failed_fetch_fails_closed_and_is_not_retried_per_request():
    issuer, ticker = FakeIssuer("key-1"), Ticker()
    issuer.failing = True
    keys = keys_for(issuer, ticker, failure_backoff_s=30)
    for _ in range(5):
        with pytest.raises(KeysUnavailable):
            await keys.get("key-1")
    assert issuer.metadata_fetches == 1
    ticker.now += 30
    issuer.failing = False
    assert (await keys.get("key-1")).endorsements == ["msteams"]
    assert issuer.metadata_fetches == 2


async def test_a_hanging_metadata_endpoint_times_out_and_fails_closed():
    issuer = FakeIssuer("key-1")
    issuer.hang = True
    keys = keys_for(issuer, timeout_s=0.05)
    with pytest.raises(KeysUnavailable):
        await keys.get("key-1")
    with pytest.raises(KeysUnavailable):
        await keys.get("key-1")
    assert issuer.metadata_fetches == 1


async def test_unknown_key_id_refreshes_at_most_once_per_period():
    issuer, ticker = FakeIssuer("key-1"), Ticker()
    keys = keys_for(issuer, ticker, unknown_key_refresh_s=300)
    await keys.get("key-1")
    issuer.kids.append("key-2")  # the issuer publishes a new key
    ticker.now += 299
    with pytest.raises(UnknownSigningKey):
        await keys.get("key-2")  # the keys are too fresh to refresh for an unknown id
    assert issuer.metadata_fetches == 1
    ticker.now += 1
    assert (await keys.get("key-2")).endorsements == ["msteams"]
    assert issuer.metadata_fetches == 2
    with pytest.raises(UnknownSigningKey):
        await keys.get("forged-key")
    with pytest.raises(UnknownSigningKey):
        await keys.get(None)
    assert issuer.metadata_fetches == 2


async def test_keys_stay_in_use_while_a_refresh_fails_until_the_stale_limit():
    issuer, ticker = FakeIssuer("key-1"), Ticker()
    keys = keys_for(issuer, ticker, failure_backoff_s=30, stale_limit_s=3 * 24 * 3600)
    await keys.get("key-1")
    issuer.failing = True
    ticker.now += 24 * 3600
    assert (await keys.get("key-1")).endorsements == ["msteams"]
    assert issuer.metadata_fetches == 2
    ticker.now += 2 * 24 * 3600
    with pytest.raises(KeysUnavailable):
        await keys.get("key-1")


async def test_every_signing_key_error_is_a_permission_error():
    assert issubclass(KeysUnavailable, SigningKeyError)
    assert issubclass(UnknownSigningKey, SigningKeyError)
    assert issubclass(SigningKeyError, PermissionError)  # botbuilder's adapter answers it with 401


async def test_refresh_reports_whether_keys_are_held():
    issuer = FakeIssuer("key-1")
    issuer.failing = True
    assert not await keys_for(issuer).refresh()
    issuer.failing = False
    assert await keys_for(issuer).refresh()


@pytest.mark.parametrize(
    "url",
    [
        MICROSOFT_CHANNEL_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        "https://login.enterprise.example/v1/.well-known/openidconfiguration",
    ],
)
async def test_botbuilder_takes_every_metadata_urls_keys_from_the_installed_ring(url):
    original = JwtTokenExtractor.get_open_id_metadata
    ring = OpenIdKeyRing(fetch=FakeIssuer())
    ring.install()
    try:
        extractor = JwtTokenExtractor(options(), url, ["RS256"])
        assert extractor.open_id_metadata is ring.keys_for(url)
        assert isinstance(extractor.open_id_metadata, OpenIdKeys)
    finally:
        await ring.close()
    assert JwtTokenExtractor.get_open_id_metadata is original
    assert not isinstance(JwtTokenExtractor(options(), url, ["RS256"]).open_id_metadata, OpenIdKeys)


async def test_prewarm_fetches_the_channel_keys_once():
    issuer = FakeIssuer("key-1")
    ring = OpenIdKeyRing(METADATA_URL, fetch=issuer)
    assert await ring.prewarm()
    await ring.keys_for(METADATA_URL).get("key-1")
    assert issuer.gets == [METADATA_URL, KEYS_URL]
    await ring.close()


def test_production_with_another_metadata_url_says_so_loudly():
    level, text = metadata_source("http://127.0.0.1:3980/v1/.well-known/openidconfiguration", production=True)
    assert level == logging.WARNING
    assert "http://127.0.0.1:3980/v1/.well-known/openidconfiguration" in text
    assert "GOLIVE_OPENID_METADATA_URL" in text


@pytest.mark.parametrize("configured", ["", MICROSOFT_CHANNEL_METADATA_URL])
def test_production_by_default_uses_and_names_microsofts_metadata(configured):
    level, text = metadata_source(configured, production=True)
    assert level == logging.INFO
    assert MICROSOFT_CHANNEL_METADATA_URL in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries({"keys": st.lists(json_values, max_size=4)}),
    st.fixed_dictionaries(
        {
            "keys": st.lists(
                st.fixed_dictionaries({"kid": st.text(max_size=6)}, optional={"kty": st.just("RSA")})
            )
        }
    ),
)


@settings(derandomize=True, max_examples=200)
@given(documents)
def test_any_key_set_document_gives_keys_or_a_clear_error(document):
    try:
        keys = parse_key_set(document)
    except ValueError:
        return
    assert all(isinstance(kid, str) for kid in keys)


@settings(derandomize=True, max_examples=100)
@given(metadata=json_values, key_set=documents)
def test_any_issuer_answer_gives_a_key_or_a_signing_key_error(metadata, key_set):
    async def fetch(url: str) -> Any:
        return metadata if url == METADATA_URL else key_set

    async def check() -> None:
        keys = OpenIdKeys(METADATA_URL, fetch, KeyPolicy(), Ticker())
        try:
            await keys.get("key-1")
        except SigningKeyError:
            pass

    if isinstance(metadata, dict):
        metadata["jwks_uri"] = KEYS_URL
    asyncio.run(check())
