"""The minimal reference the scale figures are measured against (BENCHMARKS.md): the same job, nothing more.

It reads the same lines as the console ("!agree #1", "!disagree #1 <reason>" from a member), keeps one
position per member and a running tally in SQLite with the bot's settings (WAL, synchronous=NORMAL, on
the event loop's thread), one transaction per vote, and prints a one-line acknowledgement per vote. No rules engine, no
history, no outbox: the floor a real implementation is compared with.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import TextIO

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
        verb, _, rest = line.removeprefix("!").partition(" ")
        _, _, reason = rest.partition(" ")
        if verb not in POSITIONS:
            out.write(f"unknown command {verb}\n")
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
        self.db.execute("CREATE TABLE IF NOT EXISTS proposals (number INTEGER PRIMARY KEY, title TEXT, state TEXT)")
        if self.db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0] < count:
            self.db.executemany("INSERT OR IGNORE INTO proposals VALUES (?, ?, 'open')",
                                [(n, f"Proposal {n}") for n in range(1, count + 1)])
        began = time.perf_counter()
        for number, title, state in self.db.execute(
                "SELECT number, title, state FROM proposals ORDER BY number DESC LIMIT 20"):
            out.write(f"#{number} {title}: {state}\n")
        return time.perf_counter() - began

    def close(self) -> None:
        self.db.close()
