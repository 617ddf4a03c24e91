"""The repository over a real SQLite file: migrations, round trips, transactions."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from bot.engine import transitions
from bot.engine.model import FollowUpStatus, Position, SocialCode
from storage.repository import Repository, migrations

ROOM = "!room:test"
MONDAY = datetime(2027, 6, 7, 8, 0, tzinfo=timezone.utc)
CODE = SocialCode()


async def test_migrations_are_numbered_and_applied_once(tmp_path):
    path = tmp_path / "nested" / "consent.db"
    repository = await Repository.open(path)
    assert path.exists()
    numbers = [number for number, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert await repository.schema_version() == numbers[-1]
    await repository.close()
    reopened = await Repository.open(path)
    assert await reopened.schema_version() == numbers[-1]
    await reopened.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert [row[0] for row in db.execute("SELECT version FROM schema_version")] == numbers


@contextlib.contextmanager
def _register_at_version(version: int, path, state: str, at: str) -> Iterator[sqlite3.Connection]:
    """A register as an older version left it, holding proposal #1 (a kettle) in that state."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for number, script in migrations()[:version]:
            db.executescript(script)
            db.execute("INSERT INTO schema_version VALUES (?)", (number,))
        db.execute("INSERT INTO proposals (room, number, title, proposer, created_at, state) "
                   "VALUES (?, 1, 'Kettle', 'alice', ?, ?)", (ROOM, at, state))
        db.execute("INSERT INTO versions VALUES (?, 1, 1, 'A kettle.')", (ROOM,))
        yield db


async def test_votes_and_reminders_recorded_by_version_4_survive_the_upgrade(tmp_path):
    """A register in use before positions were replayed from expressions keeps every position, and each
    position keeps the event that set it (a redaction of it after the upgrade still takes it back)."""
    path = tmp_path / "consent.db"
    at = "2027-06-07T09:00:00.000000+00:00"
    with _register_at_version(4, path, "open", at) as db:
        db.execute("INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version) "
                   "VALUES (?, 1, 1, 'consent', ?, '2027-06-10T08:00:00.000000+00:00', 1)", (ROOM, at))
        db.execute("INSERT INTO positions VALUES (?, 1, 1, 'bob', 'block', 'We have two kettles already.', ?)",
                   (ROOM, at))
        db.execute("INSERT INTO history (room, number, round, action, member, position, argument, detail, at, "
                   "event_id) VALUES (?, 1, 1, 'position', 'bob', 'block', 'We have two kettles already.', '', ?, "
                   "'$bob-block')", (ROOM, at))
        db.execute("INSERT INTO reminders VALUES (?, 1, 1, 86400, 'sent', ?)", (ROOM, at))
        db.execute("INSERT INTO outbox (key, room, kind, number, body, html, mentions, created_at) "
                   "VALUES ('$x/0', ?, 'status', 1, 'Still queued', '', '[]', ?)", (ROOM, at))
    repository = await Repository.open(path)
    async with repository.transaction() as tx:
        proposal = await tx.load(ROOM, 1)
        assert proposal.current_round.stance_of("bob").argument == "We have two kettles already."
        assert [e.event for e in proposal.current_round.expressions] == ["$bob-block"]
        assert await tx.expression_of(ROOM, "$bob-block") == (1, 1, "bob")
        assert await tx.reminders_done(ROOM, 1, proposal.current_round) == {timedelta(days=1)}
        step = transitions.take_back(proposal, "bob", "$bob-block", MONDAY + timedelta(hours=3))
        await tx.save(ROOM, step, "$redaction")
        assert (await tx.load(ROOM, 1)).current_round.stances == ()
    [queued] = await repository.pending_messages()
    assert queued.body == "Still queued"  # a message queued before the upgrade still goes out
    await repository.close()


async def test_decisions_adopted_before_follow_ups_existed_are_not_brought_up_after_the_upgrade(tmp_path):
    """An upgrade must not send a burst of reminders about old decisions; they can still be followed up."""
    path = tmp_path / "consent.db"
    at = "2027-06-07T09:00:00.000000+00:00"
    with _register_at_version(8, path, "adopted", at) as db:
        db.execute("INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version, outcome, reason, "
                   "members, closed_at, closed_offline) VALUES (?, 1, 1, 'consent', ?, ?, 1, 'adopted', "
                   "'no_valid_block', 3, ?, 0)", (ROOM, at, at, at))
    repository = await Repository.open(path)
    async with repository.transaction() as tx:
        decision = await tx.load(ROOM, 1)
        assert decision.followup_reminded and decision.followups == ()
        step = transitions.follow_up(decision, "mayor", True, FollowUpStatus.APPLIED, None, "Bought.", MONDAY)
        await tx.save(ROOM, step, "$followup")
    async with repository.transaction() as tx:
        [followup] = (await tx.load(ROOM, 1)).followups
        assert (followup.member, followup.status, followup.progress, followup.note) == (
            "mayor", FollowUpStatus.APPLIED, 100, "Bought.")
    await repository.close()
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE followups SET note = 'Never bought.'")


async def test_a_database_made_by_an_older_version_gets_only_the_newer_migrations(tmp_path):
    path = tmp_path / "consent.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.executescript(migrations()[0][1])
        db.execute("INSERT INTO schema_version VALUES (1)")
        db.execute("INSERT INTO processed_events VALUES ('$old', 'room', '2027-01-01T00:00:00.000000+00:00')")
    repository = await Repository.open(path)
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
    assert loaded == reopened.proposal
    assert loaded.versions == ("Buy one", "Buy a cheap one")
    assert loaded.rounds[0].stance_of("bob").argument == "Too expensive now"


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


async def test_history_refuses_updates_and_deletes(repository, tmp_path):
    async with repository.transaction() as tx:
        await tx.save(ROOM, transitions.propose(1, "Kettle", "", "alice", MONDAY, CODE), "$p")
    with sqlite3.connect(tmp_path / "consent.db") as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE history SET member = 'mallory'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM history")
    assert [row["member"] for row in await repository.history(ROOM, 1)] == ["alice"]
