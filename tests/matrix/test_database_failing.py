"""The database failing under the bot during a burst of votes: PostgreSQL killed with SIGKILL (every process of it)
and started again, a SQLite volume that fills up (a small tmpfs) and is freed. Meanwhile nothing the bot could not
store is acknowledged, the bot says what is wrong, neither crashes nor spins; once the database takes decisions
again, what it could not store is read again from the homeserver: no vote lost, none counted twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import asyncpg

from tests.polling import query, until
from tests.servers.postgres import FOR_TESTS, PostgresServer
from tests.volumes import fill, small_volume

from .bot_harness import answer_to, bot_config, propose, room_with_bot
from .crashes import BotProcess, Expected, burst
from .synapse import Account

VOTERS, ACTIONS_EACH, FAIL_AFTER = 16, 8, 40
FAILING = "the database cannot store the bot's decisions"
BACK = "the database stores decisions again"


async def vote_through_a_failure(alice, crowd, bot_account: Account, bot: BotProcess,
                                 fail_and_recover) -> dict[str, Expected]:
    """A burst during which ``fail_and_recover`` runs; returns what each voter said, once the bot answered after."""
    room = await room_with_bot(alice, bot_account.user_id, *crowd)
    ballot = await propose(alice, room, bot_account.user_id)
    expected = await burst(crowd, room, ballot.event_id, ACTIONS_EACH, [(FAIL_AFTER, fail_and_recover)], seed=31)
    await answer_to(alice, room, bot_account.user_id, "status", await alice.send_text(room, "!status #1"), timeout=90)
    return expected


def wanted(expected: dict[str, Expected]) -> dict[str, str]:
    return {member: e.position_at() for member, e in expected.items() if e.position_at() is not None}


def said(log: Path, words: str) -> int:
    return log.read_text().count(words)


async def test_postgresql_killed_and_started_again_during_a_burst_loses_no_vote(members, voters, bot_account,
                                                                                tmp_path):
    alice, = await members("alice")
    crowd = await voters(VOTERS)
    server = await asyncio.to_thread(PostgresServer.start, FOR_TESTS)  # its own: killed, it would fail the others'
    bot = BotProcess(tmp_path / "config.yaml", tmp_path / "bot.log")
    try:
        url = await server.create_database()
        bot_config(tmp_path, bot_account, [alice.user_id], {"store_path": str(tmp_path / "crypto")}, {"url": url},
                   minimum_duration="1h")
        bot.start()

        async def crash_and_restart() -> None:
            await asyncio.to_thread(server.crash)
            await until(lambda: said(bot.log, FAILING) or said(bot.log, "lost the lease"), timeout=30,
                        what="the bot to notice")
            await asyncio.to_thread(server.start_again)

        expected = await vote_through_a_failure(alice, crowd, bot_account, bot, crash_and_restart)
        connection = await asyncpg.connect(url)
        try:
            recorded = {row["member"]: row["position"] for row in await connection.fetch(
                "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
            history = Counter(tuple(row) for row in await connection.fetch(
                "SELECT event_id, action, member FROM history"))
        finally:
            await connection.close()
        assert recorded == wanted(expected)
        assert max(history.values()) == 1  # no event counted twice
        assert bot.process.poll() is None  # it never stopped: it stood by until the database was back
    finally:
        bot.stop()
        await asyncio.to_thread(server.stop)


async def test_a_sqlite_volume_that_fills_up_during_a_burst_loses_no_vote_once_freed(members, voters, bot_account,
                                                                                   tmp_path):
    alice, = await members("alice")
    crowd = await voters(VOTERS)
    with small_volume(tmp_path / "volume") as volume:
        config = bot_config(tmp_path, bot_account, [alice.user_id], {"store_path": str(tmp_path / "crypto")},
                            {"path": str(volume / "consent.db")}, minimum_duration="1h")
        bot = BotProcess(tmp_path / "config.yaml", tmp_path / "bot.log")
        bot.start()
        try:
            async def fill_then_free() -> None:
                filler = await asyncio.to_thread(fill, volume)
                await until(lambda: said(bot.log, FAILING), timeout=30, what="the bot to say its database is full")
                failed_reads = said(bot.log, "reading this sync again")
                await until(lambda: said(bot.log, "reading this sync again") > failed_reads, timeout=30,
                            what="the bot to try again")
                filler.unlink()

            expected = await vote_through_a_failure(alice, crowd, bot_account, bot, fill_then_free)
            assert said(bot.log, BACK) >= 1 and "database or disk is full" in bot.log.read_text()
            recorded = {row["member"]: row["position"] for row in query(
                config.storage.path, "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
            assert recorded == wanted(expected)
            history = Counter(tuple(row) for row in query(config.storage.path,
                                                          "SELECT event_id, action, member FROM history"))
            assert max(history.values()) == 1  # no event counted twice
            assert bot.process.poll() is None
            # It did not spin while it waited: a try every few seconds at most, growing (1, 2, 4, 8, 10 s).
            assert said(bot.log, "reading this sync again") < 30
        finally:
            bot.stop()
