"""The repository over a real SQLite file and a real PostgreSQL database: migrations, round trips, transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import asynccontextmanager, closing
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from bot.engine import pact, transitions
from bot.engine.model import Delegation, Position, SocialCode
import storage.database as database_module
from bot.messages.outgoing import Kind, Line, Outgoing, message_id
from storage.database import Database, open_database
from storage.repository import Repository, migrations

ROOM = "!room:test"
MONDAY = datetime(2027, 6, 7, 8, 0, tzinfo=timezone.utc)
CODE = SocialCode()


@asynccontextmanager
async def connected(location: str):
    """A connection of its own to the test's database, beside the repository's (another process's view)."""
    db = await open_database(location)
    try:
        yield db
    finally:
        await db.close()


async def older_register(location: str, version: int) -> Database:
    """A database as a version of the bot that knew the first ``version`` migrations left it."""
    db = await open_database(location)
    await db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in migrations(db.dialect)[:version]:
        await db.script(f"{script}\nINSERT INTO schema_version (version) VALUES ({number});")
    return db


async def old_proposal(db: Database, state: str, at: str) -> None:
    """Proposal #1, "Kettle", as an older version stored it (its rounds are the test's own)."""
    await db.execute("INSERT INTO proposals (room, number, title, proposer, created_at, state) "
                     "VALUES (?, 1, 'Kettle', 'alice', ?, ?)", (ROOM, at, state))
    await db.execute("INSERT INTO versions VALUES (?, 1, 1, 'A kettle.')", (ROOM,))


def test_both_databases_have_the_same_numbered_migrations():
    numbers = [number for number, _ in migrations("sqlite")]
    assert numbers == list(range(1, len(numbers) + 1))
    assert [number for number, _ in migrations("postgres")] == numbers


async def test_migrations_are_applied_once(database):
    repository = await Repository.open(database)
    numbers = [number for number, _ in migrations()]
    assert await repository.schema_version() == numbers[-1]
    await repository.close()
    reopened = await Repository.open(database)
    assert await reopened.schema_version() == numbers[-1]
    await reopened.close()
    async with connected(database) as db:
        assert [row["version"] for row in await db.fetch("SELECT version FROM schema_version ORDER BY version")] == (
            numbers)


async def test_a_sqlite_register_is_a_file_in_wal_mode_and_its_folder_is_made(tmp_path):
    path = tmp_path / "nested" / "consent.db"
    await (await Repository.open(path)).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_decisions_reach_the_sqlite_file_itself_within_a_second_not_only_its_wal(tmp_path, monkeypatch):
    """A commit only writes the WAL; a checkpoint in a thread copies it into the database file (and syncs it)
    at most CHECKPOINT_EVERY seconds later — also for commits made while a checkpoint ran, with nothing after
    them. Read without the WAL (immutable), the file holds every decision."""
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 0.05)
    path = tmp_path / "consent.db"
    repository = await Repository.open(path)
    for number in range(1, 21):
        async with repository.transaction() as tx:
            await tx.save(ROOM, transitions.propose(number, "Kettle", "", "alice", MONDAY, CODE), f"$p{number}")

    def in_the_file() -> int:
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as db:
                tables = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'proposals'").fetchone()[0]
                return db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0] if tables else 0
        except sqlite3.DatabaseError:  # read without locks while a checkpoint writes the file: read it again
            return 0

    deadline = time.monotonic() + 5
    while in_the_file() < 20 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # the file is polled: no event says a checkpoint copied the last commit
    assert in_the_file() == 20
    await repository.close()


async def test_the_wal_is_synced_after_commits_a_second_apart_by_one_connection_kept_for_it(tmp_path, monkeypatch):
    monkeypatch.setattr("storage.database.CHECKPOINT_EVERY", 0.0)
    path = tmp_path / "consent.db"
    repository = await Repository.open(path)
    db = repository._db
    checkpointers = set()
    for value in ("a", "b", "c"):
        await repository.set_state("key", value)
        await db._checkpoint
        checkpointers.add(id(db._checkpointer))
        with closing(sqlite3.connect(path)) as other:
            busy, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            assert busy == 0 and frames == copied  # every commit of the WAL was in the file already
    assert len(checkpointers) == 1
    await repository.close()
    assert not (tmp_path / "consent.db-wal").exists()  # the last connection closed: the WAL is all in the file


# Each database describes its tables its own way: the same columns, in the same order, with the same type and
# the same NOT NULL; the same primary keys; the same named indexes and views.
SCHEMA = {
    "sqlite": {
        "columns": """SELECT m.name AS "table", c.name AS "column", lower(c.type) AS type, c."notnull" AS not_null,
                             c.pk AS key FROM sqlite_master m, pragma_table_info(m.name) c
                      WHERE m.type IN ('table', 'view') AND m.name <> 'sqlite_sequence' ORDER BY m.name, c.cid""",
        "indexes": "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    },
    "postgres": {
        "columns": """SELECT c.table_name AS "table", c.column_name AS "column", c.data_type AS type,
                             c.is_nullable = 'NO' AS not_null, COALESCE(k.ordinal_position, 0) AS key
                      FROM information_schema.columns c
                      LEFT JOIN information_schema.table_constraints t ON t.table_name = c.table_name
                           AND t.table_schema = c.table_schema AND t.constraint_type = 'PRIMARY KEY'
                      LEFT JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name
                           AND k.table_schema = c.table_schema AND k.column_name = c.column_name
                      WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.ordinal_position""",
        "indexes": """SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()
                          AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname""",
    },
}
SAME_TYPE = {"bigint": "integer"}  # identity columns: SQLite's integers are 64 bits


async def schema(location: str) -> tuple[list[tuple], list[str]]:
    async with connected(location) as db:
        queries = SCHEMA[db.dialect]
        columns = [(r["table"], r["column"], SAME_TYPE.get(r["type"], r["type"]), bool(r["not_null"]), r["key"])
                   for r in await db.fetch(queries["columns"])]
        return columns, [r["name"] for r in await db.fetch(queries["indexes"])]


async def test_sqlite_and_postgresql_registers_have_the_same_tables_columns_keys_and_indexes(tmp_path, postgres_url):
    locations = (str(tmp_path / "consent.db"), postgres_url)
    for location in locations:
        await (await Repository.open(location)).close()
    (sqlite_columns, sqlite_indexes), (postgres_columns, postgres_indexes) = [
        await schema(location) for location in locations]
    # A primary key is NOT NULL on PostgreSQL; SQLite does not say so (and lets a TEXT one be null).
    sqlite_columns = [(t, c, ty, bool(n or k), k)
                      for t, c, ty, n, k in sqlite_columns]
    assert postgres_columns == sqlite_columns
    assert {table for table, *_ in sqlite_columns} >= {"proposals", "rounds", "positions", "history", "outbox",
                                                       "expressions", "reminders", "decisions", "schema_version"}
    assert postgres_indexes == sqlite_indexes and "outbox_by_platform_id" in sqlite_indexes


async def test_votes_and_reminders_recorded_by_version_4_survive_the_upgrade(database):
    """A register in use before positions were replayed from expressions keeps every position, and each
    position keeps the event that set it (a redaction of it after the upgrade still takes it back); the steps
    SQL cannot do (counting open rounds, the ids of queued messages) run on either database."""
    at = "2027-06-07T09:00:00.000000+00:00"
    db = await older_register(database, 4)
    await old_proposal(db, "open", at)
    await db.execute("INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version) "
                     "VALUES (?, 1, 1, 'consent', ?, '2027-06-10T08:00:00.000000+00:00', 1)", (ROOM, at))
    await db.execute("INSERT INTO positions VALUES (?, 1, 1, 'bob', 'block', 'We have two kettles already.', ?)",
                     (ROOM, at))
    await db.execute("INSERT INTO history (room, number, round, action, member, position, argument, detail, at, "
                     "event_id) VALUES (?, 1, 1, 'position', 'bob', 'block', 'We have two kettles already.', '', ?, "
                     "'$bob-block')", (ROOM, at))
    await db.execute("INSERT INTO reminders VALUES (?, 1, 1, 86400, 'sent', ?)", (ROOM, at))
    await db.execute("INSERT INTO outbox (key, room, kind, number, body, html, mentions, created_at) "
                     "VALUES ('$x/0', ?, 'status', 1, 'Still queued', '', '[]', ?)", (ROOM, at))
    await db.close()
    repository = await Repository.open(database)
    async with repository.transaction() as tx:
        proposal = await tx.load(ROOM, 1)
        assert proposal.current_round.stance_of("bob").argument == "We have two kettles already."
        assert proposal.current_round.counts.block == 1  # counted once, after migration 7
        assert [e.event for e in proposal.current_round.expressions] == ["$bob-block"]
        assert await tx.expression_of(ROOM, "$bob-block") == (1, 1, "bob")
        assert await tx.reminders_done(ROOM, 1, proposal.current_round) == {timedelta(days=1)}
        step = transitions.take_back(proposal, "bob", "$bob-block", MONDAY + timedelta(hours=3))
        await tx.save(ROOM, step, "$redaction")
        assert (await tx.load(ROOM, 1)).current_round.stances == ()
    [queued] = await repository.pending_messages()
    assert queued.body == "Still queued"  # a message queued before the upgrade still goes out
    await repository.record_platform_id(message_id("$x/0"), "post-1")  # found by the id filled after migration 5
    assert await repository.ballot_id(ROOM, 1) is None
    async with connected(database) as db:
        assert (await db.fetchone("SELECT platform_id FROM outbox WHERE key = '$x/0'"))["platform_id"] == "post-1"
    await repository.close()


async def test_decisions_adopted_before_follow_ups_existed_are_not_brought_up_after_the_upgrade(database):
    """An upgrade must not send a burst of reminders about old decisions; facts can still be recorded."""
    at = "2027-06-07T09:00:00.000000+00:00"
    db = await older_register(database, 8)
    await old_proposal(db, "adopted", at)
    await db.execute("INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version, outcome, reason, "
                     "members, closed_at, closed_offline) VALUES (?, 1, 1, 'consent', ?, ?, 1, 'adopted', "
                     "'no_valid_block', 3, ?, 0)", (ROOM, at, at, at))
    await db.close()
    repository = await Repository.open(database)
    async with repository.transaction() as tx:
        decision = await tx.load(ROOM, 1)
        assert decision.application_reminded and decision.facts == ()
        bound = pact.bind(decision, "mayor", "fay", True, MONDAY).proposal
        step = pact.record_fact(bound, "mayor", "bob", "Bought.", None, "invoice 12", MONDAY, MONDAY.date())
        await tx.save(ROOM, step, "$fact")
    async with repository.transaction() as tx:
        decision = await tx.load(ROOM, 1)
        assert decision.bound == ("mayor",)
        [fact] = decision.facts
        assert (fact.official, fact.member, fact.text, fact.source) == ("mayor", "bob", "Bought.", "invoice 12")
    await repository.close()
    async with connected(database) as db:
        with pytest.raises((sqlite3.IntegrityError, asyncpg.RaiseError), match="append-only"):
            await db.execute("UPDATE facts SET text = 'Never bought.'")


async def test_follow_ups_given_before_the_pact_become_their_members_statements(database):
    """Migration 13: a follow-up was its member's own word on applying a decision; it is kept as such, and the
    decision it was about is not brought up for want of a fact."""
    at = "2027-06-07T09:00:00.000000+00:00"
    db = await older_register(database, 12)
    await old_proposal(db, "adopted", at)
    await db.execute("INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version, outcome, reason, "
                     "members, closed_at, closed_offline) VALUES (?, 1, 1, 'consent', ?, ?, 1, 'adopted', "
                     "'no_valid_block', 3, ?, 0)", (ROOM, at, at, at))
    await db.execute("UPDATE proposals SET followup_reminded = 0")
    await db.execute("INSERT INTO followups (room, number, seq, at, member, status, progress, note) VALUES "
                     "(?, 1, 1, ?, 'mayor', 'in_progress', 40, 'Ordered.')", (ROOM, at))
    await db.close()
    repository = await Repository.open(database)
    async with repository.transaction() as tx:
        decision = await tx.load(ROOM, 1)
    [statement] = decision.statements
    assert (statement.official, statement.member, statement.text) == (None, "mayor", "in progress, 40 %: Ordered.")
    assert decision.application_reminded
    await repository.close()


async def test_a_delegation_from_before_topics_stays_a_delegation_on_the_whole_room(database):
    """Delegations given before they could be on a subject or for a time cover every proposal, with no end."""
    at = "2027-06-07T09:00:00.000000+00:00"
    db = await older_register(database, 14)
    await db.execute("INSERT INTO delegations (room, member, delegate, at, event_id, reason) "
                     "VALUES (?, 'alice', 'bob', ?, '$d', 'given')", (ROOM, at))
    await db.execute("INSERT INTO current_delegations (room, member, delegate) VALUES (?, 'alice', 'bob')", (ROOM,))
    await db.close()
    repository = await Repository.open(database)
    async with repository.transaction() as tx:
        assert await tx.delegations(ROOM) == [Delegation("alice", "bob", "", None)]
        await tx.record_delegation(ROOM, "alice", "carol", MONDAY, "$t", "given", "topic:transport")
        assert await tx.delegation_of(ROOM, "alice") == Delegation("alice", "bob")
        assert len(await tx.delegations(ROOM)) == 2
    await repository.close()


async def test_a_database_made_by_an_older_version_gets_only_the_newer_migrations(database):
    db = await older_register(database, 1)
    await db.execute("INSERT INTO processed_events VALUES ('$old', 'room', '2027-01-01T00:00:00.000000+00:00')")
    await db.close()
    repository = await Repository.open(database)
    assert await repository.schema_version() == migrations()[-1][0]
    await repository.set_state("sync", "s1")
    assert await repository.state("sync") == "s1"
    async with repository.transaction() as tx:
        assert not await tx.claim_event("$old", "room", MONDAY)
    await repository.close()


async def test_a_proposal_with_rounds_positions_and_a_challenge_comes_back_as_it_was_saved(repository):
    step = transitions.propose(1, "Kettle", "Buy one", "alice", MONDAY, CODE)
    async with repository.transaction() as tx:
        await tx.save(ROOM, step, "$p")
    proposal = step.proposal
    for member, position, argument in [("bob", Position.BLOCK, ""), ("bob", Position.BLOCK, "Too expensive now"),
                                       ("carol", Position.DISAGREE, "meh"), ("dan", Position.AGREE, "")]:
        step = transitions.take_position(proposal, member, position, argument, MONDAY + timedelta(hours=1))
        proposal = step.proposal
        async with repository.transaction() as tx:
            await tx.save(ROOM, step, None)
    closed = transitions.close_round(proposal, 4, proposal.current_round.deadline, CODE)
    later = proposal.current_round.opened_at + timedelta(days=7)
    reopened = transitions.open_next_round(closed.proposal, "alice", False, later, CODE, "Buy a cheap one")
    async with repository.transaction() as tx:
        await tx.save(ROOM, closed, None)
        await tx.save(ROOM, reopened, "$r")
        loaded = await tx.load(ROOM, 1)
        viewed = await tx.view(ROOM, 1)
    assert loaded == reopened.proposal
    assert loaded.versions == ("Buy one", "Buy a cheap one")
    assert loaded.rounds[0].stance_of("bob").argument == "Too expensive now"
    # Only to be shown (!status): the same proposal, without what each member said.
    assert loaded.rounds[0].expressions
    assert viewed == replace(loaded, rounds=tuple(replace(r, expressions=()) for r in loaded.rounds))


async def test_members_at_the_same_instant_come_back_in_the_same_order_on_both_databases(repository):
    """Text compares byte by byte on both (PostgreSQL's columns are COLLATE "C"), whatever the locale."""
    step = transitions.propose(1, "Kettle", "", "alice", MONDAY, CODE)
    proposal = step.proposal
    async with repository.transaction() as tx:
        await tx.save(ROOM, step, "$p")
        for member in ("bob", "Zoé", "_x", "Bob", "éric", "a-b", "ab"):
            step = transitions.take_position(proposal, member, Position.AGREE, "", MONDAY + timedelta(hours=1))
            proposal = step.proposal
            await tx.save(ROOM, step, None)
        loaded = await tx.load(ROOM, 1)
    members = [s.member for s in loaded.current_round.stances]
    assert members == sorted(members, key=lambda name: name.encode())


async def test_a_member_saying_something_new_is_loaded_with_their_latest_word_only(repository):
    """However often bob changed his mind, a new word of his loads one of his past words, the latest: a vote costs
    the same each time. A word said before his latest (read late) loads them all, and so does a replay."""
    step = transitions.propose(1, "Kettle", "", "alice", MONDAY, CODE)
    said = [MONDAY + timedelta(hours=hour) for hour in range(1, 6)]
    async with repository.transaction() as tx:
        await tx.save(ROOM, step, "$p")
        proposal = step.proposal
        for index, at in enumerate(said):
            step = transitions.take_position(proposal, "bob", [Position.AGREE, Position.DISAGREE][index % 2], "", at,
                                             f"$bob{index}")
            proposal = step.proposal
            await tx.save(ROOM, step, f"$bob{index}")
    async with repository.transaction() as tx:
        latest = (await tx.load_for(ROOM, 1, "bob", saying_at=said[-1] + timedelta(minutes=1))).current_round
        late = (await tx.load_for(ROOM, 1, "bob", saying_at=said[2])).current_round
        whole = (await tx.load_for(ROOM, 1, "bob")).current_round
    assert [e.event for e in latest.expressions] == ["$bob4"] and latest.latest_expressions_only
    assert latest.stance_of("bob").position is Position.AGREE
    for loaded in (late, whole):
        assert [e.event for e in loaded.expressions] == [f"$bob{index}" for index in range(5)]
        assert not loaded.latest_expressions_only


async def test_a_noted_sync_position_keeps_only_its_latest_value_until_it_is_written(repository):
    for batch in range(1000):  # an idle bot's syncs, every 30 s for eight hours
        repository.note_state("matrix/next_batch", f"s{batch}")
    assert len(repository._deferred) == 1  # what waits does not grow with the syncs
    assert await repository.state("matrix/next_batch") == "s999"


async def test_a_failed_transaction_leaves_nothing_behind(repository):
    step = transitions.propose(1, "Kettle", "", "alice", MONDAY, CODE)
    with pytest.raises(RuntimeError):
        async with repository.transaction() as tx:
            await tx.save(ROOM, step, "$p")
            await tx.claim_event("$p", ROOM, MONDAY)
            raise RuntimeError("crash in the middle of a decision")
    async with repository.transaction() as tx:
        assert await tx.load(ROOM, 1) is None
        assert await tx.claim_event("$p", ROOM, MONDAY)
    assert await repository.history(ROOM, 1) == []


async def test_a_register_of_version_11_keeps_every_row_through_the_rebuild_of_its_tables(database):
    """Migration 12 rebuilds the tables a vote writes (on SQLite) and finds messages by their message_id instead
    of their key: every event, position, expression, history line and message stays; a message sent before,
    even one stored without a message_id, is still not queued twice; new rows are numbered after the old."""
    at = "2027-06-07T09:00:00.000000+00:00"
    db = await older_register(database, 11)
    await old_proposal(db, "open", at)
    await db.execute("INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version, agree, abstain, "
                     "disagree, block, unargued_block) VALUES (?, 1, 1, 'consent', ?, "
                     "'2027-06-10T08:00:00.000000+00:00', 1, 0, 0, 1, 0, 0)", (ROOM, at))
    await db.execute("INSERT INTO positions VALUES (?, 1, 1, 'bob', 'disagree', 'Too dear.', ?)", (ROOM, at))
    await db.execute("INSERT INTO expressions (room, number, round, member, event_id, position, argument, at) "
                     "VALUES (?, 1, 1, 'bob', '$bob', 'disagree', 'Too dear.', ?)", (ROOM, at))
    await db.execute("INSERT INTO history (room, number, round, action, member, position, argument, detail, at, "
                     "event_id) VALUES (?, 1, 1, 'position', 'bob', 'disagree', 'Too dear.', '', ?, '$bob')",
                     (ROOM, at))
    await db.execute("INSERT INTO processed_events (event_id, room, processed_at) VALUES ('$bob', ?, ?)", (ROOM, at))
    await db.execute("INSERT INTO outbox (key, room, kind, number, body, html, mentions, created_at, sent_at, "
                     "platform_id) VALUES ('notice/once', ?, 'announcement', NULL, 'Hello', '', '[]', ?, ?, 'post-0')",
                     (ROOM, at, at))
    await db.close()
    repository = await Repository.open(database)
    async with repository.transaction() as tx:
        assert not await tx.claim_event("$bob", ROOM, MONDAY)
        proposal = await tx.load(ROOM, 1)
        assert proposal.current_round.stance_of("bob").argument == "Too dear."
        assert [e.event for e in proposal.current_round.expressions] == ["$bob"]
        assert await tx.expression_of(ROOM, "$bob") == (1, 1, "bob")
        await tx.queue(Outgoing("notice/once", ROOM, Kind.ANNOUNCEMENT, (Line(("Hello",)),)), MONDAY)
        assert tx.queued == []  # sent before the upgrade: never again
        step = transitions.take_position(proposal, "carol", Position.AGREE, "", MONDAY + timedelta(hours=1), "$carol")
        await tx.save(ROOM, step, "$carol")
    assert await repository.pending_messages() == []
    history = await repository.history(ROOM, 1)
    assert [(line["member"], line["event_id"]) for line in history] == [("bob", "$bob"), ("carol", "$carol")]
    assert history[1]["id"] > history[0]["id"]
    async with repository.transaction() as tx:
        assert [e.event for e in (await tx.load(ROOM, 1)).current_round.expressions] == ["$bob", "$carol"]
    await repository.close()


async def test_history_refuses_updates_and_deletes(repository, migrated_database):
    async with repository.transaction() as tx:
        await tx.save(ROOM, transitions.propose(1, "Kettle", "", "alice", MONDAY, CODE), "$p")
    async with connected(migrated_database) as db:
        for statement in ("UPDATE history SET member = 'mallory'", "DELETE FROM history"):
            with pytest.raises((sqlite3.IntegrityError, asyncpg.RaiseError), match="append-only"):
                await db.execute(statement)
    assert [row["member"] for row in await repository.history(ROOM, 1)] == ["alice"]
