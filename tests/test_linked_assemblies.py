"""Linked assemblies end to end over a real database (SQLite and PostgreSQL): a joint proposal of a network of two
rooms — one French, one English — posted in each room, answered in either by command, reaction or reply, decided
with one tally over both rooms' members, and announced in each room in its language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.app.ports import Incoming, ReactionVote, Redaction
from bot.config import Config, load_config
from bot.engine.model import Position
from bot.messages.outgoing import Kind
from storage.repository import Repository
from tests.conftest import FRIDAY_DEADLINE, ROOM, TUESDAY, Assembly, Clock, make_assembly

FIVES = "!fives:test"
"""The other room of the network, in English; ROOM is in French."""
ALONE = "!alone:test"
"""A room in no network."""
SCOPE = "network:metropole"
BLOCK = "The budget would come out of the youth centre's funds."


def network_config(tmp_path: Path, networks: list[dict] | None = None, **assembly: object) -> Config:
    document = {
        "storage": {"path": "consent.db"},
        "assembly": {"language": "fr", **assembly},
        "rooms": {FIVES: {"language": "en", "name": "Fives"}, ALONE: {"language": "en"}},
        "networks": networks or [{"id": "metropole", "name": "Métropole", "rooms": [ROOM, FIVES],
                                  "minimum_duration": "48h", "facilitators": ["fay"]}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_config(path, environ={})


@pytest.fixture
async def network(tmp_path: Path, repository: Repository) -> Assembly:
    """ROOM (French): alice and bob; FIVES (English): bob, carol and dan. bob is in both."""
    assembly = await make_assembly(network_config(tmp_path), Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob"})
    assembly.room.other_rooms[FIVES] = {"bob", "carol", "dan"}
    return assembly


async def test_a_joint_proposal_is_posted_in_each_room_in_its_language_under_its_own_reference(network: Assembly):
    [own, _] = await network.say("alice", "!proposer Une bouilloire")
    ballots = [m for m in await network.say("carol", "!joint Shared budget for street parties\n10 000 € a year.",
                                            room=FIVES) if m.kind is Kind.BALLOT]
    assert [(b.room, b.scope, b.number) for b in ballots] == [(ROOM, SCOPE, 1), (FIVES, SCOPE, 1)]
    french, english = ballots
    assert french.body.startswith("**Proposition #metropole-1, par carol : Shared budget for street parties**")
    assert english.body.startswith("**Proposal #metropole-1 by carol: Shared budget for street parties**")
    assert "!agree #metropole-1" in english.body and "!daccord #metropole-1" in french.body
    # The network's own rules (48 working hours, not the assembly's 72), one deadline for both rooms.
    assert english.payload["deadline"] == french.payload["deadline"] == "2027-06-10T10:00:00+02:00"
    assert english.payload["network"] == "metropole" and english.payload["members"] == 4
    # The proposer's room answers the command; the other room's ballot answers nobody.
    assert (english.reply_to, french.reply_to) == ("$event2", None)
    # A bare #1 keeps meaning the room's own proposal.
    [ack] = await network.say("bob", "!daccord #1")
    assert ack.payload["proposal"] == 1 and "network" not in ack.payload and own.scope == ""


async def test_positions_from_both_rooms_make_one_tally_a_member_of_both_rooms_counted_once(network: Assembly):
    await network.say("carol", "!joint Shared budget", room=FIVES)
    ballot_in_room = await network.repository.ballot_id(ROOM, 1, SCOPE)
    await network.service.react(ReactionVote(ROOM, "alice", ballot_in_room, Position.AGREE, "$r1", network.clock.now))
    await network.say("bob", "!block #metropole-1 too expensive", room=FIVES)
    await network.say("bob", "!daccord", about=1, scope=SCOPE)  # later, answering the ballot in ROOM: his latest
    [status] = await network.say("dan", "!status #metropole-1", room=FIVES)
    assert status.payload["tally"] == {"agree": 2, "abstain": 0, "disagree": 0, "block": 0, "unargued_block": 0}
    assert "Participation: 2 of 4 members." in status.body  # alice, bob, carol, dan: bob once
    assert status.body.splitlines()[-3:] == [
        "**A joint decision of the rooms of the network metropole; answered, by room:**",
        f"{ROOM}: 2 of 2 members.", "Fives: 1 of 3 members."]


async def test_a_valid_block_in_one_room_postpones_the_decision_announced_in_every_room_once(network: Assembly):
    await network.say("carol", "!joint Shared budget", room=FIVES)
    await network.say("alice", "!daccord #metropole-1")
    await network.say("dan", f"!block #metropole-1 {BLOCK}", room=FIVES)
    sent = await network.advance_to(FRIDAY_DEADLINE + timedelta(days=1))
    reminders = [m for m in sent if m.kind is Kind.REMINDER]
    # Each room is reminded of its own members who have not answered: bob in ROOM, bob in Fives (carol proposed but
    # took no position).
    assert {(m.room, m.mentions) for m in reminders} == {(ROOM, ("bob",)), (FIVES, ("bob", "carol"))}
    outcomes = [m for m in sent if m.kind is Kind.OUTCOME]
    assert [(m.room, m.scope, m.payload["state"]) for m in outcomes] == [(ROOM, SCOPE, "postponed"),
                                                                          (FIVES, SCOPE, "postponed")]
    assert "est reportée" in outcomes[0].body and "is postponed" in outcomes[1].body
    assert await network.advance_to(FRIDAY_DEADLINE + timedelta(days=3)) == []
    # A second round, opened from the other room a week after the first, is adopted by consent.
    network.clock.now = TUESDAY + timedelta(days=7)
    ballots = [m for m in await network.say("carol", "!round #metropole-1 Taken from the festivities' budget.",
                                            room=FIVES) if m.kind is Kind.BALLOT]
    assert [m.room for m in ballots] == [ROOM, FIVES]
    sent = await network.advance_to(network.clock.now + timedelta(days=4))
    assert [(m.room, m.payload["state"]) for m in sent if m.kind is Kind.OUTCOME] == [(ROOM, "adopted"),
                                                                                       (FIVES, "adopted")]


async def test_each_room_s_outcome_lists_its_members_positions_every_valid_block_and_each_room_s_part(
        network: Assembly):
    # Listing ten thousand members' positions in each of twenty rooms would drown them: each room reads its own
    # members' positions and the blocks that decided for all; the register lists everyone's.
    await network.say("carol", "!joint Shared budget", room=FIVES)
    await network.say("alice", "!daccord #metropole-1 Enfin.")
    await network.say("carol", "!disagree #metropole-1 Too soon.", room=FIVES)
    await network.say("dan", f"!block #metropole-1 {BLOCK}", room=FIVES)
    sent = await network.advance_to(FRIDAY_DEADLINE + timedelta(days=1))
    in_room, in_fives = [m.body.splitlines() for m in sent if m.kind is Kind.OUTCOME]
    assert "- alice : Enfin." in in_room and f"- dan : {BLOCK}" in in_room
    assert not any("carol" in line for line in in_room)
    assert "Et 1 position prise dans les autres salons du réseau (listée au registre)." in in_room
    assert "- carol: Too soon." in in_fives and f"- dan: {BLOCK}" in in_fives
    assert not any("alice" in line for line in in_fives)
    assert "And 1 position taken in the network's other rooms (listed on the register)." in in_fives
    assert in_fives[in_fives.index("**A joint decision of the rooms of the network metropole; answered, by room:**")
                    + 1:][:2] == [f"{ROOM}: 1 of 2 members.", "Fives: 2 of 3 members."]


async def test_a_room_s_list_shows_the_joint_decisions_it_takes_part_in_among_its_own_newest_first(
        network: Assembly):
    await network.say("alice", "!proposer Une bouilloire")
    network.clock.now += timedelta(hours=1)
    await network.say("carol", "!joint Shared budget", room=FIVES)
    network.clock.now += timedelta(hours=1)
    await network.say("alice", "!proposer Des chaises")
    [listing] = await network.say("bob", "!liste")
    assert [line.split(" :")[0] for line in listing.body.splitlines()[1:]] == [
        "#2 Des chaises", "#metropole-1 Shared budget", "#1 Une bouilloire"]
    [listing] = await network.say("dan", "!list", room=FIVES)
    assert [line.split(":")[0] for line in listing.body.splitlines()[1:]] == ["#metropole-1 Shared budget"]
    [second_page] = await network.say("bob", "!liste 2")
    assert second_page.kind is Kind.ERROR  # three lines: one page


async def test_a_room_s_list_pages_through_its_own_and_joint_proposals_as_they_were_made(network: Assembly):
    made = []
    for i in range(1, 13):
        network.clock.now += timedelta(minutes=1)
        await network.say("alice", f"!proposer Own {i}")
        network.clock.now += timedelta(minutes=1)
        await network.say("alice", f"!commun Joint {i}")
        made += [f"#{i} Own {i}", f"#metropole-{i} Joint {i}"]
    pages = [(await network.say("bob", f"!liste {page}"))[0].body.splitlines() for page in (1, 2)]
    listed = [line.split(" :")[0] for page in pages for line in page[1:] if line.startswith("#")]
    assert listed == made[::-1]
    assert pages[0][0] == "**Propositions de ce salon, les plus récentes d'abord (page 1 sur 2) :**"


async def test_a_delegation_given_in_a_room_counts_on_the_joint_decisions_it_takes_part_in(
        tmp_path: Path, repository: Repository):
    assembly = await make_assembly(network_config(tmp_path, delegation=True), Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob"})
    assembly.room.other_rooms[FIVES] = {"bob", "carol", "dan"}
    await assembly.say("dan", "!delegate @carol", room=FIVES)
    await assembly.say("alice", "!déléguer @bob")
    await assembly.say("bob", "!delegate @alice", room=FIVES)  # bob trusts alice in Fives…
    await assembly.say("bob", "!déléguer @alice")  # …and in ROOM too: one delegate, it counts
    await assembly.say("carol", "!joint Shared budget", room=FIVES)
    await assembly.say("carol", "!agree #metropole-1", room=FIVES)
    sent = await assembly.advance_to(FRIDAY_DEADLINE + timedelta(days=1))
    [in_room, in_fives] = [m for m in sent if m.kind is Kind.OUTCOME]
    # dan by carol; alice and bob delegate to each other and neither answered: a cycle gives nothing.
    assert in_fives.payload["tally"]["agree"] == 2 and in_fives.payload["state"] == "adopted"
    assert "Of which by delegation: 1 agree, 0 abstain, 0 disagree." in in_fives.body.splitlines()


async def test_accounts_are_not_linked_where_no_network_spans_both_platforms(network: Assembly):
    # Two Matrix rooms: a link would count nowhere, and the member would believe it did.
    for room, command in ((ROOM, "!associer"), (FIVES, "!link abc234"), (ALONE, "!link")):
        [refused] = await network.say("carol", command, room=room)
        assert refused.kind is Kind.ERROR
        assert ("un réseau qui a des salons sur Matrix et sur Mattermost" if room == ROOM else
                "network that has rooms on both Matrix and Mattermost") in refused.body
    assert await network.repository.linked_accounts() == {}


async def test_a_reaction_taken_back_in_the_other_room_withdraws_the_joint_position(network: Assembly):
    await network.say("carol", "!joint Shared budget", room=FIVES)
    ballot = await network.repository.ballot_id(FIVES, 1, SCOPE)
    await network.service.react(ReactionVote(FIVES, "dan", ballot, Position.AGREE, "$r1", network.clock.now))
    await network.service.redacted(Redaction(FIVES, "$r1", "dan", "$redaction1", network.clock.now))
    [status] = await network.say("alice", "!statut #metropole-1")
    assert status.payload["tally"]["agree"] == 0


async def test_only_the_network_s_facilitators_facilitate_its_joint_decisions(network: Assembly):
    await network.say("carol", "!joint Shared budget", room=FIVES)
    network.room.facilitator_names.add("dan")  # the platform's facilitator of one room
    [refused] = await network.say("dan", "!extend #metropole-1 1d", room=FIVES)
    assert refused.kind is Kind.ERROR
    extended = await network.say("fay", "!extend #metropole-1 1d", room=FIVES)
    assert [m.kind for m in extended] == [Kind.ANNOUNCEMENT, Kind.ANNOUNCEMENT]


TWO_NETWORKS = [{"id": "metropole", "rooms": [ROOM, FIVES]}, {"id": "canal", "rooms": [FIVES, "!roubaix:test"]},
                {"id": "lille", "rooms": ["!lille:test"]}]
"""ROOM is in metropole; FIVES in metropole and canal; ALONE in none."""


@pytest.mark.parametrize(("room", "said", "answer"), [
    (ALONE, "!joint Shared budget", "This room is in no network: a joint proposal is made from a room of a network"),
    (ROOM, "!commun lille Budget", "Ce salon n'est pas dans le réseau « lille » (ses réseaux : metropole)."),
    (FIVES, "!joint Shared budget", "This room is in several networks: name one first, e.g. !joint metropole <title> "
                                    "(its networks: metropole, canal)."),
    (FIVES, "!status #lille-1", "This room is in no network 'lille' (its networks: metropole, canal)."),
    (FIVES, "!status #metropole-7", "There is no proposal #metropole-7 in this room."),
])
async def test_naming_a_network_the_room_is_not_in_gets_a_clear_answer(tmp_path: Path, repository: Repository,
                                                                       room: str, said: str, answer: str):
    assembly = await make_assembly(network_config(tmp_path, TWO_NETWORKS), Clock(TUESDAY), repository)
    assembly.room.other_rooms.update({FIVES: set(), ALONE: set()})
    [refusal] = await assembly.say("carol", said, room=room)
    assert refusal.kind is Kind.ERROR and answer in refusal.body, refusal.body


async def test_a_room_in_two_networks_proposes_to_the_one_it_names(tmp_path: Path, repository: Repository):
    assembly = await make_assembly(network_config(tmp_path, TWO_NETWORKS), Clock(TUESDAY), repository)
    assembly.room.other_rooms.update({FIVES: set(), "!roubaix:test": set()})
    sent = await assembly.say("carol", "!joint canal Clean the canal banks", room=FIVES)
    assert [(m.room, m.scope) for m in sent if m.kind is Kind.BALLOT] == [(FIVES, "network:canal"),
                                                                          ("!roubaix:test", "network:canal")]
    assert "Proposal #canal-1 by carol: Clean the canal banks" in sent[0].body


async def test_a_joint_decision_is_challenged_jointly_and_its_challenge_numbered_in_the_network(network: Assembly):
    await network.say("carol", "!joint Shared budget", room=FIVES)
    await network.advance_to(TUESDAY + timedelta(days=3))  # adopted by consent (48 working hours)
    sent = await network.say("alice", "!contester #metropole-1 trop cher cette année")
    ballots = [m for m in sent if m.kind is Kind.BALLOT]
    assert [(m.room, m.scope, m.number) for m in ballots] == [(ROOM, SCOPE, 2), (FIVES, SCOPE, 2)]
    assert "#metropole-1" in ballots[1].body and ballots[1].payload["challenges"] == 1
    [own] = [m for m in await network.say("alice", "!proposer Une bouilloire") if m.kind is Kind.BALLOT]
    assert (own.room, own.scope, own.number) == (ROOM, "", 1)  # the room's own numbering is its own


async def test_an_extension_and_a_withdrawal_are_said_in_every_room_in_its_language(network: Assembly):
    await network.say("carol", "!joint Shared budget", room=FIVES)
    extended = await network.say("fay", "!extend #metropole-1 1d", room=FIVES)
    assert [(m.room, m.kind) for m in extended] == [(ROOM, Kind.ANNOUNCEMENT), (FIVES, Kind.ANNOUNCEMENT)]
    assert "prolonge l'échéance jusqu'au vendredi 11 juin 2027" in extended[0].body and "extends the deadline" in extended[1].body
    withdrawn = await network.say("carol", "!retirer #metropole-1")
    assert [(m.room, m.payload["state"]) for m in withdrawn] == [(ROOM, "withdrawn"), (FIVES, "withdrawn")]
    assert withdrawn[0].reply_to is not None and withdrawn[1].reply_to is None


async def test_a_restarted_adapter_recounts_the_reactions_on_each_room_s_ballot_of_a_joint_decision(network: Assembly):
    await network.say("alice", "!proposer Une bouilloire")
    await network.say("carol", "!joint Shared budget", room=FIVES)
    own, joint_here, joint_there = [await network.repository.ballot_id(room, 1, scope)
                                    for room, scope in ((ROOM, ""), (ROOM, SCOPE), (FIVES, SCOPE))]
    assert len({own, joint_here, joint_there}) == 3
    assert sorted(await network.repository.open_ballots()) == sorted([(ROOM, 1, own), (ROOM, 1, joint_here),
                                                                      (FIVES, 1, joint_there)])
