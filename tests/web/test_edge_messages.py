"""The secure edge of POST /api/messages: malformed or unauthenticated requests get a 4xx with a
reason, never a 5xx (botbuilder 4.17.1 alone answers 500 for several of these)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from botframework.connector.auth import ChannelValidation
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import Overrides, create_app
from bot.settings import Environment, Settings

APP_ID = "3f1b0a52-6c1e-4a44-9d2e-6d8b2f1e0c11"
SERVICE_URL = "https://smba.trafficmanager.net/amer/"


TENANT = "9b7e2d0c-0000-4000-8000-000000000001"


def activity(**overrides) -> dict:
    base = {
        "type": "message",
        "id": str(int(time.time() * 1000)) + uuid.uuid4().hex[:4],
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {"id": "29:user", "name": "Pat", "aadObjectId": str(uuid.uuid4())},
        "recipient": {"id": f"28:{APP_ID}", "name": "Go Live Bridge"},
        "conversation": {"id": "a:personal-chat", "conversationType": "personal"},
        "text": "help",
        "channelData": {"tenant": {"id": TENANT}},
    }
    base.update(overrides)
    return base


@pytest.fixture
async def dev_client(aiohttp_client, tmp_path):
    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        servicenow_url="http://127.0.0.1:9",
    )
    return await aiohttp_client(create_app(settings, Overrides(run_background=False)))


async def test_missing_content_type_is_415(dev_client):
    response = await dev_client.post(
        "/api/messages", data=json.dumps(activity()).encode(), skip_auto_headers={"Content-Type"}
    )
    assert response.status == 415
    assert "Content-Type" in (await response.json())["error"]["message"]


async def test_non_json_content_type_is_415(dev_client):
    response = await dev_client.post("/api/messages", data="hello", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_invalid_json_is_400(dev_client):
    response = await dev_client.post(
        "/api/messages", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "JSON" in (await response.json())["error"]["message"]


async def test_json_array_is_400(dev_client):
    response = await dev_client.post("/api/messages", json=[activity()])
    assert response.status == 400
    assert "object" in (await response.json())["error"]["message"]


async def test_activity_without_type_is_400(dev_client):
    body = activity()
    del body["type"]
    response = await dev_client.post("/api/messages", json=body)
    assert response.status == 400


async def test_body_over_one_mebibyte_is_413(dev_client):
    import io

    body = json.dumps(activity(text="x" * (1024 * 1024 + 10))).encode()
    response = await dev_client.post(
        "/api/messages", data=io.BytesIO(body), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413


async def test_development_mode_accepts_anonymous_activity(dev_client):
    response = await dev_client.post("/api/messages", json=activity())
    assert response.status == 201


async def test_health_and_readiness(dev_client):
    assert (await dev_client.get("/healthz")).status == 200
    ready = await dev_client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ok"


# --- production mode: tokens signed by a key set this test serves ---------------------------------


class KeySet:
    """An OpenID metadata document and JWKS served from a thread (botbuilder fetches them with a
    blocking client, so they cannot live on the test's event loop)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams"]})
        self.jwks = {"keys": [jwk]}
        keyset = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                port = self.server.server_address[1]
                if self.path.endswith("openidconfiguration"):
                    body = {
                        "issuer": "https://api.botframework.com",
                        "jwks_uri": f"http://127.0.0.1:{port}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                else:
                    body = keyset.jwks
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/.well-known/openidconfiguration"

    def token(
        self,
        *,
        key=None,
        kid=None,
        audience=APP_ID,
        expires_in=3600,
        service_url=SERVICE_URL,
        issuer="https://api.botframework.com",
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "nbf": now - 60,
            "exp": now + expires_in,
            "serviceurl": service_url,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def keyset():
    keys = KeySet()
    yield keys
    keys.close()


@pytest.fixture
async def prod_client(aiohttp_client, tmp_path, keyset, monkeypatch):
    # botbuilder keeps the metadata location in a class attribute; restore it after the test.
    monkeypatch.setattr(
        ChannelValidation, "open_id_metadata_endpoint", ChannelValidation.open_id_metadata_endpoint
    )
    settings = Settings(
        env=Environment.PRODUCTION,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        microsoft_app_id=APP_ID,
        microsoft_app_password="secret",
        microsoft_app_tenant_id=TENANT,
        openid_metadata_url=keyset.metadata_url,
        servicenow_url="http://127.0.0.1:9",
    )
    return await aiohttp_client(create_app(settings, Overrides(run_background=False)))


async def post_with(client, token: str | None, body: dict | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await client.post("/api/messages", json=body or activity(), headers=headers)
    await response.read()
    return response.status


async def test_valid_channel_token_is_accepted(prod_client, keyset):
    assert await post_with(prod_client, keyset.token()) == 201


async def test_a_single_tenant_bot_refuses_another_tenants_activity(prod_client, keyset):
    other = activity(channelData={"tenant": {"id": "0c0c0c0c-0000-4000-8000-00000000beef"}})
    assert await post_with(prod_client, keyset.token(), other) == 403


async def test_missing_token_in_production_is_401(prod_client):
    assert await post_with(prod_client, None) == 401


async def test_junk_token_is_401_not_500(prod_client):
    assert await post_with(prod_client, "not-a-jwt") == 401


async def test_expired_token_is_401_not_500(prod_client, keyset):
    assert await post_with(prod_client, keyset.token(expires_in=-3600)) == 401


async def test_token_signed_by_another_key_is_401_not_500(prod_client, keyset):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert await post_with(prod_client, keyset.token(key=other)) == 401


async def test_token_with_unknown_key_id_is_401_not_500(prod_client, keyset):
    assert await post_with(prod_client, keyset.token(kid="unknown-kid")) == 401


async def test_token_for_another_bot_is_401(prod_client, keyset):
    assert await post_with(prod_client, keyset.token(audience="another-app")) == 401


async def test_token_for_another_service_url_is_401(prod_client, keyset):
    assert await post_with(prod_client, keyset.token(service_url="https://evil.example/")) == 401


async def test_authenticated_activity_without_channel_id_is_refused(prod_client, keyset):
    body = activity()
    del body["channelId"]
    assert await post_with(prod_client, keyset.token(), body) == 403


async def test_a_2000_deep_body_in_production_gets_a_4xx_before_and_after_authentication(prod_client, keyset):
    deep = b'{"type": "message", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    anonymous = await prod_client.post(
        "/api/messages", data=deep, headers={"Content-Type": "application/json"}
    )
    signed = await prod_client.post(
        "/api/messages",
        data=deep,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {keyset.token()}"},
    )
    assert (anonymous.status, signed.status) == (400, 400), (await anonymous.text(), await signed.text())
