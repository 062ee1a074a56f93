"""Proactive messaging into Teams through the Bot Connector API (botbuilder's connector client).

One connector client per service URL is built once and reused (building msrest clients per message
costs most of the time of a small activity). Per-thread pacing keeps under Teams' limit of 7
messages per second per thread; 429/412/502/503/504 become ``TeamsUnavailable`` with the server's
Retry-After so the outbox retries them, anything else ``TeamsRejected``.

Error tree::

    TeamsError
    ├── TeamsUnavailable   retry later (throttled or a transient upstream failure)
    └── TeamsRejected      the request itself is wrong (4xx); retrying cannot help
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ErrorResponseException,
    Mention,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from msrest.authentication import Authentication, BasicTokenAuthentication
from msrest.exceptions import ClientRequestError

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {412, 429, 502, 503, 504}
MIN_INTERVAL_PER_THREAD_S = 1 / 7


class TeamsError(Exception):
    """Base of the Teams messaging errors."""


class TeamsUnavailable(TeamsError):
    def __init__(self, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(f"Teams unavailable (status {status})")
        self.status = status
        self.retry_after = retry_after


class TeamsRejected(TeamsError):
    def __init__(self, status: int | None, code: str | None = None) -> None:
        super().__init__(f"Teams rejected the request (status {status}, code {code})")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to post: plain text, an Adaptive Card, optional @mentions ``(id, name)``."""

    text: str | None = None
    card: dict[str, Any] | None = None
    mentions: tuple[tuple[str, str], ...] = ()

    def to_activity(self) -> Activity:
        attachments = None
        if self.card is not None:
            attachments = [
                Attachment(content_type="application/vnd.microsoft.card.adaptive", content=self.card)
            ]
        entities = [
            Mention(mentioned=ChannelAccount(id=pid, name=name), text=f"<at>{name}</at>", type="mention")
            for pid, name in self.mentions
        ]
        return Activity(
            type=ActivityTypes.message,
            text=self.text,
            attachments=attachments,
            entities=entities or None,
        )


class Credentials:
    """Outbound credentials for the connector: none (anonymous development), a static token
    (development against the emulator with an app id), or the app's real credentials."""

    def __init__(
        self, app_id: str, password: str, tenant_id: str, *, development: bool, static_token: str = ""
    ) -> None:
        self._app_id = app_id
        self._password = password
        self._tenant_id = tenant_id
        self._development = development
        self._static_token = static_token

    def create(self) -> Authentication:
        if not self._app_id:
            return MicrosoftAppCredentials.empty()
        if self._development:
            return BasicTokenAuthentication({"access_token": self._static_token or "development"})
        return MicrosoftAppCredentials(
            self._app_id, self._password, channel_auth_tenant=self._tenant_id or None
        )


class TeamsMessenger:
    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._clients: dict[str, ConnectorClient] = {}
        self._last_send: dict[str, float] = {}
        self._thread_locks: dict[str, asyncio.Lock] = {}

    def client_for(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            client = ConnectorClient(self._credentials.create(), base_url=service_url)
            self._clients[service_url] = client
        return client

    async def close(self) -> None:
        await close_connector_clients(self._clients.values())
        self._clients.clear()

    def _forget_quiet_threads(self) -> None:
        """Pacing state is only needed for threads posted to in the last second or so."""
        if len(self._last_send) < 512:
            return
        horizon = time.monotonic() - 5.0
        for thread, last in list(self._last_send.items()):
            lock = self._thread_locks.get(thread)
            if last < horizon and (lock is None or not lock.locked()):
                self._last_send.pop(thread, None)
                self._thread_locks.pop(thread, None)

    async def _paced(self, thread: str, call):
        self._forget_quiet_threads()
        lock = self._thread_locks.setdefault(thread, asyncio.Lock())
        async with lock:
            wait = self._last_send.get(thread, 0.0) + MIN_INTERVAL_PER_THREAD_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await call()
            finally:
                self._last_send[thread] = time.monotonic()

    async def reply_in_thread(
        self, service_url: str, conversation_id: str, message: OutgoingMessage
    ) -> str | None:
        """Post into the thread named by ``conversation_id`` (``<channel>;messageid=<root>``)."""
        activity = message.to_activity()
        client = self.client_for(service_url)
        response = await self._paced(
            conversation_id,
            lambda: _call(client.conversations.send_to_conversation(conversation_id, activity)),
        )
        return getattr(response, "id", None)

    async def post_new_thread(
        self, service_url: str, channel_id: str, message: OutgoingMessage, tenant_id: str | None = None
    ) -> tuple[str, str]:
        """Start a new thread in a channel; returns (thread conversation id, root activity id)."""
        params = ConversationParameters(
            is_group=True,
            activity=message.to_activity(),
            channel_data={
                "channel": {"id": channel_id},
                **({"tenant": {"id": tenant_id}} if tenant_id else {}),
            },
            tenant_id=tenant_id,
        )
        client = self.client_for(service_url)
        response = await self._paced(
            channel_id, lambda: _call(client.conversations.create_conversation(params))
        )
        activity_id = getattr(response, "activity_id", None) or ""
        conversation_id = getattr(response, "id", None) or f"{channel_id};messageid={activity_id}"
        if not activity_id and ";messageid=" in conversation_id:
            activity_id = conversation_id.rsplit("=", 1)[1]
        return conversation_id, activity_id

    async def send_direct(
        self, service_url: str, user_id: str, message: OutgoingMessage, tenant_id: str | None = None
    ) -> str:
        """A 1:1 chat message to a person (their Entra object id or 29: id); returns the chat id."""
        params = ConversationParameters(
            is_group=False,
            members=[ChannelAccount(id=user_id)],
            activity=message.to_activity(),
            channel_data={"tenant": {"id": tenant_id}} if tenant_id else None,
            tenant_id=tenant_id,
        )
        client = self.client_for(service_url)
        response = await self._paced(user_id, lambda: _call(client.conversations.create_conversation(params)))
        return getattr(response, "id", None) or ""

    async def get_member(
        self, service_url: str, conversation_id: str, member_id: str
    ) -> dict[str, Any] | None:
        """A member of a team or channel as Teams describes them (``TeamsChannelAccount``: ``email``,
        ``userPrincipalName``...), by their 29: id or Entra object id; None when not a member."""
        client = self.client_for(service_url)
        try:
            member = await _call(client.conversations.get_conversation_member(conversation_id, member_id))
        except TeamsRejected as error:
            if error.status == 404:
                return None
            raise
        if member is None:
            return None
        return {**member.serialize(), **(getattr(member, "additional_properties", None) or {})}

    async def update_message(
        self, service_url: str, conversation_id: str, activity_id: str, message: OutgoingMessage
    ) -> None:
        activity = message.to_activity()
        activity.id = activity_id
        client = self.client_for(service_url)
        await self._paced(
            conversation_id,
            lambda: _call(client.conversations.update_activity(conversation_id, activity_id, activity)),
        )


async def _call(awaitable):
    try:
        return await awaitable
    except ErrorResponseException as error:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        retry_after = _retry_after(response)
        if status in RETRYABLE_STATUSES:
            raise TeamsUnavailable(status, retry_after) from None
        code = getattr(getattr(getattr(error, "error", None), "error", None), "code", None)
        raise TeamsRejected(status, code) from None
    except ClientRequestError:
        raise TeamsUnavailable(None) from None
    except (OSError, TimeoutError):
        raise TeamsUnavailable(None) from None


def _retry_after(response) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


async def close_connector_clients(clients) -> None:
    """msrest's async clients own an aiohttp session; closing means leaving their context."""
    for client in list(clients):
        try:
            await client.__aexit__(None, None, None)
        except Exception as error:  # closing is best effort at shutdown
            log.debug("connector client close failed: %s", type(error).__name__)
