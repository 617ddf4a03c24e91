"""Rule 3b — Time to answer: members have at least 72 h ("at the end of the time proposed"): a proposer may
give them longer than the minimum, never less; every round of the proposal lasts that long."""

from datetime import timedelta

from bot.engine import transitions
from bot.engine.calendar import working_deadline

from .support import CODE, MONDAY_MORNING, THURSDAY_DEADLINE, blocked, next_round, refusal


def test_without_a_duration_a_round_lasts_the_minimum():
    proposal = transitions.propose(1, "Paint", "", "alice", MONDAY_MORNING, CODE).proposal
    assert proposal.current_round.deadline == THURSDAY_DEADLINE and proposal.duration is None


def test_a_proposer_may_give_members_longer_than_the_minimum_in_working_time():
    proposal = transitions.propose(1, "Paint", "", "alice", MONDAY_MORNING, CODE, timedelta(days=10)).proposal
    assert proposal.duration == timedelta(days=10)
    assert proposal.current_round.deadline == working_deadline(MONDAY_MORNING, timedelta(days=10), CODE.calendar)
    assert proposal.current_round.deadline > THURSDAY_DEADLINE + timedelta(days=7)


def test_never_shorter_than_the_minimum():
    violation = refusal(transitions.propose, 1, "Paint", "", "alice", MONDAY_MORNING, CODE, timedelta(hours=71))
    assert violation.code == "duration_too_short" and violation.params == {"minimum": CODE.minimum_duration}
    exactly = transitions.propose(1, "Paint", "", "alice", MONDAY_MORNING, CODE, timedelta(hours=72)).proposal
    assert exactly.current_round.deadline == THURSDAY_DEADLINE


def test_every_round_of_the_proposal_lasts_the_time_proposed():
    proposal = transitions.propose(1, "Paint", "", "alice", MONDAY_MORNING, CODE, timedelta(days=5)).proposal
    second = next_round(blocked(proposal)).current_round
    assert second.deadline == working_deadline(second.opened_at, timedelta(days=5), CODE.calendar)
