"""The identifiers that tie a roster engineer to the outside systems, and what each one may hold.

One rule per identifier, used both by the roster CSV (as ``line N: reason``) and by ``Engineer``
itself (as ``InvalidScheduleValue``), so a bad value is refused where it enters and can never reach
a ServiceNow query, a Teams mention or a Slack call:

==================  =========================================================================
identifier          rule
==================  =========================================================================
servicenow_user     a ServiceNow ``user_name``: letters, digits, ``.``, ``_``, ``-``, ``@``; at
                    most 100 characters. ``^`` and ``=`` are encoded-query syntax (a ``^`` in a
                    user name broke every incident create that named it), and spaces or commas
                    never appear in a user name.
email               a plausible address: one ``@``, a dot in the domain, no spaces, at most 254.
aad_object_id       the Entra object id, a GUID; compared case-insensitively and kept lower case.
github_login        1-39 letters, digits or single hyphens, not starting or ending with one.
slack_user_id       ``U`` or ``W`` followed by 8 to 11 upper-case letters or digits.
==================  =========================================================================

Each ``*_problem`` function returns None for a good value and otherwise the reason, starting with
the column name, ready to be prefixed with ``line N:``. None of them accepts an empty value: callers
decide which identifiers are optional.
"""

from __future__ import annotations

import re

SERVICENOW_USER_MAX = 100
EMAIL_MAX = 254

_SERVICENOW_USER = re.compile(r"[A-Za-z0-9._@-]+")
_EMAIL = re.compile(r"[^@\s,;:<>()\[\]\"']+@[^@\s,;:<>()\[\]\"']+\.[^@\s,;:<>()\[\]\"'.]+")
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{8,11}")


def normalize_aad_object_id(value: str) -> str:
    """The form object ids are stored and compared in: trimmed, lower case."""
    return value.strip().lower()


def servicenow_user_problem(value: str) -> str | None:
    if len(value) > SERVICENOW_USER_MAX:
        return (
            f"servicenow_user is {len(value)} characters long; "
            f"a ServiceNow user name has at most {SERVICENOW_USER_MAX}"
        )
    if not _SERVICENOW_USER.fullmatch(value):
        return (
            f"servicenow_user {value!r} is not a ServiceNow user name: use letters, digits, "
            "'.', '_', '-' and '@' only (no '^', '=', spaces or commas)"
        )
    return None


def email_problem(value: str) -> str | None:
    if len(value) > EMAIL_MAX or not _EMAIL.fullmatch(value):
        return f"email {value!r} is not an email address (like jane.doe@va.gov)"
    return None


def aad_object_id_problem(value: str) -> str | None:
    if not _GUID.fullmatch(normalize_aad_object_id(value)):
        return f"aad_object_id {value!r} is not a GUID (the engineer's Entra object id)"
    return None


def github_login_problem(value: str) -> str | None:
    if not _GITHUB_LOGIN.fullmatch(value):
        return (
            f"github_login {value!r} is not a GitHub login: 1 to 39 letters, digits or single "
            "hyphens, not starting or ending with a hyphen"
        )
    return None


def slack_user_id_problem(value: str) -> str | None:
    if not _SLACK_USER_ID.fullmatch(value):
        return (
            f"slack_user_id {value!r} is not a Slack user id "
            "(U or W followed by 8 to 11 upper-case letters or digits, like U024BE7LH)"
        )
    return None
