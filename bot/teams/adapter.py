"""botbuilder wiring: the inbound authentication configuration (tokens Teams signs).

The edge authenticates each activity through botbuilder's ``BotFrameworkAuthentication``; what it
builds per activity (connector factories, user-token clients) is cached for the process's life.
Activities are routed by the product itself (``bot.teams.handler``), not by botbuilder's handler.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ChannelValidation,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import BasicTokenAuthentication

from bot.settings import AppType, Settings

log = logging.getLogger(__name__)


class _DevelopmentCredentialsFactory(ServiceClientCredentialsFactory):
    """Development with an app id (the Teams emulator signs requests): outbound calls carry a static
    token, since no identity service can be reached."""

    def __init__(self, app_id: str) -> None:
        self._app_id = app_id

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self._app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return BasicTokenAuthentication({"access_token": "development"})


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, cache: dict) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None):
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
        return client


class CachingAuthentication(BotFrameworkAuthentication):
    """Delegates to botbuilder's authentication and caches what it builds per activity."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors: dict = {}
        self._user_token_clients: dict = {}

    async def authenticate_request(self, activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(result.connector_factory, self._connectors)
        return result

    async def close(self) -> None:
        from bot.teams.messenger import close_connector_clients

        await close_connector_clients(self._connectors.values())
        self._connectors.clear()

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity):
        return _CachingConnectorFactory(
            self._inner.create_connector_factory(claims_identity), self._connectors
        )

    async def create_user_token_client(self, claims_identity):
        key = claims_identity.authentication_type if claims_identity else None
        client = self._user_token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_token_clients[key] = client
        return client

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str):
        return await self._inner.authenticate_channel_request(auth_header)


def build_authentication(settings: Settings) -> CachingAuthentication:
    app_type = settings.microsoft_app_type
    if settings.auth_disabled:
        # botbuilder's auth-disabled configuration: an empty app id with the multi-tenant type
        # (SingleTenant with an empty id raises at start in 4.17.1). Production never gets here.
        app_type = AppType.MULTI_TENANT
    configuration = SimpleNamespace(
        APP_ID=settings.microsoft_app_id,
        APP_PASSWORD=settings.microsoft_app_password.get_secret_value(),
        APP_TYPE=app_type.value,
        APP_TENANTID=settings.microsoft_app_tenant_id,
    )
    # botbuilder reads the channel's OpenID metadata location from this class attribute only (None:
    # Microsoft's); the keys behind it come from ``bot.teams.openid``, installed at start-up.
    ChannelValidation.open_id_metadata_endpoint = settings.openid_metadata_url or None
    if settings.development and settings.microsoft_app_id:
        factory: ServiceClientCredentialsFactory = _DevelopmentCredentialsFactory(settings.microsoft_app_id)
    else:
        factory = ConfigurationServiceClientCredentialFactory(configuration)
    inner = ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=factory)
    return CachingAuthentication(inner)
