"""The one error tree of the ServiceNow boundary.

Everything the gateway raises is a :class:`ServiceNowError`; pysnow and ``requests`` exceptions are
translated once, inside :mod:`servicenow.gateway`, and never leak to callers::

    ServiceNowError                 anything that went wrong talking to ServiceNow
    ├── ServiceNowUnavailable       worth retrying later: connection refused or reset, timeout,
    │                               429 throttling, 5xx; ``retryable`` is always True,
    │                               ``retry_after`` (seconds or None) says when to come back and
    │                               ``ambiguous`` whether the request may have been applied
    ├── ServiceNowRejected          ServiceNow answered a 4xx that a retry will not change
    │   │                           (bad request, 401 credentials, 403 ACL); ``status`` is the code
    │   └── IncidentNotFound        the incident (or its sys_id) does not exist: 404
    └── UnsafeQueryValue            a value cannot be placed in an encoded query without changing
                                    its meaning (see :mod:`servicenow.query`); also a ValueError

Messages carry only sys_ids, incident numbers, HTTP statuses and operation names. Never put
incident text (short description, comments, caller names) in an exception: they may hold a
veteran's personal data and exceptions end up in logs.
"""

from __future__ import annotations

__all__ = [
    "IncidentNotFound",
    "ServiceNowError",
    "ServiceNowRejected",
    "ServiceNowUnavailable",
    "UnsafeQueryValue",
]


class ServiceNowError(Exception):
    """Base class of every error raised by the ServiceNow gateway."""

    retryable: bool = False


class ServiceNowUnavailable(ServiceNowError):
    """ServiceNow could not be reached or asked us to come back later (timeout, 429, 5xx)."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        # True when the request may have been applied although no answer came back (read timeout,
        # reset after sending, 500/502/504): a create must be looked up before it is sent again.
        self.ambiguous = ambiguous


class ServiceNowRejected(ServiceNowError):
    """ServiceNow answered with a 4xx that retrying will not fix."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


class IncidentNotFound(ServiceNowRejected):
    """The incident does not exist (404), or the given sys_id cannot be one."""

    def __init__(self, sys_id: str):
        # A sys_id is safe to show; anything else given as one is cut down so no text leaks.
        shown = sys_id if len(sys_id) <= 40 and sys_id.isalnum() else "<invalid sys_id>"
        super().__init__(f"incident {shown} not found", status=404)
        self.sys_id = sys_id


class UnsafeQueryValue(ServiceNowError, ValueError):
    """A value would change the structure of an encoded query (``^``, ``javascript:`` ...)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"value for {field!r} cannot be used in an encoded query: {reason}")
        self.field = field
        self.reason = reason
