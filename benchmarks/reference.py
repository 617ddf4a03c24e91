"""The minimal reference the scale figures are measured against (BENCHMARKS.md): the same job, nothing more.

It reads the same lines as the console ("!agree #1", "!disagree #1 <reason>" from a member), keeps one
position per member and a running tally in SQLite with the bot's settings (WAL, synchronous=NORMAL, on
the event loop's thread), one transaction per vote, and prints a one-line acknowledgement per vote. No rules engine, no
history, no outbox: the floor a real implementation is compared with.

PostgresReferenceVotes does the same on PostgreSQL, straight on asyncpg, with the bot's session settings
(storage/postgres.py: synchronous_commit=off): one transaction and five statements a vote.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import TextIO

import asyncpg

from storage.postgres import SESSION

POSITIONS = {"agree", "abstain", "disagree", "block"}


class ReferenceVotes:
    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("CREATE TABLE IF NOT EXISTS positions (member TEXT PRIMARY KEY, position TEXT, reason TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS tally (position TEXT PRIMARY KEY, count INTEGER NOT NULL)")
        self.db.executemany("INSERT OR IGNORE INTO tally VALUES (?, 0)", [(p,) for p in POSITIONS])

    def vote(self, member: str, line: str, out: TextIO) -> None:
        verb, reason = _parse(line, out)
        if verb is None:
            return
        self.db.execute("BEGIN IMMEDIATE")
        row = self.db.execute("SELECT position FROM positions WHERE member = ?", (member,)).fetchone()
        if row is not None:
            self.db.execute("UPDATE tally SET count = count - 1 WHERE position = ?", (row[0],))
        self.db.execute("INSERT OR REPLACE INTO positions VALUES (?, ?, ?)", (member, verb, reason))
        self.db.execute("UPDATE tally SET count = count + 1 WHERE position = ?", (verb,))
        self.db.execute("COMMIT")
        out.write(f"{member}: {verb} on #1 recorded.\n")

    def run(self, votes: Iterable[tuple[str, str]], out: TextIO) -> float:
        """Seconds to record every (member, line)."""
        began = time.perf_counter()
        for member, line in votes:
            self.vote(member, line, out)
        return time.perf_counter() - began

    def list_proposals(self, count: int, out: TextIO) -> float:
        """Seconds to print one page of a room's proposals, read from a table of ``count`` of them."""
        self.db.execute(PROPOSALS)
        if self.db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0] < count:
            self.db.executemany("INSERT OR IGNORE INTO proposals VALUES (?, ?, 'open')",
                                [(n, f"Proposal {n}") for n in range(1, count + 1)])
        began = time.perf_counter()
        for number, title, state in self.db.execute(PAGE):
            out.write(f"#{number} {title}: {state}\n")
        return time.perf_counter() - began

    def ready(self) -> float:
        """Seconds to find the first open proposal (what a start needs), once list_proposals made them."""
        began = time.perf_counter()
        self.db.execute(FIRST_OPEN).fetchone()
        return time.perf_counter() - began

    def close(self) -> None:
        self.db.close()


PROPOSALS = "CREATE TABLE IF NOT EXISTS proposals (number INTEGER PRIMARY KEY, title TEXT, state TEXT)"
PAGE = "SELECT number, title, state FROM proposals ORDER BY number DESC LIMIT 20"
FIRST_OPEN = "SELECT MIN(number) FROM proposals WHERE state = 'open'"


def _parse(line: str, out: TextIO) -> tuple[str | None, str]:
    """The position and the reason of a vote's line; an unknown command is answered, and gives no position."""
    verb, _, rest = line.removeprefix("!").partition(" ")
    _, _, reason = rest.partition(" ")
    if verb not in POSITIONS:
        out.write(f"unknown command {verb}\n")
        return None, reason
    return verb, reason


class PostgresReferenceVotes:
    """The same reference on PostgreSQL (awaited): open it with ``await PostgresReferenceVotes.connect(url)``."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    @classmethod
    async def connect(cls, url: str) -> PostgresReferenceVotes:
        db = await asyncpg.connect(url, server_settings=SESSION)
        await db.execute("CREATE TABLE IF NOT EXISTS positions (member TEXT PRIMARY KEY, position TEXT, reason TEXT);"
                         "CREATE TABLE IF NOT EXISTS tally (position TEXT PRIMARY KEY, count INTEGER NOT NULL)")
        await db.executemany("INSERT INTO tally VALUES ($1, 0) ON CONFLICT DO NOTHING", [(p,) for p in POSITIONS])
        return cls(db)

    async def vote(self, member: str, line: str, out: TextIO) -> None:
        verb, reason = _parse(line, out)
        if verb is None:
            return
        async with self.db.transaction():
            before = await self.db.fetchval("SELECT position FROM positions WHERE member = $1", member)
            if before is not None:
                await self.db.execute("UPDATE tally SET count = count - 1 WHERE position = $1", before)
            await self.db.execute("INSERT INTO positions VALUES ($1, $2, $3) ON CONFLICT (member) DO UPDATE"
                                  " SET position = excluded.position, reason = excluded.reason", member, verb, reason)
            await self.db.execute("UPDATE tally SET count = count + 1 WHERE position = $1", verb)
        out.write(f"{member}: {verb} on #1 recorded.\n")

    async def run(self, votes: Iterable[tuple[str, str]], out: TextIO) -> float:
        began = time.perf_counter()
        for member, line in votes:
            await self.vote(member, line, out)
        return time.perf_counter() - began

    async def list_proposals(self, count: int, out: TextIO) -> float:
        await self.db.execute(PROPOSALS)
        if await self.db.fetchval("SELECT COUNT(*) FROM proposals") < count:
            await self.db.executemany("INSERT INTO proposals VALUES ($1, $2, 'open') ON CONFLICT DO NOTHING",
                                      [(n, f"Proposal {n}") for n in range(1, count + 1)])
        began = time.perf_counter()
        for number, title, state in await self.db.fetch(PAGE):
            out.write(f"#{number} {title}: {state}\n")
        return time.perf_counter() - began

    async def ready(self) -> float:
        began = time.perf_counter()
        await self.db.fetchval(FIRST_OPEN)
        return time.perf_counter() - began

    async def close(self) -> None:
        await self.db.close()
