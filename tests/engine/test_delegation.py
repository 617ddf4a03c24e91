"""Delegation — a member who cannot follow every proposal entrusts their vote to someone they trust; at the
close, if they took no position, they count with their delegate's. Their own position always wins; blocks
are never delegated; cycles and broken chains give nothing."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import transitions
from bot.engine.model import Delegated, Position, Reason, Rule, SocialCode, State
from bot.engine.rules import delegated_positions

from .support import ARGUMENT, CODE, majority_round, proposed, vote

ROOM = {"alice", "bob", "carol", "dan", "erin", "fred"}
AGREE, ABSTAIN, DISAGREE, BLOCK = Position.AGREE, Position.ABSTAIN, Position.DISAGREE, Position.BLOCK


def votes(*positions: tuple[str, Position], proposal=None):
    proposal = proposal or proposed()
    for member, position in positions:
        proposal = vote(proposal, member, position, ARGUMENT if position is BLOCK else "")
    return proposal


def counted(proposal, delegations, members=ROOM):
    return {d.member: (d.position, d.by) for d in delegated_positions(proposal.current_round, delegations, members)}


def close(proposal, delegations, members=ROOM, code=CODE):
    round_ = proposal.current_round
    delegated = delegated_positions(round_, delegations, members)
    return transitions.close_round(proposal, len(members), round_.deadline, code, delegated=delegated).proposal


def test_a_member_who_took_no_position_counts_with_their_delegate():
    assert counted(votes(("bob", AGREE)), {"alice": "bob"}) == {"alice": (AGREE, "bob")}


def test_the_chain_is_followed_while_delegates_did_not_answer():
    proposal = votes(("dan", DISAGREE))
    assert counted(proposal, {"alice": "bob", "bob": "carol", "carol": "dan"}) == {
        "alice": (DISAGREE, "dan"), "bob": (DISAGREE, "dan"), "carol": (DISAGREE, "dan")}


def test_your_own_position_always_wins_over_a_delegated_one():
    proposal = votes(("alice", ABSTAIN), ("bob", AGREE))
    assert counted(proposal, {"alice": "bob"}) == {}
    # ...and a delegate who answered is not followed further.
    assert counted(votes(("bob", AGREE), ("carol", DISAGREE)), {"alice": "bob", "bob": "carol"}) == {
        "alice": (AGREE, "bob")}


def test_a_block_is_never_delegated_in_a_consent_round_its_delegators_count_as_silent():
    proposal = votes(("bob", BLOCK))
    assert counted(proposal, {"alice": "bob", "carol": "alice"}) == {}
    closed = close(proposal, {"alice": "bob", "carol": "alice"})
    assert closed.state is State.POSTPONED and closed.current_round.outcome.tally.block == 1
    assert closed.current_round.outcome.tally.answered == 1


def test_in_a_majority_round_the_delegators_of_a_member_who_blocks_count_against():
    proposal = votes(("bob", BLOCK), ("carol", AGREE), proposal=majority_round())
    assert proposal.current_round.rule is Rule.MAJORITY
    assert counted(proposal, {"alice": "bob", "dan": "bob"}) == {"alice": (DISAGREE, "bob"), "dan": (DISAGREE, "bob")}
    closed = close(proposal, {"alice": "bob", "dan": "bob"})
    assert closed.state is State.REJECTED  # 1 agree against 1 block + 2 against by delegation


def test_a_cycle_gives_no_delegated_position():
    assert counted(votes(("dan", AGREE)), {"alice": "bob", "bob": "alice"}) == {}
    # A chain that runs into a cycle gives nothing either.
    assert counted(votes(("dan", AGREE)), {"erin": "alice", "alice": "bob", "bob": "alice"}) == {}


def test_a_chain_that_ends_in_no_answer_gives_nothing():
    assert counted(votes(("dan", AGREE)), {"alice": "bob", "bob": "carol"}) == {}


def test_a_delegation_to_someone_who_left_the_room_lapses_even_if_they_had_answered():
    proposal = votes(("bob", AGREE))
    assert counted(proposal, {"alice": "bob"}, members=ROOM - {"bob"}) == {}
    assert counted(votes(("carol", AGREE)), {"alice": "bob", "bob": "carol"}, members=ROOM - {"bob"}) == {}


def test_a_member_who_left_is_not_counted_by_delegation():
    assert counted(votes(("bob", AGREE)), {"alice": "bob"}, members=ROOM - {"alice"}) == {}


def test_delegated_positions_count_toward_the_quorum_and_are_shown_apart():
    code = SocialCode(quorum=Fraction(1, 2))
    proposal = proposed(code=code)
    proposal = vote(proposal, "bob", AGREE)
    alone = transitions.close_round(proposal, 6, proposal.current_round.deadline, code).proposal
    assert alone.current_round.outcome.reason is Reason.NO_QUORUM  # 1 of 6
    closed = close(proposal, {"alice": "bob", "carol": "bob"}, code=code)
    outcome = closed.current_round.outcome
    assert closed.state is State.ADOPTED and outcome.tally.agree == 3 and outcome.tally.answered == 3
    assert outcome.delegated == (Delegated("alice", AGREE, "bob"), Delegated("carol", AGREE, "bob"))


def test_a_chain_of_fifty_resolves_for_everyone_on_it():
    members = {f"m{i}" for i in range(51)}
    delegations = {f"m{i}": f"m{i + 1}" for i in range(50)}
    result = counted(votes(("m50", ABSTAIN)), delegations, members)
    assert len(result) == 50 and set(result.values()) == {(ABSTAIN, "m50")}


# --- Properties -----------------------------------------------------------------------------------------

MEMBERS = sorted(ROOM)
positions = st.dictionaries(st.sampled_from(MEMBERS), st.sampled_from([AGREE, ABSTAIN, DISAGREE, BLOCK]))
delegation_graphs = st.dictionaries(st.sampled_from(MEMBERS), st.sampled_from(MEMBERS))


@settings(max_examples=300, deadline=None)
@given(positions, delegation_graphs, st.booleans())
def test_a_delegation_never_changes_the_position_of_someone_who_answered(own, delegations, majority):
    proposal = votes(*own.items(), proposal=majority_round() if majority else None)
    for entry in delegated_positions(proposal.current_round, delegations, ROOM):
        assert entry.member not in own
        assert entry.by in own and entry.position is not BLOCK


@settings(max_examples=300, deadline=None)
@given(positions, delegation_graphs)
def test_without_any_delegation_the_outcome_is_what_it_always_was(own, delegations):
    proposal = votes(*own.items())
    plain = transitions.close_round(proposal, len(ROOM), proposal.current_round.deadline, CODE).proposal
    assert close(proposal, {}) == plain
    # And delegations only ever add answers: never fewer than without them.
    delegated = close(proposal, delegations).current_round.outcome
    assert delegated.tally.answered >= plain.current_round.outcome.tally.answered
    assert delegated.tally.block == plain.current_round.outcome.tally.block
