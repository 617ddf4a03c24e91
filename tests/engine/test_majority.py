"""Rule 5 — Majority round: adopted if agree >= 2/3 x (agree + disagree + block); abstentions are not
counted; otherwise rejected. Every block counts against, argued or not."""

from fractions import Fraction

import pytest

from bot.engine.model import Position, Reason, Rule, SocialCode, Stance, State, Tally
from bot.engine.rules import majority_outcome, owing_argument, tally

from .support import ARGUMENT, CODE, MONDAY_MORNING, closed, majority_round, vote

ADOPTED = (State.ADOPTED, Reason.MAJORITY_REACHED)
REJECTED = (State.REJECTED, Reason.MAJORITY_MISSED)


@pytest.mark.parametrize(
    ("tally", "expected"),
    [
        # exactly 2/3: 2 >= 2/3 x 3 = 2
        (Tally(agree=2, disagree=1), ADOPTED),
        # exactly 2/3: 4 >= 2/3 x 6 = 4
        (Tally(agree=4, block=2), ADOPTED),
        # exactly 2/3: 6 >= 2/3 x 9 = 6
        (Tally(agree=6, disagree=2, block=1), ADOPTED),
        # just below: 3 < 2/3 x 5 = 3.33
        (Tally(agree=3, disagree=2), REJECTED),
        # just below: 5 < 2/3 x 8 = 5.33
        (Tally(agree=5, disagree=3), REJECTED),
        # just below: 7 < 2/3 x 11 = 7.33
        (Tally(agree=7, disagree=4), REJECTED),
        # 1 < 2/3 x 2
        (Tally(agree=1, disagree=1), REJECTED),
        # unanimity
        (Tally(agree=1), ADOPTED),
        # everyone against
        (Tally(disagree=3), REJECTED),
    ],
    ids=["2-1", "4-2blocks", "6-2-1block", "3-2", "5-3", "7-4", "1-1", "1-0", "0-3"],
)
def test_adopted_at_two_thirds_of_expressed_votes_rejected_below(tally, expected):
    assert majority_outcome(tally, CODE) == expected


def test_a_tie_at_exactly_two_thirds_is_adopted():
    assert majority_outcome(Tally(agree=2, disagree=1), CODE) == ADOPTED


def test_abstentions_are_not_counted():
    # 2 agree, 1 disagree, 10 abstain: 2 >= 2/3 x 3 — the abstentions neither help nor hurt.
    assert majority_outcome(Tally(agree=2, disagree=1, abstain=10), CODE) == ADOPTED
    assert majority_outcome(Tally(agree=3, disagree=2, abstain=10), CODE) == REJECTED


def test_with_no_vote_expressed_there_is_no_majority():
    assert majority_outcome(Tally(), CODE) == REJECTED
    assert majority_outcome(Tally(abstain=5), CODE) == REJECTED


def test_in_a_majority_round_a_block_is_a_vote_against_argued_or_not():
    bare = Stance("dan", Position.BLOCK, MONDAY_MORNING, "")
    counted = tally((Stance("bob", Position.AGREE, MONDAY_MORNING), Stance("carol", Position.AGREE, MONDAY_MORNING),
                     Stance("erin", Position.DISAGREE, MONDAY_MORNING), bare), Rule.MAJORITY)
    assert (counted.block, counted.unargued_block) == (1, 0)
    # 2 agree, 1 disagree, 1 block: 2 < 2/3 x 4 — rejected, though 2 of 3 would pass.
    assert majority_outcome(counted, CODE) == REJECTED
    # 2 agree, 1 block without argument: 2 >= 2/3 x 3.
    assert majority_outcome(Tally(agree=2, block=1), CODE) == ADOPTED


def test_a_majority_round_asks_nobody_for_an_argument():
    proposal = vote(majority_round(), "bob", Position.BLOCK)
    assert owing_argument(proposal.current_round) == []
    assert tally(proposal.current_round.stances, Rule.MAJORITY).block == 1


def test_an_argued_block_is_no_veto_in_a_majority_round():
    # 4 agree, 1 argued block: 4 >= 2/3 x 5.
    assert majority_outcome(Tally(agree=4, block=1), CODE) == ADOPTED


def test_the_majority_is_configurable():
    simple = SocialCode(majority=Fraction(1, 2))
    assert majority_outcome(Tally(agree=1, disagree=1), simple) == ADOPTED
    assert majority_outcome(Tally(agree=1, disagree=2), simple) == REJECTED


def votes(proposal, agree=0, abstain=0, disagree=0, block=0, unargued_block=0):
    members = iter(f"member{n}" for n in range(100))
    for position, count, argument in (
        (Position.AGREE, agree, ""),
        (Position.ABSTAIN, abstain, ""),
        (Position.DISAGREE, disagree, ""),
        (Position.BLOCK, block, ARGUMENT),
        (Position.BLOCK, unargued_block, ""),
    ):
        for _ in range(count):
            proposal = vote(proposal, next(members), position, argument)
    return proposal


def test_a_majority_round_at_exactly_two_thirds_adopts_the_proposal():
    proposal = majority_round()
    assert proposal.current_round.rule is Rule.MAJORITY
    proposal = closed(votes(proposal, agree=2, disagree=1, abstain=3), members=6)
    outcome = proposal.current_round.outcome
    assert (proposal.state, outcome.reason) == ADOPTED
    assert outcome.tally.as_dict() == {"agree": 2, "abstain": 3, "disagree": 1, "block": 0, "unargued_block": 0}


def test_a_majority_round_just_below_two_thirds_rejects_the_proposal():
    proposal = closed(votes(majority_round(), agree=3, disagree=1, block=1), members=6)
    assert (proposal.state, proposal.current_round.outcome.reason) == REJECTED


def test_a_majority_round_with_only_an_argued_block_against_is_adopted():
    proposal = closed(votes(majority_round(), agree=4, block=1), members=6)
    assert proposal.state is State.ADOPTED


def test_a_majority_round_where_nobody_voted_is_rejected():
    proposal = closed(majority_round(), members=6)
    assert (proposal.state, proposal.current_round.outcome.reason) == REJECTED


def test_a_majority_round_where_unargued_blocks_tip_the_balance_is_rejected():
    proposal = closed(votes(majority_round(), agree=2, disagree=1, unargued_block=1), members=6)
    assert proposal.state is State.REJECTED
