"""Durations as people write them in the config and in commands: 30s, 15m, 72h, 7d, 2w, 1d12h, 3mo.

Units are case-insensitive and spaces may separate numbers, units and parts ("72 h", "1d 12h"),
since French typography puts a space before the unit. "m" is minutes; months are written "mo"
and only calendar durations accept them, because a month has no fixed length.

Every failure is a ValueError with a message fit for the member or the config's author, and
parsing stays quick whatever the input: numbers are refused past a few digits before any
arithmetic, and the bounds below keep every date the bot computes far from year 9999.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

# The bounds the rest of the bot imports. They are far beyond any real assembly's needs, and close
# enough that adding any of them, even many times over, to a date of this century stays a valid date.
MAX_ROUND = timedelta(days=60)
"""The longest a round's minimum duration, a reminder's offset, or one extension of a deadline may be."""
MAX_LOCK = relativedelta(years=5)
"""The longest majority_lock. A relativedelta has no ordering: compare with ``calendar_exceeds``."""
MAX_BETWEEN_ROUNDS = timedelta(days=365)
"""The longest days_between_rounds."""
MAX_ADVANCE = timedelta(days=3660)
"""The longest the console's /advance moves its simulated clock in one go (about ten years)."""

MAX_DIGITS = 9
"""A number in a duration has at most this many digits: more is surely a typo, and int() of thousands
of digits is slow (Python refuses more than 4300 with a ValueError of its own)."""
_SHOWN = 40  # how much of a long input an error message quotes

# "j" (jours) is the French for days: members type "!prolonger #3 2j".
_UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "j": "days", "w": "weeks", "mo": "months"}
# "mo" comes before "m" so that "3mo" is three months, not three minutes and a stray "o".
_PART = re.compile(r"(\d+)\s*(mo|[smhdjw])", re.IGNORECASE | re.ASCII)
_WHOLE = re.compile(r"\s*(?:\d+\s*(?:mo|[smhdjw])\s*)+", re.IGNORECASE | re.ASCII)
# Where a calendar duration is measured to compare it with a bound: months and years differ in
# length, so "60mo" and "1826d" compare differently from different dates; any fixed date will do.
_REFERENCE = datetime(2000, 1, 1)


def _quote(text: object) -> str:
    """``text`` as error messages quote it: repr, cut short so that a pasted megabyte stays one short line."""
    if isinstance(text, str) and len(text) > _SHOWN:
        return repr(text[:_SHOWN]) + "…"
    shown = repr(text)
    return shown if len(shown) <= _SHOWN + 2 else shown[:_SHOWN] + "…"


def _amounts(text: str, examples: str) -> dict[str, int]:
    """The amount of each unit in ``text``, e.g. {"days": 1, "hours": 12} for "1d12h"."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise ValueError(f"{_quote(text)} is not a duration: use a number and a unit, e.g. {examples}")
    amounts: dict[str, int] = {}
    for number, unit in _PART.findall(text):
        if len(number) > MAX_DIGITS:
            raise ValueError(f"{_quote(text)} is too long: a number has at most {MAX_DIGITS} digits")
        name = _UNIT_NAMES[unit.lower()]
        amounts[name] = amounts.get(name, 0) + int(number)
    return amounts


def format_duration(duration: timedelta) -> str:
    """A fixed duration in the syntax members write: 60d, 1d12h, 90m (whole seconds; sub-seconds are dropped)."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, length)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def format_calendar_duration(duration: relativedelta) -> str:
    """A calendar duration in the syntax members write: 60mo, 1mo14d, 3mo12h."""
    months = duration.years * 12 + duration.months
    rest = timedelta(days=duration.days, hours=duration.hours, minutes=duration.minutes, seconds=duration.seconds)
    shown = (f"{months}mo" if months else "") + (format_duration(rest) if rest else "")
    return shown or "0s"


def parse_duration(text: str, *, maximum: timedelta | None = None) -> timedelta:
    """A fixed length of time: "30s", "15m", "72h", "7d", "2w", "1d12h" (no months).

    With ``maximum``, a longer duration is refused: "'3000000d' is too long: at most 60d".
    """
    amounts = _amounts(text, "30m, 72h, 7d")
    if "months" in amounts:
        raise ValueError(f"{_quote(text)}: months have no fixed length here; use days or weeks, e.g. 90d")
    try:
        duration = timedelta(**amounts)
    except OverflowError:  # more than a billion days
        duration = None
    if maximum is not None and (duration is None or duration > maximum):
        raise ValueError(f"{_quote(text)} is too long: at most {format_duration(maximum)}")
    if duration is None:
        raise ValueError(f"{_quote(text)} is too long to be a duration")
    return duration


def calendar_exceeds(duration: relativedelta, maximum: relativedelta) -> bool:
    """Whether ``duration`` is longer than ``maximum``, both measured from the same fixed date."""
    try:
        return _REFERENCE + duration > _REFERENCE + maximum
    except (OverflowError, ValueError):  # beyond year 9999: longer than any bound
        return True


def parse_calendar_duration(text: str, *, maximum: relativedelta | None = None) -> relativedelta:
    """A calendar length of time, which may count months: "3mo", "1mo2w", "7d".

    Adding it to a date follows the calendar (31 January + 1mo = 28 or 29 February).
    With ``maximum``, a longer duration is refused: "'120000mo' is too long: at most 60mo".
    """
    duration = relativedelta(**_amounts(text, "72h, 7d, 3mo"))
    if maximum is not None and calendar_exceeds(duration, maximum):
        raise ValueError(f"{_quote(text)} is too long: at most {format_calendar_duration(maximum)}")
    return duration
