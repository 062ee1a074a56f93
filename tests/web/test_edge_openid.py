"""Inbound token checks never hold up the event loop: a slow OpenID metadata endpoint does not stall
``/healthz``, a failing one gives 401 without a fetch per request, keys are cached, and the app
fetches them once at start-up."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from botframework.connector.auth import ChannelValidation, JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from testkit.stack import wait_for

from bot.app import Overrides, create_app
from bot.settings import Environment, Settings

APP_ID = "5d0e8c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
TENANT = "9b7e2d0c-0000-4000-8000-000000000002"
SERVICE_URL = "https://smba.trafficmanager.net/amer/"
SLOW_S = 6.0


class MetadataServer:
    """The issuer's OpenID metadata and key set, served from a thread (as Microsoft's would be: the
    app must not depend on this test's event loop to get an answer). It counts each GET and can be
    held (answering after ``release`` or ``SLOW_S``) or fail with 500."""

    def __init__(self, *, held: bool = False, failing: bool = False) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "issuer-key-1"
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams"]})
        self.gets: Counter[str] = Counter()
        self.arrived = threading.Event()
        self.released = threading.Event()
        if not held:
            self.released.set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                kind = "metadata" if self.path.endswith("openidconfiguration") else "keys"
                server.gets[kind] += 1
                server.arrived.set()
                server.released.wait(SLOW_S)
                if failing:
                    self.send_error(500)
                    return
                port = self.server.server_address[1]
                body = (
                    {"issuer": "https://api.botframework.com", "jwks_uri": f"http://127.0.0.1:{port}/keys"}
                    if kind == "metadata"
                    else {"keys": [jwk]}
                )
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/.well-known/openidconfiguration"

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://api.botframework.com",
            "aud": APP_ID,
            "nbf": now - 60,
            "exp": now + 3600,
            "serviceurl": SERVICE_URL,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def activity() -> dict:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {"id": "29:user", "name": "Pat", "aadObjectId": str(uuid.uuid4())},
        "recipient": {"id": f"28:{APP_ID}", "name": "Go Live Bridge"},
        "conversation": {"id": "a:personal-chat", "conversationType": "personal"},
        "text": "help",
        "channelData": {"tenant": {"id": TENANT}},
    }


@pytest.fixture
def start_bot(aiohttp_client, tmp_path, monkeypatch):
    monkeypatch.setattr(
        ChannelValidation, "open_id_metadata_endpoint", ChannelValidation.open_id_metadata_endpoint
    )
    servers: list[MetadataServer] = []

    async def start(server: MetadataServer, **settings: object):
        servers.append(server)
        values: dict = dict(
            env=Environment.PRODUCTION,
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            microsoft_app_id=APP_ID,
            microsoft_app_password="secret",
            microsoft_app_tenant_id=TENANT,
            openid_metadata_url=server.metadata_url,
            servicenow_url="http://127.0.0.1:9",
        )
        values.update(settings)
        return await aiohttp_client(create_app(Settings(**values), Overrides(run_background=False)))

    yield start
    for server in servers:
        server.close()


async def post(client, token: str) -> int:
    response = await client.post(
        "/api/messages", json=activity(), headers={"Authorization": f"Bearer {token}"}
    )
    await response.read()
    return response.status


async def test_healthz_answers_while_a_token_check_waits_for_a_slow_metadata_endpoint(start_bot):
    server = MetadataServer(held=True)
    client = await start_bot(server)
    # The start-up prewarm is fetching, and the endpoint holds its answer (for up to 6 s).

    async def fetching():
        return server.arrived.is_set()

    await wait_for(fetching, timeout=10)
    keys = JwtTokenExtractor.get_open_id_metadata(server.metadata_url)
    waiting = asyncio.Event()
    get = keys.get

    async def observed_get(key_id):
        waiting.set()
        return await get(key_id)

    keys.get = observed_get
    check = asyncio.create_task(post(client, server.token()))
    await asyncio.wait_for(waiting.wait(), timeout=10)

    health = await client.get("/healthz")
    assert health.status == 200
    assert not check.done()  # /healthz answered while the token check was still waiting

    server.released.set()
    assert await check == 201
    assert server.gets == {"metadata": 1, "keys": 1}  # the request shared the prewarm's fetch


async def test_metadata_endpoint_slower_than_the_timeout_gives_401(start_bot):
    server = MetadataServer(held=True)
    client = await start_bot(server, openid_timeout_s=0.2)
    health = await client.get("/healthz")
    assert health.status == 200
    assert await post(client, server.token()) == 401
    assert await post(client, server.token()) == 401
    assert server.gets["metadata"] == 1


async def test_failing_metadata_endpoint_gives_401_and_is_not_fetched_per_request(start_bot):
    server = MetadataServer(failing=True)
    client = await start_bot(server)
    for _ in range(5):
        assert await post(client, server.token()) == 401
    assert server.gets == {"metadata": 1}
    assert (await client.get("/healthz")).status == 200


async def test_the_app_prewarms_the_keys_once_and_requests_use_the_cache(start_bot):
    server = MetadataServer()
    client = await start_bot(server)

    async def prewarmed():
        return server.gets == {"metadata": 1, "keys": 1}

    await wait_for(prewarmed, timeout=10)
    for _ in range(3):
        assert await post(client, server.token()) == 201
    assert server.gets == {"metadata": 1, "keys": 1}


async def test_development_without_an_app_id_fetches_no_keys(aiohttp_client, tmp_path, monkeypatch):
    monkeypatch.setattr(
        ChannelValidation, "open_id_metadata_endpoint", ChannelValidation.open_id_metadata_endpoint
    )
    server = MetadataServer()
    try:
        settings = Settings(
            env=Environment.DEVELOPMENT,
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
            openid_metadata_url=server.metadata_url,
            servicenow_url="http://127.0.0.1:9",
        )
        client = await aiohttp_client(create_app(settings, Overrides(run_background=False)))
        response = await client.post("/api/messages", json=activity())
        assert response.status == 201
        assert server.gets == {}
    finally:
        server.close()


async def test_the_ring_is_removed_from_botbuilder_when_the_app_stops(start_bot):
    original = JwtTokenExtractor.get_open_id_metadata
    server = MetadataServer()
    client = await start_bot(server)
    assert JwtTokenExtractor.get_open_id_metadata is not original
    await client.close()
    assert JwtTokenExtractor.get_open_id_metadata is original
