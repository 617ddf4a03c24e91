"""Time — what the clock owes an open proposal: close it at the deadline; before it, send the nearest
reminder whose time has passed (reporting earlier ones skipped, never sending them late)."""

from datetime import timedelta

from bot.engine import transitions
from bot.engine.due import CloseRound, SendReminder, due_work, next_due_at
from bot.engine.model import Position, SocialCode
from bot.engine.rules import not_answered, owing_argument, reminder_times

from .support import CODE, MONDAY_MORNING, PROPOSER, THURSDAY_DEADLINE, blocked, closed, paris, proposed, vote

DAY, HOUR = timedelta(hours=24), timedelta(hours=1)
NOTHING_SENT = frozenset()
# Deadline Thu 5 March 2026 09:00: the 24h reminder is due Wed 4 March 09:00, the 1h one Thu 5 March 08:00.
DAY_BEFORE = paris(2026, 3, 4, 9)
HOUR_BEFORE = paris(2026, 3, 5, 8)


def test_the_reminders_fall_at_their_offsets_before_the_deadline():
    assert reminder_times(proposed().current_round, CODE) == [(DAY, DAY_BEFORE), (HOUR, HOUR_BEFORE)]


def test_nothing_is_due_before_the_first_reminder():
    assert due_work(proposed(), DAY_BEFORE - timedelta(seconds=1), CODE, NOTHING_SENT) is None


def test_the_round_is_closed_at_its_deadline():
    assert due_work(proposed(), THURSDAY_DEADLINE, CODE, NOTHING_SENT) == CloseRound(1)


def test_a_round_whose_deadline_passed_while_the_bot_was_down_is_closed_not_reminded():
    proposal = proposed(number=7)
    assert due_work(proposal, THURSDAY_DEADLINE + timedelta(days=3), CODE, NOTHING_SENT) == CloseRound(7)


def test_the_first_reminder_is_sent_at_its_time():
    assert due_work(proposed(), DAY_BEFORE, CODE, NOTHING_SENT) == SendReminder(1, DAY, ())


def test_a_reminder_already_sent_is_not_sent_again():
    assert due_work(proposed(), DAY_BEFORE + HOUR, CODE, frozenset({DAY})) is None


def test_the_second_reminder_follows_the_first():
    assert due_work(proposed(), HOUR_BEFORE, CODE, frozenset({DAY})) == SendReminder(1, HOUR, ())


def test_after_downtime_only_the_nearest_passed_reminder_is_sent_and_the_earlier_one_is_reported_skipped():
    # Back at Thu 08:30: both reminder times passed; members get the 1h reminder only.
    work = due_work(proposed(), paris(2026, 3, 5, 8, 30), CODE, NOTHING_SENT)
    assert work == SendReminder(1, HOUR, skipped=(DAY,))


def test_once_the_nearest_and_the_skipped_reminders_are_recorded_nothing_more_is_due_before_the_deadline():
    assert due_work(proposed(), paris(2026, 3, 5, 8, 59), CODE, frozenset({DAY, HOUR})) is None


def test_a_reminder_that_would_fall_before_the_round_opened_is_never_due():
    code = SocialCode(reminders=(timedelta(hours=100), HOUR))
    proposal = proposed(code=code)
    assert reminder_times(proposal.current_round, code) == [(HOUR, HOUR_BEFORE)]
    assert due_work(proposal, MONDAY_MORNING, code, NOTHING_SENT) is None
    assert next_due_at(proposal, code, NOTHING_SENT) == HOUR_BEFORE


def test_nothing_is_due_for_a_proposal_that_is_not_open_but_the_follow_up_of_a_decision():
    adopted = closed(proposed())
    postponed = blocked(proposed())
    withdrawn = transitions.withdraw_proposal(proposed(), PROPOSER, False, MONDAY_MORNING).proposal
    for proposal in (postponed, withdrawn):
        assert due_work(proposal, THURSDAY_DEADLINE + DAY, CODE, NOTHING_SENT) is None
        assert next_due_at(proposal, CODE, NOTHING_SENT) is None
    assert due_work(adopted, THURSDAY_DEADLINE + DAY, CODE, NOTHING_SENT) is None
    assert next_due_at(adopted, CODE, NOTHING_SENT) == THURSDAY_DEADLINE + timedelta(days=30)


def test_next_due_at_is_the_next_unsent_reminder_then_the_deadline():
    proposal = proposed()
    assert next_due_at(proposal, CODE, NOTHING_SENT) == DAY_BEFORE
    assert next_due_at(proposal, CODE, frozenset({DAY})) == HOUR_BEFORE
    assert next_due_at(proposal, CODE, frozenset({DAY, HOUR})) == THURSDAY_DEADLINE


def test_without_reminders_only_the_deadline_is_due():
    code = SocialCode(reminders=())
    proposal = proposed(code=code)
    assert next_due_at(proposal, code, NOTHING_SENT) == THURSDAY_DEADLINE
    assert due_work(proposal, THURSDAY_DEADLINE - timedelta(seconds=1), code, NOTHING_SENT) is None
    assert due_work(proposal, THURSDAY_DEADLINE, code, NOTHING_SENT) == CloseRound(1)


def test_an_extension_moves_the_reminders_and_the_close():
    proposal = transitions.extend(proposed(), "zoe", True, DAY, MONDAY_MORNING, CODE).proposal
    # New deadline Fri 6 March 09:00: the 24h reminder moves to Thu 5 March 09:00.
    assert due_work(proposal, THURSDAY_DEADLINE, CODE, NOTHING_SENT) == SendReminder(1, DAY, ())
    assert next_due_at(proposal, CODE, frozenset({DAY})) == paris(2026, 3, 6, 8)


def test_a_reminder_can_name_the_members_who_have_not_answered_and_those_who_owe_an_argument():
    proposal = vote(vote(proposed(), "bob", Position.AGREE), "carol", Position.BLOCK)
    members = {"alice", "bob", "carol", "dan", "erin"}
    assert not_answered(proposal.current_round, members) == ["alice", "dan", "erin"]
    assert owing_argument(proposal.current_round) == ["carol"]
