"""Rule 3 — Deadline, as properties that hold for any opening instant and any minimum."""

from datetime import date, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.calendar import WorkingCalendar, working_deadline

UTC = timezone.utc
FRANCE = WorkingCalendar()
ALSACE_MOSELLE = WorkingCalendar(subdivision="57")
EVERY_DAY = WorkingCalendar(working_days_only=False)
WORKING_CALENDARS = st.sampled_from([FRANCE, ALSACE_MOSELLE])
ANY_CALENDAR = st.sampled_from([FRANCE, ALSACE_MOSELLE, EVERY_DAY])

# Any instant from 2025 to 2028 (both DST changes and every holiday several times), to the second.
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda naive: naive.replace(microsecond=0, tzinfo=UTC)
)
# Minimums from zero to three weeks, to the minute.
minimums = st.integers(min_value=0, max_value=21 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))

PROPERTY = settings(max_examples=200, deadline=None)


def midnight(day: date, calendar: WorkingCalendar) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.zone).astimezone(UTC)


def working_time_between(start: datetime, end: datetime, calendar: WorkingCalendar) -> timedelta:
    """An independent measure: the real time in [start, end] that falls on working days."""
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date()
    while midnight(day, calendar) < end:
        if calendar.is_working_day(day):
            low = max(start, midnight(day, calendar))
            high = min(end, midnight(day + timedelta(days=1), calendar))
            total += max(high - low, timedelta(0))
        day += timedelta(days=1)
    return total


@PROPERTY
@given(opened=instants, a=minimums, b=minimums, calendar=ANY_CALENDAR)
def test_a_longer_minimum_never_gives_an_earlier_deadline(opened, a, b, calendar):
    shorter, longer = sorted((a, b))
    assert working_deadline(opened, shorter, calendar) <= working_deadline(opened, longer, calendar)


@PROPERTY
@given(opened=instants, minimum=minimums, calendar=ANY_CALENDAR)
def test_the_deadline_never_falls_before_the_opening_plus_the_minimum(opened, minimum, calendar):
    assert working_deadline(opened, minimum, calendar) >= opened + minimum


@PROPERTY
@given(opened=instants, minimum=minimums)
def test_counting_every_day_the_deadline_is_exactly_the_opening_plus_the_minimum(opened, minimum):
    assert working_deadline(opened, minimum, EVERY_DAY) == opened + minimum


@PROPERTY
@given(opened=instants, minimum=minimums, calendar=WORKING_CALENDARS)
def test_the_deadline_never_falls_inside_a_non_working_day(opened, minimum, calendar):
    # It may fall on the very midnight that starts a non-working day, because that instant is also the end
    # of the working day before it (e.g. Wednesday 00:00 + 72h = Saturday 00:00).
    local = working_deadline(opened, minimum, calendar).astimezone(calendar.zone)
    day = local.date()
    ends_the_day_before = local.time() == time(0) and calendar.is_working_day(day - timedelta(days=1))
    assert calendar.is_working_day(day) or ends_the_day_before


@PROPERTY
@given(opened=instants, minimum=minimums, calendar=WORKING_CALENDARS)
def test_exactly_the_minimum_of_working_time_elapses_before_the_deadline(opened, minimum, calendar):
    deadline = working_deadline(opened, minimum, calendar)
    assert working_time_between(opened, deadline, calendar) == minimum


@PROPERTY
@given(opened=instants, minimum=minimums.filter(bool), calendar=WORKING_CALENDARS)
def test_the_deadline_is_the_first_instant_that_completes_the_minimum(opened, minimum, calendar):
    deadline = working_deadline(opened, minimum, calendar)
    assert working_time_between(opened, deadline - timedelta(seconds=1), calendar) < minimum


@PROPERTY
@given(opened=instants, a=minimums, b=minimums.filter(bool), calendar=ANY_CALENDAR)
def test_counting_a_then_b_from_the_first_deadline_is_counting_a_plus_b(opened, a, b, calendar):
    # This is what makes an extension "working time after the current deadline" equal to a longer round. An
    # extension adds time (!extend refuses less than a minute): counting nothing from a deadline that ends the day
    # before a holiday (Monday 13 July 24:00) starts, as any count does, after the holiday.
    assert working_deadline(working_deadline(opened, a, calendar), b, calendar) == working_deadline(
        opened, a + b, calendar
    )


@PROPERTY
@given(opened=instants, calendar=WORKING_CALENDARS)
def test_a_round_opened_on_a_non_working_day_starts_at_a_working_days_midnight(opened, calendar):
    local = opened.astimezone(calendar.zone)
    if calendar.is_working_day(local.date()):
        assert working_deadline(opened, timedelta(0), calendar) == opened
    else:
        start = working_deadline(opened, timedelta(0), calendar).astimezone(calendar.zone)
        assert start.time() == time(0)
        assert calendar.is_working_day(start.date())
        assert all(
            not calendar.is_working_day(local.date() + timedelta(days=n))
            for n in range((start.date() - local.date()).days)
        )
