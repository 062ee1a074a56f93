"""Bot Framework signing keys, fetched off the event loop: the OpenID metadata and its key set.

botbuilder 4.17.1 checks each inbound token against keys its ``JwtTokenExtractor`` fetches with a
blocking ``requests.get`` and no timeout: a slow metadata endpoint froze the whole event loop
(``/healthz`` included), and after a failure every request fetched again. Here each metadata URL has
one :class:`OpenIdKeys`:

- fetched with aiohttp, the metadata document and its key set under one timeout;
- one fetch at a time, shared by every request waiting for it (a request that goes away never
  cancels it for the others);
- kept for a day, as botbuilder does; a token naming an unknown key id refreshes them at most once
  per ``unknown_key_refresh_s`` (Microsoft publishes a new key before signing with it);
- a failed fetch is remembered for ``failure_backoff_s``: requests in that time fail at once without
  fetching. Keys fetched earlier stay in use while a refresh fails (they are still the issuer's),
  for at most ``stale_limit_s``; with no keys a token check fails closed.

:class:`OpenIdKeyRing` holds one :class:`OpenIdKeys` per URL and is installed into botbuilder, so
every ``JwtTokenExtractor`` botbuilder builds (channel, emulator, government, enterprise and skill
validation alike) takes its keys from here; :meth:`OpenIdKeyRing.prewarm` fetches the channel's
keys at start-up, in the background.

Errors, one tree, every one a ``PermissionError`` so that botbuilder and the edge answer 401:
:class:`SigningKeyError` > :class:`KeysUnavailable` (no keys: the fetch failed, timed out or is
backing off) and :class:`UnknownSigningKey` (the key set holds no key with the token's key id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from botframework.connector.auth import (
    AuthenticationConstants,
    JwtTokenExtractor,
)
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

#: Where Microsoft publishes the keys Teams (the Bot Connector) signs activities with.
MICROSOFT_CHANNEL_METADATA_URL: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
DAY_S = 24 * 3600.0
MAX_DOCUMENT_BYTES = 1024 * 1024

#: GET one JSON document; raises on any failure. The caller bounds the time.
FetchJson = Callable[[str], Awaitable[Any]]


class SigningKeyError(PermissionError):
    """A token cannot be checked against the issuer's keys (the caller answers 401)."""


class KeysUnavailable(SigningKeyError):
    """No keys: the metadata or key set could not be fetched (or the last failure is recent)."""


class UnknownSigningKey(SigningKeyError):
    """The key set holds no key with the token's key id."""


@dataclass(frozen=True)
class SigningKey:
    """What botbuilder's token check reads: the public key and the channels that endorse it."""

    public_key: Any
    endorsements: list[str]


@dataclass(frozen=True)
class KeyPolicy:
    """How long keys and failures are kept (seconds)."""

    timeout_s: float = 5.0
    refresh_after_s: float = DAY_S
    unknown_key_refresh_s: float = 300.0
    failure_backoff_s: float = 30.0
    stale_limit_s: float = 5 * DAY_S


class OpenIdKeys:
    """The signing keys behind one OpenID metadata URL (botbuilder's ``_OpenIdMetadata``, async)."""

    def __init__(
        self,
        url: str,
        fetch: FetchJson,
        policy: KeyPolicy = KeyPolicy(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch_json = fetch
        self._policy = policy
        self._monotonic = monotonic
        self._keys: dict[str, SigningKey] | None = None
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None
        self.fetches = 0

    async def get(self, key_id: str | None) -> SigningKey:
        """The key a token names (botbuilder calls this once per token check)."""
        if self._fetched_at is None or self._age() >= self._policy.refresh_after_s:
            await self._refresh_shared()
        if self._keys is None or self._fetched_at is None or self._age() >= self._policy.stale_limit_s:
            raise KeysUnavailable("the signing keys could not be fetched")
        key = self._keys.get(key_id or "")
        if key is None and self._age() >= self._policy.unknown_key_refresh_s:
            await self._refresh_shared()
            key = self._keys.get(key_id or "")
        if key is None:
            raise UnknownSigningKey("the token names a key the issuer does not publish")
        return key

    async def refresh(self) -> bool:
        """Fetch now (unless a failure is recent); True when keys are held afterwards."""
        await self._refresh_shared()
        return self._keys is not None

    async def close(self) -> None:
        task, self._inflight = self._inflight, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _age(self) -> float:
        assert self._fetched_at is not None
        return self._monotonic() - self._fetched_at

    async def _refresh_shared(self) -> None:
        if self._inflight is None:
            if (
                self._failed_at is not None
                and self._monotonic() - self._failed_at < self._policy.failure_backoff_s
            ):
                return  # failed a moment ago: fail at once instead of fetching per request
            self._inflight = asyncio.get_running_loop().create_task(
                self._fetch(), name="openid-metadata-fetch"
            )
        # One fetch for all waiters; a waiter that is cancelled (its client left) does not cancel it.
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            async with asyncio.timeout(self._policy.timeout_s):
                metadata = await self._fetch_json(self.url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str) or not jwks_uri:
                    raise ValueError("the metadata document has no jwks_uri")
                keys = parse_key_set(await self._fetch_json(jwks_uri))
        except Exception as error:  # every failure is the same to the caller: no fresh keys
            self._failed_at = self._monotonic()
            log.warning(
                "OpenID metadata fetch from %s failed (%s); tokens are refused until a fetch succeeds "
                "(next attempt in %.0f s at the earliest)%s",
                self.url,
                type(error).__name__,
                self._policy.failure_backoff_s,
                "; keys fetched earlier stay in use meanwhile" if self._keys is not None else "",
            )
        else:
            self._keys, self._fetched_at, self._failed_at = keys, self._monotonic(), None
            log.info("OpenID signing keys fetched from %s (%d keys)", self.url, len(keys))
        finally:
            self._inflight = None


def parse_key_set(document: Any) -> dict[str, SigningKey]:
    """The RSA keys of a JWKS document by key id; keys that are not RSA or malformed are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the key set has no keys list")
    keys: dict[str, SigningKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except Exception:  # one odd key never hides the others
            continue
        endorsements = jwk.get("endorsements")
        keys[jwk["kid"]] = SigningKey(
            public_key,
            [e for e in endorsements if isinstance(e, str)] if isinstance(endorsements, list) else [],
        )
    return keys


class AiohttpJsonFetcher:
    """GETs JSON documents over one aiohttp session (opened on first use, inside the event loop)."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.get(url, headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError("the document is larger than expected")
            return json.loads(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class OpenIdKeyRing:
    """The signing keys of every metadata URL botbuilder asks for, one :class:`OpenIdKeys` each."""

    def __init__(
        self,
        channel_metadata_url: str = MICROSOFT_CHANNEL_METADATA_URL,
        policy: KeyPolicy = KeyPolicy(),
        fetch: FetchJson | None = None,
    ) -> None:
        self.channel_metadata_url = channel_metadata_url
        self._policy = policy
        self._fetcher = AiohttpJsonFetcher(policy.timeout_s) if fetch is None else None
        self._fetch: FetchJson = fetch or self._fetcher  # type: ignore[assignment]
        self._keys: dict[str, OpenIdKeys] = {}
        self._replaced: Any = None

    def keys_for(self, url: str) -> OpenIdKeys:
        keys = self._keys.get(url)
        if keys is None:
            keys = self._keys[url] = OpenIdKeys(url, self._fetch, self._policy)
        return keys

    def install(self) -> None:
        """Make botbuilder take its keys from this ring, for every metadata URL it uses.

        botbuilder builds a ``JwtTokenExtractor`` per token check and asks the class for the metadata
        of a URL; the class (a process-wide cache) is the one place it can be told."""
        self._replaced = JwtTokenExtractor.__dict__["get_open_id_metadata"]
        JwtTokenExtractor.get_open_id_metadata = staticmethod(self.keys_for)

    def uninstall(self) -> None:
        current = JwtTokenExtractor.__dict__.get("get_open_id_metadata")
        if self._replaced is not None and getattr(current, "__func__", None) == self.keys_for:
            JwtTokenExtractor.get_open_id_metadata = self._replaced
        self._replaced = None

    async def prewarm(self) -> bool:
        """Fetch the channel's keys now, so the first activity does not wait for them."""
        return await self.keys_for(self.channel_metadata_url).refresh()

    async def close(self) -> None:
        self.uninstall()
        for keys in self._keys.values():
            await keys.close()
        if self._fetcher is not None:
            await self._fetcher.close()


def metadata_source(metadata_url: str, *, production: bool) -> tuple[int, str]:
    """The start-up log line (level, text) naming where inbound tokens' keys come from."""
    if not metadata_url or metadata_url == MICROSOFT_CHANNEL_METADATA_URL:
        return logging.INFO, (
            f"inbound Bot Framework tokens are checked against Microsoft's keys ({MICROSOFT_CHANNEL_METADATA_URL})"
        )
    if production:
        return logging.WARNING, (
            f"PRODUCTION IS NOT USING MICROSOFT'S BOT FRAMEWORK KEYS: inbound tokens are checked against "
            f"{metadata_url} (GOLIVE_OPENID_METADATA_URL) instead of {MICROSOFT_CHANNEL_METADATA_URL}"
        )
    return logging.INFO, f"inbound Bot Framework tokens are checked against {metadata_url} (development)"


__all__ = [
    "MICROSOFT_CHANNEL_METADATA_URL",
    "AiohttpJsonFetcher",
    "KeyPolicy",
    "KeysUnavailable",
    "OpenIdKeyRing",
    "OpenIdKeys",
    "SigningKey",
    "SigningKeyError",
    "UnknownSigningKey",
    "metadata_source",
    "parse_key_set",
]
