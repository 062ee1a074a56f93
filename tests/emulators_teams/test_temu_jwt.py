"""Deliveries to a bot with an app id carry a Bot Framework channel token the emulator's JWKS verifies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm
from testkit.teams_emulator import STAFF, FakeBot, general_channel, post_as


async def test_signed_delivery_verifies_against_the_emulator_jwks(make_emulator, fake_bot: FakeBot):
    client = await make_emulator(fake_bot.url, bot_app_id="app-123")
    await post_as(client, await general_channel(client), STAFF, "hello")
    activity, authorization = fake_bot.received[-1], fake_bot.authorization[-1]
    scheme, token = authorization.split(" ", 1)
    assert scheme == "Bearer"

    metadata = await (await client.get("/v1/.well-known/openidconfiguration")).json()
    assert metadata["issuer"] == "https://api.botframework.com"
    assert metadata["jwks_uri"] == str(client.make_url("/v1/.well-known/keys"))
    jwks = await (await client.get("/v1/.well-known/keys")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in jwks["keys"] if k["kid"] == kid]
    assert "msteams" in key["endorsements"]

    claims = jwt.decode(
        token,
        RSAAlgorithm.from_jwk(json.dumps(key)),
        algorithms=["RS256"],
        audience="app-123",
        issuer="https://api.botframework.com",
        leeway=300,
    )
    assert claims["serviceurl"] == activity["serviceUrl"] == str(client.make_url("/"))
    assert activity["recipient"]["id"] == "28:app-123"


async def test_anonymous_mode_sends_no_authorization_header(emulator, fake_bot: FakeBot):
    await post_as(emulator, await general_channel(emulator), STAFF, "hello")
    assert fake_bot.authorization == [None]


async def test_botbuilder_channel_validation_accepts_the_token_via_the_emulator_metadata(
    make_emulator, fake_bot: FakeBot, monkeypatch
):
    from botframework.connector.auth import ChannelValidation, JwtTokenValidation, SimpleCredentialProvider

    client = await make_emulator(fake_bot.url, bot_app_id="app-123")
    await post_as(client, await general_channel(client), STAFF, "hello")
    activity, authorization = fake_bot.received[-1], fake_bot.authorization[-1]
    metadata_url = str(client.make_url("/v1/.well-known/openidconfiguration"))
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", metadata_url)

    async def validate(app_id: str) -> Any:
        return await JwtTokenValidation.validate_auth_header(
            authorization, SimpleCredentialProvider(app_id, ""), "", "msteams", activity["serviceUrl"]
        )

    # botbuilder fetches metadata with blocking `requests`: validate on another thread's loop so this
    # loop keeps serving the emulator (in one process the bot and emulator must not share a loop).
    identity = await asyncio.to_thread(asyncio.run, validate("app-123"))
    assert identity.is_authenticated
    assert identity.get_claim_value("serviceurl") == activity["serviceUrl"]
    with pytest.raises(PermissionError):
        await asyncio.to_thread(asyncio.run, validate("another-app"))
