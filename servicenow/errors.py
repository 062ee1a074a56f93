"""The one error tree of the ServiceNow boundary, each class marked transient or permanent.

Everything the gateway raises is a :class:`ServiceNowError`; pysnow and ``requests`` exceptions are
translated once, inside :mod:`servicenow.gateway`, and never leak to callers. Every error is an
instance of exactly one of two branches, so a caller decides "retry later" or "give up" with one
``except`` (or by reading ``error.transient``)::

    ServiceNowError                 anything that went wrong talking to ServiceNow
    ├── ServiceNowTransient         transient = True: the same call may work later
    │   └── ServiceNowUnavailable   connection refused or reset, timeout, 408, 429 throttling, 5xx;
    │       │                       ``retry_after`` (seconds or None) says when to come back and
    │       │                       ``ambiguous`` whether the request may have been applied
    │       └── GatewayClosed       the gateway was closed (the process is stopping); never retried
    │                               inside the gateway, the job runs again in the next process
    └── ServiceNowPermanent         transient = False: repeating the same call cannot help
        ├── ServiceNowRejected      ServiceNow answered a 4xx other than 408/429 (bad request,
        │   │                       401 credentials, 403 ACL or data policy); ``status`` is the code
        │   └── IncidentNotFound    the incident (or its sys_id) does not exist: 404
        ├── UnsafeQueryValue        a value cannot be placed in an encoded query without changing
        │                           its meaning (see :mod:`servicenow.query`); also a ValueError.
        │                           Raised before any request is sent.
        └── UnexpectedFailure       the gateway met something it has no translation for (a bug on
                                    our side or in pysnow): retrying the same input repeats it

``retryable`` is the older name of ``transient`` and stays for existing callers.

Messages carry only sys_ids, incident numbers, HTTP statuses, field names and operation names.
Never put incident text (short description, comments, caller names, e-mail addresses) in an
exception: they may hold a veteran's personal data and exceptions end up in logs.
"""

from __future__ import annotations

__all__ = [
    "GatewayClosed",
    "IncidentNotFound",
    "ServiceNowError",
    "ServiceNowPermanent",
    "ServiceNowRejected",
    "ServiceNowTransient",
    "ServiceNowUnavailable",
    "UnexpectedFailure",
    "UnsafeQueryValue",
]


class ServiceNowError(Exception):
    """Base class of every error raised by the ServiceNow gateway."""

    transient: bool = False

    @property
    def retryable(self) -> bool:
        """Older name of :attr:`transient`."""
        return self.transient


class ServiceNowTransient(ServiceNowError):
    """The call failed for a reason that may go away: try the same call again later."""

    transient = True


class ServiceNowPermanent(ServiceNowError):
    """The call cannot succeed as it is: retrying it unchanged only repeats the failure."""

    transient = False


class ServiceNowUnavailable(ServiceNowTransient):
    """ServiceNow could not be reached or asked us to come back later (timeout, 429, 5xx)."""

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


class GatewayClosed(ServiceNowUnavailable):
    """The gateway is closed; the call was never sent."""

    def __init__(self, op: str):
        super().__init__(f"{op}: gateway closed")


class ServiceNowRejected(ServiceNowPermanent):
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


class UnsafeQueryValue(ServiceNowPermanent, ValueError):
    """A value would change the structure of an encoded query (``^``, ``javascript:`` ...)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"value for {field!r} cannot be used in an encoded query: {reason}")
        self.field = field
        self.reason = reason


class UnexpectedFailure(ServiceNowPermanent):
    """Something the gateway has no translation for; the message names only its type."""
