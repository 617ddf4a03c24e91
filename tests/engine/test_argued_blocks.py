"""Rule 2 — Argued blocks: a block is valid only with an argument (more than a few visible characters).
An unargued block is recorded, does not block, and the engine says who still owes an argument.
Disagree may carry a reason."""

from datetime import timedelta

import pytest

from bot.engine import transitions
from bot.engine.model import Action, Position, Reason, Stance, State
from bot.engine.rules import MINIMUM_ARGUMENT_LENGTH, has_words, is_argued, is_valid_block, owing_argument, tally

from .support import ARGUMENT, MONDAY_MORNING, closed, proposed, vote


def test_a_block_without_argument_is_recorded_as_a_block():
    proposal = vote(proposed(), "bob", Position.BLOCK)
    stance = proposal.current_round.stance_of("bob")
    assert (stance.position, stance.argument) == (Position.BLOCK, "")


def test_a_block_without_argument_is_counted_as_unargued_not_as_a_block():
    proposal = vote(proposed(), "bob", Position.BLOCK)
    counted = tally(proposal.current_round.stances)
    assert (counted.block, counted.unargued_block) == (0, 1)
    assert counted.answered == 1


def test_a_block_without_argument_does_not_block():
    proposal = closed(vote(proposed(), "bob", Position.BLOCK))
    outcome = proposal.current_round.outcome
    assert (outcome.state, outcome.reason) == (State.ADOPTED, Reason.NO_VALID_BLOCK)
    assert outcome.tally.unargued_block == 1


def test_a_block_with_an_argument_blocks():
    proposal = closed(vote(proposed(), "bob", Position.BLOCK, ARGUMENT))
    outcome = proposal.current_round.outcome
    assert (outcome.state, outcome.reason) == (State.POSTPONED, Reason.VALID_BLOCK)
    assert (outcome.tally.block, outcome.tally.unargued_block) == (1, 0)


@pytest.mark.parametrize(
    "argument",
    ["", "   ", "no", "Non !", "\t\n  nope \n", "\u200b" * 30, "a b c d e", "." * 12, "😠" * 12, "!!!???...---",
     "no\u200bno\u200bno\u200b!"],
    ids=["empty", "spaces", "one-word", "french-no", "padded", "zero-width-spaces", "nine-letters-spaced",
         "ten-dots", "ten-emoji", "punctuation", "invisible-padding"],
)
def test_a_few_visible_characters_are_not_an_argument(argument):
    assert not is_argued(argument)
    assert not is_valid_block(Stance("bob", Position.BLOCK, MONDAY_MORNING, argument))


@pytest.mark.parametrize(
    "argument",
    [ARGUMENT, "Trop cher pour notre budget.", "x" * MINIMUM_ARGUMENT_LENGTH, "Пять рублей", "預算不足以購買此物品",
     "2027 2028 99"],
    ids=["sentence", "french-sentence", "exactly-the-minimum", "cyrillic", "chinese", "digits"],
)
def test_an_argument_is_a_handful_of_visible_characters(argument):
    assert is_argued(argument)
    assert is_valid_block(Stance("bob", Position.BLOCK, MONDAY_MORNING, argument))


def test_just_under_the_minimum_of_visible_characters_is_not_an_argument():
    assert not is_argued("x" * (MINIMUM_ARGUMENT_LENGTH - 1) + "   \t ")


def test_a_disagreement_with_an_argument_is_not_a_block():
    stance = Stance("bob", Position.DISAGREE, MONDAY_MORNING, ARGUMENT)
    assert not is_valid_block(stance)


def test_the_engine_names_who_still_owes_an_argument():
    proposal = proposed()
    proposal = vote(proposal, "bob", Position.BLOCK)
    proposal = vote(proposal, "carol", Position.BLOCK, ARGUMENT)
    proposal = vote(proposal, "dan", Position.AGREE)
    proposal = vote(proposal, "erin", Position.BLOCK, "no")
    assert owing_argument(proposal.current_round) == ["bob", "erin"]


def test_nobody_owes_an_argument_once_blocks_are_argued_or_lifted():
    proposal = vote(vote(proposed(), "bob", Position.BLOCK), "carol", Position.BLOCK)
    proposal = vote(proposal, "bob", Position.BLOCK, ARGUMENT, at=MONDAY_MORNING + timedelta(hours=2))
    proposal = vote(proposal, "carol", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=2))
    assert owing_argument(proposal.current_round) == []


def test_a_block_argued_late_becomes_valid():
    proposal = proposed()
    bare = transitions.take_position(proposal, "bob", Position.BLOCK, "", MONDAY_MORNING + timedelta(hours=1))
    argued = transitions.take_position(
        bare.proposal, "bob", Position.BLOCK, ARGUMENT, MONDAY_MORNING + timedelta(hours=30)
    )
    assert owing_argument(bare.proposal.current_round) == ["bob"]
    assert owing_argument(argued.proposal.current_round) == []
    assert [(c.action, c.position, c.argument) for c in bare.changes + argued.changes] == [
        (Action.POSITION, Position.BLOCK, ""),
        (Action.POSITION, Position.BLOCK, ARGUMENT),
    ]
    outcome = closed(argued.proposal).current_round.outcome
    assert (outcome.state, outcome.reason) == (State.POSTPONED, Reason.VALID_BLOCK)


def test_a_bare_block_after_an_argued_block_keeps_the_argument():
    # e.g. a reaction after "!block <argument>" must not undo the argument.
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    step = transitions.take_position(proposal, "bob", Position.BLOCK, "  ", MONDAY_MORNING + timedelta(hours=2))
    assert step.changes == ()
    assert step.proposal.current_round.stance_of("bob").argument == ARGUMENT
    assert closed(step.proposal).state is State.POSTPONED


def test_a_block_may_replace_its_argument_with_a_new_one():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    better = "The budget for this year is already spent entirely."
    proposal = vote(proposal, "bob", Position.BLOCK, better, at=MONDAY_MORNING + timedelta(hours=2))
    assert proposal.current_round.stance_of("bob").argument == better


def test_lifting_a_block_by_agreeing_drops_its_argument():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    proposal = vote(proposal, "bob", Position.AGREE, at=MONDAY_MORNING + timedelta(hours=2))
    assert proposal.current_round.stance_of("bob").argument == ""
    # ...and blocking bare again afterwards does not resurrect the old argument.
    proposal = vote(proposal, "bob", Position.BLOCK, at=MONDAY_MORNING + timedelta(hours=3))
    assert owing_argument(proposal.current_round) == ["bob"]


def test_disagree_may_carry_a_reason_which_the_history_keeps():
    step = transitions.take_position(
        proposed(), "bob", Position.DISAGREE, "  I prefer blue.  ", MONDAY_MORNING + timedelta(hours=1)
    )
    assert step.proposal.current_round.stance_of("bob").argument == "I prefer blue."
    assert step.changes[0].argument == "I prefer blue."


def test_disagree_without_a_reason_is_fine_and_does_not_block():
    proposal = closed(vote(proposed(), "bob", Position.DISAGREE))
    assert proposal.current_round.stance_of("bob").argument == ""
    assert proposal.state is State.ADOPTED
    assert owing_argument(proposal.current_round) == []


def test_the_postponed_round_keeps_the_blockers_and_their_arguments():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT)
    proposal = vote(proposal, "carol", Position.BLOCK)
    proposal = closed(proposal)
    round_ = proposal.current_round
    valid = [(s.member, s.argument) for s in round_.stances if is_valid_block(s)]
    assert valid == [("bob", ARGUMENT)]
    assert owing_argument(round_) == ["carol"]


def test_a_block_with_a_too_short_argument_keeps_the_argument_already_given():
    proposal = vote(proposed(), "bob", Position.BLOCK, ARGUMENT, at=MONDAY_MORNING + timedelta(hours=1))
    step = transitions.take_position(proposal, "bob", Position.BLOCK, "no!", MONDAY_MORNING + timedelta(hours=2))
    assert step.proposal.current_round.stance_of("bob").argument == ARGUMENT
    assert step.changes == ()
    # A new argued text replaces it.
    later = vote(step.proposal, "bob", Position.BLOCK, "The hall is booked that day anyway.",
                 at=MONDAY_MORNING + timedelta(hours=3))
    assert later.current_round.stance_of("bob").argument == "The hall is booked that day anyway."


def test_a_title_says_something():
    assert has_words("Kettle") and has_words("42") and not has_words("\u200b \u200b") and not has_words("🙂 ...")
