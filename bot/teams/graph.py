"""Microsoft Graph client for the Go Live team's channels (Graph v1.0 channel API:
https://learn.microsoft.com/graph/api/resources/channel).

Errors, translated once from Graph's `{"error": {"code", "message", "innerError"}}`:

    GraphError                      any Graph failure (status, code, message, request_id)
    ├── GraphNotFound               404: unknown team, channel or operation
    ├── GraphConflict               409 (or a NameAlreadyExists code)
    │   └── ChannelNameConflict     a channel with that display name exists; find it by name
    ├── GraphThrottled              429/503/504 still failing after the bounded retries (retry_after)
    ├── GraphOperationFailed        an archive/unarchive operation ended failed, or did not finish in time
    └── GraphAuthError              no token could be acquired

429, 503 and 504 are retried up to `max_attempts` in all, honouring `Retry-After` (fractional allowed,
capped by `max_retry_after_s`), else exponential backoff.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
RETRYABLE = frozenset({429, 503, 504})


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(f"Graph {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


class GraphNotFound(GraphError):
    pass


class GraphConflict(GraphError):
    pass


class ChannelNameConflict(GraphConflict):
    def __init__(self, display_name: str, error: GraphError) -> None:
        super().__init__(error.status, error.code, error.message, error.request_id)
        self.display_name = display_name


class GraphThrottled(GraphError):
    def __init__(
        self, status: int, code: str, message: str, request_id: str | None, retry_after: float | None
    ):
        super().__init__(status, code, message, request_id)
        self.retry_after = retry_after


class GraphOperationFailed(GraphError):
    pass


class GraphAuthError(GraphError):
    pass


class TokenProvider(Protocol):
    async def token(self) -> str: ...


class StaticTokenProvider:
    """A fixed token (tests, emulators)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenProvider(token=***)"

    async def token(self) -> str:
        return self._token


class MsalTokenProvider:
    """App-only Graph token by MSAL client credentials; MSAL is synchronous, so it runs in a thread.

    MSAL caches the token in memory and renews it near expiry, so calling `token()` per request is cheap.
    """

    def __init__(
        self,
        client_id: str,
        secret: str,
        tenant: str,
        *,
        authority_host: str = "https://login.microsoftonline.com",
        scopes: Sequence[str] = (GRAPH_SCOPE,),
    ) -> None:
        self._client_id = client_id
        self._secret = secret
        self._authority = f"{authority_host.rstrip('/')}/{tenant}"
        self._scopes = list(scopes)
        self._app: Any = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"MsalTokenProvider(client_id={self._client_id!r}, secret=***, authority={self._authority!r})"

    def _acquire(self) -> dict[str, Any]:
        import msal  # imported here: only production needs it loaded

        if self._app is None:
            self._app = msal.ConfidentialClientApplication(
                self._client_id, client_credential=self._secret, authority=self._authority
            )
        return self._app.acquire_token_for_client(scopes=self._scopes)

    async def token(self) -> str:
        async with self._lock:  # one MSAL call at a time; the cache answers the rest
            try:
                result = await asyncio.to_thread(self._acquire)
            except Exception as exc:  # MSAL raises ValueError/requests errors on bad config or network
                raise GraphAuthError(0, "TokenAcquisitionFailed", f"{type(exc).__name__}: {exc}") from exc
        if "access_token" not in result:
            raise GraphAuthError(
                0, str(result.get("error", "unknown")), str(result.get("error_description", ""))
            )
        return result["access_token"]


@dataclass(frozen=True)
class GraphChannel:
    id: str
    display_name: str
    description: str
    is_archived: bool
    web_url: str
    membership_type: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> GraphChannel:
        return cls(
            id=raw["id"],
            display_name=raw.get("displayName") or "",
            description=raw.get("description") or "",
            is_archived=bool(raw.get("isArchived")),
            web_url=raw.get("webUrl") or "",
            membership_type=raw.get("membershipType") or "standard",
        )


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; fall back to our own backoff


def _error_from(status: int, body: Any, headers: Any) -> GraphError:
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {}
    code = str(err.get("code") or status)
    message = str(err.get("message") or "")
    inner = err.get("innerError") or err.get("innererror") or {}
    request_id = inner.get("request-id") if isinstance(inner, dict) else None
    if status in RETRYABLE:
        return GraphThrottled(status, code, message, request_id, _retry_after(headers))
    if status == 404:
        return GraphNotFound(status, code, message, request_id)
    if status == 409 or code == "NameAlreadyExists":
        return GraphConflict(status, code, message, request_id)
    return GraphError(status, code, message, request_id)


class GraphChannelClient:
    """Channels of one team. `base_url` includes the version, e.g. https://graph.microsoft.com/v1.0."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        team_id: str,
        token_provider: TokenProvider,
        *,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        max_retry_after_s: float = 60.0,
        operation_poll_interval_s: float = 2.0,
        operation_max_polls: int = 30,
        request_timeout_s: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._team = team_id
        self._tokens = token_provider
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_base_s
        self._max_retry_after = max_retry_after_s
        self._poll_interval = operation_poll_interval_s
        self._max_polls = operation_max_polls
        self._timeout = aiohttp.ClientTimeout(total=request_timeout_s)
        self._sleep = sleep

    def _team_path(self, *parts: str) -> str:
        return "/".join(
            [f"{self._base}/teams/{quote(self._team, safe='')}", *(quote(p, safe="") for p in parts)]
        )

    async def _request(
        self,
        method: str,
        url: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        """(status, parsed body, headers) of the first non-retryable answer; raises GraphError for >= 400."""
        for attempt in range(1, self._max_attempts + 1):
            headers = {"Authorization": f"Bearer {await self._tokens.token()}", "Accept": "application/json"}
            data = None
            if body is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(body)
            async with self._session.request(
                method, url, data=data, params=params, headers=headers, timeout=self._timeout
            ) as resp:
                text = await resp.text()
                status, resp_headers = resp.status, resp.headers
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            if status < 400:
                return status, parsed, resp_headers
            error = _error_from(status, parsed, resp_headers)
            if not isinstance(error, GraphThrottled) or attempt == self._max_attempts:
                raise error
            delay = error.retry_after if error.retry_after is not None else self._backoff * 2 ** (attempt - 1)
            await self._sleep(min(delay, self._max_retry_after))
        raise AssertionError("unreachable")

    async def list_channels(self, display_name: str | None = None) -> list[GraphChannel]:
        params = None
        if display_name is not None:
            params = {"$filter": "displayName eq '{}'".format(display_name.replace("'", "''"))}
        _, body, _ = await self._request("GET", self._team_path("channels"), params=params)
        return [GraphChannel.from_json(raw) for raw in (body or {}).get("value", [])]

    async def list_messages(
        self, channel_id: str, root_id: str | None = None, max_pages: int = 10
    ) -> list[dict[str, Any]]:
        """The channel's root posts (``root_id`` None) or one post's replies, newest first, as Graph's
        chatMessage objects; follows ``@odata.nextLink`` for at most ``max_pages`` pages of 50."""
        parts = ["channels", channel_id, "messages"] + ([root_id, "replies"] if root_id else [])
        url: str | None = self._team_path(*parts)
        params: dict[str, str] | None = {"$top": "50"}
        messages: list[dict[str, Any]] = []
        for _ in range(max_pages):
            if url is None:
                break
            _, body, _ = await self._request("GET", url, params=params)
            messages += [m for m in (body or {}).get("value", []) if isinstance(m, dict)]
            url, params = (body or {}).get("@odata.nextLink"), None
        return messages

    async def find_channel_by_name(self, display_name: str) -> GraphChannel | None:
        """The channel with exactly this display name (case-insensitive, like Teams), if any."""
        wanted = display_name.casefold()
        try:
            filtered = await self.list_channels(display_name)
        except GraphError as exc:
            if exc.status != 400:  # a Graph that refuses the filter: fall back to the full list
                raise
            filtered = []
        found = next((c for c in filtered if c.display_name.casefold() == wanted), None)
        if found is None:  # $filter eq is exact; Teams names clash case-insensitively
            found = next((c for c in await self.list_channels() if c.display_name.casefold() == wanted), None)
        return found

    async def get_channel(self, channel_id: str) -> GraphChannel:
        _, body, _ = await self._request("GET", self._team_path("channels", channel_id))
        return GraphChannel.from_json(body)

    async def create_channel(self, display_name: str, description: str = "") -> GraphChannel:
        """A standard channel; ChannelNameConflict when the name is taken (look it up by name)."""
        payload = {"displayName": display_name, "description": description, "membershipType": "standard"}
        try:
            _, body, _ = await self._request("POST", self._team_path("channels"), body=payload)
        except GraphConflict as exc:
            raise ChannelNameConflict(display_name, exc) from exc
        return GraphChannel.from_json(body)

    async def rename_channel(self, channel_id: str, display_name: str) -> None:
        try:
            await self._request(
                "PATCH", self._team_path("channels", channel_id), body={"displayName": display_name}
            )
        except GraphConflict as exc:
            raise ChannelNameConflict(display_name, exc) from exc

    async def delete_channel(self, channel_id: str) -> None:
        await self._request("DELETE", self._team_path("channels", channel_id))

    async def archive_channel(self, channel_id: str) -> None:
        await self._run_operation(self._team_path("channels", channel_id, "archive"))

    async def unarchive_channel(self, channel_id: str) -> None:
        await self._run_operation(self._team_path("channels", channel_id, "unarchive"))

    async def _run_operation(self, url: str) -> None:
        """POST, then follow the 202's Location until the teamsAsyncOperation succeeds (bounded)."""
        status, _, headers = await self._request("POST", url)
        location = headers.get("Location")
        if status != 202 or not location:
            return  # done synchronously
        op_url = location if location.startswith("http") else f"{self._base}/{location.lstrip('/')}"
        for poll in range(self._max_polls):
            if poll:
                await self._sleep(self._poll_interval)
            _, op, _ = await self._request("GET", op_url)
            op_status = (op or {}).get("status")
            if op_status == "succeeded":
                return
            if op_status in ("failed", "invalid"):
                error = (op or {}).get("error") or {}
                raise GraphOperationFailed(
                    200, str(error.get("code") or "OperationFailed"), str(error.get("message") or op_status)
                )
        raise GraphOperationFailed(
            202, "OperationTimeout", f"operation not finished after {self._max_polls} polls"
        )
