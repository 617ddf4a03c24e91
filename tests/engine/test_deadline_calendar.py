"""Rule 3 — Deadline: a round lasts at least the minimum duration (default 72h), counted only in working
time — days that are neither Saturday, Sunday nor a public holiday of the assembly's country and
subdivision — in the assembly's time zone. Real elapsed time is counted, so a DST night is 23 or 25 hours.
A proposal posted on a Saturday or a holiday starts counting at the next working day's midnight.

Every expected deadline below is worked out by hand in the comment above it; the weekdays were checked
with Python (and are asserted again in ``test_the_dates_used_here_fall_on_the_weekdays_we_say``).
"""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.engine.calendar import WorkingCalendar, working_deadline
from bot.engine.model import SocialCode
from bot.engine.rules import round_deadline

from .support import PARIS, paris

FRANCE = WorkingCalendar()
ALSACE_MOSELLE = WorkingCalendar(subdivision="57")
ALSACE = WorkingCalendar(subdivision="6AE")
EVERY_DAY = WorkingCalendar(working_days_only=False)
H72 = timedelta(hours=72)
UTC = timezone.utc


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        (date(2026, 3, 6), "Friday"), (date(2026, 3, 7), "Saturday"), (date(2026, 3, 27), "Friday"),
        (date(2026, 3, 29), "Sunday"), (date(2026, 4, 2), "Thursday"), (date(2026, 4, 3), "Friday"),
        (date(2026, 4, 6), "Monday"), (date(2026, 4, 30), "Thursday"), (date(2026, 5, 1), "Friday"),
        (date(2026, 5, 6), "Wednesday"), (date(2026, 5, 8), "Friday"), (date(2026, 5, 12), "Tuesday"),
        (date(2026, 5, 14), "Thursday"), (date(2026, 7, 13), "Monday"), (date(2026, 7, 14), "Tuesday"),
        (date(2026, 10, 23), "Friday"), (date(2026, 10, 25), "Sunday"), (date(2026, 12, 24), "Thursday"),
        (date(2026, 12, 25), "Friday"), (date(2027, 1, 1), "Friday"), (date(2027, 3, 26), "Friday"),
        (date(2027, 3, 28), "Sunday"), (date(2027, 3, 29), "Monday"), (date(2025, 12, 24), "Wednesday"),
        (date(2025, 12, 26), "Friday"),
    ],
)
def test_the_dates_used_here_fall_on_the_weekdays_we_say(day, weekday):
    assert day.strftime("%A") == weekday


# --- which days count ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 1), "1 May"),
        (date(2026, 5, 8), "8 May"),
        (date(2026, 5, 14), "Ascension"),
        (date(2026, 5, 25), "Whit Monday"),
        (date(2026, 7, 14), "14 July"),
        (date(2026, 8, 15), "Assumption"),
        (date(2026, 11, 11), "Armistice"),
        (date(2026, 12, 25), "Christmas"),
        (date(2027, 1, 1), "New Year"),
        (date(2027, 3, 29), "Easter Monday 2027"),
        (date(2027, 5, 6), "Ascension 2027"),
    ],
)
def test_french_public_holidays_do_not_count(day, name):
    assert day in holidays.country_holidays("FR"), name
    assert not FRANCE.is_working_day(day)


def test_saturday_and_sunday_do_not_count_and_an_ordinary_weekday_does():
    assert not FRANCE.is_working_day(date(2026, 3, 7))  # Saturday
    assert not FRANCE.is_working_day(date(2026, 3, 8))  # Sunday
    assert FRANCE.is_working_day(date(2026, 3, 6))  # Friday
    assert FRANCE.is_working_day(date(2026, 3, 9))  # Monday


@pytest.mark.parametrize("calendar", [ALSACE_MOSELLE, ALSACE], ids=["Moselle-57", "Alsace-6AE"])
@pytest.mark.parametrize(
    "day", [date(2026, 4, 3), date(2027, 3, 26), date(2025, 12, 26)], ids=["GoodFriday2026", "GoodFriday2027", "StStephen2025"]
)
def test_alsace_moselle_adds_good_friday_and_26_december(calendar, day):
    assert FRANCE.is_working_day(day)
    assert not calendar.is_working_day(day)


def test_working_days_only_false_counts_saturdays_sundays_and_holidays():
    for day in (date(2026, 3, 7), date(2026, 3, 8), date(2026, 7, 14), date(2026, 12, 25)):
        assert EVERY_DAY.is_working_day(day)


# --- deadlines in an ordinary week -----------------------------------------------------------------------


def test_a_friday_evening_proposal_counts_six_hours_on_friday_and_skips_the_weekend():
    # Fri 6 March 2026 18:00 -> midnight: 6h (66h left); Sat, Sun skipped;
    # Mon 9: 24h (42h left); Tue 10: 24h (18h left); Wed 11 March 00:00 + 18h = 18:00.
    assert working_deadline(paris(2026, 3, 6, 18), H72, FRANCE) == paris(2026, 3, 11, 18)


def test_a_saturday_proposal_starts_counting_at_monday_midnight():
    # Sat 7 March 2026 10:00: Sat and Sun skipped; Mon 9 00:00 + 72h = Thu 12 March 00:00.
    assert working_deadline(paris(2026, 3, 7, 10), H72, FRANCE) == paris(2026, 3, 12, 0)


def test_a_sunday_night_proposal_also_starts_counting_at_monday_midnight():
    # Sun 8 March 2026 23:59 -> Mon 9 00:00 + 72h = Thu 12 March 00:00.
    assert working_deadline(paris(2026, 3, 8, 23, 59), H72, FRANCE) == paris(2026, 3, 12, 0)


def test_a_deadline_may_be_the_midnight_that_ends_a_friday():
    # Wed 4 March 2026 00:00 + 72h: Wed 24h, Thu 24h, Fri 24h -> exactly Sat 7 March 00:00, not Monday.
    assert working_deadline(paris(2026, 3, 4), H72, FRANCE) == paris(2026, 3, 7, 0)


def test_a_zero_minimum_on_a_weekend_waits_for_the_next_working_day():
    # Sat 7 March 2026 15:00, no minimum: nothing counts before Mon 9 March 00:00.
    assert working_deadline(paris(2026, 3, 7, 15), timedelta(0), FRANCE) == paris(2026, 3, 9, 0)


def test_the_round_deadline_uses_the_social_codes_minimum_and_calendar():
    code = SocialCode(minimum_duration=timedelta(hours=24), calendar=EVERY_DAY)
    # Sat 7 March 2026 10:00 + 24h, every day counting = Sun 8 March 10:00.
    assert round_deadline(paris(2026, 3, 7, 10), code) == paris(2026, 3, 8, 10)


# --- holidays -------------------------------------------------------------------------------------------


def test_a_proposal_posted_on_a_holiday_starts_counting_at_the_next_working_days_midnight():
    # Easter Monday 6 April 2026 10:00: skipped; Tue 7 00:00 + 72h = Fri 10 April 00:00.
    assert working_deadline(paris(2026, 4, 6, 10), H72, FRANCE) == paris(2026, 4, 10, 0)


def test_a_proposal_posted_on_a_holiday_friday_waits_for_monday():
    # Fri 1 May 2026 (Labour Day) 10:00: Fri, Sat, Sun skipped; Mon 4 00:00 + 72h = Thu 7 May 00:00.
    assert working_deadline(paris(2026, 5, 1, 10), H72, FRANCE) == paris(2026, 5, 7, 0)


def test_easter_monday_does_not_count():
    # Thu 2 April 2026 12:00: Thu 12h (60h left); Good Friday 3 April counts in plain France: 24h (36h left);
    # Sat, Sun, Easter Monday 6 skipped; Tue 7: 24h (12h left); Wed 8 April 12:00.
    assert working_deadline(paris(2026, 4, 2, 12), H72, FRANCE) == paris(2026, 4, 8, 12)


def test_in_alsace_moselle_good_friday_and_easter_monday_do_not_count():
    # Thu 2 April 2026 12:00: Thu 12h (60h left); Good Friday skipped; Sat, Sun, Easter Monday skipped;
    # Tue 7: 24h (36h left); Wed 8: 24h (12h left); Thu 9 April 12:00 — a day later than in plain France.
    assert working_deadline(paris(2026, 4, 2, 12), H72, ALSACE_MOSELLE) == paris(2026, 4, 9, 12)
    assert working_deadline(paris(2026, 4, 2, 12), H72, ALSACE) == paris(2026, 4, 9, 12)


def test_ascension_thursday_does_not_count():
    # Tue 12 May 2026 09:00: Tue 15h (57h left); Wed 13: 24h (33h left); Ascension Thu 14 skipped;
    # Fri 15: 24h (9h left); Sat, Sun skipped; Mon 18 May 09:00.
    assert working_deadline(paris(2026, 5, 12, 9), H72, FRANCE) == paris(2026, 5, 18, 9)


def test_the_first_of_may_does_not_count():
    # Thu 30 April 2026 12:00: Thu 12h (60h left); Fri 1 May skipped; Sat, Sun skipped;
    # Mon 4: 24h (36h left); Tue 5: 24h (12h left); Wed 6 May 12:00.
    assert working_deadline(paris(2026, 4, 30, 12), H72, FRANCE) == paris(2026, 5, 6, 12)


def test_the_eighth_of_may_does_not_count():
    # Wed 6 May 2026 12:00: Wed 12h (60h left); Thu 7: 24h (36h left); Fri 8 May skipped; Sat, Sun skipped;
    # Mon 11: 24h (12h left); Tue 12 May 12:00.
    assert working_deadline(paris(2026, 5, 6, 12), H72, FRANCE) == paris(2026, 5, 12, 12)


def test_a_week_long_round_skips_both_the_first_and_the_eighth_of_may():
    # Thu 30 April 2026 12:00, 168h: Thu 12h (156); 1 May skipped; Mon 4 (132); Tue 5 (108); Wed 6 (84);
    # Thu 7 (60); 8 May skipped; Mon 11 (36); Tue 12 (12); Wed 13 May 12:00.
    assert working_deadline(paris(2026, 4, 30, 12), timedelta(days=7), FRANCE) == paris(2026, 5, 13, 12)


def test_the_fourteenth_of_july_does_not_count():
    # Mon 13 July 2026 12:00: Mon 12h (60h left); Tue 14 July skipped; Wed 15: 24h (36h left);
    # Thu 16: 24h (12h left); Fri 17 July 12:00.
    assert working_deadline(paris(2026, 7, 13, 12), H72, FRANCE) == paris(2026, 7, 17, 12)


def test_christmas_to_new_year():
    # Thu 24 Dec 2026 12:00, 120h: Thu 12h (108h left); Christmas Fri 25, Sat 26, Sun 27 skipped;
    # Mon 28 (84); Tue 29 (60); Wed 30 (36); Thu 31 (12); New Year Fri 1 Jan, Sat 2, Sun 3 skipped;
    # Mon 4 January 2027 12:00.
    assert working_deadline(paris(2026, 12, 24, 12), timedelta(hours=120), FRANCE) == paris(2027, 1, 4, 12)


def test_new_years_day_does_not_count():
    # Tue 29 Dec 2026 12:00: Tue 12h (60h left); Wed 30 (36); Thu 31 (12); Fri 1 Jan, Sat, Sun skipped;
    # Mon 4 January 2027 12:00.
    assert working_deadline(paris(2026, 12, 29, 12), H72, FRANCE) == paris(2027, 1, 4, 12)


def test_in_alsace_moselle_the_26th_of_december_does_not_count():
    # In 2026 and 2027 the 26th falls on a weekend, so 2025 it is (Friday 26 December 2025).
    # Plain France — Wed 24 Dec 2025 12:00: Wed 12h (60h left); Christmas Thu 25 skipped; Fri 26: 24h (36h);
    # Sat, Sun skipped; Mon 29: 24h (12h left); Tue 30 Dec 12:00.
    assert working_deadline(paris(2025, 12, 24, 12), H72, FRANCE) == paris(2025, 12, 30, 12)
    # Alsace-Moselle — same start, Fri 26 skipped too: Mon 29 (36h left); Tue 30 (12h left); Wed 31 Dec 12:00.
    assert working_deadline(paris(2025, 12, 24, 12), H72, ALSACE_MOSELLE) == paris(2025, 12, 31, 12)


def test_working_days_only_false_counts_every_day_through_weekends_and_holidays():
    # Thu 24 Dec 2026 12:00 + 72h, every day counting = Sun 27 Dec 12:00.
    assert working_deadline(paris(2026, 12, 24, 12), H72, EVERY_DAY) == paris(2026, 12, 27, 12)


# --- daylight saving time ---------------------------------------------------------------------------------
# In France clocks change on a Sunday (last Sunday of March: 02:00 -> 03:00, last Sunday of October:
# 03:00 -> 02:00); Sunday never counts, so with working days the changeover day is skipped whole and the
# count resumes at Monday's local midnight.


def test_every_day_counting_across_the_spring_dst_night_is_72_real_hours():
    # Sat 28 March 2026 12:00 CET (11:00 UTC) + 72 real hours = Tue 31 March 11:00 UTC = 13:00 CEST:
    # the wall clock moves one hour because the night of 29 March lasted 23 hours.
    opened = paris(2026, 3, 28, 12)
    deadline = working_deadline(opened, H72, EVERY_DAY)
    assert deadline == datetime(2026, 3, 31, 11, tzinfo=UTC)
    assert deadline.astimezone(UTC) - opened.astimezone(UTC) == H72
    assert deadline == paris(2026, 3, 31, 13)


def test_every_day_counting_across_the_autumn_dst_night_is_72_real_hours():
    # Sat 24 Oct 2026 12:00 CEST (10:00 UTC) + 72 real hours = Tue 27 Oct 10:00 UTC = 11:00 CET:
    # the night of 25 October lasted 25 hours.
    opened = paris(2026, 10, 24, 12)
    deadline = working_deadline(opened, H72, EVERY_DAY)
    assert deadline == datetime(2026, 10, 27, 10, tzinfo=UTC)
    assert deadline == paris(2026, 10, 27, 11)


def test_working_days_across_the_spring_dst_weekend_keep_the_wall_clock_time():
    # Fri 27 March 2026 18:00 CET: Fri 6h (66h left); Sat, Sun 29 (the 23-hour day) skipped;
    # Mon 30 (CEST): 24h (42h left); Tue 31: 24h (18h left); Wed 1 April 18:00 CEST.
    # Real time between opening (17:00 UTC) and deadline (16:00 UTC) is 4 days 23 hours: the weekend was short.
    opened = paris(2026, 3, 27, 18)
    deadline = working_deadline(opened, H72, FRANCE)
    assert deadline == paris(2026, 4, 1, 18)
    assert deadline.astimezone(PARIS).utcoffset() == timedelta(hours=2)  # CEST
    assert deadline - opened == timedelta(days=4, hours=23)


def test_working_days_across_the_autumn_dst_weekend_keep_the_wall_clock_time():
    # Fri 23 Oct 2026 18:00 CEST: Fri 6h (66h left); Sat, Sun 25 (the 25-hour day) skipped;
    # Mon 26 (CET): 24h (42h left); Tue 27: 24h (18h left); Wed 28 Oct 18:00 CET.
    # Real time between opening (16:00 UTC) and deadline (17:00 UTC) is 5 days 1 hour: the weekend was long.
    opened = paris(2026, 10, 23, 18)
    deadline = working_deadline(opened, H72, FRANCE)
    assert deadline == paris(2026, 10, 28, 18)
    assert deadline.astimezone(PARIS).utcoffset() == timedelta(hours=1)  # CET
    assert deadline - opened == timedelta(days=5, hours=1)


def test_good_friday_evening_2027_crosses_easter_and_the_spring_dst_change():
    # The console's example start. Fri 26 March 2027 18:00 CET (Good Friday, a working day in plain France):
    # Fri 6h (66h left); Sat 27, Sun 28 (Easter and DST) and Easter Monday 29 skipped;
    # Tue 30: 24h (42h left); Wed 31: 24h (18h left); Thu 1 April 2027 18:00 CEST.
    opened = datetime.fromisoformat("2027-03-26T18:00+01:00")
    assert working_deadline(opened, H72, FRANCE) == paris(2027, 4, 1, 18)
    # In Alsace-Moselle Good Friday does not count either: Tue 30 00:00 + 72h -> Fri 2 April 2027 00:00.
    assert working_deadline(opened, H72, ALSACE_MOSELLE) == paris(2027, 4, 2, 0)


# A working day that itself holds a DST change cannot happen in France (the change is on a Sunday), so these
# two use zones whose change falls on a weekday, with the French holidays (none of them on these dates).

JERUSALEM = WorkingCalendar(zone=ZoneInfo("Asia/Jerusalem"))
CAIRO = WorkingCalendar(zone=ZoneInfo("Africa/Cairo"))


def test_a_working_day_with_the_spring_dst_change_lasts_23_real_hours():
    # Jerusalem, Friday 27 March 2026: 02:00 +02:00 -> 03:00 +03:00, so Friday lasts 23 hours.
    # Thu 26 March 00:00 (+02) + 48h: Thu 24h (24h left); Fri only 23h (1h left); Sat, Sun skipped;
    # Mon 30 March 00:00 (+03) + 1h = 01:00 local, i.e. Sun 29 March 22:00 UTC.
    zone = JERUSALEM.zone
    opened = datetime(2026, 3, 26, tzinfo=zone)
    deadline = working_deadline(opened, timedelta(hours=48), JERUSALEM)
    assert deadline == datetime(2026, 3, 30, 1, tzinfo=zone)
    assert deadline == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_a_working_day_with_the_autumn_dst_change_lasts_25_real_hours():
    # Cairo, Thursday 29 October 2026: at 24:00 +03:00 clocks go back to 23:00 +02:00, so Thursday lasts 25 hours.
    # Wed 28 Oct 00:00 (+03) = Tue 27 21:00 UTC. + 49h: Wed 24h (25h left); Thu holds all 25h:
    # deadline = Fri 30 Oct 00:00 (+02) = Thu 29 22:00 UTC — the Thursday, not the Friday.
    zone = CAIRO.zone
    opened = datetime(2026, 10, 28, tzinfo=zone)
    deadline = working_deadline(opened, timedelta(hours=49), CAIRO)
    assert deadline == datetime(2026, 10, 29, 22, tzinfo=UTC)
    assert deadline == datetime(2026, 10, 30, tzinfo=zone)
    # One more hour spills over into Friday (+02): Fri 30 Oct 01:00 local.
    assert working_deadline(opened, timedelta(hours=50), CAIRO) == datetime(2026, 10, 30, 1, tzinfo=zone)


# --- input checks -----------------------------------------------------------------------------------------


def test_a_naive_opening_time_is_refused():
    with pytest.raises(ValueError):
        working_deadline(datetime(2026, 3, 2, 9), H72, FRANCE)


def test_a_negative_minimum_is_refused():
    with pytest.raises(ValueError):
        working_deadline(paris(2026, 3, 2, 9), timedelta(hours=-1), FRANCE)


def test_the_deadline_does_not_depend_on_the_zone_the_opening_instant_is_written_in():
    # Fri 6 March 2026 18:00 Paris == 17:00 UTC: same instant, same deadline.
    assert working_deadline(datetime(2026, 3, 6, 17, tzinfo=UTC), H72, FRANCE) == paris(2026, 3, 11, 18)
