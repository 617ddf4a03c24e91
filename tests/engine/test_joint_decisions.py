"""Linked assemblies — a joint decision of a network of rooms: its members are the union of the rooms' members, a
member of several rooms counts once, a valid block in any room postpones it, a quorum is reckoned over the union.
The engine is given the union (the service asks each room's members); the rules are the same as a room's."""

from datetime import timedelta
from fractions import Fraction

from bot.engine import rules
from bot.engine.model import Delegation, Position, Reason, SocialCode, State

from .support import ARGUMENT, closed, proposed, vote

ROOMS = {
    "fives": {"alice", "bob", "carol"},
    "wazemmes": {"bob", "dan"},  # bob lives in both neighbourhoods
    "moulins": {"erin", "frank", "gina"},
}


def close_joint(proposal, members_by_room=ROOMS, code=SocialCode()):
    """The clock closes a joint decision: its participation is over the network's members, each once."""
    members = rules.participants(proposal.current_round, rules.network_members(members_by_room))
    return closed(proposal, len(members), code)


def test_the_members_of_a_joint_decision_are_every_room_s_members_a_member_of_two_rooms_once():
    assert rules.network_members(ROOMS) == {"alice", "bob", "carol", "dan", "erin", "frank", "gina"}
    proposal = close_joint(proposed())
    assert proposal.current_round.outcome.members == 7


def test_a_valid_block_in_one_room_postpones_the_decision_for_every_room():
    proposal = proposed()
    for member in ("alice", "bob", "carol", "dan", "erin", "frank"):
        proposal = vote(proposal, member, Position.AGREE)
    proposal = close_joint(vote(proposal, "gina", Position.BLOCK, ARGUMENT))
    assert proposal.state is State.POSTPONED
    assert proposal.current_round.outcome.reason is Reason.VALID_BLOCK


def test_a_member_of_two_rooms_has_one_position_the_latest_wherever_they_gave_it():
    proposal = proposed()
    proposal = vote(proposal, "bob", Position.BLOCK, ARGUMENT)  # said in Fives
    later = proposal.current_round.opened_at + timedelta(hours=3)
    proposal = vote(proposal, "bob", Position.AGREE, at=later)  # said in Wazemmes, later
    proposal = close_joint(proposal)
    assert proposal.state is State.ADOPTED
    assert proposal.current_round.outcome.tally.agree == 1 and proposal.current_round.outcome.tally.block == 0
    participation = rules.participation_by_room(proposal.current_round, ROOMS)
    assert participation == {"fives": (1, 3), "wazemmes": (1, 2), "moulins": (0, 3)}


def test_a_quorum_is_reckoned_over_the_union_of_the_rooms():
    half = SocialCode(quorum=Fraction(1, 2))
    proposal = proposed(code=half)
    for member in ("alice", "bob", "carol"):  # the whole of Fives, and bob in Wazemmes too: 3 of 7
        proposal = vote(proposal, member, Position.AGREE)
    postponed = close_joint(proposal, code=half)
    assert postponed.state is State.POSTPONED
    assert postponed.current_round.outcome.reason is Reason.NO_QUORUM
    reached = close_joint(vote(proposal, "erin", Position.ABSTAIN), code=half)  # 4 of 7
    assert reached.state is State.ADOPTED


def test_each_room_s_tally_counts_its_members_positions_a_member_of_two_rooms_in_both():
    proposal = proposed()
    proposal = vote(proposal, "alice", Position.AGREE)
    proposal = vote(proposal, "bob", Position.DISAGREE)
    proposal = vote(proposal, "gina", Position.BLOCK)  # without argument: a block that does not count as one
    by_room = rules.tally_by_room(proposal.current_round, ROOMS)
    assert {room: (members, counts.agree, counts.disagree, counts.block, counts.unargued_block)
            for room, (members, counts) in by_room.items()} == {
        "fives": (3, 1, 1, 0, 0), "wazemmes": (2, 0, 1, 0, 0), "moulins": (3, 0, 0, 0, 1)}
    # Bob is under both his rooms; the decision's own tally counts him once.
    assert sum(counts.answered for _, counts in by_room.values()) == 4
    assert rules.tally(proposal.current_round.stances).answered == 3


def test_linked_accounts_count_as_their_member_and_one_who_answered_from_either_is_not_reminded():
    # gina has a Mattermost account too, "gina-mm", in moulins' channel: linked, the two are one member.
    linked = {"gina-mm": "gina"}
    by_room = rules.counted_by_room({**ROOMS, "moulins": {"erin", "frank", "gina-mm"}}, linked)
    assert rules.network_members(by_room) == {"alice", "bob", "carol", "dan", "erin", "frank", "gina"}
    proposal = vote(proposed(), "gina", Position.AGREE)  # from her Matrix account
    assert rules.not_answered(proposal.current_round, {"erin", "frank", "gina-mm"}, linked) == ["erin", "frank"]


def test_a_member_s_delegation_in_their_room_counts_on_a_joint_decision_and_two_rooms_disagreeing_none():
    deadline = proposed().current_round.deadline
    given = {
        "fives": [Delegation("alice", "carol"), Delegation("bob", "carol"), Delegation("carol", "erin", "proposal:1")],
        "wazemmes": [Delegation("bob", "dan"), Delegation("dan", "erin", "topic:budget")],
    }
    joint = rules.joint_delegations(given, {}, deadline)
    # alice's counts; bob trusted carol in fives and dan in wazemmes: neither, on the whole network; carol's was on
    # fives' own #1, not the network's; dan's on a topic stands.
    assert sorted((d.member, d.delegate, d.scope) for d in joint) == [("alice", "carol", ""),
                                                                       ("dan", "erin", "topic:budget")]
    proposal = vote(vote(proposed(), "carol", Position.AGREE), "erin", Position.DISAGREE)
    delegated = rules.delegated_for(proposal.current_round, 1, ("budget",), joint,
                                    rules.network_members(ROOMS))
    assert sorted((d.member, d.position, d.by) for d in delegated) == [("alice", Position.AGREE, "carol"),
                                                                        ("dan", Position.DISAGREE, "erin")]
