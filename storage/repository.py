"""The one async repository: every query of the bot is here, written once for SQLite and PostgreSQL.

A decision about one member loads and saves what concerns that member (``load_for``), with the round's
running tally: it costs the same in a room of ten or of ten thousand.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from bot.engine.model import (
    Action,
    Assessment,
    Delegated,
    Delegation,
    Expression,
    Fact,
    Outcome,
    Position,
    Proposal,
    Reason,
    Referral,
    Round,
    Rule,
    Stance,
    State,
    Statement,
    Step,
    Summary,
    Tally,
    Verdict,
)
from bot.engine.rules import tally
from bot.messages.outgoing import Kind, Line, Outgoing, lines_from_json, lines_to_json, message_id
from storage.database import Database, LeaseLost, Row, open_database
from storage.health import StorageHealth

log = logging.getLogger(__name__)
LAPSES = 0
"""The "number" of a room's due work that is no proposal's: its delegations whose time has come lapse."""
SERVED = {"matrix": "({room} LIKE '!%' OR {room} LIKE 'network:%')", "mattermost": "{room} NOT LIKE '!%'"}
"""The rows (by their ``room`` column) a process of each chat platform handles when two share the database: its
rooms' (told by their shape, as bot.config.networks.room_platform does: a Matrix room id starts with !) and the
networks' joint decisions, which either process may close."""


@functools.lru_cache(maxsize=256)
def to_text(moment: datetime) -> str:
    """A time as stored: UTC ISO-8601 text with microseconds, which sorts as text. Cached: a decision stores its
    event's time in four or five rows."""
    if moment.tzinfo is not timezone.utc:  # most times are UTC already: astimezone would copy them for nothing
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def migrations(dialect: str = "sqlite") -> list[tuple[int, str]]:
    """The numbered SQL files shipped in storage/migrations/<dialect>, in order."""
    folder = resources.files("storage") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Repository:
    """Opened with :meth:`open`; all writes go through :meth:`transaction`, one decision at a time."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.health = StorageHealth()
        """Whether decisions commit: for a readiness check."""
        self._lock = asyncio.Lock()
        self._deferred: list[tuple[str, tuple]] = []
        """Bookkeeping that may wait for the next transaction (a message marked sent): one commit, not two."""
        self.on_transaction: Callable[[float], None] | None = None
        """Told how long each transaction held the database, once it is released (the metrics, bot.ops)."""
        self._serving = "1 = 1"
        """Which rows' due work and messages are this process's (``serve``): all, but beside another platform's."""

    @classmethod
    async def open(cls, location: Path | str, acting: bool = False) -> Repository:
        """The register at ``location``: a PostgreSQL URL (postgresql://…), else a SQLite file (or ":memory:");
        ``acting``: for the process that decides (see storage.database.open_database)."""
        database = await open_database(location, acting)
        repository = cls(database)
        try:
            await repository._migrate()
        except BaseException:
            await database.close()
            raise
        return repository

    async def close(self) -> None:
        try:
            await self.flush()
        except Exception as error:
            if not self.unavailable(error):
                raise
            # What was sent and not recorded yet is recognised on the platform, and sent no second time.
            log.warning("closing without recording the last messages sent (%s)", error)
        await self._db.close()

    async def abandon(self) -> None:
        """Close without writing what waits for the next transaction, nor waiting on the database: this process
        lost its lease, and the way to the database may be cut (what it sent is recognised, not sent again)."""
        self._deferred.clear()
        await self._db.abandon()

    async def wait_for_decisions_under_way(self) -> None:
        """Wait for a decision another process has under way (it holds the decision lock), then read on: a process
        that takes the lease over reads nothing before the one it replaces has committed or given up."""
        async with self.transaction():
            pass

    def unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` says the database cannot take decisions now (full, unreachable, restarting, or this
        process's lease gone), not that a decision is wrong: the events behind it must be read again, not skipped."""
        return isinstance(error, LeaseLost) or self._db.unavailable(error)

    def noticed(self, error: BaseException) -> None:
        """A decision failed: if the database is the cause, say so (health)."""
        if self.unavailable(error):
            self.health.failed(error)

    def serve(self, platform: str) -> None:
        """From now on, due work and chat messages are those of ``platform``'s rooms and of the networks (a process
        of the other platform may share the database: it does the rest)."""
        self._serving = SERVED.get(platform, self._serving)

    def _served(self, column: str = "room") -> str:
        """The SQL condition on ``column`` (a room) that keeps the rows this process handles."""
        return self._serving.format(room=column)

    def fence(self, check: str, parameters: tuple) -> None:
        """Each decision from now on runs ``check`` first and is refused if it finds no row (storage/lease.py)."""
        self._db.fence = (check, parameters)

    async def _migrate(self) -> None:
        async with self._db.migrating():
            await self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = (await self._db.fetchone("SELECT MAX(version) AS v FROM schema_version"))["v"] or 0
            for version, script in migrations(self._db.dialect):
                if version <= current:
                    continue
                log.info("applying migration %04d", version)
                # The version row is part of the same script, so both land together.
                await self._db.script(f"{script}\nINSERT INTO schema_version (version) VALUES ({version});")
                if version in _AFTER_MIGRATION:
                    await _AFTER_MIGRATION[version](self._db)

    async def schema_version(self) -> int:
        return (await self._db.fetchone("SELECT MAX(version) AS v FROM schema_version"))["v"]

    def transaction(self) -> _Decision:
        """One decision, all or nothing: load, decide, save, queue its messages (and the bookkeeping deferred
        since the last one, so that every read sees it). ``async with repository.transaction() as tx``."""
        return _Decision(self)

    async def _run_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        try:
            if len(deferred) == 1:  # a vote's: the acknowledgement of the one before
                await self._db.execute(*deferred[0])
                return
            # A run of the same statement (the messages one delivery pass sent) goes as one executemany: one
            # round trip to PostgreSQL for all of them.
            for sql, run in itertools.groupby(deferred, key=lambda statement: statement[0]):
                await self._db.executemany(sql, [parameters for _, parameters in run])
        except BaseException:
            self._deferred = deferred + self._deferred  # kept for the next try, with the transaction rolled back
            raise

    async def flush(self) -> None:
        """Write the deferred bookkeeping now (delivery does after each pass; closing does)."""
        if self._deferred:
            async with self.transaction():
                pass

    def defer(self, sql: str, parameters: tuple) -> None:
        self._deferred.append((sql, parameters))

    async def _read(self, sql: str, parameters: tuple = ()) -> list[Row]:
        """A read outside a decision: it shares the lock, so it never sees half a transaction."""
        async with self.reading() as db:
            return await db.fetch(sql, parameters)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Database]:
        """Several reads that see one state of the register, never half a decision (the public register's pages:
        storage/register.py). Nothing may be written through it."""
        await self.flush()
        async with self._lock:
            yield self._db

    async def _write(self, sql: str, parameters: tuple = ()) -> None:
        async with self.transaction():
            await self._db.execute(sql, parameters)

    async def pending_messages(self) -> list[Outgoing]:
        """The chat's messages not sent yet, in order."""
        return [_outgoing(row) for row in await self._read(
            f"SELECT * FROM outbox WHERE sent_at IS NULL AND channel = 'chat' AND {self._served()} ORDER BY seq")]

    async def pending_announcements(self) -> list[tuple[Outgoing, int, datetime | None, datetime | None]]:
        """The mails and webhook calls not sent yet, in order: each with its attempts so far, when to try it
        next (None: at once) and since when its server refuses it (None: never tried)."""
        rows = await self._read("SELECT * FROM outbox WHERE sent_at IS NULL AND channel <> 'chat' ORDER BY seq")
        return [(_outgoing(row), row["attempts"], from_text(row["next_try_at"]), from_text(row["failing_since"]))
                for row in rows]

    def note_attempt(self, key: str, attempts: int, next_try_at: datetime, failing_since: datetime) -> None:
        """An announcement the server refused for now: tried again at ``next_try_at`` (recorded like note_sent)."""
        self.defer("UPDATE outbox SET attempts = ?, next_try_at = ?, failing_since = ? WHERE message_id = ?",
                   (attempts, to_text(next_try_at), to_text(failing_since), message_id(key)))

    def note_sent(self, key: str, platform_id: str | None, at: datetime) -> None:
        """A message the platform took. Recorded with the next transaction: if the bot stops before, the message
        is sent again at its next start, under the same idempotency key, and the platform drops the copy."""
        self.defer("UPDATE outbox SET sent_at = ?, platform_id = ? WHERE message_id = ?",
                   (to_text(at), platform_id, message_id(key)))

    def note_undeliverable(self, key: str, reason: str, at: datetime) -> None:
        """A message the platform refuses for good: set aside with the reason (recorded like ``note_sent``)."""
        self.defer("UPDATE outbox SET sent_at = ?, error = ? WHERE message_id = ?", (to_text(at), reason, message_id(key)))

    async def record_platform_id(self, message: str, platform_id: str) -> None:
        """The platform id of a message the bot saw come back, before (or without) its delivery being recorded."""
        await self._write("UPDATE outbox SET platform_id = ? WHERE message_id = ? AND platform_id IS NULL",
                          (platform_id, message))

    async def ballot_id(self, room: str, number: int, scope: str = "") -> str | None:
        """The platform id of a proposal's latest ballot in ``room``, under which its messages are threaded (``scope``:
        a joint decision's, posted in each room of its network; "" for the room's own)."""
        rows = await self._read(
            "SELECT platform_id FROM outbox WHERE room = ? AND scope = ? AND number = ? AND kind = 'ballot'"
            " AND platform_id IS NOT NULL ORDER BY seq DESC LIMIT 1", (room, scope, number))
        return rows[0]["platform_id"] if rows else None

    async def state(self, key: str) -> str | None:
        rows = await self._read("SELECT value FROM platform_state WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    async def set_state(self, key: str, value: str) -> None:
        await self._write(_SET_STATE, (key, value))

    def note_state(self, key: str, value: str) -> None:
        """Platform state that may wait for the next transaction (recorded like ``note_sent``): a position to
        read the platform from, which read again from an older one changes nothing (events are handled once).
        Only the latest value of a key waits: an idle bot, syncing every 30 s, keeps one, not thousands."""
        self._deferred = [d for d in self._deferred if d[0] is not _SET_STATE or d[1][0] != key]
        self.defer(_SET_STATE, (key, value))

    async def pending_encrypted(self) -> list[Row]:
        """Members' messages a chat adapter could not decrypt yet (Matrix), oldest first."""
        return await self._read("SELECT * FROM pending_encrypted ORDER BY at, event_id")

    async def keep_encrypted(self, event_id: str, room: str, sender: str, session_id: str, at: datetime,
                             received_at: datetime, event: str) -> None:
        """Keep a message the adapter cannot decrypt yet (the same one twice is kept once)."""
        await self._write("INSERT INTO pending_encrypted (event_id, room, sender, session_id, at, received_at, event)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                          (event_id, room, sender, session_id, to_text(at), to_text(received_at), event))

    async def told_encrypted(self, event_id: str, at: datetime) -> None:
        """Its author was told the message could not be read."""
        await self._write("UPDATE pending_encrypted SET told_at = ? WHERE event_id = ?", (to_text(at), event_id))

    async def forget_encrypted(self, event_id: str) -> None:
        """The message was decrypted and handled."""
        await self._write("DELETE FROM pending_encrypted WHERE event_id = ?", (event_id,))

    async def open_ballots(self) -> list[tuple[str, int, str]]:
        """(room, number, platform id of the current ballot there) for every open proposal (reconciling votes): a
        joint decision's in each room of its network."""
        rows = await self._read(
            f"""SELECT o.room, p.number, o.platform_id FROM proposals p JOIN outbox o
                   ON o.number = p.number AND o.kind = 'ballot' AND o.platform_id IS NOT NULL
                   AND (o.room = p.room AND o.scope = '' OR o.scope = p.room)
               WHERE p.state = ? AND {self._served("o.room")}
                   AND o.seq = (SELECT MAX(seq) FROM outbox WHERE room = o.room AND scope = o.scope
                   AND number = p.number AND kind = 'ballot' AND platform_id IS NOT NULL)""",
            (State.OPEN,))
        return [(row["room"], row["number"], row["platform_id"]) for row in rows]

    async def next_due(self) -> tuple[datetime, str, int] | None:
        """The earliest instant the clock owes some proposal something, or a room's delegations (number
        LAPSES: one lapses then): two indexed queries, however many."""
        rows = await self._read(
            f"""SELECT * FROM (SELECT next_due_at AS at, room, number FROM proposals WHERE next_due_at IS NOT NULL
                                AND {self._served()} ORDER BY next_due_at LIMIT 1) p
                UNION ALL
                SELECT * FROM (SELECT until AS at, room, {LAPSES} AS number FROM current_delegations
                                WHERE until IS NOT NULL AND {self._served()} ORDER BY until LIMIT 1) d
                ORDER BY at LIMIT 1""")
        return (from_text(rows[0]["at"]), rows[0]["room"], rows[0]["number"]) if rows else None

    async def due_now(self, now: datetime) -> list[tuple[str, int]]:
        """The proposals the clock owes something at ``now``, the earliest first; then the rooms where a
        delegation lapses (number LAPSES)."""
        rows = await self._read(f"SELECT room, number FROM proposals WHERE next_due_at <= ? AND {self._served()}"
                                " ORDER BY next_due_at", (to_text(now),))
        lapsing = await self._read("SELECT DISTINCT room FROM current_delegations WHERE until <= ?"
                                   f" AND {self._served()} ORDER BY room", (to_text(now),))
        return [(row["room"], row["number"]) for row in rows] + [(row["room"], LAPSES) for row in lapsing]

    async def without_due_time(self) -> list[tuple[str, int]]:
        """Open proposals whose due time was never recorded (a register from before it was)."""
        rows = await self._read("SELECT room, number FROM proposals WHERE state = ? AND next_due_at IS NULL",
                                (State.OPEN,))
        return [(row["room"], row["number"]) for row in rows]

    async def open_proposals(self) -> list[tuple[str, int]]:
        rows = await self._read("SELECT room, number FROM proposals WHERE state = ? ORDER BY room, number",
                                (State.OPEN,))
        return [(row["room"], row["number"]) for row in rows]

    async def history(self, room: str, number: int) -> list[dict]:
        async with self._lock:
            return await Transaction(self._db).history(room, number)

    async def members_seen(self, room: str) -> set[str]:
        """Everyone who has proposed or acted in a room (the console's members across restarts)."""
        rows = await self._read("SELECT DISTINCT member FROM history WHERE room = ? AND member IS NOT NULL", (room,))
        return {row["member"] for row in rows}

    async def room_members(self, room: str) -> set[str]:
        """Who is in a room, as the process serving it last recorded (a room of the other platform)."""
        return {row["member"] for row in await self._read("SELECT member FROM room_members WHERE room = ?", (room,))}

    async def record_room_members(self, room: str, members: set[str]) -> None:
        """Who is in a room of this process's platform now: recorded for a process of the other platform."""
        async with self.transaction():
            recorded = {row["member"] for row in await self._db.fetch("SELECT member FROM room_members WHERE room = ?",
                                                                      (room,))}
            await self._db.executemany("DELETE FROM room_members WHERE room = ? AND member = ?",
                                       [(room, member) for member in sorted(recorded - members)])
            await self._db.executemany("INSERT INTO room_members (room, member) VALUES (?, ?)",
                                       [(room, member) for member in sorted(members - recorded)])

    async def linked_accounts(self) -> dict[str, str]:
        """Each account linked to one of the other platform → the member it counts as in joint decisions."""
        return {row["account"]: row["member"] for row in await self._read("SELECT account, member FROM linked_accounts")}

    async def latest_time(self) -> datetime | None:
        """The latest instant the register knows of (the console's clock never goes back before it)."""
        return from_text((await self._read("SELECT MAX(at) AS at FROM history"))[0]["at"])


async def _identify_every_message(db: Database) -> None:
    """Every message gets its message_id (SQLite has no sha256), by which it is now found, its key no longer
    indexed: sent ones too, so that a key used again (a notice said once) is still recognised."""
    rows = await db.fetch("SELECT seq, key FROM outbox WHERE message_id IS NULL")
    await db.executemany("UPDATE outbox SET message_id = ? WHERE seq = ?",
                         [(message_id(row["key"]), row["seq"]) for row in rows])


async def _count_open_rounds(db: Database) -> None:
    """Open rounds of a version that counted positions on demand get their running tally."""
    for r in await db.fetch("SELECT room, number, round, rule FROM rounds WHERE outcome IS NULL"):
        rows = await db.fetch("SELECT * FROM positions WHERE room = ? AND number = ? AND round = ?",
                              (r["room"], r["number"], r["round"]))
        counted = tally(tuple(_stance(p) for p in rows), Rule(r["rule"]))
        await db.execute("UPDATE rounds SET agree = ?, abstain = ?, disagree = ?, block = ?, unargued_block = ?"
                         " WHERE room = ? AND number = ? AND round = ?",
                         (*counted.as_dict().values(), r["room"], r["number"], r["round"]))


_AFTER_MIGRATION = {7: _count_open_rounds, 12: _identify_every_message}
"""Steps SQL cannot do, run once right after the migration of that number."""


_SET_STATE = "INSERT INTO platform_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"


class _Decision:
    """The context of Repository.transaction (a class, not a generator: it is entered once per event, and a
    generator-based context costs three times as much)."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._began = 0.0

    async def __aenter__(self) -> Transaction:
        repository = self._repository
        await repository._lock.acquire()
        self._began = time.perf_counter()
        try:
            await repository._db.begin()
            try:
                await repository._run_deferred()
            except BaseException:
                await repository._db.rollback()
                raise
        except BaseException as failure:
            repository.noticed(failure)
            repository._lock.release()
            raise
        return Transaction(repository._db)

    async def __aexit__(self, kind, error, traceback) -> None:
        repository = self._repository
        try:
            if kind is None:
                await repository._db.commit()
                repository.health.answered()
            else:
                repository.noticed(error)
                await repository._db.rollback()
        except BaseException as failure:
            repository.noticed(failure)
            raise
        finally:
            repository._lock.release()
            if repository.on_transaction is not None:
                repository.on_transaction(time.perf_counter() - self._began)


class Transaction:
    """The queries of one decision; created only by :meth:`Repository.transaction`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.queued: list[Outgoing] = []
        """The chat messages this transaction queued, for delivery once it is committed."""
        self.announced: list[Outgoing] = []
        """The mails and webhook calls it queued, for the announcer once it is committed."""
        self._loaded: dict[tuple[str, int], Proposal] = {}
        """Proposals as loaded: saving one writes only what changed (a vote: its round, not the proposal)."""

    def savepoint(self) -> _Savepoint:
        """Undo a handler's partial writes when it refuses, keeping the rest of the transaction.

        A handler that succeeds leaves its savepoint to the commit, which keeps everything: releasing it
        would cost a statement, a round trip on PostgreSQL, for nothing."""
        return _Savepoint(self._db)

    async def claim_event(self, event_id: str, room: str, at: datetime, replaces: str | None = None) -> bool:
        """True the first time a platform event is seen; False for a duplicate (then change nothing)."""
        return await self._db.execute(
            "INSERT INTO processed_events (event_id, room, processed_at, replaces) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (event_id, room, to_text(at), replaces),
        ) == 1

    async def next_number(self, room: str) -> int:
        row = await self._db.fetchone("SELECT COALESCE(MAX(number), 0) + 1 AS n FROM proposals WHERE room = ?", (room,))
        return row["n"]

    async def numbers(self, room: str, states: tuple[State, ...] | None = None) -> list[int]:
        query = "SELECT number FROM proposals WHERE room = ?"
        params: list = [room]
        if states:
            query += f" AND state IN ({','.join('?' * len(states))})"
            params += list(states)
        return [row["number"] for row in await self._db.fetch(query + " ORDER BY number", params)]

    async def summaries(self, places: Sequence[str], offset: int, limit: int,
                        topic: str | None = None) -> tuple[int, list[Summary]]:
        """How many proposals are kept under ``places`` — a room, and the scopes of the joint decisions it takes part
        in — (on ``topic``, if given), and one page of them, the newest first (one line each)."""
        if topic is None:
            chosen, params = "SELECT room, number FROM proposals WHERE room = ?", ()
        else:
            chosen, params = "SELECT room, number FROM proposal_topics WHERE room = ? AND topic = ?", (topic,)
        total = sum([(await self._db.fetchone(f"SELECT COUNT(*) AS n FROM ({chosen}) c", (place, *params)))["n"]
                     for place in places])
        # The page first, then its rounds: the cost of a page whatever the room's size, and whatever plan a
        # database without statistics yet (PostgreSQL's before its first ANALYZE) would choose for a join. With
        # several places, each one's newest (by its index), then the newest of those by when they were proposed.
        newest = " UNION ALL ".join(
            f"SELECT c.room, c.number, p.created_at FROM ({chosen} ORDER BY number DESC LIMIT ?) c"
            f" JOIN proposals p ON p.room = c.room AND p.number = c.number" for _ in places)
        rows = await self._db.fetch(
            f"""SELECT p.room, p.number, p.title, p.state, p.created_at, r.round, r.deadline
               FROM (SELECT p.room, p.number, p.title, p.state, p.created_at
                     FROM (SELECT * FROM ({newest}) n ORDER BY created_at DESC, number DESC LIMIT ? OFFSET ?) c
                     JOIN proposals p ON p.room = c.room AND p.number = c.number) p
               JOIN rounds r ON r.room = p.room AND r.number = p.number
                   AND r.round = (SELECT MAX(round) FROM rounds WHERE room = p.room AND number = p.number)
               ORDER BY p.created_at DESC, p.number DESC""",
            (*[value for place in places for value in (place, *params, offset + limit)], limit, offset))
        return total, [Summary(r["number"], r["title"], State(r["state"]), r["round"], from_text(r["deadline"]),
                               r["room"] if r["room"] != places[0] else "") for r in rows]

    async def number_for_message(self, room: str, platform_id: str) -> tuple[str, int] | None:
        """(scope, number) of the proposal whose bot message (ballot, reminder, outcome…) has this platform id: scope
        "" for the room's own, a network's for a joint decision."""
        row = await self._db.fetchone(
            "SELECT scope, number FROM outbox WHERE room = ? AND platform_id = ? AND kind <> 'ack'"
            " AND number IS NOT NULL", (room, platform_id))
        return (row["scope"], row["number"]) if row else None

    async def ballot_number(self, room: str, platform_id: str) -> tuple[str, int] | None:
        """(scope, number) of the proposal whose *current* ballot in the room this is: votes by reaction count only
        there (scope as for number_for_message)."""
        row = await self._db.fetchone(
            # kind <> 'ack', though implied, is the condition of the index by platform id (migration 0012), which
            # a database uses only when the query says it in those words; 'ballot' and 'ack' are Kind's values. A
            # ballot's mail and webhook calls are 'ballot' rows too, queued after it: the latest is the chat's.
            """SELECT o.scope, o.number FROM outbox o WHERE o.room = ? AND o.platform_id = ? AND o.kind <> 'ack'
               AND o.kind = 'ballot'
               AND o.seq = (SELECT MAX(seq) FROM outbox WHERE room = o.room AND scope = o.scope AND number = o.number
                            AND kind = 'ballot' AND channel = 'chat')""",
            (room, platform_id),
        )
        return (row["scope"], row["number"]) if row else None

    async def took_effect(self, event_id: str) -> bool:
        """Whether a message, or an edit of it, changed the register (a further edit then changes nothing)."""
        return await self._db.fetchone(
            """SELECT 1 AS yes FROM history WHERE event_id = ? OR event_id IN
                   (SELECT event_id FROM processed_events WHERE replaces = ?) LIMIT 1""",
            (event_id, event_id),
        ) is not None

    async def history(self, room: str, number: int) -> list[dict]:
        """Every line of a proposal's history, in order."""
        rows = await self._db.fetch("SELECT * FROM history WHERE room = ? AND number = ? ORDER BY id", (room, number))
        return [dict(row) for row in rows]

    async def expression_of(self, room: str, event_id: str) -> tuple[int, int, str] | None:
        """(number, round, member) of what a member said about their position in this platform event."""
        row = await self._db.fetchone(
            "SELECT number, round, member FROM expressions WHERE room = ? AND event_id = ?", (room, event_id))
        return (row["number"], row["round"], row["member"]) if row else None

    async def load(self, room: str, number: int) -> Proposal | None:
        """A proposal whole: every member's positions and expressions (a status, an outcome, the history)."""
        return await self._load(room, number, None)

    async def load_for(self, room: str, number: int, member: str, saying_at: datetime | None = None) -> Proposal | None:
        """A proposal with only this member's positions and expressions, and each round's running tally:
        what a decision about one member needs, whatever the room's size.

        ``saying_at``: the member is saying something new at that instant. When it comes after all they said in
        the round, only the latest of that is loaded (Round.latest_expressions_only): a vote then costs the same
        however often they changed their mind."""
        return await self._load(room, number, member, saying_at=saying_at)

    async def view(self, room: str, number: int) -> Proposal | None:
        """A proposal whole, only to be shown (!status): every member's positions, but not what each said
        (expressions: only a decision replays them), so that showing it costs what the room's size does, not
        what its history does. Never decided on, nor saved."""
        return await self._load(room, number, None, said=False)

    async def _load(self, room: str, number: int, member: str | None, said: bool = True,
                    saying_at: datetime | None = None) -> Proposal | None:
        # The proposal's row once per version, in one query (a round trip fewer on PostgreSQL).
        rows = await self._db.fetch(
            """SELECT p.*, v.text AS version_text FROM proposals p LEFT JOIN versions v
                   ON v.room = p.room AND v.number = p.number
               WHERE p.room = ? AND p.number = ? ORDER BY v.version""", (room, number))
        if not rows:
            return None
        row = rows[0]
        versions = tuple(r["version_text"] for r in rows if r["version_text"] is not None)
        round_rows = await self._db.fetch("SELECT * FROM rounds WHERE room = ? AND number = ? ORDER BY round",
                                          (room, number))
        # For one member: their rows in the current round only, through the primary key (O(1) in the room).
        whose, who = ("", ()) if member is None else (" AND round = ? AND member = ?", (round_rows[-1]["round"], member))
        # Positions and what was said, in one query (a round trip fewer on PostgreSQL): positions in the order
        # they were taken (seq 0), expressions in the order they were recorded.
        stances: dict[int, list[Stance]] = {}
        expressions: dict[int, list[Expression]] = {}
        positions = f"""SELECT 0 AS expressed, round, member, position, argument, at, NULL AS event_id, 0 AS seq
                        FROM positions WHERE room = ? AND number = ?{whose}"""
        latest_only = said and member is not None and saying_at is not None
        if said:
            said_query = f"""SELECT 1 AS expressed, round, member, position, argument, at, event_id, seq
                             FROM expressions WHERE room = ? AND number = ?{whose} AND retracted_at IS NULL"""
            if latest_only:
                said_query = f"SELECT * FROM ({said_query} ORDER BY at DESC, seq DESC LIMIT 1) latest"
            query = f"""{positions}
                        UNION ALL
                        {said_query}
                        ORDER BY seq, at, member"""
            parameters: tuple = (room, number, *who, room, number, *who)
        else:
            query, parameters = f"{positions} ORDER BY at, member", (room, number, *who)
        for r in await self._db.fetch(query, parameters):
            if r["expressed"]:
                expressions.setdefault(r["round"], []).append(
                    Expression(r["event_id"], r["member"], r["position"] and Position(r["position"]), r["argument"],
                               from_text(r["at"])))
            else:
                stances.setdefault(r["round"], []).append(_stance(r))
        if latest_only and any(e.at > saying_at for e in expressions.get(round_rows[-1]["round"], ())):
            return await self._load(room, number, member)  # said earlier than their latest word: all of it
        delegated: dict[int, list[Delegated]] = {}
        if member is None and any(r["outcome"] is not None for r in round_rows):
            for d in await self._db.fetch(
                    "SELECT * FROM delegated_positions WHERE room = ? AND number = ? ORDER BY round, member",
                    (room, number)):
                delegated.setdefault(d["round"], []).append(Delegated(d["member"], Position(d["position"]),
                                                                      d["by_member"], d["scope"]))
        rounds = tuple(_round(r, tuple(stances.get(r["round"], ())), tuple(expressions.get(r["round"], ())),
                              tuple(delegated.get(r["round"], ())), latest_only and r is round_rows[-1])
                       for r in round_rows)
        challenged_by: tuple[int, ...] = ()
        if row["state"] == State.ADOPTED:  # only an adopted decision is ever challenged
            challenged_by = tuple(r["number"] for r in await self._db.fetch(
                "SELECT number FROM proposals WHERE room = ? AND challenges = ? AND state IN (?, ?) ORDER BY number",
                (room, number, State.OPEN, State.POSTPONED)))
        topics: tuple[str, ...] = ()
        bound: tuple[str, ...] = ()
        facts: tuple[Fact, ...] = ()
        statements: tuple[Statement, ...] = ()
        if member is None:  # a vote needs none of it (and never changes it: see save)
            topics = await self.topics_of(room, number)
            bound = tuple(r["official"] for r in await self._db.fetch(
                "SELECT official FROM bound_officials WHERE room = ? AND number = ? ORDER BY official", (room, number)))
        if member is None and row["state"] in (State.ADOPTED, State.REPEALED):  # only a decision is accounted for
            facts = tuple(map(fact_of, await self._db.fetch(
                "SELECT * FROM facts WHERE room = ? AND number = ? ORDER BY seq", (room, number))))
            statements = tuple(map(statement_of, await self._db.fetch(
                "SELECT * FROM statements WHERE room = ? AND number = ? ORDER BY seq", (room, number))))
        proposal = Proposal(
            number=number,
            title=row["title"],
            proposer=row["proposer"],
            created_at=from_text(row["created_at"]),
            versions=versions,
            rounds=rounds,
            state=State(row["state"]),
            locked_until=from_text(row["locked_until"]),
            duration=timedelta(seconds=row["duration_seconds"]) if row["duration_seconds"] is not None else None,
            challenges=row["challenges"],
            part=row["part"],
            challenged_by=challenged_by,
            repealed_by=row["repealed_by"],
            amended_by=tuple(json.loads(row["amended_by"])),
            topics=topics,
            referral=Referral(row["referred_by"], from_day(row["needed_by"])) if row["referred_by"] else None,
            bound=bound,
            facts=facts,
            statements=statements,
            verdict=None if row["verdict_of"] is None else Verdict(row["verdict_of"], row["verdict_official"], tuple(
                map(Assessment, json.loads(row["assessments"])))),
            application_reminded=bool(row["followup_reminded"]),
            loaded_for=member,
        )
        if said:  # a proposal only shown is never saved
            self._loaded[(room, number)] = proposal
        return proposal

    async def verdicts_on(self, room: str, number: int) -> list[Proposal]:
        """The verdicts proposed on a decision, whatever became of them, to be shown (Transaction.view)."""
        rows = await self._db.fetch("SELECT number FROM proposals WHERE room = ? AND verdict_of = ? ORDER BY number",
                                    (room, number))
        return [await self.view(room, row["number"]) for row in rows]

    async def save(self, room: str, step: Step, event_id: str | None) -> None:
        """Write the proposal as the step left it and append the step's changes to the history."""
        p = step.proposal
        before = self._loaded.get((room, p.number))
        self._loaded[(room, p.number)] = p
        if before is None or _header(before) != _header(p):
            await self._save_header(room, p)
        if before is None or len(before.versions) != len(p.versions):
            await self._db.executemany(
                "INSERT INTO versions (room, number, version, text) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(room, p.number, i, text) for i, text in enumerate(p.versions, start=1)],
            )
        if p.loaded_for is None and (before is None or (before.bound, before.facts, before.statements) != (
                p.bound, p.facts, p.statements)):
            await self._save_accountability(room, p, before)
        if p.loaded_for is None and (before is None or before.topics != p.topics):
            await self._db.execute("DELETE FROM proposal_topics WHERE room = ? AND number = ?", (room, p.number))
            await self._db.executemany("INSERT INTO proposal_topics (room, number, topic) VALUES (?, ?, ?)",
                                       [(room, p.number, topic) for topic in p.topics])
        # A round's row is written when it changed: not for a vote that repeats one (only what was said grows).
        # A round loaded is in the database: it is updated, never inserted again.
        loaded = {r.number: r for r in before.rounds} if before is not None else {}
        for r in p.rounds:
            old = loaded.get(r.number)
            if old is None:
                await self._save_round(room, p.number, r)
            elif old is not r and _round_state(old) != _round_state(r):
                await self._update_round(room, p.number, r)
        await self._save_expressions(room, step)
        await self._save_changes(room, step, event_id)

    async def _save_header(self, room: str, p: Proposal) -> None:
        referral, verdict = p.referral, p.verdict
        await self._db.execute(
            """INSERT INTO proposals (room, number, title, proposer, created_at, state, locked_until,
                   duration_seconds, challenges, part, repealed_by, amended_by, followup_reminded, referred_by,
                   needed_by, verdict_of, verdict_official, assessments)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (room, number) DO UPDATE SET state = excluded.state, locked_until = excluded.locked_until,
                   repealed_by = excluded.repealed_by, amended_by = excluded.amended_by,
                   followup_reminded = excluded.followup_reminded, assessments = excluded.assessments""",
            (
                room, p.number, p.title, p.proposer, to_text(p.created_at), p.state,
                p.locked_until and to_text(p.locked_until),
                int(p.duration.total_seconds()) if p.duration is not None else None,
                p.challenges, p.part, p.repealed_by, json.dumps(list(p.amended_by)), int(p.application_reminded),
                referral and referral.official, referral and referral.needed_by and referral.needed_by.isoformat(),
                verdict and verdict.decision, verdict and verdict.official,
                verdict and json.dumps([str(a) for a in verdict.assessments]),
            ),
        )

    async def _save_accountability(self, room: str, p: Proposal, before: Proposal | None) -> None:
        """Who is bound to apply it now, and the facts and statements added (both append-only)."""
        if before is None or before.bound != p.bound:
            await self._db.execute("DELETE FROM bound_officials WHERE room = ? AND number = ?", (room, p.number))
            await self._db.executemany("INSERT INTO bound_officials (room, number, official) VALUES (?, ?, ?)",
                                       [(room, p.number, official) for official in p.bound])
        known = len(before.facts) if before is not None else 0
        await self._db.executemany(
            """INSERT INTO facts (room, number, seq, official, member, at, happened_on, text, source)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(room, p.number, seq, f.official, f.member, to_text(f.at), f.happened_on and f.happened_on.isoformat(),
              f.text, f.source) for seq, f in enumerate(p.facts[known:], start=known + 1)])
        known = len(before.statements) if before is not None else 0
        await self._db.executemany(
            "INSERT INTO statements (room, number, seq, official, member, at, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(room, p.number, seq, s.official, s.member, to_text(s.at), s.text)
             for seq, s in enumerate(p.statements[known:], start=known + 1)])

    async def _save_changes(self, room: str, step: Step, event_id: str | None) -> None:
        """The positions the step changed, and its lines of history."""
        p = step.proposal
        for change in step.changes:
            if change.action is Action.POSITION:
                stance = p.rounds[change.round - 1].stance_of(change.member)
                await self._db.execute(
                    """INSERT INTO positions (room, number, round, member, position, argument, at)
                       VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (room, number, round, member) DO UPDATE SET position = excluded.position,
                           argument = excluded.argument, at = excluded.at""",
                    (room, p.number, change.round, change.member, stance.position, stance.argument, to_text(stance.at)),
                )
            elif change.action is Action.POSITION_WITHDRAWN:
                await self._db.execute(
                    "DELETE FROM positions WHERE room = ? AND number = ? AND round = ? AND member = ?",
                    (room, p.number, change.round, change.member),
                )
            await self._db.execute(
                """INSERT INTO history (room, number, round, action, member, position, argument, detail, at, event_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    room, p.number, change.round, change.action, change.member, change.position,
                    change.argument, change.detail, to_text(change.at), event_id,
                ),
            )

    async def _save_expressions(self, room: str, step: Step) -> None:
        """What the step's members said, or took back, in the current round."""
        p = step.proposal
        round_number = p.current_round.number
        for e in step.expressed:
            await self._db.execute(
                """INSERT INTO expressions (room, number, round, member, event_id, position, argument, at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                (room, p.number, round_number, e.member, e.event, e.position, e.argument, to_text(e.at)),
            )
        for event, at in step.retracted:
            await self._db.execute(
                "UPDATE expressions SET retracted_at = ? WHERE room = ? AND event_id = ? AND retracted_at IS NULL",
                (to_text(at), room, event),
            )

    async def _save_round(self, room: str, number: int, r: Round) -> None:
        """A new round with its running tally (or one saved again by a step that did not load it)."""
        await self._db.execute(
            """INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version, outcome, reason,
                   agree, abstain, disagree, block, unargued_block, members, closed_at, closed_offline)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (room, number, round) DO UPDATE SET deadline = excluded.deadline,
                   outcome = excluded.outcome, reason = excluded.reason, agree = excluded.agree,
                   abstain = excluded.abstain, disagree = excluded.disagree, block = excluded.block,
                   unargued_block = excluded.unargued_block, members = excluded.members,
                   closed_at = excluded.closed_at, closed_offline = excluded.closed_offline""",
            (room, number, r.number, r.rule, to_text(r.opened_at), *_round_changes(r)),
        )
        await self._save_delegated(room, number, r)

    async def _update_round(self, room: str, number: int, r: Round) -> None:
        """A round loaded and changed: its running tally, its deadline, or its outcome."""
        await self._db.execute(
            """UPDATE rounds SET deadline = ?, version = ?, outcome = ?, reason = ?, agree = ?, abstain = ?,
                   disagree = ?, block = ?, unargued_block = ?, members = ?, closed_at = ?, closed_offline = ?
               WHERE room = ? AND number = ? AND round = ?""",
            (*_round_changes(r), room, number, r.number),
        )
        await self._save_delegated(room, number, r)

    async def _save_delegated(self, room: str, number: int, r: Round) -> None:
        """Once a round is closed, the members it counted by delegation (its tally includes them)."""
        o = r.outcome
        if o is not None and o.delegated:
            await self._db.executemany(
                """INSERT INTO delegated_positions (room, number, round, member, position, by_member, scope)
                   VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                [(room, number, r.number, d.member, d.position, d.by, d.scope) for d in o.delegated],
            )

    async def delegations(self, room: str) -> list[Delegation]:
        """The delegations of a room in force now (each member's, per scope), lapsed or not yet."""
        rows = await self._db.fetch("SELECT * FROM current_delegations WHERE room = ? ORDER BY member, scope", (room,))
        return [_delegation(row) for row in rows]

    async def delegations_at(self, room: str, at: datetime, now: list[Delegation] | None = None) -> list[Delegation]:
        """The delegations of a room as they stood at ``at``: those in force ``now`` (read here unless given), with
        the changes made since undone (a close runs at or just after its deadline: they are few or none)."""
        standing = {(d.member, d.scope): d for d in (await self.delegations(room) if now is None else now)}
        for row in await self._db.fetch("SELECT DISTINCT member, scope FROM delegations WHERE room = ? AND at > ?",
                                        (room, to_text(at))):
            before = await self._db.fetchone(
                "SELECT * FROM delegations WHERE room = ? AND member = ? AND scope = ? AND at <= ?"
                " ORDER BY seq DESC LIMIT 1", (room, row["member"], row["scope"], to_text(at)))
            standing.pop((row["member"], row["scope"]), None)
            if before is not None and before["delegate"] is not None:
                standing[(row["member"], row["scope"])] = _delegation(before)
        return list(standing.values())

    async def delegation_of(self, room: str, member: str, scope: str = "") -> Delegation | None:
        """A member's delegation in force now on one scope (the room's by default)."""
        row = await self._db.fetchone("SELECT * FROM current_delegations WHERE room = ? AND member = ? AND scope = ?",
                                      (room, member, scope))
        return _delegation(row) if row else None

    async def record_delegation(self, room: str, member: str, delegate: str | None, at: datetime,
                                event_id: str | None, reason: str, scope: str = "",
                                until: datetime | None = None) -> None:
        """A delegation given or changed (``delegate``), or ended (None) — by its member, lapsed or expired."""
        await self._db.execute(
            "INSERT INTO delegations (room, member, delegate, at, event_id, reason, scope, until)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (room, member, delegate, to_text(at), event_id, reason, scope, until and to_text(until)))
        if delegate is None:
            await self._db.execute("DELETE FROM current_delegations WHERE room = ? AND member = ? AND scope = ?",
                                   (room, member, scope))
        else:
            await self._db.execute(
                """INSERT INTO current_delegations (room, member, delegate, scope, until) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (room, member, scope) DO UPDATE SET delegate = excluded.delegate,
                       until = excluded.until""", (room, member, delegate, scope, until and to_text(until)))

    async def link_request(self, code: str) -> Row | None:
        """A step of a linking handshake, by its code: ``member`` and ``room`` asked (with ``at``); ``partner``,
        when set, is the account that must confirm it, from ``partner_room``."""
        return await self._db.fetchone("SELECT * FROM link_codes WHERE code = ?", (code,))

    async def add_link_request(self, code: str, member: str, room: str, partner: str | None, partner_room: str | None,
                               at: datetime, older_than: datetime) -> None:
        """A step of a handshake; those before ``older_than`` can no longer be used, and go."""
        await self._db.execute("DELETE FROM link_codes WHERE at < ?", (to_text(older_than),))
        await self._db.execute("INSERT INTO link_codes (code, member, room, partner, partner_room, at)"
                               " VALUES (?, ?, ?, ?, ?, ?)", (code, member, room, partner, partner_room, to_text(at)))

    async def link(self, account: str, room: str, member: str, member_room: str, at: datetime) -> None:
        """From now on ``account`` counts as ``member`` in joint decisions (``room``, ``member_room``: where each
        said so); the handshake's codes go."""
        await self._db.execute("DELETE FROM link_codes WHERE member IN (?, ?) OR partner IN (?, ?)",
                               (account, member, account, member))
        await self._db.execute("INSERT INTO linked_accounts (account, member, room, member_room, at)"
                               " VALUES (?, ?, ?, ?, ?)", (account, member, room, member_room, to_text(at)))

    async def link_of(self, member: str) -> Row | None:
        """The link an account is in, either side, if any."""
        return await self._db.fetchone("SELECT * FROM linked_accounts WHERE account = ? OR member = ?",
                                       (member, member))

    async def unlink(self, member: str) -> None:
        await self._db.execute("DELETE FROM linked_accounts WHERE account = ? OR member = ?", (member, member))

    async def joint_positions_open(self, member: str) -> list[tuple[str, int]]:
        """The joint decisions still open on which ``member`` holds a position (scope, number)."""
        rows = await self._db.fetch(
            """SELECT p.room, p.number FROM proposals p JOIN positions s ON s.room = p.room AND s.number = p.number
               WHERE p.state = ? AND p.room LIKE 'network:%' AND s.member = ? ORDER BY p.room, p.number""",
            (State.OPEN, member))
        return [(row["room"], row["number"]) for row in rows]

    async def lapsing(self, room: str, now: datetime) -> list[Delegation]:
        """A room's delegations whose time has come (until <= now)."""
        rows = await self._db.fetch("SELECT * FROM current_delegations WHERE room = ? AND until <= ?"
                                    " ORDER BY until, member, scope", (room, to_text(now)))
        return [_delegation(row) for row in rows]

    async def topics_of(self, room: str, number: int) -> tuple[str, ...]:
        rows = await self._db.fetch("SELECT topic FROM proposal_topics WHERE room = ? AND number = ? ORDER BY topic",
                                    (room, number))
        return tuple(row["topic"] for row in rows)

    async def set_due(self, room: str, number: int, at: datetime | None) -> None:
        """When the clock next owes this proposal something (None: nothing, it is decided)."""
        await self._db.execute("UPDATE proposals SET next_due_at = ? WHERE room = ? AND number = ?",
                               (at and to_text(at), room, number))

    async def reminders_done(self, room: str, number: int, round_: Round) -> frozenset[timedelta]:
        """The reminders dealt with before the round's current deadline (an extension makes them due again)."""
        rows = await self._db.fetch(
            "SELECT offset_seconds FROM reminders WHERE room = ? AND number = ? AND round = ? AND deadline = ?",
            (room, number, round_.number, to_text(round_.deadline)),
        )
        return frozenset(timedelta(seconds=row["offset_seconds"]) for row in rows)

    async def record_reminder(
        self, room: str, number: int, round_: Round, offset: timedelta, status: str, at: datetime
    ) -> None:
        await self._db.execute(
            """INSERT INTO reminders (room, number, round, deadline, offset_seconds, status, at)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (room, number, round_.number, to_text(round_.deadline), int(offset.total_seconds()), status, to_text(at)),
        )

    async def record_room_tallies(self, scope: str, number: int, round_: int,
                                  tallies: Mapping[str, tuple[int, Tally]]) -> None:
        """A joint decision's tally in each room of its network at a round's close (the register's per-room tally)."""
        for room, (members, counts) in tallies.items():
            await self._db.execute(
                """INSERT INTO room_tallies (scope, number, round, room, members, agree, abstain, disagree, block,
                                             unargued_block) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT DO NOTHING""",
                (scope, number, round_, room, members, counts.agree, counts.abstain, counts.disagree, counts.block,
                 counts.unargued_block))

    async def queue(self, message: Outgoing, at: datetime) -> None:
        """Queue a message for delivery after commit; a key already queued is not queued again."""
        added = await self._db.execute(
            """INSERT INTO outbox (key, room, kind, number, body, html, lines, payload, reply_to, mentions,
                   created_at, message_id, channel, scope)
               VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            (
                message.key, message.room, message.kind, message.number, message.body, lines_to_json(message.lines),
                json.dumps(message.payload, ensure_ascii=False) if message.payload is not None else None,
                message.reply_to, json.dumps(list(message.mentions)) if message.mentions else "[]", to_text(at),
                message_id(message.key), message.channel, message.scope,
            ),
        )
        if added:
            (self.queued if message.channel == "chat" else self.announced).append(message)


class _Savepoint:
    """The context of Transaction.savepoint (a class: see _Decision)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __aenter__(self) -> None:
        await self._db.execute("SAVEPOINT handler")

    async def __aexit__(self, kind, error, traceback) -> None:
        if kind is not None:
            await self._db.execute("ROLLBACK TO handler")
            await self._db.execute("RELEASE handler")


def _round_state(r: Round) -> tuple:
    """What a decision may change in a round's row (compared without turning times into text)."""
    return r.deadline, r.version, r.outcome, r.counts


def _round_changes(r: Round) -> tuple:
    """A round's row from its deadline on: its running tally, which once it is closed is its outcome's
    (delegated positions included)."""
    o = r.outcome
    t = o.tally if o is not None else r.counts
    return (to_text(r.deadline), r.version, o and o.state, o and o.reason, t.agree, t.abstain, t.disagree, t.block,
            t.unargued_block, o and o.members, o and to_text(o.closed_at), o and int(o.offline))


def _header(p: Proposal) -> tuple:
    """What a decision may change in a proposal's own row."""
    return p.state, p.locked_until, p.repealed_by, p.amended_by, p.application_reminded, p.verdict


def from_day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def fact_of(row: Row) -> Fact:
    """A row of the facts table."""
    return Fact(row["official"], row["member"], from_text(row["at"]), row["text"], from_day(row["happened_on"]),
                row["source"])


def statement_of(row: Row) -> Statement:
    """A row of the statements table."""
    return Statement(row["official"], row["member"], from_text(row["at"]), row["text"])


def _delegation(row: Row) -> Delegation:
    return Delegation(row["member"], row["delegate"], row["scope"], from_text(row["until"]))


def _stance(row: Row) -> Stance:
    return Stance(row["member"], Position(row["position"]), from_text(row["at"]), row["argument"])


def _round(row: Row, stances: tuple[Stance, ...], expressions: tuple[Expression, ...],
           delegated: tuple[Delegated, ...], latest_expressions_only: bool = False) -> Round:
    counts = Tally(row["agree"] or 0, row["abstain"] or 0, row["disagree"] or 0, row["block"] or 0,
                   row["unargued_block"] or 0)
    outcome = None
    if row["outcome"] is not None:
        outcome = Outcome(
            State(row["outcome"]), Reason(row["reason"]), counts, row["members"],
            from_text(row["closed_at"]), bool(row["closed_offline"]), delegated,
        )
    return Round(
        number=row["round"],
        rule=Rule(row["rule"]),
        opened_at=from_text(row["opened_at"]),
        deadline=from_text(row["deadline"]),
        version=row["version"],
        stances=stances,
        outcome=outcome,
        expressions=expressions,
        counts=counts,
        latest_expressions_only=latest_expressions_only,
    )


def _outgoing(row: Row) -> Outgoing:
    return Outgoing(
        key=row["key"],
        room=row["room"],
        kind=Kind(row["kind"]),
        # Messages queued before lines were stored: their plain text, line by line.
        lines=lines_from_json(row["lines"]) if row["lines"] else tuple(Line((t,)) for t in row["body"].split("\n")),
        payload=json.loads(row["payload"]) if row["payload"] else None,
        number=row["number"],
        reply_to=row["reply_to"],
        mentions=tuple(json.loads(row["mentions"])),
        channel=row["channel"],
        scope=row["scope"],
    )
