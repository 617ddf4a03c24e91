"""Rule 4 — Outcome at the deadline: no valid block -> adopted by consent, even with zero votes
(optional quorum, default off); a valid block -> postponed, with the blockers and their arguments."""

from dataclasses import replace
from datetime import timedelta
from fractions import Fraction

from bot.engine import transitions
from bot.engine.model import Action, Position, Reason, Rule, SocialCode, Stance, State

from .support import ARGUMENT, CODE, THURSDAY_DEADLINE, closed, proposed, refusal, vote

HALF_QUORUM = SocialCode(quorum=Fraction(1, 2))


def test_silence_is_consent_even_with_zero_votes():
    proposal = closed(proposed(), members=12)
    outcome = proposal.current_round.outcome
    assert proposal.state is State.ADOPTED
    assert outcome.reason is Reason.NO_VALID_BLOCK
    assert outcome.tally.answered == 0
    assert outcome.members == 12


def test_agreements_abstentions_and_disagreements_without_a_block_adopt():
    proposal = proposed()
    proposal = vote(proposal, "bob", Position.DISAGREE, "I do not like it at all.")
    proposal = vote(proposal, "carol", Position.DISAGREE)
    proposal = vote(proposal, "dan", Position.ABSTAIN)
    assert closed(proposal).state is State.ADOPTED


def test_a_single_valid_block_postpones_whatever_the_agreements():
    proposal = proposed()
    for member in ("carol", "dan", "erin", "frank"):
        proposal = vote(proposal, member, Position.AGREE)
    proposal = closed(vote(proposal, "bob", Position.BLOCK, ARGUMENT))
    outcome = proposal.current_round.outcome
    assert proposal.state is State.POSTPONED
    assert outcome.reason is Reason.VALID_BLOCK
    assert (outcome.tally.agree, outcome.tally.block) == (4, 1)
    assert proposal.current_round.stance_of("bob").argument == ARGUMENT


def test_the_outcome_records_when_it_closed_and_whether_the_bot_was_offline():
    late = THURSDAY_DEADLINE + timedelta(hours=5)
    step = transitions.close_round(proposed(), 5, late, CODE, offline=True)
    outcome = step.proposal.current_round.outcome
    assert (outcome.closed_at, outcome.offline) == (late, True)
    assert [(c.action, c.member, c.at, c.round, c.detail) for c in step.changes] == [
        (Action.ROUND_CLOSED, None, late, 1, State.ADOPTED)
    ]


def test_closing_before_the_deadline_is_refused():
    violation = refusal(transitions.close_round, proposed(), 5, THURSDAY_DEADLINE - timedelta(seconds=1), CODE)
    assert violation.code == "deadline_ahead"
    assert violation.params["deadline"] == THURSDAY_DEADLINE


def test_closing_exactly_at_the_deadline_is_allowed():
    assert closed(proposed(), at=THURSDAY_DEADLINE).current_round.outcome.closed_at == THURSDAY_DEADLINE


def test_a_closed_round_cannot_be_closed_again():
    violation = refusal(transitions.close_round, closed(proposed()), 5, THURSDAY_DEADLINE + timedelta(days=1), CODE)
    assert violation.code == "not_open"


def test_a_position_taken_exactly_at_the_deadline_counts():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT, at=THURSDAY_DEADLINE)
    assert closed(proposal).state is State.POSTPONED


def test_positions_stamped_after_the_deadline_are_not_counted_even_when_closing_late():
    # take_position refuses them, but a round closed late (the bot was down) must still ignore any
    # position whose time is after the deadline.
    proposal = vote(proposed(), "carol", Position.AGREE)
    round_ = proposal.current_round
    late_block = Stance("bob", Position.BLOCK, THURSDAY_DEADLINE + timedelta(seconds=1), ARGUMENT)
    proposal = replace(proposal, rounds=(replace(round_, stances=round_.stances + (late_block,)),))
    step = transitions.close_round(proposal, 5, THURSDAY_DEADLINE + timedelta(hours=3), CODE, offline=True)
    outcome = step.proposal.current_round.outcome
    assert (outcome.state, outcome.reason) == (State.ADOPTED, Reason.NO_VALID_BLOCK)
    assert outcome.tally.as_dict() == {"agree": 1, "abstain": 0, "disagree": 0, "block": 0, "unargued_block": 0}


def test_without_a_quorum_setting_a_single_answer_among_many_members_decides():
    assert CODE.quorum == 0
    proposal = closed(vote(proposed(), "bob", Position.AGREE), members=100)
    assert proposal.state is State.ADOPTED


def test_below_the_quorum_the_round_is_postponed_for_lack_of_quorum():
    # 1 answer out of 4 members = 1/4 < 1/2.
    proposal = vote(proposed(code=HALF_QUORUM), "bob", Position.AGREE)
    proposal = closed(proposal, members=4, code=HALF_QUORUM)
    outcome = proposal.current_round.outcome
    assert (proposal.state, outcome.reason) == (State.POSTPONED, Reason.NO_QUORUM)


def test_exactly_at_the_quorum_consent_decides():
    # 2 answers out of 4 members = 1/2: quorum reached; an abstention counts as an answer.
    proposal = vote(proposed(code=HALF_QUORUM), "bob", Position.AGREE)
    proposal = vote(proposal, "carol", Position.ABSTAIN)
    proposal = closed(proposal, members=4, code=HALF_QUORUM)
    assert (proposal.state, proposal.current_round.outcome.reason) == (State.ADOPTED, Reason.NO_VALID_BLOCK)


def test_with_a_quorum_zero_votes_is_no_longer_consent():
    proposal = closed(proposed(code=HALF_QUORUM), members=4, code=HALF_QUORUM)
    assert proposal.current_round.outcome.reason is Reason.NO_QUORUM


def test_a_quorum_reached_with_a_valid_block_is_postponed_by_the_block():
    proposal = vote(proposed(code=HALF_QUORUM), "bob", Position.BLOCK, ARGUMENT)
    proposal = vote(proposal, "carol", Position.AGREE)
    proposal = closed(proposal, members=4, code=HALF_QUORUM)
    assert (proposal.state, proposal.current_round.outcome.reason) == (State.POSTPONED, Reason.VALID_BLOCK)


def test_the_first_round_is_a_consent_round():
    assert proposed().current_round.rule is Rule.CONSENT
