"""Rule 8 — The proposer or a facilitator may withdraw an open proposal (or one postponed between rounds);
nobody may withdraw a decided one."""

from datetime import timedelta

from bot.engine import transitions
from bot.engine.model import Action, Position, State

from .support import CODE, MONDAY_MORNING, PROPOSER, blocked, closed, majority_round, proposed, refusal, vote

AN_HOUR_LATER = MONDAY_MORNING + timedelta(hours=1)


def test_the_proposer_may_withdraw_an_open_proposal():
    step = transitions.withdraw_proposal(proposed(), PROPOSER, False, AN_HOUR_LATER)
    assert step.proposal.state is State.WITHDRAWN
    assert [(c.action, c.member, c.at, c.round) for c in step.changes] == [
        (Action.WITHDRAWN, PROPOSER, AN_HOUR_LATER, 1)
    ]


def test_a_facilitator_may_withdraw_an_open_proposal():
    assert transitions.withdraw_proposal(proposed(), "zoe", True, AN_HOUR_LATER).proposal.state is State.WITHDRAWN


def test_a_postponed_proposal_may_be_withdrawn_between_rounds():
    assert transitions.withdraw_proposal(blocked(proposed()), PROPOSER, False, AN_HOUR_LATER).proposal.state is State.WITHDRAWN


def test_another_member_may_not_withdraw_the_proposal():
    violation = refusal(transitions.withdraw_proposal, proposed(), "bob", False, AN_HOUR_LATER)
    assert violation.code == "proposer_or_facilitator"


def test_a_decided_or_withdrawn_proposal_cannot_be_withdrawn():
    adopted = closed(proposed())
    rejected = closed(majority_round())
    withdrawn = transitions.withdraw_proposal(proposed(), PROPOSER, False, AN_HOUR_LATER).proposal
    for proposal in (adopted, rejected, withdrawn):
        violation = refusal(transitions.withdraw_proposal, proposal, PROPOSER, True, AN_HOUR_LATER)
        assert violation.code == "not_undecided"


def test_a_withdrawn_proposal_takes_no_more_positions_and_never_closes():
    withdrawn = transitions.withdraw_proposal(proposed(), PROPOSER, False, AN_HOUR_LATER).proposal
    assert refusal(transitions.take_position, withdrawn, "bob", Position.AGREE, "", AN_HOUR_LATER).code == "not_open"
    deadline = withdrawn.current_round.deadline
    assert refusal(transitions.close_round, withdrawn, 5, deadline, CODE).code == "not_open"


def test_withdrawing_keeps_the_positions_already_taken():
    proposal = vote(proposed(), "bob", Position.AGREE)
    withdrawn = transitions.withdraw_proposal(proposal, PROPOSER, False, AN_HOUR_LATER).proposal
    assert withdrawn.current_round.stance_of("bob").position is Position.AGREE
