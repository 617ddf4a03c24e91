"""Delegation in the room, as an assembly that turned it on meets it: delegations are public, a member who
takes no position counts with their delegate's at the close, their own position always wins, blocks are
never delegated, a delegation to someone who left lapses, and the outcome says who counted for whom."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import TUESDAY, Assembly, Clock, make_assembly, write_config

DEADLINE = datetime.fromisoformat("2027-06-11T10:00:00+02:00")
"""The round opened on Tuesday closes on Friday, 72 working hours later."""
ARGUMENT = "We already have two kettles in the kitchen."


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    """Six members, a quorum of one half; delegation on."""
    config = write_config(tmp_path, language="en", delegation=True, quorum="1/2", facilitators=["fay"])
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob", "carol", "dan", "erin", "fay"})
    return assembly


async def outcome_of(room: Assembly):
    *_, outcome = await room.advance_to(DEADLINE + timedelta(hours=1))
    assert outcome.kind is Kind.OUTCOME
    return outcome


async def test_a_delegation_is_announced_to_the_room_and_its_delegate_is_told(room):
    [announcement] = await room.say("alice", "!delegate @bob")
    assert announcement.kind is Kind.DELEGATION and announcement.mentions == ("bob",)
    assert "alice entrusts their vote to bob" in announcement.body and "blocks are never delegated" in announcement.body
    assert announcement.payload == {"kind": "delegation", "member": "alice", "delegate": "bob", "scope": "",
                                    "until": None}
    [mine] = await room.say("alice", "!delegate")
    assert "You entrust your vote to bob on every proposal of this room." in mine.body
    [theirs] = await room.say("bob", "!déléguer")
    assert "Entrust their vote to you:\n- alice, on every proposal of this room" in theirs.body
    [listing] = await room.say("erin", "!delegations")
    assert "1 delegation in force:" in listing.body and "- to bob, on every proposal of this room: alice" in listing.body


async def test_members_who_took_no_position_count_with_their_delegate_and_reach_the_quorum(room):
    await room.say("alice", "!delegate bob")
    await room.say("carol", "!delegate alice")  # a chain: carol → alice → bob
    await room.say("bob", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    outcome = await outcome_of(room)
    assert outcome.payload["state"] == "adopted"  # 3 of 6 answered: the quorum of one half is reached
    assert outcome.payload["tally"]["agree"] == 3 and outcome.payload["delegated"]["agree"] == 2
    assert "Of which by delegation: 2 agree, 0 abstain, 0 disagree." in outcome.body
    assert "- with bob (agree): alice, carol" in outcome.body
    [status] = await room.say("erin", "!status #1")
    assert "Of which by delegation: 2 agree" in status.body  # as the round counted it, after a reload


async def test_without_delegation_the_same_round_fails_its_quorum(tmp_path, repository):
    config = write_config(tmp_path, language="en", delegation=False, quorum="1/2")
    room = await make_assembly(config, Clock(TUESDAY), repository)
    room.room.names.update({"alice", "bob", "carol", "dan", "erin", "fay"})
    [refusal] = await room.say("alice", "!delegate bob")
    assert refusal.kind is Kind.ERROR and "Delegation is not in use in this assembly" in refusal.body
    await room.say("bob", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    assert (await outcome_of(room)).payload["state"] == "postponed"


async def test_your_own_position_always_wins_even_taken_after_delegating(room):
    await room.say("alice", "!delegate bob")
    await room.say("bob", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    await room.say("alice", "!disagree too expensive")
    outcome = await outcome_of(room)
    assert outcome.payload["tally"]["agree"] == 1 and outcome.payload["tally"]["disagree"] == 1
    assert "delegated" not in outcome.payload


async def test_a_block_is_never_delegated(room):
    await room.say("alice", "!delegate bob")
    await room.say("carol", "!delegate bob")
    await room.say("dan", "!propose Buy a kettle")
    await room.say("bob", f"!block {ARGUMENT}")
    await room.say("dan", "!agree")
    await room.say("erin", "!agree")
    outcome = await outcome_of(room)
    # Postponed by bob's block alone; alice and carol count as not answered.
    assert outcome.payload["state"] == "postponed" and outcome.payload["tally"]["block"] == 1
    assert outcome.payload["tally"]["agree"] == 2 and "delegated" not in outcome.payload


async def test_a_delegation_given_after_the_deadline_does_not_count_even_if_the_close_is_late(room):
    await room.say("bob", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    room.clock.now = DEADLINE + timedelta(minutes=5)  # the bot has not closed the round yet
    await room.say("alice", "!delegate bob")
    await room.say("carol", "!delegate bob")
    assert (await outcome_of(room)).payload["state"] == "postponed"  # 1 of 6: the quorum is not reached


async def test_ending_a_delegation_applies_from_that_instant(room):
    await room.say("alice", "!delegate bob")
    [ended] = await room.say("alice", "!undelegate")
    assert ended.kind is Kind.DELEGATION and "alice ends their delegation to bob" in ended.body
    assert ended.payload == {"kind": "delegation", "member": "alice", "delegate": None, "scope": "", "until": None}
    [again] = await room.say("alice", "!révoquer")
    assert "You have no such delegation to end" in again.body
    await room.say("bob", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    await room.say("carol", "!agree")
    assert "delegated" not in (await outcome_of(room)).payload


async def test_a_delegation_to_someone_who_left_lapses_and_its_member_is_told(room):
    await room.say("alice", "!delegate bob")
    await room.say("dan", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    room.room.names.discard("bob")  # bob leaves the room
    sent = await room.advance_to(DEADLINE + timedelta(hours=1))
    [lapsed] = [message for message in sent if message.kind is Kind.DELEGATION]
    assert lapsed.mentions == ("alice",) and "your delegation to bob has lapsed" in lapsed.body
    assert "delegated" not in sent[-1].payload
    [mine] = await room.say("alice", "!delegate")
    assert "You entrust your vote to nobody" in mine.body


async def test_a_delegation_that_closes_a_circle_says_none_of_them_counts(room):
    await room.say("alice", "!delegate bob")
    [announcement] = await room.say("bob", "!delegate alice")
    assert "These delegations go round in a circle back to bob" in announcement.body
