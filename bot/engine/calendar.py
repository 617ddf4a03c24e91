"""Working time: the days that count towards a round's minimum duration."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays

SATURDAY = 5


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days count, in the assembly's time zone.

    A day counts unless it is a Saturday, a Sunday or a public holiday of the
    assembly's country and subdivision; with ``working_days_only`` false every
    day counts.
    """

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    country: str = "FR"
    subdivision: str | None = None
    working_days_only: bool = True

    @functools.cached_property
    def _holidays(self) -> holidays.HolidayBase:
        # Years are expanded lazily by the holidays package as dates are asked for.
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def is_working_day(self, day: date) -> bool:
        if not self.working_days_only:
            return True
        return day.weekday() < SATURDAY and day not in self._holidays

    def local_midnight(self, day: date) -> datetime:
        """The instant a local day starts, in UTC (midnight exists on DST days in every zone we serve)."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(timezone.utc)


def working_deadline(opened_at: datetime, minimum: timedelta, calendar: WorkingCalendar) -> datetime:
    """The first instant by which ``minimum`` of working time has elapsed since ``opened_at``.

    Real elapsed time is counted (all arithmetic in UTC), so a working day that
    holds a DST change lasts 23 or 25 hours. Time on non-working days does not
    count: a round opened on a Saturday or a holiday starts counting at the next
    working day's midnight.
    """
    if opened_at.tzinfo is None:
        raise ValueError("opened_at must be timezone-aware")
    if minimum < timedelta(0):
        raise ValueError("minimum must not be negative")
    cursor = opened_at.astimezone(timezone.utc)
    if not calendar.working_days_only:
        return cursor + minimum
    remaining = minimum
    day = cursor.astimezone(calendar.zone).date()
    while True:
        day_end = calendar.local_midnight(day + timedelta(days=1))
        if calendar.is_working_day(day):
            start = max(cursor, calendar.local_midnight(day))
            available = day_end - start
            if remaining <= available:
                return start + remaining
            remaining -= available
        day += timedelta(days=1)
        cursor = day_end
