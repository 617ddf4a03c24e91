"""Rule 1 — Positions: agree, abstain, disagree, block; one per member per round; the latest counts;
a member may withdraw; every change is kept in an append-only history."""

from datetime import timedelta

from bot.engine import transitions
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
    assert step.proposal == proposal
    assert step.proposal.current_round.stance_of("bob").at == MONDAY_MORNING + timedelta(hours=1)


def test_repeating_a_disagreement_with_a_new_reason_is_a_change():
    proposal = vote(proposed(), "bob", Position.DISAGREE, "Too expensive.")
    step = transitions.take_position(proposal, "bob", Position.DISAGREE, "Too ugly.", MONDAY_MORNING + timedelta(hours=2))
    assert len(step.changes) == 1
    assert step.proposal.current_round.stance_of("bob").argument == "Too ugly."


def test_agree_and_abstain_carry_no_argument():
    proposal = vote(proposed(), "bob", Position.AGREE, "some words that are ignored")
    proposal = vote(proposal, "carol", Position.ABSTAIN, "some words that are ignored")
    assert proposal.current_round.stance_of("bob").argument == ""
    assert proposal.current_round.stance_of("carol").argument == ""


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
