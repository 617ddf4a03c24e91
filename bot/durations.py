"""Durations as people write them in the config and in commands: 30s, 15m, 72h, 7d, 2w, 1d12h, 3mo.

Units are case-insensitive and spaces may separate numbers, units and parts ("72 h", "1d 12h"),
since French typography puts a space before the unit. "m" is minutes; months are written "mo"
and only calendar durations accept them, because a month has no fixed length.
"""

from __future__ import annotations

import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta

# "j" (jours) is the French for days: members type "!prolonger #3 2j".
_UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "j": "days", "w": "weeks", "mo": "months"}
# "mo" comes before "m" so that "3mo" is three months, not three minutes and a stray "o".
_PART = re.compile(r"(\d+)\s*(mo|[smhdjw])", re.IGNORECASE | re.ASCII)
_WHOLE = re.compile(r"\s*(?:\d+\s*(?:mo|[smhdjw])\s*)+", re.IGNORECASE | re.ASCII)


def _amounts(text: str, examples: str) -> dict[str, int]:
    """The amount of each unit in ``text``, e.g. {"days": 1, "hours": 12} for "1d12h"."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration: use a number and a unit, e.g. {examples}")
    amounts: dict[str, int] = {}
    for number, unit in _PART.findall(text):
        name = _UNIT_NAMES[unit.lower()]
        amounts[name] = amounts.get(name, 0) + int(number)
    return amounts


def parse_duration(text: str) -> timedelta:
    """A fixed length of time: "30s", "15m", "72h", "7d", "2w", "1d12h" (no months)."""
    amounts = _amounts(text, "30m, 72h, 7d")
    if "months" in amounts:
        raise ValueError(f"{text!r}: months have no fixed length here; use days or weeks, e.g. 90d")
    try:
        return timedelta(**amounts)
    except OverflowError:
        raise ValueError(f"{text!r} is too long to be a duration") from None


def parse_calendar_duration(text: str) -> relativedelta:
    """A calendar length of time, which may count months: "3mo", "1mo2w", "7d".

    Adding it to a date follows the calendar (31 January + 1mo = 28 or 29 February).
    """
    return relativedelta(**_amounts(text, "72h, 7d, 3mo"))
