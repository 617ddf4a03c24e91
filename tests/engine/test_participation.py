"""Participation "n of m members": who counts as a member of the round."""

from bot.engine.model import Position
from bot.engine.rules import not_answered, participants

from .support import proposed, vote


def test_members_are_the_room_members_plus_anyone_who_answered_and_left():
    proposal = vote(vote(proposed(), "bob", Position.AGREE), "zoe", Position.ABSTAIN)
    assert participants(proposal.current_round, {"alice", "bob", "carol"}) == {"alice", "bob", "carol", "zoe"}


def test_the_reminder_names_only_members_who_have_not_answered():
    proposal = vote(proposed(), "bob", Position.BLOCK)
    assert not_answered(proposal.current_round, {"alice", "bob", "carol"}) == ["alice", "carol"]
