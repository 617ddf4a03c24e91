"""What only PostgreSQL has: placeholders, a URL whose password is never shown, several processes on one database.

The behaviour the bot shares with SQLite runs on both (the ``database`` fixture: tests/test_storage.py,
tests/test_service.py...)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import asyncpg
import pytest

from bot.engine import transitions
from bot.engine.model import Position, SocialCode
from storage.postgres import CONNECTION_LOST, DatabaseUnavailable, numbered
from storage.database import open_database
from storage.repository import Repository, migrations
from storage.url import is_postgres_url, redacted, url_problem, without_password
from tests.polling import until

ROOM = "!room:test"
MONDAY = datetime(2027, 6, 7, 8, 0, tzinfo=timezone.utc)
CODE = SocialCode()
PASSWORD = "s3cret-Pa55"


def test_placeholders_are_numbered_outside_literals_names_and_comments():
    sql = "SELECT '?', 'it''s ?', \"odd?name\", ? -- is it?\n FROM t WHERE a = ? AND b IN (?, ?)"
    assert numbered(sql) == ("SELECT '?', 'it''s ?', \"odd?name\", $1 -- is it?\n FROM t WHERE a = $2"
                             " AND b IN ($3, $4)")
    assert numbered(sql) is numbered(sql)  # once per SQL string


@pytest.mark.parametrize(("url", "shown"), [
    (f"postgresql://consent:{PASSWORD}@db.example.org:5432/consent",
     "postgresql://consent:***@db.example.org:5432/consent"),
    (f"postgres://consent:{PASSWORD}@a:1,b:2/consent?sslmode=require",
     "postgres://consent:***@a:1,b:2/consent?sslmode=require"),
    (f"postgresql://consent@/consent?host=/run/postgresql&password={PASSWORD}",
     "postgresql://consent@/consent?host=/run/postgresql&password=***"),
    ("postgresql://consent@db.example.org/consent", "postgresql://consent@db.example.org/consent"),
    (f"postgresql://consent:{PASSWORD}@[::1/consent", "(a malformed URL)"),
])
def test_a_url_is_shown_without_its_password(url, shown):
    assert redacted(url) == shown
    assert PASSWORD not in without_password(f"could not reach {url}", url)


@pytest.mark.parametrize(("url", "problem"), [
    ("postgresql://consent@db.example.org/consent", None),
    ("postgres://consent@/consent?host=/run/postgresql", None),
    ("postgresql:///consent", None),
    ("mysql://consent@db/consent", "starting with postgresql:// or postgres://"),
    ("db.example.org/consent", "starting with postgresql:// or postgres://"),
    (f"postgresql://consent:{PASSWORD}@db:99999/consent", "postgresql://consent:***@db:99999/consent: a port is"),
    (f"postgresql://consent:{PASSWORD}@db:port/consent", "a port is a number"),
    (f"postgresql://consent:{PASSWORD}@[::1/consent", "not a valid URL"),
    ("postgresql://db/consent/more", "the database name follows the address, without a slash"),
    ("postgresql://db/consent#x", "no #fragment"),
    ("postgresql://db/con sent", "no spaces or control characters"),
    ("", "expected a PostgreSQL URL"),
    (5432, "expected a PostgreSQL URL"),
])
def test_a_malformed_url_is_refused_saying_why_and_never_the_password(url, problem):
    found = url_problem(url)
    if problem is None:
        assert found is None and is_postgres_url(url)
    else:
        assert problem in found and PASSWORD not in found


@pytest.mark.parametrize(("where", "reason"), [
    ("/no_such_database?host={folder}", 'database "no_such_database" does not exist'),
    ("/consent?host={folder}/no-such-folder", "No such file or directory"),
])
async def test_a_database_that_cannot_be_opened_is_a_clear_error_without_the_password(postgres, caplog, where,
                                                                                       reason):
    caplog.set_level(logging.DEBUG)
    url = f"postgresql://postgres:{PASSWORD}@" + where.format(folder=postgres.folder)
    with pytest.raises(DatabaseUnavailable) as refused:
        await Repository.open(url)
    assert str(refused.value).startswith("cannot open the PostgreSQL database postgresql://postgres:***@/")
    assert reason in str(refused.value)
    assert PASSWORD not in str(refused.value) and PASSWORD not in caplog.text


def server_drops_the_bot(postgres) -> None:
    """What a restart of the server does to the bot's connection, done while the bot's event loop stands still
    (from a thread of its own): asyncpg learns it only from the next statement, as when the server goes away
    between two of them."""
    async def terminate() -> None:
        admin = await asyncpg.connect(postgres.url())
        try:
            await admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                                " WHERE application_name = 'consent-bot'")  # 5000: waits for it to be gone
        finally:
            await admin.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, terminate()).result()


async def test_a_connection_lost_in_a_decision_fails_it_whole_and_the_next_one_connects_again(postgres,
                                                                                             postgres_url):
    repository = await Repository.open(postgres_url)
    try:
        with pytest.raises(CONNECTION_LOST):
            async with repository.transaction() as tx:
                assert await tx.claim_event("$lost", ROOM, MONDAY)
                server_drops_the_bot(postgres)
                await tx.claim_event("$after", ROOM, MONDAY)  # never on a new connection, outside the transaction
        async with repository.transaction() as tx:
            assert await tx.claim_event("$lost", ROOM, MONDAY)  # the lost decision left nothing behind
            assert await tx.claim_event("$after", ROOM, MONDAY)
    finally:
        await repository.close()


async def test_a_connection_lost_between_decisions_is_opened_again_for_the_next(postgres, postgres_url):
    repository = await Repository.open(postgres_url)
    try:
        await repository.set_state("sync", "s1")
        server_drops_the_bot(postgres)
        async with repository.transaction() as tx:
            assert await tx.claim_event("$next", ROOM, MONDAY)
        assert await repository.state("sync") == "s1"
    finally:
        await repository.close()


async def waiting_for_the_decision_lock(url: str) -> bool:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    finally:
        await connection.close()


async def vote(repository: Repository, member: str, position: Position) -> None:
    async with repository.transaction() as tx:
        assert await tx.claim_event(f"${member}", ROOM, MONDAY)
        proposal = await tx.load_for(ROOM, 1, member)
        await tx.save(ROOM, transitions.take_position(proposal, member, position, "", MONDAY), f"${member}")


async def test_two_processes_take_turns_and_neither_loses_the_others_vote(postgres_url):
    """Two bots on one database (the same bot started twice): while one decides, the other waits for it, then
    reads what it committed; the running tally counts both votes, and an event both read is handled once."""
    url = postgres_url
    first, second = await Repository.open(url), await Repository.open(url)
    try:
        async with first.transaction() as tx:
            await tx.save(ROOM, transitions.propose(1, "Kettle", "", "alice", MONDAY, CODE), "$p")
        async with first.transaction() as tx:
            assert await tx.claim_event("$bob", ROOM, MONDAY)
            proposal = await tx.load_for(ROOM, 1, "bob")
            carol = asyncio.create_task(vote(second, "carol", Position.AGREE))
            await until(lambda: waiting_for_the_decision_lock(url), what="the second process waiting for its turn")
            await tx.save(ROOM, transitions.take_position(proposal, "bob", Position.AGREE, "", MONDAY), "$bob")
        await carol
        async with second.transaction() as tx:
            assert not await tx.claim_event("$bob", ROOM, MONDAY)  # handled by the first process
            proposal = await tx.load(ROOM, 1)
        assert proposal.current_round.counts.agree == 2
        assert {s.member for s in proposal.current_round.stances} == {"bob", "carol"}
    finally:
        await first.close()
        await second.close()


async def test_two_processes_starting_at_once_migrate_the_database_once(postgres_url):
    repositories = await asyncio.gather(*(Repository.open(postgres_url) for _ in range(3)))
    try:
        latest = migrations("postgres")[-1][0]
        assert [await r.schema_version() for r in repositories] == [latest] * 3
        db = await open_database(postgres_url)
        try:
            assert (await db.fetchone("SELECT count(*) AS n FROM schema_version"))["n"] == latest
        finally:
            await db.close()
    finally:
        for repository in repositories:
            await repository.close()


async def test_a_commit_waits_for_the_disk_only_if_the_url_asks(postgres_url):
    for url, expected in ((postgres_url, "off"), (f"{postgres_url}&synchronous_commit=on", "on")):
        db = await open_database(url)
        try:
            assert (await db.fetchone("SHOW synchronous_commit"))["synchronous_commit"] == expected
        finally:
            await db.close()
