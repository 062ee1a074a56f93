"""The emulator's own Bot Framework channel signing key, its OpenID metadata and JWKS.

:class:`TabTokenIssuer` signs the tab sign-in tokens of the emulated tenant (see
``emulators.teams.tab_sso``) with a key of its own.

A bot with an app id validates inbound tokens exactly as against Microsoft: issuer
`https://api.botframework.com`, audience = app id, `serviceurl` claim = the activity's serviceUrl,
RS256 by a key whose `endorsements` include "msteams". Point the bot's OpenID metadata URL at
`{public_url}v1/.well-known/openidconfiguration` to make it trust this key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
TOKEN_LIFETIME_S = 3600
TAB_TOKEN_LIFETIME_S = 3600


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ChannelTokenIssuer:
    """Mints channel tokens; the key is kept in `key_file` when one is given so restarts keep the kid."""

    def __init__(self, key_file: Path | None = None) -> None:
        self._key = self._load_or_create(key_file)
        numbers = self._key.public_key().public_numbers()
        self._jwk: dict[str, Any] = {"kty": "RSA", "use": "sig", "n": _b64url_uint(numbers.n), "e": "AQAB"}
        thumb = json.dumps({k: self._jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(thumb.encode()).digest()).rstrip(b"=").decode()
        self._jwk.update(kid=self.kid, x5t=self.kid, endorsements=["msteams"])

    @staticmethod
    def _load_or_create(key_file: Path | None) -> rsa.RSAPrivateKey:
        if key_file is not None and key_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if key_file is not None:
            key_file.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            key_file.chmod(0o600)
        return key

    def token(self, app_id: str, service_url: str) -> str:
        # Real time, not the simulated clock: the bot checks exp/nbf against its wall clock.
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "iat": now,
            "nbf": now - 5,
            "exp": now + TOKEN_LIFETIME_S,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def sign(self, claims: dict[str, Any]) -> str:
        """Any claims, signed RS256 with this key (the tab sign-in tokens use it)."""
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    @staticmethod
    def openid_configuration(public_url: str) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": public_url + "v1/auth",
            "jwks_uri": public_url + "v1/.well-known/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }


class TabTokenIssuer:
    """Mints tab SSO tokens for the emulated tenant with its own key (kept in ``key_file``)."""

    def __init__(self, tenant_id: str, public_url: str, key_file: Path | None = None) -> None:
        self._keys = ChannelTokenIssuer(key_file)
        self.tenant_id = tenant_id
        self.public_url = public_url if public_url.endswith("/") else public_url + "/"

    def issuer(self, tenant_id: str | None = None) -> str:
        return f"{self.public_url}{tenant_id or self.tenant_id}/v2.0"

    def token(
        self,
        *,
        audience: str,
        object_id: str,
        name: str,
        upn: str,
        tenant_id: str | None = None,
        expires_in: int = TAB_TOKEN_LIFETIME_S,
    ) -> str:
        # Wall-clock time, not the simulated clock: the server checks exp/nbf against its own clock.
        now = int(time.time())
        tenant = tenant_id or self.tenant_id
        claims = {
            "aud": audience,
            "iss": self.issuer(tenant),
            "iat": now,
            "nbf": now - 5,
            "exp": now + expires_in,
            "tid": tenant,
            "oid": object_id,
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{object_id}/{audience}")),
            "name": name,
            "preferred_username": upn,
            "scp": "access_as_user",
            "ver": "2.0",
        }
        return self._keys.sign(claims)

    def jwks(self) -> dict[str, Any]:
        keys = self._keys.jwks()["keys"]
        return {"keys": [{k: v for k, v in key.items() if k != "endorsements"} for key in keys]}

    def openid_configuration(self) -> dict[str, Any]:
        base = f"{self.public_url}{self.tenant_id}"
        return {
            "issuer": self.issuer(),
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "tenant_region_scope": "NA",
        }
