"""Delegation on a subject and for a time — "a temporary power on a precise subject": a member entrusts their vote
on the whole room, on a topic, or on one proposal, until a date or until they end it. For a proposal, the most
specific delegation in force at its deadline counts: the proposal's, then a topic's, then the room's. Your own
position still always wins; blocks are still never delegated."""

from datetime import timedelta

from bot.engine.model import Delegation, Position
from bot.engine.rules import delegated_for, delegation_for

from .support import ARGUMENT, THURSDAY_DEADLINE, proposed, vote

ROOM = {"alice", "bob", "carol", "dan", "erin"}
NUMBER, TOPICS = 1, ("transport", "culture")


def positions(proposal, delegations, topics=TOPICS, members=ROOM):
    return {d.member: (d.position, d.by, d.scope) for d in delegated_for(proposal.current_round, NUMBER, topics,
                                                                         delegations, members)}


def voted():
    """bob agrees, carol disagrees, erin blocks (argued); alice and dan take no position."""
    proposal = vote(proposed(), "bob", Position.AGREE)
    proposal = vote(proposal, "carol", Position.DISAGREE)
    return vote(proposal, "erin", Position.BLOCK, ARGUMENT)


def test_a_topic_delegation_beats_the_room_s():
    delegations = [Delegation("alice", "bob"), Delegation("alice", "carol", "topic:transport")]
    assert positions(voted(), delegations) == {"alice": (Position.DISAGREE, "carol", "topic:transport")}
    assert positions(voted(), delegations, topics=("housing",)) == {"alice": (Position.AGREE, "bob", "")}


def test_the_proposal_s_own_delegation_beats_both():
    delegations = [Delegation("alice", "bob"), Delegation("alice", "carol", "topic:transport"),
                   Delegation("alice", "bob", "proposal:1")]
    assert positions(voted(), delegations) == {"alice": (Position.AGREE, "bob", "proposal:1")}
    assert positions(voted(), [Delegation("alice", "carol", "proposal:2")]) == {}  # another proposal's


def test_topic_delegations_that_disagree_leave_the_room_s_to_count():
    delegations = [Delegation("alice", "bob", "topic:transport"), Delegation("alice", "carol", "topic:culture")]
    assert positions(voted(), delegations) == {}
    assert positions(voted(), [*delegations, Delegation("alice", "carol")]) == {"alice": (Position.DISAGREE, "carol",
                                                                                         "")}
    agreeing = [Delegation("alice", "bob", "topic:transport"), Delegation("alice", "bob", "topic:culture")]
    assert positions(voted(), agreeing) == {"alice": (Position.AGREE, "bob", "topic:transport")}


def test_a_delegation_that_lapsed_before_the_deadline_does_not_count():
    lapsed = [Delegation("alice", "bob", until=THURSDAY_DEADLINE), Delegation("alice", "carol", "topic:transport",
                                                                              until=THURSDAY_DEADLINE)]
    assert positions(voted(), lapsed) == {}
    later = [Delegation("alice", "bob", until=THURSDAY_DEADLINE + timedelta(seconds=1))]
    assert positions(voted(), later) == {"alice": (Position.AGREE, "bob", "")}
    assert delegation_for([Delegation("alice", "carol", "topic:transport", THURSDAY_DEADLINE), Delegation(
        "alice", "bob")], NUMBER, TOPICS, THURSDAY_DEADLINE) == Delegation("alice", "bob")  # the expired is skipped


def test_your_own_position_wins_and_blocks_are_never_delegated_whatever_the_scope():
    assert positions(voted(), [Delegation("bob", "carol", "proposal:1")]) == {}  # bob answered himself
    assert positions(voted(), [Delegation("alice", "erin", "topic:culture")]) == {}  # erin blocks


def test_a_chain_follows_each_delegate_s_own_most_specific_delegation():
    delegations = [Delegation("alice", "dan", "topic:transport"), Delegation("dan", "bob"),
                   Delegation("dan", "carol", "proposal:1")]
    assert positions(voted(), delegations) == {"alice": (Position.DISAGREE, "carol", "topic:transport"),
                                               "dan": (Position.DISAGREE, "carol", "proposal:1")}
