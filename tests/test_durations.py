from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from bot.durations import parse_calendar_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("72h", timedelta(hours=72)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1h30m15s", timedelta(hours=1, minutes=30, seconds=15)),
        ("72 h", timedelta(hours=72)),  # French typography
        (" 1d 12h ", timedelta(days=1, hours=12)),
        ("1D12H", timedelta(days=1, hours=12)),
        ("0s", timedelta(0)),
        ("2j", timedelta(days=2)),  # French "jours"
        ("1j 12h", timedelta(days=1, hours=12)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", " ", "3x", "72", "h", "1.5h", "-1h", "1h x", "h72", "1d,12h", "3 mois"])
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration: use a number and a unit"):
        parse_duration(text)


def test_error_message_quotes_the_input_and_gives_examples():
    with pytest.raises(ValueError) as caught:
        parse_calendar_duration("3x")
    assert str(caught.value) == "'3x' is not a duration: use a number and a unit, e.g. 72h, 7d, 3mo"


@pytest.mark.parametrize("text", ["3mo", "1d1mo", "2MO"])
def test_months_are_refused_where_a_fixed_duration_is_needed(text):
    with pytest.raises(ValueError, match="months have no fixed length"):
        parse_duration(text)


def test_an_absurdly_long_duration_is_an_error_not_a_crash():
    with pytest.raises(ValueError, match="too long"):
        parse_duration("99999999999999w")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3mo", relativedelta(months=3)),
        ("3 MO", relativedelta(months=3)),
        ("1mo2w", relativedelta(months=1, weeks=2)),
        ("72h", relativedelta(hours=72)),
        ("15m", relativedelta(minutes=15)),  # m stays minutes, mo is months
    ],
)
def test_parse_calendar_duration(text, expected):
    assert parse_calendar_duration(text) == expected


def test_calendar_months_follow_the_calendar():
    assert date(2027, 1, 31) + parse_calendar_duration("1mo") == date(2027, 2, 28)
    assert date(2027, 3, 15) + parse_calendar_duration("3mo") == date(2027, 6, 15)


@pytest.mark.parametrize("text", ["3x", "mo", "3 months", ""])
def test_parse_calendar_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_calendar_duration(text)
