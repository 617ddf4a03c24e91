"""Which of several `consent-bot run` on one PostgreSQL database acts: the one that holds the lease, the others
standing by, ready to take over within seconds of its end.

There is one lease per chat platform (LEASE_KEYS): a Matrix process and a Mattermost process of one deployment
both act on one database (each in its own rooms; linked assemblies span both), while a standby pairs with the
process of its own platform. Decisions of both take turns under the decision lock (storage/postgres.py), so a
joint decision's round is closed by whichever comes first, and found closed by the other.

The lease is a session advisory lock of the database (LEASE_NAMESPACE, the platform's key), held by a connection of its own: when the
process dies, its connection closes and the lock goes with it, so a standby, which asks every STANDBY_POLL
seconds, takes over within about a second of a kill -9. When the machine is gone or the network to the database
is cut, nothing closes the connection: the server notices by TCP keepalives (storage.postgres.SESSION), ends the
session and lets go of the lock within about 10 s, and the standby takes over then.

The holder makes sure it is still the holder every CHECK_EVERY seconds; one that could not within HOLD_FOR
seconds of its last success stops acting (``held()`` is false: nothing more is sent) well before the server can
have handed the lock over. Each decision checks besides, in its own transaction, that this process's lease
session still holds the lock (storage/postgres.py: a decision of a holder that lost it commits nothing), and a new
holder waits for a decision of the old one still under way (both take the decision lock) before it reads anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable

import asyncpg

from storage.database import LeaseLost
from storage.postgres import CONNECTION_LOST, UNAVAILABLE, DatabaseUnavailable, open_connection
from storage.repository import Repository

log = logging.getLogger(__name__)

LEASE_NAMESPACE = 0x636F6E73
"""The first key ("cons") of every lease's advisory lock; apart from the decision lock (a single key)."""
LEASE_KEYS = {"matrix": 1, "mattermost": 2}
"""The second key: the platform whose process holds it (Matrix's is the one lease of the versions before)."""
STANDBY_POLL = 1.0
CHECK_EVERY = 1.0
HOLD_FOR = 3.0
_HOLDING = f"""SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = {LEASE_NAMESPACE}
               AND objid = {{key}} AND objsubid = 2 AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
"""The server process (a session) that holds the lease of the platform ``key``, if any."""

__all__ = ["Lease", "LeaseLost"]


def holder_name() -> str:
    """This process among the others, as the database shows its lease session: its host and process id."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:40]
    return f"consent-bot {host}:{os.getpid()}"


class Lease:
    def __init__(self, url: str, platform: str) -> None:
        self.url = url
        key = LEASE_KEYS[platform]
        holding = _HOLDING.format(key=key)
        self._take = f"SELECT pg_try_advisory_lock({LEASE_NAMESPACE}, {key}) AS taken"
        self._holder = f"SELECT application_name AS holder FROM pg_stat_activity WHERE pid IN ({holding})"
        self._still = f"SELECT 1 WHERE pg_backend_pid() IN ({holding})"
        self._held = f"SELECT 1 WHERE ? IN ({holding})"
        """What a decision checks: the lease is held by this process's lease session (its server process's pid)."""
        self.holder = holder_name()
        self.state = "starting"
        """``standing by``, ``acting``, ``lost``: what a readiness check reports."""
        self.acting_since: float | None = None
        """When (time.monotonic()) this process took the lease."""
        self._valid_until = 0.0
        self._connection: asyncpg.Connection | None = None

    def held(self) -> bool:
        """Whether this process may act now: it holds the lease, and made sure of it less than HOLD_FOR s ago."""
        return time.monotonic() < self._valid_until

    async def _ask(self, sql: str) -> asyncpg.Record | None:
        if self._connection is None or self._connection.is_closed():
            self._connection = await open_connection(self.url, {"application_name": self.holder})
        try:
            return await self._connection.fetchrow(sql)
        except CONNECTION_LOST:
            self._connection.terminate()
            raise

    async def acquire(self) -> None:
        """Wait, standing by, until this process holds the lease."""
        self.state = "standing by"
        shown = failing = None
        while True:
            asked = time.monotonic()
            try:
                if (await self._ask(self._take))["taken"]:
                    self._valid_until = asked + HOLD_FOR
                    self.state, self.acting_since = "acting", time.monotonic()
                    log.info("acting: %s holds the lease", self.holder)
                    return
                other = await self._ask(self._holder)
                if other is not None and other["holder"] != shown:
                    shown = other["holder"]
                    log.info("standing by: %s acts", shown)
            except (*CONNECTION_LOST, DatabaseUnavailable, asyncpg.PostgresError) as error:
                if str(error) != failing:  # said once, not every second
                    log.warning("standing by: cannot reach the database (%s)", error)
                failing = str(error)
            await asyncio.sleep(STANDBY_POLL)

    def fence(self, repository: Repository) -> None:
        """From now on, each decision of ``repository`` commits only while this process holds the lease."""
        assert self._connection is not None
        repository.fence(self._held, (self._connection.get_server_pid(),))

    async def keep(self) -> None:
        """Make sure of the lease every CHECK_EVERY seconds until it is lost (its session ended, or the database out
        of reach for HOLD_FOR seconds): then return; ``held()`` is false already, and the process must stop acting."""
        while True:
            await asyncio.sleep(CHECK_EVERY)
            asked = time.monotonic()
            try:
                still = await asyncio.wait_for(self._ask(self._still), max(self._valid_until - asked, 0.1))
            except (*CONNECTION_LOST, DatabaseUnavailable, asyncpg.PostgresError, TimeoutError) as error:
                if self.held() and self._connection is not None and not self._connection.is_closed():
                    continue  # slow, not lost: the next check decides
                log.error("%s lost the lease (%s): it stops acting; a standby takes over", self.holder,
                          str(error) or type(error).__name__)
                still = None
            if still is None:
                self._valid_until = 0.0
                self.state = "lost"
                if self._connection is not None:
                    self._connection.terminate()  # whatever it held goes with it
                return
            self._valid_until = asked + HOLD_FOR

    async def reopened(self, open_repository: Callable[[], Awaitable[Repository]]) -> Repository:
        """The repository opened again after the lease was lost, once the database answers (tried every
        STANDBY_POLL seconds meanwhile)."""
        failing = None
        while True:
            try:
                return await open_repository()
            except UNAVAILABLE as error:
                if str(error) != failing:
                    log.warning("standing by: cannot reach the database (%s)", error)
                failing = str(error)
            await asyncio.sleep(STANDBY_POLL)

    async def release(self) -> None:
        """Let the lease go at once (a clean stop): a standby takes over without waiting."""
        self._valid_until = 0.0
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(*CONNECTION_LOST):
                await self._connection.close()
