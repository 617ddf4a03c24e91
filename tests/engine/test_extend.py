"""Rule 3 (extension) — Facilitators may extend a round, counted in working time after the current
deadline; never shorten it."""

from datetime import datetime, timedelta

from bot.engine import transitions
from bot.engine.calendar import WorkingCalendar
from bot.engine.model import Action, Position, SocialCode, State

from .support import ARGUMENT, CODE, MONDAY_MORNING, THURSDAY_DEADLINE, closed, paris, proposed, refusal, vote

AN_HOUR_LATER = MONDAY_MORNING + timedelta(hours=1)


def extended(proposal, extension, by="zoe", is_facilitator=True, at=AN_HOUR_LATER, code=CODE):
    return transitions.extend(proposal, by, is_facilitator, extension, at, code)


def test_a_facilitator_extends_the_round_in_working_time_after_the_current_deadline():
    # Deadline Thu 5 March 2026 09:00 + 24 working hours = Fri 6 March 09:00.
    step = extended(proposed(), timedelta(hours=24))
    assert step.proposal.current_round.deadline == paris(2026, 3, 6, 9)
    assert [(c.action, c.member, c.at, c.round) for c in step.changes] == [(Action.EXTENDED, "zoe", AN_HOUR_LATER, 1)]
    assert datetime.fromisoformat(step.changes[0].detail) == paris(2026, 3, 6, 9)


def test_an_extension_skips_the_weekend():
    # Thu 5 March 09:00 + 48 working hours: Thu 15h (33h left); Fri 24h (9h left); Sat, Sun skipped;
    # Mon 9 March 09:00.
    assert extended(proposed(), timedelta(hours=48)).proposal.current_round.deadline == paris(2026, 3, 9, 9)


def test_an_extension_skips_holidays():
    # Round opened Fri 10 July 2026 09:00: Fri 15h (57h left); Mon 13 24h (33h left); 14 July skipped;
    # Wed 15 24h (9h left); deadline Thu 16 July 09:00. Extended by 24h: Thu 15h, Fri 17 9h -> Fri 17 July 09:00.
    proposal = proposed(at=paris(2026, 7, 10, 9))
    assert proposal.current_round.deadline == paris(2026, 7, 16, 9)
    step = extended(proposal, timedelta(hours=24), at=paris(2026, 7, 10, 10))
    assert step.proposal.current_round.deadline == paris(2026, 7, 17, 9)


def test_an_extension_counts_every_day_when_working_days_only_is_off():
    code = SocialCode(calendar=WorkingCalendar(working_days_only=False))
    proposal = proposed(code=code)  # Mon 2 March 09:00 + 72h = Thu 5 March 09:00
    step = extended(proposal, timedelta(hours=48), code=code)
    assert step.proposal.current_round.deadline == paris(2026, 3, 7, 9)  # Saturday


def test_only_a_facilitator_may_extend_not_even_the_proposer():
    for by in ("alice", "bob"):
        violation = refusal(transitions.extend, proposed(), by, False, timedelta(hours=24), AN_HOUR_LATER, CODE)
        assert violation.code == "facilitator_only"


def test_a_zero_or_negative_extension_is_refused_a_round_is_never_shortened():
    for extension in (timedelta(0), timedelta(hours=-24), timedelta(seconds=-1)):
        violation = refusal(transitions.extend, proposed(), "zoe", True, extension, AN_HOUR_LATER, CODE)
        assert violation.code == "extension_positive"


def test_a_round_whose_deadline_passed_cannot_be_extended():
    violation = refusal(
        transitions.extend, proposed(), "zoe", True, timedelta(hours=24), THURSDAY_DEADLINE + timedelta(seconds=1), CODE
    )
    assert violation.code == "deadline_passed"


def test_a_closed_round_cannot_be_extended():
    violation = refusal(transitions.extend, closed(proposed()), "zoe", True, timedelta(hours=24), THURSDAY_DEADLINE, CODE)
    assert violation.code == "not_open"


def test_after_an_extension_positions_are_taken_and_counted_until_the_new_deadline():
    proposal = extended(proposed(), timedelta(hours=24)).proposal  # new deadline Fri 6 March 09:00
    assert refusal(transitions.close_round, proposal, 5, THURSDAY_DEADLINE, CODE).code == "deadline_ahead"
    proposal = vote(proposal, "bob", Position.BLOCK, ARGUMENT, at=paris(2026, 3, 6, 8))
    assert closed(proposal).state is State.POSTPONED


def test_extensions_add_up():
    # +24h then +24h from Thu 5 March 09:00 = Mon 9 March 09:00, the same as +48h at once.
    once = extended(proposed(), timedelta(hours=24)).proposal
    twice = extended(once, timedelta(hours=24)).proposal
    assert twice.current_round.deadline == paris(2026, 3, 9, 9)
