import time
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from bot.durations import (
    MAX_ADVANCE,
    MAX_BETWEEN_ROUNDS,
    MAX_LOCK,
    MAX_ROUND,
    calendar_exceeds,
    format_calendar_duration,
    format_duration,
    parse_calendar_duration,
    parse_duration,
)


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


# --- Bounds: no input can crash or hang, and the bot's bounds are stated once ---------------------


def test_the_bounds_the_bot_imports():
    assert MAX_ROUND == timedelta(days=60)
    assert MAX_BETWEEN_ROUNDS == timedelta(days=365)
    assert MAX_ADVANCE == timedelta(days=3660)
    assert MAX_LOCK == relativedelta(years=5)


@pytest.mark.parametrize("text", ["3000000d", "999999999w", "999999999d999999999d", "999999999s" * 50])
def test_a_huge_duration_is_too_long_for_a_bound(text):
    with pytest.raises(ValueError, match=r"is too long: at most 60d$"):
        parse_duration(text, maximum=MAX_ROUND)


def test_a_duration_at_the_bound_is_accepted():
    assert parse_duration("60d", maximum=MAX_ROUND) == MAX_ROUND
    assert parse_duration("1440h", maximum=MAX_ROUND) == MAX_ROUND
    with pytest.raises(ValueError, match=r"^'1441h' is too long: at most 60d$"):
        parse_duration("1441h", maximum=MAX_ROUND)
    with pytest.raises(ValueError, match=r"^'366d' is too long: at most 365d$"):
        parse_duration("366d", maximum=MAX_BETWEEN_ROUNDS)


def test_the_bound_is_written_as_members_write_durations():
    with pytest.raises(ValueError, match=r"^'2d' is too long: at most 1d12h$"):
        parse_duration("2d", maximum=timedelta(hours=36))
    assert format_duration(timedelta(days=1, hours=12, minutes=5, seconds=1)) == "1d12h5m1s"
    assert format_duration(timedelta(0)) == "0s"
    assert format_calendar_duration(MAX_LOCK) == "60mo"
    assert format_calendar_duration(relativedelta(months=1, days=14, hours=12)) == "1mo14d12h"


def test_a_maximum_does_not_change_what_is_not_a_duration():
    with pytest.raises(ValueError, match="is not a duration: use a number and a unit"):
        parse_duration("3x", maximum=MAX_ROUND)
    with pytest.raises(ValueError, match="months have no fixed length"):
        parse_duration("1mo", maximum=MAX_ROUND)


@pytest.mark.parametrize("parse", [parse_duration, parse_calendar_duration])
def test_a_number_of_thousands_of_digits_is_refused_quickly(parse):
    # Python's int() refuses more than 4300 digits with a ValueError of its own; this says what is wrong.
    text = "1" * 5001 + "d"
    started = time.perf_counter()
    with pytest.raises(ValueError) as caught:
        parse(text)
    assert time.perf_counter() - started < 0.5
    message = str(caught.value)
    assert message.endswith("is too long: a number has at most 9 digits")
    assert len(message) < 120  # the input is quoted, cut short


@pytest.mark.parametrize("text", ["1234567890s", "0000000001d"])
def test_a_number_of_more_than_nine_digits_is_too_long(text):
    with pytest.raises(ValueError, match="a number has at most 9 digits"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["999999999w", "1" * 100_000, "1d " * 50_000 + "x", " " * 100_000 + "1"])
def test_long_or_absurd_input_is_a_quick_value_error(text):
    started = time.perf_counter()
    with pytest.raises(ValueError):
        parse_duration(text)
    with pytest.raises(ValueError):
        parse_duration(text, maximum=MAX_ADVANCE)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("value", [None, 3, 1.5, ["1h"], b"1h"])
def test_what_is_not_text_is_a_value_error(value):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)


def test_calendar_durations_have_a_maximum():
    assert parse_calendar_duration("60mo", maximum=MAX_LOCK) == relativedelta(years=5)
    assert parse_calendar_duration("5mo2w", maximum=MAX_LOCK) == relativedelta(months=5, weeks=2)
    for text in ("61mo", "120000mo", "999999999mo", "1827d1s", "999999999d", "999999999h999999999d"):
        with pytest.raises(ValueError, match=r"is too long: at most 60mo$"):
            parse_calendar_duration(text, maximum=MAX_LOCK)


def test_calendar_exceeds_compares_from_a_fixed_date():
    assert not calendar_exceeds(relativedelta(years=5), MAX_LOCK)
    assert not calendar_exceeds(relativedelta(days=1827), MAX_LOCK)  # 2000-01-01 + 5 years, two leap days
    assert calendar_exceeds(relativedelta(days=1828), MAX_LOCK)
    assert calendar_exceeds(relativedelta(months=120000), MAX_LOCK)  # beyond year 9999: no overflow
