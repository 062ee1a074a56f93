"""Teams tab single sign-on: checking, on the server, the token a tab gets from the Teams JS SDK.

A Teams tab calls ``microsoftTeams.authentication.getAuthToken()`` and receives an Entra ID access
token for the app's own API (the manifest's ``webApplicationInfo.resource``). The tab sends it to the
bot as ``Authorization: Bearer <token>``; :class:`TabTokenValidator` accepts it only when

- it is an RS256 JWT signed by a key the tenant publishes (the ``jwks_uri`` of
  ``{authority}/{tenant}/v2.0/.well-known/openid-configuration``; keys are cached and fetched again,
  at most once a minute, when a token names a key not seen yet),
- ``aud`` is one of the app's audiences (its Application ID URI ``api://{host}/{app id}`` or the app
  id itself),
- ``iss`` is the tenant's (the metadata's v2 issuer, or the v1 ``https://sts.windows.net/{tenant}/``)
  and ``tid`` is the tenant,
- it is within its ``nbf``/``exp`` (with a little leeway for clock skew) and names a user (``oid``).

The Teams emulator publishes the same metadata and signs the same tokens, so the sandbox runs this
flow end to end with ``authority`` pointed at the emulator.

Errors: :class:`TabTokenError` (``reason`` says which check failed; never the token or its claims)
for a token that is refused; :class:`TabKeysUnavailable` (a subclass) when the keys could not be
fetched, so a caller can answer 503 rather than 401.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
KEYS_TTL_S = 3600.0
REFETCH_MIN_S = 60.0

FetchJson = Callable[[str], Awaitable[Any]]


class TabTokenError(Exception):
    """The tab's token is refused; ``reason`` names the check (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TabKeysUnavailable(TabTokenError):
    """The tenant's signing keys could not be read, so no token can be checked right now."""


@dataclass(frozen=True)
class TabSsoConfig:
    """Whose tokens the tab accepts: the tenant, the app's audiences, and where the keys are."""

    tenant_id: str
    audiences: tuple[str, ...]
    authority: str = DEFAULT_AUTHORITY
    leeway_s: float = 60.0

    @property
    def metadata_url(self) -> str:
        return f"{self.authority.rstrip('/')}/{self.tenant_id}/v2.0/.well-known/openid-configuration"


@dataclass(frozen=True)
class TabUser:
    """Who signed in to the tab (kept out of logs: ``name`` and ``upn`` are personal data)."""

    object_id: str
    tenant_id: str
    name: str = field(default="", repr=False)
    upn: str = field(default="", repr=False)


def tab_audiences(app_id: str, public_url: str, extra: str = "") -> tuple[str, ...]:
    """The audiences of a tab token: ``api://{public host}/{app id}`` and the app id, plus ``extra``
    (comma separated) for an Application ID URI set up some other way."""
    values = [part.strip() for part in extra.split(",") if part.strip()]
    if app_id:
        host = public_url.split("://", 1)[-1].split("/", 1)[0] if public_url else ""
        if host:
            values.append(f"api://{host}/{app_id}")
        values.append(app_id)
    return tuple(dict.fromkeys(values))


async def _fetch_json(url: str) -> Any:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        if response.status != 200:
            raise TabKeysUnavailable(f"OpenID metadata answered {response.status}")
        return await response.json(content_type=None)


class TabTokenValidator:
    """Validates Teams tab SSO tokens against one tenant (see the module docstring)."""

    def __init__(
        self,
        config: TabSsoConfig,
        fetch_json: FetchJson = _fetch_json,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not config.tenant_id or not config.audiences:
            raise ValueError("tab sign-in needs a tenant id and at least one audience")
        self._config = config
        self._fetch_json = fetch_json
        self._monotonic = monotonic
        self._keys: dict[str, Any] = {}
        self._issuer = ""
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            now = self._monotonic()
            if self._fetched_at is not None:
                age = now - self._fetched_at
                if age < (REFETCH_MIN_S if force else KEYS_TTL_S):
                    return
            try:
                metadata = await self._fetch_json(self._config.metadata_url)
                jwks = await self._fetch_json(str(metadata["jwks_uri"]))
                keys = {
                    str(jwk["kid"]): jwt.PyJWK.from_dict(jwk).key
                    for jwk in jwks.get("keys", [])
                    if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("kty") == "RSA"
                }
            except TabKeysUnavailable:
                raise
            except (
                aiohttp.ClientError,
                TimeoutError,
                KeyError,
                TypeError,
                ValueError,
                jwt.PyJWKError,
            ) as error:
                raise TabKeysUnavailable(
                    f"the tenant's signing keys could not be read ({type(error).__name__})"
                ) from None
            self._keys = keys
            self._issuer = str(metadata.get("issuer", "")).replace("{tenantid}", self._config.tenant_id)
            self._fetched_at = now

    async def _key(self, kid: str) -> Any:
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise TabTokenError("the token is signed by a key the tenant does not publish")
        return key

    async def validate(self, token: str) -> TabUser:
        """The signed-in user of a valid token; :class:`TabTokenError` says why one is refused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TabTokenError("not a JWT") from None
        if header.get("alg") != "RS256":
            raise TabTokenError("the token is not signed with RS256")
        key = await self._key(str(header.get("kid", "")))
        tenant = self._config.tenant_id
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=list(self._config.audiences),
                leeway=self._config.leeway_s,
                options={"require": ["exp", "iat", "aud", "iss", "tid"], "verify_iss": False},
            )
        except jwt.ExpiredSignatureError:
            raise TabTokenError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TabTokenError("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise TabTokenError("the token is for another application") from None
        except jwt.InvalidSignatureError:
            raise TabTokenError("the token's signature does not match") from None
        except jwt.MissingRequiredClaimError as error:
            raise TabTokenError(f"the token has no {error.claim} claim") from None
        except jwt.PyJWTError as error:
            raise TabTokenError(f"the token is invalid ({type(error).__name__})") from None
        issuers = {f"https://sts.windows.net/{tenant}/"}
        if self._issuer:
            issuers.add(self._issuer)
        if str(claims.get("tid", "")).lower() != tenant.lower():
            raise TabTokenError("the token is from another tenant")
        if claims.get("iss") not in issuers:
            raise TabTokenError("the token was issued by someone else than the tenant")
        object_id = str(claims.get("oid") or "")
        if not object_id:
            raise TabTokenError("the token names no user")
        return TabUser(
            object_id=object_id,
            tenant_id=tenant,
            name=str(claims.get("name") or ""),
            upn=str(claims.get("preferred_username") or claims.get("upn") or ""),
        )
