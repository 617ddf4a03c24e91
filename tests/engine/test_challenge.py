"""Rule 6 — Challenge: a consent decision "can be called into question at any time, in whole or in part".
A challenge is a proposal to change the decision — repeal it, or give it or one of its parts a new text —
which must itself obtain consent: its own number, ballot, rounds, blocks, escalation and lock. The decision
stays in force while it is not decided; if it is adopted, the decision is repealed or amended (every
version kept); if it is postponed, rejected or withdrawn, the decision is unchanged."""

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
NEW_TEXT = "We repaint the hall blue."


def adopted():
    proposal = closed(proposed())
    assert proposal.state is State.ADOPTED
    return proposal


def challenge(decision, reason="The colour clashes with the stage.", text="", part="", by="bob", at=LATER):
    """bob challenges the decision: the challenge (#2) and the decision as it stands meanwhile."""
    made, noted = transitions.challenge(decision, 2, by, reason, text, part, at, CODE)
    return made.proposal, noted.proposal


def test_a_challenge_is_a_new_proposal_with_its_own_number_and_consent_round():
    made, noted = transitions.challenge(adopted(), 2, "bob", "  The colour clashes with the stage.  ", "", "",
                                        LATER, CODE)
    challenge_ = made.proposal
    assert (challenge_.number, challenge_.title, challenge_.proposer) == (2, "The colour clashes with the stage.",
                                                                          "bob")
    assert (challenge_.challenges, challenge_.part, challenge_.state) == (1, "", State.OPEN)
    round_ = challenge_.current_round
    assert (round_.number, round_.rule, round_.opened_at) == (1, Rule.CONSENT, LATER)
    # Mon 14 September 2026 10:00 + 72 working hours = Thu 17 September 10:00.
    assert round_.deadline == paris(2026, 9, 17, 10)
    assert [c.action for c in made.changes] == [Action.PROPOSED]
    [note] = noted.changes
    assert (note.action, note.member, note.detail) == (Action.CHALLENGED, "bob", "2")


def test_the_decision_stays_adopted_and_in_force_while_its_challenge_is_not_decided():
    challenge_, decision = challenge(adopted())
    assert decision.state is State.ADOPTED and decision.challenged_by == (2,)
    # Open, then postponed (a whole challenge without a new text: adopted, it would repeal): nothing changes,
    # and the decision is still challenged by #2, which may have a next round.
    postponed = closed(vote(challenge_, "carol", Position.BLOCK, ARGUMENT))
    assert postponed.state is State.POSTPONED
    for undecided in (challenge_, postponed):
        step = transitions.revise(decision, undecided, LATER + timedelta(days=4))
        kept = step.proposal
        assert step.changes == ()
        assert (kept.state, kept.repealed_by, kept.amended_by) == (State.ADOPTED, None, ())
        assert (kept.text, kept.versions) == ("We repaint the hall green.", ("We repaint the hall green.",))
        assert kept.challenged_by == (2,)


def challenge_rejected_by_majority(decision, text=""):
    """bob's challenge (#2) blocked twice, then rejected in its majority round: 1 agree, 1 disagree."""
    challenge_, decision = challenge(decision, text=text)
    twice = blocked(next_round(blocked(challenge_), by="bob"))
    majority = next_round(twice, by="bob")
    assert majority.current_round.rule is Rule.MAJORITY
    rejected = closed(vote(vote(majority, "bob", Position.AGREE), "carol", Position.DISAGREE))
    assert rejected.state is State.REJECTED
    return rejected, decision


def test_a_challenge_rejected_by_majority_leaves_the_decision_unchanged_and_no_longer_challenged():
    for text in ("", NEW_TEXT):  # it would have repealed the decision, or given it a new text
        rejected, decision = challenge_rejected_by_majority(adopted(), text)
        step = transitions.revise(decision, rejected, rejected.current_round.deadline)
        kept = step.proposal
        assert step.changes == ()
        assert (kept.state, kept.repealed_by, kept.amended_by) == (State.ADOPTED, None, ())
        assert kept.versions == ("We repaint the hall green.",) and kept.challenged_by == ()


def test_a_challenge_of_the_whole_without_a_new_text_repeals_the_decision_once_adopted():
    challenge_, decision = challenge(adopted())
    step = transitions.revise(decision, closed(challenge_), LATER + timedelta(days=4))
    assert (step.proposal.state, step.proposal.repealed_by, step.proposal.challenged_by) == (State.REPEALED, 2, ())
    assert [(c.action, c.detail) for c in step.changes] == [(Action.REPEALED, "2")]


def test_a_challenge_with_a_new_text_amends_the_decision_and_keeps_every_version():
    challenge_, decision = challenge(adopted(), text=NEW_TEXT)
    step = transitions.revise(decision, closed(challenge_), LATER + timedelta(days=4))
    amended = step.proposal
    assert (amended.state, amended.amended_by, amended.text) == (State.ADOPTED, (2,), NEW_TEXT)
    assert amended.versions == ("We repaint the hall green.", NEW_TEXT)
    assert [(c.action, c.detail) for c in step.changes] == [(Action.REVISED, "2")]


def test_a_challenge_of_a_part_adds_the_new_text_of_that_part_to_the_decision():
    challenge_, decision = challenge(adopted(), text="In blue, not green.", part="the colour")
    assert challenge_.part == "the colour"
    amended = transitions.revise(decision, closed(challenge_), LATER + timedelta(days=4)).proposal
    assert amended.text == "We repaint the hall green.\n\n[#2] the colour: In blue, not green."
    assert amended.versions[0] == "We repaint the hall green."


def test_a_challenge_of_a_part_without_text_repeals_only_that_part():
    challenge_, decision = challenge(adopted(), part="the colour")
    amended = transitions.revise(decision, closed(challenge_), LATER + timedelta(days=4)).proposal
    assert amended.state is State.ADOPTED and amended.text.endswith("[#2] the colour: —")


def test_several_challenges_may_be_open_at_once_and_each_is_decided_on_its_own():
    first, decision = challenge(adopted())
    second, decision = transitions.challenge(decision, 3, "carol", "Too costly.", NEW_TEXT, "", LATER, CODE)
    second, decision = second.proposal, decision.proposal
    assert decision.challenged_by == (2, 3)
    decision = transitions.revise(decision, closed(second), LATER + timedelta(days=4)).proposal
    assert (decision.text, decision.challenged_by) == (NEW_TEXT, (2,))
    # The first is adopted later: the whole is repealed.
    assert transitions.revise(decision, closed(first), LATER + timedelta(days=5)).proposal.state is State.REPEALED


def test_a_challenge_adopted_after_the_decision_was_repealed_changes_nothing_more():
    first, decision = challenge(adopted())
    repealed = transitions.revise(decision, closed(first), LATER + timedelta(days=4)).proposal
    late = transitions.revise(repealed, closed(first), LATER + timedelta(days=5))
    assert late.changes == () and late.proposal.state is State.REPEALED


def test_a_challenge_is_blocked_escalated_and_decided_by_majority_like_any_proposal():
    challenge_, _ = challenge(adopted())
    twice = blocked(next_round(blocked(challenge_), by="bob"))
    assert next_round(twice, by="bob").current_round.rule is Rule.MAJORITY


def test_the_proposer_may_challenge_too_right_after_the_adoption():
    challenge_, _ = challenge(adopted(), by=PROPOSER, at=THURSDAY_DEADLINE)
    assert challenge_.proposer == PROPOSER


def test_a_challenge_without_a_reason_is_refused():
    for reason in ("", "   \n"):
        violation = refusal(transitions.challenge, adopted(), 2, "bob", reason, "", "", LATER, CODE)
        assert violation.code == "reason_required"


def test_only_an_adopted_decision_may_be_challenged():
    open_ = proposed()
    postponed = blocked(proposed())
    withdrawn = transitions.withdraw_proposal(proposed(), PROPOSER, False, THURSDAY_DEADLINE).proposal
    repealed = transitions.revise(challenge(adopted())[1], closed(challenge(adopted())[0]), LATER).proposal
    for proposal in (open_, postponed, withdrawn, repealed):
        violation = refusal(transitions.challenge, proposal, 2, "bob", "Why not.", "", "", LATER, CODE)
        assert violation.code == "not_adopted"
        assert violation.params["state"] is proposal.state


def test_a_rejected_proposal_cannot_be_challenged():
    rejected = closed(majority_round())
    assert rejected.state is State.REJECTED
    violation = refusal(transitions.challenge, rejected, 2, "bob", "Why not.", "", "", LATER + timedelta(days=365),
                        CODE)
    assert violation.code == "not_adopted"


def test_an_adopted_decision_can_never_be_withdrawn():
    violation = refusal(transitions.withdraw_proposal, adopted(), PROPOSER, True, LATER)
    assert violation.code == "not_undecided"


def test_the_author_of_a_challenge_may_withdraw_it_and_the_decision_is_unchanged():
    challenge_, decision = challenge(adopted())
    withdrawn = transitions.withdraw_proposal(challenge_, "bob", False, LATER + timedelta(hours=1)).proposal
    assert withdrawn.state is State.WITHDRAWN and decision.state is State.ADOPTED
    kept = transitions.revise(decision, withdrawn, LATER + timedelta(hours=1)).proposal
    assert (kept.state, kept.versions, kept.challenged_by) == (State.ADOPTED, ("We repaint the hall green.",), ())


def test_a_decision_adopted_after_blocked_rounds_may_be_challenged_as_well():
    decision = closed(next_round(blocked(proposed())))
    assert challenge(decision)[0].challenges == 1
