"""Personal-data guard: spot posts that look like they hold a Social Security number or a date of birth.

Only the verdict leaves this module; the text is never logged.
"""

from __future__ import annotations

import re

_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}([- ]?)(?!00)\d{2}\1(?!0000)\d{4}(?!\d)")
_SSN_WORD = re.compile(r"\b(ssn|social security)\b", re.IGNORECASE)
_DOB_WORD = re.compile(r"\b(dob|d\.o\.b\.?|date of birth|birth ?date|born on)\b", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{1,2}[/-]\d{1,2}[/-](19|20)?\d{2}|(19|20)\d{2}-\d{2}-\d{2})\b")


def looks_like_personal_data(text: str) -> bool:
    """True when the text seems to contain an SSN, or a date next to words meaning date of birth."""
    if _SSN_WORD.search(text) and re.search(r"\d{4}", text):
        return True
    if _SSN.search(text):
        return True
    return bool(_DOB_WORD.search(text) and _DATE.search(text))
