"""Rule 5 — Rounds: after a postponed round, a facilitator or the proposer may open the next round, with
amended text if they wish (versions kept), no earlier than days_between_rounds (default 7d) after the
previous round opened. After blocked_rounds_before_majority (default 2) blocked rounds the next round is
decided by majority — or, if a facilitator chooses, by consent again."""

from datetime import timedelta, timezone
from fractions import Fraction

from bot.engine import transitions
from bot.engine.model import Action, Position, Reason, Rule, SocialCode, State

from .support import (
    ARGUMENT,
    CODE,
    MONDAY_MORNING,
    PROPOSER,
    blocked,
    closed,
    next_round,
    paris,
    proposed,
    refusal,
    vote,
)

# Round 1: Mon 2 March 2026 09:00 -> Thu 5 March 09:00. The next round may open from Mon 9 March 09:00.
ONE_WEEK_LATER = paris(2026, 3, 9, 9)


def test_the_proposer_may_open_the_next_round_after_a_postponed_round():
    step = transitions.open_next_round(blocked(proposed()), PROPOSER, False, ONE_WEEK_LATER, CODE)
    proposal = step.proposal
    assert proposal.state is State.OPEN
    assert [r.number for r in proposal.rounds] == [1, 2]
    # Round 2, Mon 9 March 09:00 + 72 working hours = Thu 12 March 09:00.
    assert (proposal.current_round.opened_at, proposal.current_round.deadline) == (ONE_WEEK_LATER, paris(2026, 3, 12, 9))
    assert proposal.rounds[0].outcome.state is State.POSTPONED
    assert [(c.action, c.member, c.round, c.detail) for c in step.changes] == [
        (Action.ROUND_OPENED, PROPOSER, 2, Rule.CONSENT)
    ]


def test_a_facilitator_may_open_the_next_round():
    proposal = next_round(blocked(proposed()), by="zoe", is_facilitator=True)
    assert (proposal.state, proposal.current_round.number) == (State.OPEN, 2)


def test_another_member_may_not_open_the_next_round():
    violation = refusal(transitions.open_next_round, blocked(proposed()), "bob", False, ONE_WEEK_LATER, CODE)
    assert violation.code == "proposer_or_facilitator"


def test_the_next_round_may_not_open_before_a_week_after_the_previous_round_opened():
    violation = refusal(
        transitions.open_next_round, blocked(proposed()), PROPOSER, False, ONE_WEEK_LATER - timedelta(minutes=1), CODE
    )
    assert violation.code == "too_early"
    assert violation.params["earliest"] == ONE_WEEK_LATER


def test_the_week_is_counted_from_the_previous_opening_not_from_its_close():
    # Closed late, on Sunday 8 March: the next round may still open on Monday 9 March 09:00.
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    proposal = closed(proposal, at=paris(2026, 3, 8, 20))
    assert next_round(proposal, at=ONE_WEEK_LATER).current_round.opened_at == ONE_WEEK_LATER


def test_days_between_rounds_is_configurable():
    code = SocialCode(days_between_rounds=timedelta(days=3))
    proposal = blocked(proposed(code=code), code=code)
    # Thu 5 March 09:00 = opening + 3 days: allowed; a minute earlier: refused.
    assert next_round(proposal, code=code, at=paris(2026, 3, 5, 9)).current_round.number == 2
    violation = refusal(
        transitions.open_next_round, proposal, PROPOSER, False, paris(2026, 3, 5, 8, 59), code
    )
    assert violation.params["earliest"] == paris(2026, 3, 5, 9)


def test_no_next_round_while_the_round_is_open_or_once_adopted_or_withdrawn():
    open_ = proposed()
    adopted = closed(proposed())
    withdrawn = transitions.withdraw_proposal(proposed(), PROPOSER, False, MONDAY_MORNING).proposal
    for proposal in (open_, adopted, withdrawn):
        violation = refusal(transitions.open_next_round, proposal, PROPOSER, True, ONE_WEEK_LATER, CODE)
        assert violation.code == "no_next_round"


def test_the_next_round_may_carry_amended_text_and_every_version_is_kept():
    first = blocked(proposed(text="We repaint the hall green."))
    step = transitions.open_next_round(
        first, PROPOSER, False, ONE_WEEK_LATER, CODE, text="  We repaint the hall light blue.  "
    )
    second = step.proposal
    assert second.versions == ("We repaint the hall green.", "We repaint the hall light blue.")
    assert [r.version for r in second.rounds] == [1, 2]
    assert second.text == "We repaint the hall light blue."
    assert second.versions[second.rounds[0].version - 1] == "We repaint the hall green."
    assert [(c.action, c.round, c.detail) for c in step.changes] == [
        (Action.AMENDED, 2, "We repaint the hall light blue."),
        (Action.ROUND_OPENED, 2, Rule.CONSENT),
    ]


def test_a_next_round_without_new_text_votes_on_the_same_version():
    second = next_round(blocked(proposed()))
    assert second.versions == ("We repaint the hall green.",)
    assert second.current_round.version == 1


def test_between_rounds_the_proposer_may_amend_and_the_next_round_votes_on_the_latest_version():
    first = blocked(proposed())
    amended = transitions.amend(first, PROPOSER, False, "We repaint the hall white.", paris(2026, 3, 6)).proposal
    assert amended.versions == ("We repaint the hall green.", "We repaint the hall white.")
    assert amended.text == "We repaint the hall green."  # the closed round voted on version 1
    assert amended.versions[-1] == "We repaint the hall white."
    second = next_round(amended)
    assert (second.current_round.version, second.text) == (2, "We repaint the hall white.")


def test_amending_is_for_the_proposer_or_a_facilitator_between_rounds_with_some_text():
    first = blocked(proposed())
    assert refusal(transitions.amend, first, "bob", False, "Mine.", paris(2026, 3, 6)).code == "proposer_or_facilitator"
    assert refusal(transitions.amend, first, PROPOSER, False, "   ", paris(2026, 3, 6)).code == "empty_text"
    assert refusal(transitions.amend, proposed(), PROPOSER, False, "New.", MONDAY_MORNING).code == "amend_between_rounds"
    assert transitions.amend(first, "zoe", True, "Theirs.", paris(2026, 3, 6)).proposal.versions[-1] == "Theirs."


def test_after_one_blocked_round_the_next_round_is_still_by_consent():
    assert next_round(blocked(proposed())).current_round.rule is Rule.CONSENT


def test_after_two_blocked_rounds_the_next_round_is_by_majority():
    proposal = blocked(next_round(blocked(proposed())))
    assert [r.outcome.reason for r in proposal.rounds] == [Reason.VALID_BLOCK, Reason.VALID_BLOCK]
    step = transitions.open_next_round(proposal, PROPOSER, False, paris(2026, 3, 16, 9), CODE)
    assert step.proposal.current_round.rule is Rule.MAJORITY
    assert step.changes[-1].detail == Rule.MAJORITY


def test_the_number_of_blocked_rounds_before_majority_is_configurable():
    code = SocialCode(blocked_rounds_before_majority=1)
    assert next_round(blocked(proposed(code=code), code=code), code=code).current_round.rule is Rule.MAJORITY


def test_a_facilitator_may_open_a_consent_round_instead_of_a_majority_round():
    twice_blocked = blocked(next_round(blocked(proposed())))
    third = next_round(twice_blocked, by="zoe", is_facilitator=True, consent_instead=True)
    assert third.current_round.rule is Rule.CONSENT
    # A facilitator who happens to be the proposer may too.
    assert next_round(twice_blocked, is_facilitator=True, consent_instead=True).current_round.rule is Rule.CONSENT


def test_a_member_who_is_not_a_facilitator_may_not_choose_consent_instead_not_even_the_proposer():
    twice_blocked = blocked(next_round(blocked(proposed())))
    violation = refusal(
        transitions.open_next_round, twice_blocked, PROPOSER, False, paris(2026, 3, 16, 9), CODE, consent_instead=True
    )
    assert violation.code == "facilitator_only"


def test_a_consent_round_chosen_instead_and_blocked_again_leads_to_majority_again():
    twice_blocked = blocked(next_round(blocked(proposed())))
    third = blocked(next_round(twice_blocked, by="zoe", is_facilitator=True, consent_instead=True))
    assert next_round(third).current_round.rule is Rule.MAJORITY


QUORUM = SocialCode(quorum=Fraction(1, 2))


def blocked_with_quorum(proposal):
    """Two of four members answer, one with an argued block: the quorum is met, the round is blocked."""
    proposal = vote(vote(proposal, "bob", Position.BLOCK, ARGUMENT), "carol", Position.AGREE)
    return closed(proposal, members=4, code=QUORUM)


def test_a_round_postponed_for_want_of_quorum_neither_counts_as_blocked_nor_resets_the_count():
    proposal = blocked_with_quorum(proposed(code=QUORUM))
    proposal = closed(next_round(proposal, code=QUORUM), members=4, code=QUORUM)  # nobody answered
    assert [r.outcome.reason for r in proposal.rounds] == [Reason.VALID_BLOCK, Reason.NO_QUORUM]
    assert next_round(proposal, code=QUORUM).current_round.rule is Rule.CONSENT  # one blocked round so far
    proposal = blocked_with_quorum(next_round(proposal, code=QUORUM))
    # blocked, no quorum, blocked: two blocked rounds, the next one is by majority.
    assert next_round(proposal, code=QUORUM).current_round.rule is Rule.MAJORITY


def test_a_majority_round_that_fails_its_quorum_is_run_again_by_majority():
    proposal = blocked_with_quorum(next_round(blocked_with_quorum(proposed(code=QUORUM)), code=QUORUM))
    third = next_round(proposal, code=QUORUM)
    assert third.current_round.rule is Rule.MAJORITY
    failed = closed(third, members=4, code=QUORUM)  # nobody voted
    assert failed.current_round.outcome.reason is Reason.NO_QUORUM and failed.state is State.POSTPONED
    assert next_round(failed, code=QUORUM).current_round.rule is Rule.MAJORITY


def test_a_round_adopted_after_blocked_rounds_ends_the_proposal_as_adopted():
    second = closed(next_round(blocked(proposed())))
    assert second.state is State.ADOPTED
    assert [r.outcome.state for r in second.rounds] == [State.POSTPONED, State.ADOPTED]


def test_a_week_between_rounds_is_counted_on_the_wall_clock_across_the_dst_change():
    # Round 1 opens Mon 23 March 2026 09:00 CET; clocks go forward on Sun 29 March. A week later is
    # Mon 30 March 09:00 CEST — only 167 real hours later, not 10:00 — whatever zone the clock writes in.
    code = CODE
    proposal = blocked(proposed(at=paris(2026, 3, 23, 9).astimezone(timezone.utc)))  # 08:00 UTC
    violation = refusal(transitions.open_next_round, proposal, PROPOSER, False, paris(2026, 3, 30, 8, 59), code)
    assert violation.params["earliest"] == paris(2026, 3, 30, 9)
    assert next_round(proposal, at=paris(2026, 3, 30, 9)).current_round.number == 2
