"""The register's read model (storage/register.py) over a register the real service wrote, on SQLite and on
PostgreSQL: the same queries, the same answers."""

from __future__ import annotations

from datetime import date

import pytest
import pytest_asyncio

from bot.engine.model import Action, Assessment, Position, Reason, Rule, State
from storage.register import WHOLE_ROOM, RegisterReader, Search, like_pattern
from tests.conftest import DATABASES
from tests.register.scenario import (FOLLOWUP_BEFORE_THE_PACT, HOSTILE_FACT, HOSTILE_SOURCE, HOSTILE_STATEMENT,
                                     HOSTILE_TITLE, KETTLE_TEXT, NUMBERS, ON_TOPIC, ROOM, built)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def scenario(request, tmp_path_factory):
    """The scenario's register, built once per database for the module's tests, which only read it."""
    folder = tmp_path_factory.mktemp(request.param)
    location = folder / "consent.db" if request.param == "sqlite" else \
        await request.getfixturevalue("postgres").create_database()
    _, repository, _ = await built(folder, location)
    yield repository
    await repository.close()


@pytest.fixture
def reader(scenario) -> RegisterReader:
    return RegisterReader(scenario.reading)


async def test_the_assemblies_are_the_rooms_with_proposals_and_their_counts_by_state(reader):
    [assembly] = await reader.assemblies()
    assert assembly.room == ROOM and assembly.total == 10
    assert dict(assembly.counts) == {State.OPEN: 1, State.ADOPTED: 5, State.POSTPONED: 1, State.REJECTED: 1,
                                     State.WITHDRAWN: 1, State.REPEALED: 1}
    assert await reader.assembly("!nowhere:test") is None


async def test_a_listing_is_the_newest_first_by_pages_with_its_latest_round(scenario, reader):
    paged = RegisterReader(scenario.reading, page_size=3)
    first = await paged.listing(ROOM, Search(), 1)
    assert first.total == 10 and [line.header.number for line in first.lines] == [10, 9, 8]
    last = await paged.listing(ROOM, Search(), 4)
    assert [line.header.number for line in last.lines] == [1]
    beyond = await paged.listing(ROOM, Search(), 5)
    assert beyond.total == 10 and beyond.lines == ()
    [van] = [line for line in (await reader.listing(ROOM, Search(), 1)).lines if line.header.number == 3]
    assert (van.latest.number, van.latest.rule, van.latest.outcome) == (3, Rule.MAJORITY, State.REJECTED)


async def test_a_listing_filters_by_state_and_finds_words_in_titles_whatever_their_case(reader):
    adopted = await reader.listing(ROOM, Search((State.ADOPTED,)), 1)
    assert [line.header.number for line in adopted.lines] == [9, 8, 7, 6, 1]
    assert [line.header.number for line in (await reader.listing(ROOM, Search(words="KETTLE"), 1)).lines] == [1]
    found = await reader.listing(ROOM, Search((State.POSTPONED,), "<b>door</b>"), 1)
    assert [line.header.title for line in found.lines] == [HOSTILE_TITLE]
    assert (await reader.listing(ROOM, Search((State.OPEN,), "kettle"), 1)).total == 0


async def test_search_wildcards_are_taken_literally(reader):
    assert (await reader.listing(ROOM, Search(words="%"), 1)).total == 0
    assert (await reader.listing(ROOM, Search(words="_"), 1)).total == 0
    assert (await reader.listing(ROOM, Search(words="a_"), 1)).total == 0  # "a_" is no "an"
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


async def test_a_record_holds_every_version_round_position_and_line_of_history(reader):
    van = await reader.record(ROOM, NUMBERS["rejected"])
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
    assert await reader.record(ROOM, 99) is None
    assert await reader.record("!nowhere:test", 1) is None


async def test_a_record_links_challenges_both_ways(reader):
    kettle = await reader.record(ROOM, NUMBERS["adopted"])
    assert kettle.header.amended_by == (NUMBERS["amending"],) and kettle.challenged is None
    assert [c.number for c in kettle.challenged_by] == [NUMBERS["amending"]]
    assert kettle.versions[0] == KETTLE_TEXT and kettle.text == kettle.versions[1]
    assert kettle.text == "1. A kettle.\n2. Paid by donations."  # its part 2 replaced
    amending = await reader.record(ROOM, NUMBERS["amending"])
    assert amending.challenged.number == NUMBERS["adopted"] and amending.header.part == "2"
    hall = await reader.record(ROOM, NUMBERS["repealed"])
    assert hall.header.state is State.REPEALED and hall.header.repealed_by == NUMBERS["repealing"]
    assert [c.number for c in hall.challenged_by] == [NUMBERS["repealing"]]


async def test_a_decision_holds_per_official_the_facts_statements_and_verdicts_on_record(reader):
    street = await reader.record(ROOM, NUMBERS["referral"])
    assert (street.header.referral.official, street.header.referral.needed_by) == ("martine", date(2027, 6, 18))
    assert street.bound == ("martine", "paul")
    mayor, deputy = street.accountability
    assert (mayor.official, mayor.bound, deputy.official, deputy.bound) == ("martine", True, "paul", True)
    assert [(f.member, f.happened_on, f.text, f.source) for f in mayor.facts] == [
        ("alice", date(2027, 6, 20), HOSTILE_FACT, HOSTILE_SOURCE),
        ("bob", None, "les barrières manquaient le dimanche 27 juin", "photos du forum")]
    assert [(s.official, s.member, s.text) for s in mayor.statements] == [("martine", "mayor", HOSTILE_STATEMENT)]
    [verdict] = mayor.verdicts
    assert (verdict.number, verdict.state, verdict.assessment) == (NUMBERS["verdict"], State.ADOPTED,
                                                                   Assessment.PARTLY_RESPECTED)
    assert mayor.in_force == verdict and deputy.in_force is None and deputy.facts == deputy.verdicts == ()
    judged = await reader.record(ROOM, NUMBERS["verdict"])
    assert judged.judged.number == NUMBERS["referral"] and judged.header.verdict.official == "martine"
    assert judged.header.verdict.assessments == (Assessment.NOT_RESPECTED, Assessment.PARTLY_RESPECTED)
    assert (judged.accountability, judged.bound) == ((), ())


async def test_a_follow_up_given_before_the_pact_is_kept_apart_from_the_officials_statements(reader):
    kettle = await reader.record(ROOM, NUMBERS["adopted"])
    assert [(s.official, s.member, s.text) for s in kettle.followups] == [(None, "fay", FOLLOWUP_BEFORE_THE_PACT)]
    [mayor] = kettle.accountability
    assert [s.text for s in mayor.statements] == ["The kettle is <b>ordered</b>, delivered next week"]
    assert Action.FOLLOWED_UP in [entry.action for entry in kettle.history]


async def test_an_officials_figures_count_the_verdicts_in_force_by_the_engines_rules(reader):
    figures = await reader.figures(ROOM)
    mayor, deputy = figures["martine"], figures["paul"]
    assert (mayor.referrals, mayor.bound, mayor.facts, mayor.statements, mayor.verdicts) == (1, 2, 2, 2, 1)
    assert dict(mayor.record) == {"respected": 0, "partly_respected": 1, "not_respected": 0, "none": 1}
    assert (deputy.referrals, deputy.bound, deputy.facts, deputy.verdicts) == (0, 1, 0, 0)
    assert dict(deputy.record) == {"respected": 0, "partly_respected": 0, "not_respected": 0, "none": 1}
    assert await reader.figures(ROOM, "paul") == {"paul": deputy}
    assert await reader.figures(ROOM, "nobody") == {}


async def test_an_officials_record_pages_through_the_proposals_in_it_newest_first(scenario):
    paged = RegisterReader(scenario.reading, page_size=1)
    first = await paged.official(ROOM, "martine", 1)
    assert first.total == 2 and [e.line.number for e in first.entries] == [NUMBERS["referral"]]
    [entry] = first.entries
    assert entry.line.header.referral.official == "martine" and len(entry.accountability.facts) == 2
    assert entry.accountability.in_force.number == NUMBERS["verdict"]
    second = await paged.official(ROOM, "martine", 2)
    [kettle] = second.entries
    assert kettle.line.number == NUMBERS["adopted"] and kettle.accountability.statements[0].official == "martine"
    assert (await paged.official(ROOM, "martine", 3)).entries == ()
    nobody = await paged.official(ROOM, "nobody", 1)
    assert (nobody.total, nobody.entries, nobody.figures.facts) == (0, (), 0)


async def test_an_export_holds_every_proposal_position_and_line_of_history_of_the_room(scenario, reader):
    export = await reader.export(ROOM)
    assert [row["number"] for row in export.decisions] == list(range(1, 11)) and export.room == ROOM
    positions = [(row["number"], row["round"], row["member"]) for row in export.positions]
    # Each round's positions taken, by member, then those counted by delegation at its close.
    assert positions[-1] == (10, 1, "bob") and (3, 3, "dan") == positions[positions.index((3, 3, "carol")) + 1]
    assert len(set(positions)) == len(positions)
    assert (3, 3, "carol") in positions and (1, 1, "carol") in positions
    assert {row["rule"] for row in export.positions if row["number"] == 3 and row["round"] == 3} == {"majority"}
    history = [row["proposal"] for row in export.history]
    assert history == sorted(history) and export.history[0]["action"] == "proposed"
    async with scenario.reading() as db:
        counted = await db.fetchone("SELECT (SELECT COUNT(*) FROM positions WHERE room = ?)"
                                    " + (SELECT COUNT(*) FROM delegated_positions WHERE room = ?) AS n", (ROOM, ROOM))
        lines = await db.fetchone("SELECT COUNT(*) AS n FROM history WHERE room = ?", (ROOM,))
    assert len(export.positions) == counted["n"] and len(export.history) == lines["n"]
    assert [(row["proposal"], row["official"], row["member"]) for row in export.facts] == [
        (8, "martine", "alice"), (8, "martine", "bob")]
    assert [(row["proposal"], row["official"]) for row in export.statements] == [(1, None), (1, "martine"),
                                                                                   (8, "martine")]
    assert [line.number for line in export.verdicts] == [NUMBERS["verdict"]] and set(export.figures) == {
        "martine", "paul"}
    hidden = await reader.export(ROOM, names=False, tables=("facts", "statements"))
    assert {row["member"] for row in hidden.facts + hidden.statements} == {None} and hidden.decisions == []
    records = await reader.records(ROOM)
    assert [r.header.number for r in records] == list(range(1, 11))
    for number in (3, NUMBERS["adopted"], NUMBERS["referral"], NUMBERS["verdict"]):
        assert records[number - 1] == await reader.record(ROOM, number)


async def test_the_feed_is_the_latest_proposals_outcomes_facts_and_statements_newest_first(reader):
    events = await reader.feed(ROOM)
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    made = [e.header.number for e in events if e.round is None and e.fact is None and e.statement is None]
    facts = [(e.header.number, e.fact.member, e.seq) for e in events if e.fact is not None]
    assert facts == [(8, "bob", 2), (8, "alice", 1)]
    said = [(e.header.number, e.statement.official) for e in events if e.statement is not None]
    assert said == [(8, "martine"), (1, "martine"), (1, None)]
    closed = [(e.header.number, e.round.number) for e in events if e.round is not None]
    assert sorted(made) == list(range(1, 11))
    assert sorted(closed) == [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (5, 1), (6, 1), (7, 1), (8, 1), (9, 1),
                              (9, 2)]
    assert events[0].round.number == 2 and events[0].header.number == NUMBERS["verdict"]
    assert len(await reader.feed(ROOM, size=3)) == 3


async def test_an_officials_feed_is_their_referrals_facts_statements_and_verdicts_adopted(reader):
    events = await reader.feed(ROOM, official="martine")
    kinds = [("fact" if e.fact else "statement" if e.statement else f"round {e.round.number}" if e.round else "made",
              e.header.number) for e in events]
    assert kinds == [("round 2", 9), ("statement", 8), ("fact", 8), ("fact", 8), ("round 1", 8), ("made", 8),
                     ("statement", 1)]
    assert await reader.feed(ROOM, official="paul") == []


async def test_a_listing_narrowed_to_a_topic_is_its_proposals_newest_first(scenario, reader):
    transport = await reader.listing(ROOM, Search(topic="transport"), 1)
    assert transport.total == 3 and [line.number for line in transport.lines] == ON_TOPIC["transport"][::-1]
    assert all("transport" in line.header.topics for line in transport.lines)
    adopted = await reader.listing(ROOM, Search((State.ADOPTED,), "", "transport"), 1)
    assert [line.number for line in adopted.lines] == [9, 8]
    assert (await reader.listing(ROOM, Search(words="van", topic="commons"), 1)).total == 0
    assert (await reader.listing(ROOM, Search(topic="budget"), 1)).lines == ()
    paged = RegisterReader(scenario.reading, page_size=2)
    assert [line.number for line in (await paged.listing(ROOM, Search(topic="transport"), 2)).lines] == [3]
    everything = await reader.listing(ROOM, Search(), 1)
    assert {line.number: line.header.topics for line in everything.lines if line.header.topics} == {
        1: ("commons",), 3: ("transport",), 6: ("commons",), 8: ("transport",), 9: ("transport",)}


async def test_the_topics_of_an_assembly_are_counted_by_state(reader):
    topics = await reader.topics(ROOM)
    assert {name: dict(t.counts) for name, t in topics.items()} == {
        "commons": {State.ADOPTED: 2}, "transport": {State.ADOPTED: 2, State.REJECTED: 1}}
    assert topics["transport"].total == 3
    assert await reader.topics(ROOM, "commons") == {"commons": topics["commons"]}
    assert await reader.topics(ROOM, "budget") == {} and await reader.topics("!nowhere:test") == {}


async def test_every_header_read_carries_its_topics(reader):
    kettle = await reader.record(ROOM, NUMBERS["adopted"])
    assert kettle.header.topics == ("commons",) and [c.topics for c in kettle.challenged_by] == [("commons",)]
    verdict = await reader.record(ROOM, NUMBERS["verdict"])
    assert verdict.header.topics == verdict.judged.topics == ("transport",)  # a verdict is on its decision's topics
    street = await reader.record(ROOM, NUMBERS["referral"])
    assert [v.header.topics for a in street.accountability for v in a.verdicts] == [("transport",)]
    assert Action.TOPICS_SET in [entry.action for entry in street.history]
    assert {r.header.number: r.header.topics for r in await reader.records(ROOM) if r.header.topics} == {
        n: (topic,) for topic, numbers in ON_TOPIC.items() for n in numbers}
    [entry, _] = (await reader.official(ROOM, "martine", 1)).entries
    assert entry.line.header.topics == ("transport",)
    export = await reader.export(ROOM, tables=("decisions",))
    assert export.topics == {ROOM: {n: (topic,) for topic, numbers in ON_TOPIC.items() for n in numbers}}


async def test_a_round_says_which_delegation_of_each_member_counted(reader):
    van = await reader.record(ROOM, NUMBERS["rejected"])
    assert [(p.member, p.delegated_by, p.scope) for p in van.rounds[2].positions] == [
        ("alice", None, None), ("bob", None, None), ("carol", None, None), ("dan", "bob", "topic:transport")]
    verdict = await reader.record(ROOM, NUMBERS["verdict"])
    assert [(p.member, p.position, p.delegated_by, p.scope) for p in verdict.rounds[1].positions] == [
        ("alice", Position.AGREE, None, None), ("bob", Position.AGREE, "alice", WHOLE_ROOM),
        ("dan", Position.AGREE, "alice", "topic:transport"), ("fay", Position.AGREE, "alice", "proposal:9")]
    export = await reader.export(ROOM, tables=("positions",))
    assert [(row["number"], row["member"], row["scope"]) for row in export.positions if row["delegated_by"]] == [
        (3, "dan", "topic:transport"), (9, "bob", WHOLE_ROOM), (9, "dan", "topic:transport"), (9, "fay", "proposal:9")]
    assert {row["scope"] for row in export.positions if not row["delegated_by"]} == {None}


async def test_a_version_made_by_a_challenge_is_known_as_its(reader):
    kettle = await reader.record(ROOM, NUMBERS["adopted"])
    assert kettle.amended_by(1) is None and kettle.amended_by(2).number == NUMBERS["amending"]
    assert kettle.amended_by(2).part == "2" and kettle.amended_by(3) is None
    van = await reader.record(ROOM, NUMBERS["rejected"])
    assert van.amended_by(2) is None  # amended by its proposer, for its second round


async def test_a_topics_feed_is_the_assemblys_about_the_proposals_on_it(reader):
    events = await reader.feed(ROOM, topic="transport")
    assert {e.header.number for e in events} == set(ON_TOPIC["transport"])
    assert [e.header.number for e in events if e.fact is not None] == [8, 8]
    assert {e.header.topics for e in events} == {("transport",)}
    assert {e.header.number for e in await reader.feed(ROOM, topic="commons")} == {1, 6}
    assert await reader.feed(ROOM, topic="budget") == []
    assert [e.header.number for e in await reader.feed(ROOM, official="martine", topic="commons")] == [1]
    everything = await reader.feed(ROOM)
    assert {e.header.number: e.header.topics for e in everything if e.header.topics} == {
        n: (topic,) for topic, numbers in ON_TOPIC.items() for n in numbers}
