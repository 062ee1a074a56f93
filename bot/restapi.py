"""A small JSON client for the REST adapters (PagerDuty, GitHub, Jira): one aiohttp session per
adapter, opened on first use inside the event loop (as aiohttp requires), a timeout on every call,
and network failures translated once into the ports' errors.

The adapters judge HTTP statuses themselves (each vendor words its refusals differently), so a call
returns an :class:`ApiAnswer` whatever the status. Only a call that got no answer raises:

    Transient    the service could not be reached, the connection dropped, or the call timed out

The message names the service and the setting that points at it, never a request or response body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.ports import Transient

__all__ = ["ApiAnswer", "RestApi"]

Params = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ApiAnswer:
    """An HTTP answer: status, headers (case-insensitive) and the body as JSON (None if it is not)."""

    status: int
    headers: Mapping[str, str]
    body: Any = None
    text: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str:
        return str(self.headers.get(name, "") or "")


class RestApi:
    """Calls to one REST API at ``base_url`` (paths are appended to it, so a prefix such as
    GitHub Enterprise's ``/api/v3`` is kept)."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        service: str,
        url_setting: str,
        timeout_s: float = 15.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._service = service
        self._url_setting = url_setting
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def call(
        self, method: str, path: str, *, params: Params | None = None, json_body: Any = None
    ) -> ApiAnswer:
        """One request; returns the answer whatever its status, raises ``Transient`` without one."""
        url = self.base_url + path
        try:
            async with self._open().request(method, url, params=params, json=json_body) as response:
                raw = await response.read()
                return _answer(response.status, response.headers, raw)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Transient(
                f"{self._service} could not be reached at {self._url_setting} ({type(error).__name__})"
            ) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _answer(status: int, headers: Mapping[str, str], raw: bytes) -> ApiAnswer:
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    return ApiAnswer(status, headers, body, text)
