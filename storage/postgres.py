"""The repository's database on PostgreSQL (asyncpg): the same operations as SQLite's (storage/database.py).

One connection: the bot decides one event at a time, and the repository's lock already keeps the background
delivery's reads from interleaving with a decision. Each SQL string's ``?`` placeholders become ``$1…$n``
once (cached), and asyncpg prepares each statement once per connection, so a statement is one round trip.

Several processes may share one database (two bots by mistake, or a public register reading it). A decision
takes the database's decision lock at its start, as SQLite's BEGIN IMMEDIATE takes its write lock: decisions
take turns across processes, each reads what the one before committed (READ COMMITTED, the lock taken before
any read), so a running tally or a proposal's number is never computed from stale rows. The event claims and
the outbox's keys are unique constraints besides: an event two processes both read is handled once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import asyncpg

from storage.database import LeaseLost, Row
from storage.url import redacted, without_password

log = logging.getLogger(__name__)
T = TypeVar("T")

DECISION_LOCK = 0x636F6E73656E74  # "consent": the advisory lock (of this database) a decision holds to its commit
SCHEMA_LOCK = DECISION_LOCK + 1
"""Held while migrating, so that two processes starting at once migrate one after the other."""
SESSION = {"synchronous_commit": "off", "application_name": "consent-bot", "tcp_keepalives_idle": "4",
           "tcp_keepalives_interval": "1", "tcp_keepalives_count": "3", "tcp_user_timeout": "8000"}
"""The session's settings, unless the URL sets them (…?synchronous_commit=on). A commit returns before its WAL
is flushed, as SQLite's synchronous=NORMAL (storage/database.py): a crash of the bot loses nothing; a crash
of the server or a power cut, at most the last fraction of a second of decisions, which the bot reads again
from the platform, its sync position being saved in the same transactions. It never corrupts the database.
The server ends the session of a bot whose machine is gone, or whose network is cut, within about 10 s (TCP
keepalives after 4 s of silence, 3 probes a second apart; 8 s at most for data it sent unacknowledged), and with
it the locks it held (storage/lease.py): a standby then takes over."""
ROLLBACK_WITHIN = 5.0
"""Seconds a rollback may take before the connection is dropped instead (the network to the server cut: the server
ends the transaction when it ends the session)."""
STATEMENT_CACHE = 1000
"""Prepared statements kept per connection: far more than the repository's distinct SQL strings."""
_BEGIN = f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({DECISION_LOCK})"
# A string literal, a quoted name or a comment is copied as it is; a ? outside them is a placeholder.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?")
CONNECTION_LOST = (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresConnectionError,
                   asyncpg.exceptions.OperatorInterventionError)
"""What a lost connection raises (asyncpg reports a server's shutdown in several ways, depending on timing)."""


class DatabaseUnavailable(Exception):
    """The database could not be reached or refused the bot; the message never shows the URL's password."""


UNAVAILABLE = (*CONNECTION_LOST, DatabaseUnavailable, asyncpg.InsufficientResourcesError,
               asyncpg.ReadOnlySQLTransactionError)
"""The database failing rather than a statement being wrong: lost, unreachable, full, or read-only (a failover)."""



@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered as PostgreSQL wants them: ``$1``, ``$2``…"""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() != "?":
            return match.group()
        count += 1
        return f"${count}"

    return _TOKEN.sub(number, sql)


def _changed(status: str) -> int:
    """The number of rows a command changed, from its status ("INSERT 0 1", "UPDATE 3", "BEGIN")."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


class PostgresDatabase:
    dialect = "postgres"

    def __init__(self, url: str, connection: asyncpg.Connection) -> None:
        self._url = url
        self._connection = connection
        self._deciding = False
        """Between begin() and its commit or rollback: a lost connection is then an error, never a new one."""
        self.fence: tuple[str, tuple] | None = None
        """A query every decision runs first (storage.lease.Lease's): no row, and the decision is refused (LeaseLost)."""

    @classmethod
    async def connect(cls, url: str) -> PostgresDatabase:
        return cls(url, await open_connection(url))

    async def _run(self, call: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``call`` on the connection, opened again first if the last one was lost (a server restart, a network
        cut) and no decision is under way: one that was failed with it (its transaction went with the
        connection), and the rest of it must not run outside a transaction; the events it was about are read
        again from the platform. (A plain function, not a context manager: a statement costs 25 us here, and a
        context manager would add 5.)"""
        if self._connection.is_closed() and not self._deciding:
            log.warning("the connection to %s was lost; connecting again", redacted(self._url))
            self._connection = await open_connection(self._url)
        connection = self._connection
        try:
            return await call(connection)
        except CONNECTION_LOST:
            connection.terminate()  # whatever state asyncpg was left in, the next call starts afresh
            raise

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        return await self._run(lambda connection: connection.fetch(numbered(sql), *parameters))

    async def fetchone(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        return await self._run(lambda connection: connection.fetchrow(numbered(sql), *parameters))

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return _changed(await self._run(lambda connection: connection.execute(numbered(sql), *parameters)))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:  # asyncpg sends them all before reading the answers: one round trip
            await self._run(lambda connection: connection.executemany(numbered(sql), rows))

    async def begin(self) -> None:
        try:
            await self._run(lambda connection: connection.execute(_BEGIN))  # both statements in one round trip
        except CONNECTION_LOST:
            # Lost between two decisions (a server restart), and seen only now: nothing of this decision was
            # sent yet, so it starts again on a new connection.
            await self._run(lambda connection: connection.execute(_BEGIN))
        self._deciding = True
        if self.fence is not None:
            sql, parameters = self.fence
            try:
                if await self.fetchone(sql, parameters) is None:
                    raise LeaseLost("this process no longer holds the lease: another one acts")
            except BaseException:
                await self.rollback()
                raise

    async def commit(self) -> None:
        try:
            await self._run(lambda connection: connection.execute("COMMIT"))
        finally:
            self._deciding = False

    async def rollback(self) -> None:
        self._deciding = False
        if self._connection.is_closed() or not self._connection.is_in_transaction():
            return
        try:
            await asyncio.wait_for(self._connection.execute("ROLLBACK"), ROLLBACK_WITHIN)
        except (*CONNECTION_LOST, TimeoutError):
            self._connection.terminate()  # the server rolls back the transaction of a connection it lost

    async def script(self, sql: str) -> None:
        async def in_a_transaction(connection: asyncpg.Connection) -> None:
            async with connection.transaction():
                await connection.execute(sql)

        await self._run(in_a_transaction)

    @asynccontextmanager
    async def migrating(self) -> AsyncIterator[None]:
        await self._run(lambda connection: connection.execute(f"SELECT pg_advisory_lock({SCHEMA_LOCK})"))
        try:
            yield
        finally:
            if not self._connection.is_closed():  # else the lock went with the connection
                await self._connection.execute(f"SELECT pg_advisory_unlock({SCHEMA_LOCK})")

    def unavailable(self, error: BaseException) -> bool:
        return isinstance(error, UNAVAILABLE)

    async def close(self) -> None:
        await self._connection.close()

    async def abandon(self) -> None:
        self._connection.terminate()


async def open_connection(url: str, settings: dict[str, str] | None = None) -> asyncpg.Connection:
    """A connection with the SESSION settings (and ``settings``), but for those the URL sets."""
    try:
        given = {name for name, _ in parse_qsl(urlsplit(url).query)}
        settings = {name: value for name, value in {**SESSION, **(settings or {})}.items() if name not in given}
        return await asyncpg.connect(url, statement_cache_size=STATEMENT_CACHE, server_settings=settings)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        reason = without_password(str(error), url) or type(error).__name__
        raise DatabaseUnavailable(f"cannot open the PostgreSQL database {redacted(url)}: {reason}") from None
