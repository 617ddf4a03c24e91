"""The register's read model (storage/register.py) over a register the real service wrote."""

from __future__ import annotations

from bot.engine.model import Action, Position, Reason, Rule, State
from storage.register import RegisterReader, Search, like_pattern
from tests.register.scenario import HOSTILE_TITLE, KETTLE_TEXT, NUMBERS, ROOM


async def test_the_assemblies_are_the_rooms_with_proposals_and_their_counts_by_state(register):
    [assembly] = await register.reader.assemblies()
    assert assembly.room == ROOM and assembly.total == 8
    assert dict(assembly.counts) == {State.OPEN: 1, State.ADOPTED: 3, State.POSTPONED: 1, State.REJECTED: 1,
                                     State.WITHDRAWN: 1, State.REPEALED: 1}
    assert await register.reader.assembly("!nowhere:test") is None


async def test_a_listing_is_the_newest_first_by_pages_with_its_latest_round(register):
    reader = RegisterReader(register.repository.reading, page_size=3)
    first = await reader.listing(ROOM, Search(), 1)
    assert first.total == 8 and [line.header.number for line in first.lines] == [8, 7, 6]
    last = await reader.listing(ROOM, Search(), 3)
    assert [line.header.number for line in last.lines] == [2, 1]
    beyond = await reader.listing(ROOM, Search(), 4)
    assert beyond.total == 8 and beyond.lines == ()
    [van] = [line for line in (await register.reader.listing(ROOM, Search(), 1)).lines if line.header.number == 3]
    assert (van.latest.number, van.latest.rule, van.latest.outcome) == (3, Rule.MAJORITY, State.REJECTED)


async def test_a_listing_filters_by_state_and_finds_words_in_titles_whatever_their_case(register):
    reader = register.reader
    adopted = await reader.listing(ROOM, Search((State.ADOPTED,)), 1)
    assert [line.header.number for line in adopted.lines] == [7, 6, 1]
    assert [line.header.number for line in (await reader.listing(ROOM, Search(words="KETTLE"), 1)).lines] == [1]
    found = await reader.listing(ROOM, Search((State.POSTPONED,), "<b>door</b>"), 1)
    assert [line.header.title for line in found.lines] == [HOSTILE_TITLE]
    assert (await reader.listing(ROOM, Search((State.OPEN,), "kettle"), 1)).total == 0


async def test_search_wildcards_are_taken_literally(register):
    reader = register.reader
    assert (await reader.listing(ROOM, Search(words="%"), 1)).total == 0
    assert (await reader.listing(ROOM, Search(words="_"), 1)).total == 0
    assert (await reader.listing(ROOM, Search(words="a_"), 1)).total == 0  # "a_" is no "an"
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


async def test_a_record_holds_every_version_round_position_and_line_of_history(register):
    van = await register.reader.record(ROOM, NUMBERS["rejected"])
    assert van.versions == ("A van for the market, 80 € a day.", "A van for the market, 60 € a day.")
    assert [(r.number, r.rule, r.version, r.outcome, r.reason) for r in van.rounds] == [
        (1, Rule.CONSENT, 1, State.POSTPONED, Reason.VALID_BLOCK),
        (2, Rule.CONSENT, 2, State.POSTPONED, Reason.VALID_BLOCK),
        (3, Rule.MAJORITY, 2, State.REJECTED, Reason.MAJORITY_MISSED)]
    third = van.rounds[2]
    assert [(p.member, p.position, p.argument) for p in third.positions] == [
        ("alice", Position.AGREE, ""), ("bob", Position.DISAGREE, "too expensive"), ("carol", Position.BLOCK, ""),
        ("dan", Position.DISAGREE, "")]  # dan took no position: counted with bob's, his delegate
    assert [p.delegated_by for p in third.positions] == [None, None, None, "bob"]
    assert (third.tally.agree, third.tally.disagree, third.tally.block, third.members) == (1, 2, 1, 6)
    assert van.header.locked_until is not None
    actions = [entry.action for entry in van.history]
    assert actions[0] is Action.PROPOSED and actions[-1] is Action.ROUND_CLOSED
    assert actions.count(Action.ROUND_OPENED) == 2 and Action.AMENDED in actions
    assert await register.reader.record(ROOM, 99) is None
    assert await register.reader.record("!nowhere:test", 1) is None


async def test_a_record_links_challenges_both_ways(register):
    kettle = await register.reader.record(ROOM, NUMBERS["adopted"])
    assert kettle.header.amended_by == (NUMBERS["amending"],) and kettle.challenged is None
    assert [c.number for c in kettle.challenged_by] == [NUMBERS["amending"]]
    assert kettle.versions[0] == KETTLE_TEXT and kettle.text == kettle.versions[1]
    assert kettle.text.endswith("[#6] 2: 2. Paid by donations.")
    amending = await register.reader.record(ROOM, NUMBERS["amending"])
    assert amending.challenged.number == NUMBERS["adopted"] and amending.header.part == "2"
    hall = await register.reader.record(ROOM, NUMBERS["repealed"])
    assert hall.header.state is State.REPEALED and hall.header.repealed_by == NUMBERS["repealing"]
    assert [c.number for c in hall.challenged_by] == [NUMBERS["repealing"]]


async def test_an_export_holds_every_proposal_position_and_line_of_history_of_the_room(register):
    export = await register.reader.export(ROOM)
    assert [row["number"] for row in export.decisions] == list(range(1, 9)) and export.room == ROOM
    positions = [(row["number"], row["round"], row["member"]) for row in export.positions]
    # Each round's positions taken, by member, then those counted by delegation at its close.
    assert positions[-1] == (8, 1, "bob") and (3, 3, "dan") == positions[positions.index((3, 3, "carol")) + 1]
    assert len(set(positions)) == len(positions)
    assert (3, 3, "carol") in positions and (1, 1, "carol") in positions
    assert {row["rule"] for row in export.positions if row["number"] == 3 and row["round"] == 3} == {"majority"}
    history = [row["proposal"] for row in export.history]
    assert history == sorted(history) and export.history[0]["action"] == "proposed"
    async with register.repository.reading() as db:
        counted = await db.fetchone("SELECT (SELECT COUNT(*) FROM positions WHERE room = ?)"
                                    " + (SELECT COUNT(*) FROM delegated_positions WHERE room = ?) AS n", (ROOM, ROOM))
        lines = await db.fetchone("SELECT COUNT(*) AS n FROM history WHERE room = ?", (ROOM,))
    assert len(export.positions) == counted["n"] and len(export.history) == lines["n"]
    records = await register.reader.records(ROOM)
    assert [r.header.number for r in records] == list(range(1, 9))
    assert records[2] == await register.reader.record(ROOM, 3)


async def test_the_feed_is_the_latest_proposals_outcomes_and_follow_ups_newest_first(register):
    events = await register.reader.feed(ROOM)
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    made = [e.header.number for e in events if e.round is None and e.followup is None]
    followed = [(e.header.number, e.followup.status) for e in events if e.followup is not None]
    assert followed == [(1, "applied"), (1, "in_progress")]
    closed = [(e.header.number, e.round.number) for e in events if e.round is not None]
    assert sorted(made) == list(range(1, 9))
    assert sorted(closed) == [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (5, 1), (6, 1), (7, 1)]
    assert events[0].header.number == NUMBERS["open"] and events[0].text == "Three apple trees in the yard."
    assert len(await register.reader.feed(ROOM, size=3)) == 3
