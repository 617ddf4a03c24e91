"""Rule 6 — Challenge: any member may challenge an adopted consent decision at any time, with a reason,
in whole or naming the part: this opens a new consent round on it; its status shows it is challenged."""

from datetime import timedelta

from bot.engine import transitions
from bot.engine.model import Action, Position, Rule, State

from .support import (
    ARGUMENT,
    CODE,
    PROPOSER,
    THURSDAY_DEADLINE,
    blocked,
    closed,
    majority_round,
    next_round,
    paris,
    proposed,
    refusal,
    vote,
)

LATER = paris(2026, 9, 14, 10)  # Monday 14 September 2026, months after the adoption


def adopted():
    proposal = closed(proposed())
    assert proposal.state is State.ADOPTED
    return proposal


def test_any_member_may_challenge_an_adopted_decision_as_a_whole_which_opens_a_new_consent_round():
    step = transitions.challenge(adopted(), "bob", "  The colour clashes with the stage.  ", "", LATER, CODE)
    proposal = step.proposal
    assert proposal.state is State.OPEN
    assert [r.number for r in proposal.rounds] == [1, 2]
    round_ = proposal.current_round
    assert (round_.rule, round_.opened_at, round_.stances) == (Rule.CONSENT, LATER, ())
    # Mon 14 September 2026 10:00 + 72 working hours = Thu 17 September 10:00.
    assert round_.deadline == paris(2026, 9, 17, 10)
    assert round_.version == 1
    assert proposal.challenge is not None
    assert (proposal.challenge.member, proposal.challenge.reason, proposal.challenge.part, proposal.challenge.at) == (
        "bob", "The colour clashes with the stage.", "", LATER,
    )
    assert [(c.action, c.member, c.round) for c in step.changes] == [
        (Action.CHALLENGED, "bob", 2),
        (Action.ROUND_OPENED, "bob", 2),
    ]
    assert step.changes[0].argument == "The colour clashes with the stage."


def test_a_challenge_may_name_the_part_it_contests():
    proposal = transitions.challenge(adopted(), "bob", "Too expensive.", " paragraph 2 ", LATER, CODE).proposal
    assert proposal.challenge.part == "paragraph 2"


def test_the_proposer_may_challenge_too_right_after_the_adoption():
    step = transitions.challenge(adopted(), PROPOSER, "I changed my mind.", "", THURSDAY_DEADLINE, CODE)
    assert step.proposal.challenge.member == PROPOSER


def test_a_challenge_without_a_reason_is_refused():
    for reason in ("", "   \n"):
        assert refusal(transitions.challenge, adopted(), "bob", reason, "", LATER, CODE).code == "reason_required"


def test_only_an_adopted_decision_may_be_challenged():
    open_ = proposed()
    postponed = blocked(proposed())
    withdrawn = transitions.withdraw_proposal(proposed(), PROPOSER, False, THURSDAY_DEADLINE).proposal
    for proposal in (open_, postponed, withdrawn):
        violation = refusal(transitions.challenge, proposal, "bob", "Why not.", "", LATER, CODE)
        assert violation.code == "not_adopted"
        assert violation.params["state"] is proposal.state


def test_a_rejected_proposal_cannot_be_challenged():
    rejected = closed(majority_round())
    assert rejected.state is State.REJECTED
    violation = refusal(transitions.challenge, rejected, "bob", "Why not.", "", LATER + timedelta(days=365), CODE)
    assert violation.code == "not_adopted"


def test_a_challenge_round_is_an_ordinary_consent_round():
    challenged = transitions.challenge(adopted(), "bob", "Clashes with the stage.", "", LATER, CODE).proposal
    blocked_ = closed(vote(challenged, "bob", Position.BLOCK, ARGUMENT))
    assert blocked_.state is State.POSTPONED
    assert blocked_.challenge is not None  # still shown as challenged
    confirmed = closed(vote(challenged, "carol", Position.AGREE))
    assert confirmed.state is State.ADOPTED


def test_a_challenged_decision_confirmed_by_consent_is_no_longer_shown_as_challenged():
    challenged = transitions.challenge(adopted(), "bob", "Clashes with the stage.", "", LATER, CODE).proposal
    assert closed(challenged).challenge is None


def test_a_decision_adopted_after_blocked_rounds_may_be_challenged_as_well():
    proposal = closed(next_round(blocked(proposed())))
    assert transitions.challenge(proposal, "bob", "Still wrong.", "", LATER, CODE).proposal.current_round.number == 3
