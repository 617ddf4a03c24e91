"""The database under the repository: the few operations it needs, for SQLite here and PostgreSQL in storage/postgres.py.

SQLite runs on the event loop's thread. Measured on a 2-core machine (BENCHMARKS.md): a statement costs
4 µs this way and 60 to 80 µs through a worker thread (aiosqlite, or any executor), and a commit's fsync
about 0.1 ms here, against 0.3 to 0.5 ms to hand it to a thread and back: a decision of a dozen statements
would spend most of its time passing between threads. The loop is held for the length of one decision,
which is what the bot would wait for anyway (one decision at a time). A decision takes the database's
write lock at its start (BEGIN IMMEDIATE); if another process holds it, the lock is asked for again
without blocking the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from storage.disk import SqliteHold
from storage.url import is_postgres_url, redacted

log = logging.getLogger(__name__)
Row = Mapping[str, Any]
IN_MEMORY = ":memory:"
LOCKED_RETRY = 0.01
"""Seconds between two tries for the write lock held by another process (doubling, up to LOCKED_WAIT)."""
LOCKED_WAIT = 5.0
UNAVAILABLE = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_CANTOPEN",
               "SQLITE_NOMEM")
"""What SQLite says when its file cannot take writes now (a full volume, a disk error…), by error name."""
CHECKPOINT_EVERY = 1.0
"""Seconds: after a commit, the WAL is synced to the disk if it was not for this long."""


class LeaseLost(Exception):
    """This process no longer holds the lease it acts under (storage/lease.py): it must not decide or send."""


class Database(Protocol):
    """What the repository asks of a database. SQL is written with ``?`` placeholders."""

    dialect: str

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None: ...

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def begin(self) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def script(self, sql: str) -> None:
        """A migration: several statements, no parameters, in one transaction."""

    def migrating(self) -> AbstractAsyncContextManager[None]:
        """Held while the schema is brought up to date: another process starting meanwhile waits for it."""

    def unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` is the database failing (full, unreachable…), not a statement being wrong."""

    async def close(self) -> None: ...

    async def abandon(self) -> None:
        """Close at once, without a word to the server (a connection that may be cut)."""


async def open_database(location: Path | str, acting: bool = False) -> Database:
    """The database at ``location``: a PostgreSQL URL (postgresql://…), else a SQLite file (or ":memory:").
    ``acting``: the process will decide on it (a bot, the console), and a SQLite file has one such process at a
    time (storage.disk.SqliteHold: DatabaseBusy if another holds it)."""
    if is_postgres_url(location):
        from storage.postgres import PostgresDatabase  # asyncpg is loaded only by those who use it

        log.info("opening the PostgreSQL database %s", redacted(str(location)))
        return await PostgresDatabase.connect(str(location))
    return SqliteDatabase(location, acting)


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path | str, acting: bool = False) -> None:
        self.path = str(path)
        self._hold: SqliteHold | None = None
        if self.path != IN_MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if acting:
                self._hold = SqliteHold(Path(self.path))
                self._hold.take()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except BaseException:
            if self._hold is not None:
                self._hold.release()
            raise
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit is written to the WAL, not synced; a crash of the bot loses nothing, and a power cut
        # at most the last CHECKPOINT_EVERY seconds, which the bot reads again from the platform (README, "Which
        # database"). Syncing every commit would cost 0.3 ms of each vote.
        self._db.execute("PRAGMA synchronous=NORMAL")
        # The WAL is copied into the database by a checkpoint in a thread (_plan_checkpoint), at most every
        # CHECKPOINT_EVERY seconds, never by a commit: SQLite's own automatic checkpoint would run inside the
        # commit that crosses 1,000 pages, on the event loop (a quarter of a vote's cost, on average, in
        # benchmarks.scale).
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._synced = time.monotonic()
        self._checkpoint: asyncio.Future | None = None
        self._unsynced = False
        """Commits since the last checkpoint started."""
        self._closed = False
        self._later: asyncio.TimerHandle | None = None
        self._checkpointer: sqlite3.Connection | None = None
        """The checkpoints' own connection, opened by the first and kept: opening one reads the schema again,
        0.5 ms of CPU, five times what the checkpoint itself costs."""
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=0")  # waiting for another process's lock is done in begin()

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, parameters).fetchall()

    async def fetchone(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        return self._db.execute(sql, parameters).fetchone()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return self._db.execute(sql, parameters).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    async def begin(self) -> None:
        wait = LOCKED_RETRY
        waited = 0.0
        while True:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or waited >= LOCKED_WAIT:
                    raise
            await asyncio.sleep(wait)
            waited += wait
            wait = min(wait * 2, 0.5)

    async def commit(self) -> None:
        self._db.execute("COMMIT")
        if self.path == IN_MEMORY:
            return
        self._unsynced = True
        self._plan_checkpoint()

    def _plan_checkpoint(self) -> None:
        """The next checkpoint, CHECKPOINT_EVERY seconds after the last one started (at once if that is past): a
        commit followed by silence is synced then all the same. Nothing to plan while one runs (its end plans the
        next) or one is planned already."""
        if self._closed or self._later is not None or (self._checkpoint is not None and not self._checkpoint.done()):
            return
        delay = CHECKPOINT_EVERY - (time.monotonic() - self._synced)
        if delay <= 0:
            self._sync_soon()
        else:
            self._later = asyncio.get_running_loop().call_later(delay, self._sync_soon)

    def _sync_soon(self) -> None:
        """Sync the WAL to the disk (a checkpoint), in a thread and with a connection of its own: the loop goes on.
        Commits made meanwhile get the next one, CHECKPOINT_EVERY seconds later."""
        self._later = None
        if self._closed:
            return
        self._synced = time.monotonic()
        self._unsynced = False
        self._checkpoint = asyncio.get_running_loop().run_in_executor(None, self._checkpoint_now)
        self._checkpoint.add_done_callback(self._checkpointed)

    def _checkpoint_now(self) -> None:
        """In a worker thread, one checkpoint at a time (never while another runs: see _plan_checkpoint)."""
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpointed(self, done: asyncio.Future) -> None:
        error = None if done.cancelled() else done.exception()
        if error is not None:  # a full volume, say: the WAL keeps what it holds, and the next one tries again
            log.warning("copying the WAL into the database failed (%s); the next commit tries again", error)
        if self._unsynced:
            self._plan_checkpoint()

    async def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    async def script(self, sql: str) -> None:
        self._db.executescript(f"BEGIN;\n{sql}\nCOMMIT;")

    @asynccontextmanager
    async def migrating(self) -> AsyncIterator[None]:
        yield  # a SQLite file has one process (the bot); each migration takes the write lock (script)

    def unavailable(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.OperationalError) and \
            getattr(error, "sqlite_errorname", "").startswith(UNAVAILABLE)

    async def close(self) -> None:
        self._closed = True
        if self._later is not None:
            self._later.cancel()
        try:
            if self._checkpoint is not None:
                with contextlib.suppress(sqlite3.Error):  # said by _checkpointed
                    await self._checkpoint
        finally:
            if self._checkpointer is not None:
                self._checkpointer.close()
        if self.path != IN_MEMORY:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._db.close()
        if self._hold is not None:
            self._hold.release()

    async def abandon(self) -> None:
        await self.close()  # a file: nothing to wait for
