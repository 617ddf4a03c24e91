"""Topics and delegation on a subject, as an assembly that lists its topics meets them: a proposal is put on topics
when proposed or later (publicly, in its history), !list filters by topic, and a delegation on a topic or on one
proposal comes before the room's, for a time if its member says so."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import TUESDAY, Assembly, Clock, make_assembly, status, write_config

DEADLINE = datetime.fromisoformat("2027-06-11T10:00:00+02:00")
"""A round opened on Tuesday 8 June 2027 closes on Friday, 72 working hours later."""
TOPICS = [{"id": "transport", "names": {"fr": "Mobilités", "en": "Transport"}},
          {"id": "culture", "names": {"fr": "Culture", "en": "Culture"}}]


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    """Six members, a quorum of one half, delegation on, two topics; fay facilitates."""
    config = write_config(tmp_path, language="en", delegation=True, quorum="1/2", facilitators=["fay"],
                          topics=TOPICS)
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob", "carol", "dan", "erin", "fay"})
    return assembly


async def outcome_of(room: Assembly, deadline: datetime = DEADLINE):
    *_, outcome = await room.advance_to(deadline + timedelta(hours=1))
    assert outcome.kind is Kind.OUTCOME
    return outcome


async def test_a_proposal_on_topics_says_them_and_carries_them(room):
    ballot, *_ = await room.say("alice", "!propose topic transport,Culture duration 5d Night buses\nOne an hour.")
    assert ballot.kind is Kind.BALLOT and "Proposal #1 by alice: Night buses" in ballot.body
    assert "Topics: Culture, Transport." in ballot.body and ballot.payload["topics"] == ["culture", "transport"]
    assert "5 days of working time" in ballot.body
    answer = await status(room)
    assert "Topics: Culture, Transport." in answer.body and "One an hour." in answer.body


async def test_an_unknown_topic_gets_the_list_of_the_assemblys(room):
    [refusal] = await room.say("alice", "!propose topic trains Night trains")
    assert refusal.kind is Kind.ERROR
    assert "'trains' is not one of this assembly's topics: transport, culture." in refusal.body
    [topics] = await room.say("zoe", "!sujets")
    assert "- Transport (transport)" in topics.body and "- Culture (culture)" in topics.body


async def test_its_proposer_or_a_facilitator_sets_its_topics_later_in_its_history(room):
    await room.say("alice", "!propose Night buses")
    [refused] = await room.say("bob", "!topics #1 transport")
    assert refused.kind is Kind.ERROR and "Only the proposer or a facilitator" in refused.body
    [said] = await room.say("fay", "!topics #1 transport")
    assert said.kind is Kind.ANNOUNCEMENT and "fay sets the topics of proposal #1 (Night buses)." in said.body
    assert "Proposal #1 is on: Transport." in said.body and said.payload["topics"] == ["transport"]
    [cleared] = await room.say("alice", "!sujets #1 aucun")
    assert "Proposal #1 is on no topic." in cleared.body and "topics" not in cleared.payload
    [history] = await room.say("zoe", "!history #1")
    assert "fay sets its topics: transport" in history.body and "alice sets its topics: —" in history.body


async def test_the_list_of_a_topic_holds_its_proposals_only(room):
    await room.say("alice", "!propose topic transport Night buses")
    await room.say("alice", "!propose topic culture A library")
    await room.say("alice", "!propose topic transport,culture A bus to the library")
    [listing] = await room.say("zoe", "!liste sujet transport")
    assert "Proposals on Transport, the newest first (page 1 of 1):" in listing.body
    assert "#3 A bus to the library" in listing.body and "#1 Night buses" in listing.body
    assert "A library:" not in listing.body
    [everything] = await room.say("zoe", "!list")
    assert "#2 A library" in everything.body


async def test_a_topic_delegation_beats_the_rooms_and_the_outcome_says_so(room):
    await room.say("alice", "!delegate bob")
    [given] = await room.say("alice", "!delegate @carol topic transport")
    assert "alice entrusts their vote to carol on the proposals on Transport" in given.body
    assert given.payload["scope"] == "topic:transport"
    await room.say("dan", "!propose topic transport Night buses")
    await room.say("bob", "!agree")
    await room.say("carol", "!disagree too expensive")
    outcome = await outcome_of(room)
    assert outcome.payload["tally"] == {"agree": 1, "abstain": 0, "disagree": 2, "block": 0, "unargued_block": 0}
    assert "- with carol (disagree), by their delegation on the proposals on Transport: alice" in outcome.body


async def test_a_delegation_on_one_proposal_beats_the_topics_and_counts_there_only(room):
    await room.say("dan", "!propose topic transport Night buses")
    await room.say("dan", "!propose topic transport A bike lane")
    await room.say("alice", "!delegate @carol topic transport")
    await room.say("alice", "!déléguer @erin #2")
    for number in (1, 2):
        await room.say("carol", f"!agree #{number}")
        await room.say("erin", f"!disagree #{number} no")
    outcomes = [m for m in await room.advance_to(DEADLINE + timedelta(hours=1)) if m.kind is Kind.OUTCOME]
    by_number = {o.payload["proposal"]: o for o in outcomes}
    assert by_number[1].payload["delegated"]["agree"] == 1 and by_number[2].payload["delegated"]["disagree"] == 1
    assert "by their delegation on proposal #2: alice" in by_number[2].body


async def test_a_delegation_until_a_day_lapses_at_its_end_and_its_member_is_told(room):
    [given] = await room.say("alice", "!delegate @bob until 2027-06-09")
    assert "It lapses on Wednesday 9 June 2027, 24:00 (Europe/Paris)." in given.body
    assert given.payload["until"] == "2027-06-09T22:00:00+00:00"
    await room.say("dan", "!propose Night buses")
    await room.say("bob", "!agree")
    sent = await room.advance_to(DEADLINE + timedelta(hours=1))
    [lapsed] = [m for m in sent if m.kind is Kind.DELEGATION]
    assert lapsed.mentions == ("alice",) and "your delegation to bob on every proposal of this room has lapsed, " \
        "as you asked, on Wednesday 9 June 2027, 24:00" in lapsed.body
    [outcome] = [m for m in sent if m.kind is Kind.OUTCOME]
    assert "delegated" not in outcome.payload and outcome.payload["state"] == "postponed"  # 1 of 6: no quorum
    [mine] = await room.say("alice", "!delegate")
    assert "You entrust your vote to nobody" in mine.body


@pytest.mark.parametrize("command, refusal", [
    ("!delegate alice", "You cannot entrust your vote to yourself."),
    ("!delegate @zoe", "Name a member of this room to entrust your vote to"),
    ("!delegate @bob until 2027-06-07", "has passed: a delegation lasts until a day to come."),
    ("!delegate @bob until 2040-01-01", "A delegation lasts at most six years"),
    ("!delegate @bob until tomorrow", "'tomorrow' is not a date"),
    ("!delegate @bob topic trains", "'trains' is not one of this assembly's topics"),
    ("!delegate @bob #9", "There is no proposal #9 in this room."),
    ("!delegate @bob whenever", "'whenever' means nothing here"),
    ("!undelegate topic culture", "You have no such delegation to end"),
])
async def test_a_delegation_to_nobody_in_the_room_or_said_wrong_gets_a_clear_answer(room, command, refusal):
    [answer] = await room.say("alice", command)
    assert answer.kind is Kind.ERROR and refusal in answer.body


async def test_the_delegations_list_says_what_each_covers_and_until_when(room):
    await room.say("dan", "!propose Night buses")
    await room.say("alice", "!delegate bob")
    await room.say("carol", "!delegate bob topic culture until 2027-07-01")
    await room.say("erin", "!delegate bob #1")
    [listing] = await room.say("zoe", "!délégations")
    assert "3 delegations in force:" in listing.body
    assert "- to bob, on every proposal of this room: alice" in listing.body
    assert "- to bob, on the proposals on Culture: carol" in listing.body and "carol's lapses on Thursday 1 July" \
        in listing.body
    assert "- to bob, on proposal #1: erin" in listing.body
    [ended] = await room.say("carol", "!undelegate topic culture")
    assert "carol ends their delegation to bob on the proposals on Culture." in ended.body
    [mine] = await room.say("bob", "!delegate")
    assert "- alice, on every proposal of this room" in mine.body and "carol" not in mine.body


async def test_a_delegation_given_after_a_proposal_s_topics_change_follows_them_at_the_close(room):
    await room.say("dan", "!propose Night buses")
    await room.say("alice", "!delegate @carol topic transport")
    await room.say("carol", "!agree")
    await room.say("fay", "!topics #1 transport")
    outcome = await outcome_of(room)
    assert outcome.payload["delegated"]["agree"] == 1
