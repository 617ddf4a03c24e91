"""Rule 1 — Positions: agree, abstain, disagree, block; one per member per round; the latest counts;
a member may withdraw; every change is kept in an append-only history."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import rules, transitions
from bot.engine.model import Action, Position, Reason, State
from bot.engine.rules import tally

from .support import ARGUMENT, MONDAY_MORNING, THURSDAY_DEADLINE, blocked, closed, next_round, proposed, refusal, vote


def test_a_round_opened_on_monday_morning_ends_72_working_hours_later_on_thursday_morning():
    # Mon 2 March 09:00 -> midnight: 15h; Tue 24h (39h); Wed 24h (63h); Thu 00:00 + 9h = 72h.
    proposal = proposed()
    assert proposal.current_round.opened_at == MONDAY_MORNING
    assert proposal.current_round.deadline == THURSDAY_DEADLINE
    assert proposal.state is State.OPEN


def test_each_of_the_four_positions_is_recorded_for_its_member():
    proposal = proposed()
    proposal = vote(proposal, "bob", Position.AGREE)
    proposal = vote(proposal, "carol", Position.ABSTAIN)
    proposal = vote(proposal, "dan", Position.DISAGREE)
    proposal = vote(proposal, "erin", Position.BLOCK, ARGUMENT)
    round_ = proposal.current_round
    assert {s.member: s.position for s in round_.stances} == {
        "bob": Position.AGREE,
        "carol": Position.ABSTAIN,
        "dan": Position.DISAGREE,
        "erin": Position.BLOCK,
    }
    assert tally(round_.stances).as_dict() == {
        "agree": 1, "abstain": 1, "disagree": 1, "block": 1, "unargued_block": 0,
    }


def test_a_member_has_one_position_per_round_and_the_latest_counts():
    proposal = proposed()
    proposal = vote(proposal, "bob", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=1))
    proposal = vote(proposal, "bob", Position.ABSTAIN, at=MONDAY_MORNING + timedelta(hours=2))
    round_ = proposal.current_round
    assert [s.member for s in round_.stances] == ["bob"]
    assert round_.stance_of("bob").position is Position.ABSTAIN
    assert round_.stance_of("bob").at == MONDAY_MORNING + timedelta(hours=2)
    assert tally(round_.stances).agree == 0
    assert tally(round_.stances).abstain == 1


def test_a_vote_changed_three_times_counts_only_the_last_and_the_history_keeps_all_three():
    proposal = proposed()
    history = []
    moves = [
        (Position.BLOCK, ARGUMENT, MONDAY_MORNING + timedelta(hours=1)),
        (Position.AGREE, "", MONDAY_MORNING + timedelta(hours=2)),
        (Position.DISAGREE, "I would rather keep it white.", MONDAY_MORNING + timedelta(hours=3)),
    ]
    for position, argument, at in moves:
        step = transitions.take_position(proposal, "bob", position, argument, at)
        proposal = step.proposal
        history.extend(step.changes)

    # Who, what, when: three lines, in order, none rewritten.
    assert [(c.action, c.member, c.position, c.argument, c.at, c.round) for c in history] == [
        (Action.POSITION, "bob", Position.BLOCK, ARGUMENT, moves[0][2], 1),
        (Action.POSITION, "bob", Position.AGREE, "", moves[1][2], 1),
        (Action.POSITION, "bob", Position.DISAGREE, "I would rather keep it white.", moves[2][2], 1),
    ]
    # Only the last counts: the earlier argued block no longer blocks.
    assert tally(proposal.current_round.stances).as_dict() == {
        "agree": 0, "abstain": 0, "disagree": 1, "block": 0, "unargued_block": 0,
    }
    outcome = closed(proposal).current_round.outcome
    assert (outcome.state, outcome.reason) == (State.ADOPTED, Reason.NO_VALID_BLOCK)


def test_repeating_the_same_position_adds_no_line_to_the_history():
    proposal = vote(proposed(), "bob", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=1))
    step = transitions.take_position(proposal, "bob", Position.AGREE, "", MONDAY_MORNING + timedelta(hours=5))
    assert step.changes == ()
    assert step.proposal.current_round.stances == proposal.current_round.stances
    assert step.proposal.current_round.stance_of("bob").at == MONDAY_MORNING + timedelta(hours=1)


def test_repeating_a_disagreement_with_a_new_reason_is_a_change():
    proposal = vote(proposed(), "bob", Position.DISAGREE, "Too expensive.")
    step = transitions.take_position(proposal, "bob", Position.DISAGREE, "Too ugly.", MONDAY_MORNING + timedelta(hours=2))
    assert len(step.changes) == 1
    assert step.proposal.current_round.stance_of("bob").argument == "Too ugly."


def test_a_reason_given_with_agree_or_abstain_is_kept():
    step = transitions.take_position(proposed(), "bob", Position.AGREE, "only if the budget stays under 50 €",
                                     MONDAY_MORNING + timedelta(hours=1))
    assert step.proposal.current_round.stance_of("bob").argument == "only if the budget stays under 50 €"
    assert step.changes[0].argument == "only if the budget stays under 50 €"
    proposal = vote(step.proposal, "carol", Position.ABSTAIN, "I will be away that month")
    assert proposal.current_round.stance_of("carol").argument == "I will be away that month"


def test_a_member_may_withdraw_their_position_and_the_withdrawal_is_history():
    proposal = vote(proposed(), "bob", Position.AGREE)
    at = MONDAY_MORNING + timedelta(hours=4)
    step = transitions.withdraw_position(proposal, "bob", at)
    assert step.proposal.current_round.stance_of("bob") is None
    assert tally(step.proposal.current_round.stances).answered == 0
    assert [(c.action, c.member, c.at, c.round) for c in step.changes] == [
        (Action.POSITION_WITHDRAWN, "bob", at, 1)
    ]


def test_withdrawing_an_argued_block_lets_silence_consent_again():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    proposal = transitions.withdraw_position(proposal, "bob", MONDAY_MORNING + timedelta(hours=2)).proposal
    assert closed(proposal).state is State.ADOPTED


def test_withdrawing_a_position_one_never_took_is_refused():
    violation = refusal(transitions.withdraw_position, proposed(), "bob", MONDAY_MORNING + timedelta(hours=1))
    assert violation.code == "no_position"


def test_a_position_taken_after_the_deadline_is_refused_with_the_deadline():
    proposal = proposed()
    late = THURSDAY_DEADLINE + timedelta(seconds=1)
    violation = refusal(transitions.take_position, proposal, "bob", Position.AGREE, "", late)
    assert violation.code == "deadline_passed"
    assert violation.params["deadline"] == THURSDAY_DEADLINE


def test_a_position_taken_exactly_at_the_deadline_is_still_accepted():
    proposal = vote(proposed(), "bob", Position.AGREE, at=THURSDAY_DEADLINE)
    assert proposal.current_round.stance_of("bob").at == THURSDAY_DEADLINE


def test_withdrawing_a_position_after_the_deadline_is_refused():
    proposal = vote(proposed(), "bob", Position.AGREE)
    violation = refusal(transitions.withdraw_position, proposal, "bob", THURSDAY_DEADLINE + timedelta(minutes=1))
    assert violation.code == "deadline_passed"


def test_no_position_may_be_taken_on_a_closed_round():
    proposal = closed(proposed())
    violation = refusal(
        transitions.take_position, proposal, "bob", Position.BLOCK, ARGUMENT, THURSDAY_DEADLINE
    )
    assert violation.code == "not_open"


def test_each_round_starts_without_positions_and_keeps_the_previous_rounds_positions():
    first = blocked(vote(proposed(), "carol", Position.AGREE))
    second = next_round(first)
    assert second.current_round.number == 2
    assert second.current_round.stances == ()
    assert second.rounds[0].stance_of("carol").position is Position.AGREE
    second = vote(second, "carol", Position.DISAGREE, "Still too green.")
    assert second.rounds[0].stance_of("carol").position is Position.AGREE
    assert second.rounds[1].stance_of("carol").position is Position.DISAGREE


def test_the_latest_counts_by_the_instant_the_member_expressed_it_not_by_when_the_bot_read_it():
    # bob reacts 👍 at 10:00 then 🤷 at 10:01; the bot, back from a restart, reads 🤷 first.
    proposal = vote(proposed(), "bob", Position.ABSTAIN, at=MONDAY_MORNING + timedelta(hours=1, minutes=1))
    step = transitions.take_position(proposal, "bob", Position.AGREE, "", MONDAY_MORNING + timedelta(hours=1))
    assert step.changes == ()
    assert step.proposal.current_round.stance_of("bob").position is Position.ABSTAIN
    assert not rules.is_latest(step.expressed[0], step.proposal.current_round.expressions)


def test_a_withdrawal_is_not_undone_by_an_older_position_read_late():
    proposal = vote(proposed(), "bob", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=1))
    proposal = transitions.withdraw_position(proposal, "bob", MONDAY_MORNING + timedelta(hours=3)).proposal
    late = transitions.take_position(proposal, "bob", Position.BLOCK, ARGUMENT, MONDAY_MORNING + timedelta(hours=2))
    assert late.changes == () and late.proposal.current_round.stance_of("bob") is None
    # A change made after the withdrawal counts as usual.
    later = vote(late.proposal, "bob", Position.DISAGREE, at=MONDAY_MORNING + timedelta(hours=4))
    assert later.current_round.stance_of("bob").position is Position.DISAGREE


def test_taking_back_ones_latest_reaction_goes_back_to_what_one_said_before_it():
    # bob reacts 👍, then 👎; he removes 👎: his 👍 is still on the ballot, and counts again.
    proposal = vote(proposed(), "bob", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=1))
    step = transitions.take_position(proposal, "bob", Position.DISAGREE, "", MONDAY_MORNING + timedelta(hours=2),
                                     event="$thumbs-down")
    step = transitions.take_back(step.proposal, "bob", "$thumbs-down", MONDAY_MORNING + timedelta(hours=3))
    assert step.proposal.current_round.stance_of("bob").position is Position.AGREE
    [change] = step.changes
    assert (change.action, change.position) == (Action.POSITION, Position.AGREE)
    assert step.retracted == (("$thumbs-down", MONDAY_MORNING + timedelta(hours=3)),)


def test_taking_back_ones_only_vote_leaves_no_position_and_an_older_one_changes_nothing():
    proposal = transitions.take_position(proposed(), "bob", Position.AGREE, "", MONDAY_MORNING + timedelta(hours=1),
                                         event="$old").proposal
    proposal = transitions.take_position(proposal, "bob", Position.BLOCK, ARGUMENT,
                                         MONDAY_MORNING + timedelta(hours=2), event="$new").proposal
    unchanged = transitions.take_back(proposal, "bob", "$old", MONDAY_MORNING + timedelta(hours=3))
    assert unchanged.changes == () and unchanged.proposal.current_round.stance_of("bob").position is Position.BLOCK
    gone = transitions.take_back(unchanged.proposal, "bob", "$new", MONDAY_MORNING + timedelta(hours=4))
    assert gone.proposal.current_round.stance_of("bob") is None
    assert [c.action for c in gone.changes] == [Action.POSITION_WITHDRAWN]


def test_two_changes_at_the_same_instant_count_in_the_order_they_are_read():
    at = MONDAY_MORNING + timedelta(hours=1)
    proposal = vote(vote(proposed(), "bob", Position.AGREE, at=at), "bob", Position.DISAGREE, at=at)
    assert proposal.current_round.stance_of("bob").position is Position.DISAGREE


def test_a_moderator_removing_a_members_vote_records_it_and_the_position_stands():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    step = transitions.moderator_removal(proposal, "moderator", "bob", MONDAY_MORNING + timedelta(hours=2))
    assert step.proposal == proposal
    [change] = step.changes
    assert (change.action, change.member, change.detail) == (Action.REMOVED_BY_MODERATOR, "moderator", "bob")
    assert closed(step.proposal).state is State.POSTPONED


# A member's latest word, from their latest word alone: what a decision loads of what they said
# (Round.latest_expressions_only), however often they changed their mind.

WORDS = st.lists(st.tuples(st.sampled_from([*Position, None]), st.sampled_from(["", "Too dear.", ARGUMENT]),
                           st.integers(0, 5)), min_size=1, max_size=12)


def _said(words) -> tuple:
    """bob's words (position or withdrawal, argument, minutes after 10:00), each read as it comes."""
    proposal = proposed()
    for index, (position, argument, minutes) in enumerate(words):
        at = MONDAY_MORNING + timedelta(hours=1, minutes=minutes)
        if position is None:
            step = transitions.withdraw_position(proposal, "bob", at, f"$w{index}") if (
                proposal.current_round.stance_of("bob")) else None
        else:
            step = transitions.take_position(proposal, "bob", position, argument, at, f"$w{index}")
        proposal = step.proposal if step else proposal
    return proposal


@settings(max_examples=300, deadline=None)
@given(WORDS, st.sampled_from(list(Position)), st.sampled_from(["", "Too dear.", ARGUMENT]))
def test_a_word_said_after_all_the_others_counts_the_same_from_the_latest_alone(words, position, argument):
    proposal = _said(words)
    whole = proposal.current_round
    latest = max(whole.expressions, key=lambda e: e.at, default=None)
    loaded = replace(proposal, rounds=(replace(whole, expressions=(latest,) if latest else (),
                                               latest_expressions_only=True),))
    at = MONDAY_MORNING + timedelta(hours=1, minutes=6)
    from_all = transitions.take_position(proposal, "bob", position, argument, at, "$new")
    from_latest = transitions.take_position(loaded, "bob", position, argument, at, "$new")
    assert from_latest.proposal.current_round.stance_of("bob") == from_all.proposal.current_round.stance_of("bob")
    assert from_latest.changes == from_all.changes
    assert from_latest.proposal.current_round.counts == from_all.proposal.current_round.counts


def test_a_word_said_before_the_latest_or_one_taken_back_needs_all_that_was_said():
    proposal = vote(proposed(), "bob", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=2))
    whole = proposal.current_round
    loaded = replace(proposal, rounds=(replace(whole, latest_expressions_only=True),))
    with pytest.raises(ValueError, match="load it whole"):
        transitions.take_position(loaded, "bob", Position.BLOCK, ARGUMENT, MONDAY_MORNING + timedelta(hours=1), "$old")
    with pytest.raises(ValueError, match="load it whole"):
        transitions.take_back(loaded, "bob", whole.expressions[0].event, MONDAY_MORNING + timedelta(hours=3))
