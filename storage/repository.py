"""The one async repository: every query of the bot is here."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.engine.model import (
    Action,
    Expression,
    Outcome,
    Position,
    Proposal,
    Reason,
    Round,
    Rule,
    Stance,
    State,
    Step,
    Tally,
)
from bot.outgoing import Kind, Line, Outgoing, lines_from_json, lines_to_json, message_id

log = logging.getLogger(__name__)


def to_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def migrations() -> list[tuple[int, str]]:
    """The numbered SQL files shipped in storage/migrations, in order."""
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Repository:
    """Opened with :meth:`open`; all writes go through :meth:`transaction`."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Repository:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute("PRAGMA busy_timeout=5000")
        repository = cls(connection)
        await repository._migrate()
        return repository

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        await self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with self._db.execute("SELECT MAX(version) FROM schema_version") as cursor:
            current = (await cursor.fetchone())[0] or 0
        for version, script in migrations():
            if version <= current:
                continue
            log.info("applying migration %04d", version)
            # executescript commits first; the version row is part of the same script so both land together.
            await self._db.executescript(
                f"BEGIN;\n{script}\nINSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
            )
        # Messages queued by a version that did not store their platform id yet (SQLite has no sha256).
        async with self._db.execute("SELECT key FROM outbox WHERE message_id IS NULL AND sent_at IS NULL") as c:
            keys = [row["key"] for row in await c.fetchall()]
        await self._db.executemany("UPDATE outbox SET message_id = ? WHERE key = ?",
                                   [(message_id(key), key) for key in keys])

    async def schema_version(self) -> int:
        async with self._db.execute("SELECT MAX(version) FROM schema_version") as cursor:
            return (await cursor.fetchone())[0]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One decision, all or nothing: load, decide, save, queue its messages."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._db)
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            else:
                await self._db.execute("COMMIT")

    # Reads outside a decision (delivery, scheduling) share the lock so they never see half a transaction.

    async def pending_messages(self) -> list[Outgoing]:
        async with self._lock:
            async with self._db.execute("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY seq") as cursor:
                return [_outgoing(row) for row in await cursor.fetchall()]

    async def mark_sent(self, key: str, platform_id: str | None, at: datetime) -> None:
        async with self._lock:
            await self._db.execute(
                "UPDATE outbox SET sent_at = ?, platform_id = ? WHERE key = ?", (to_text(at), platform_id, key)
            )

    async def record_platform_id(self, message: str, platform_id: str) -> None:
        """The platform id of a message the bot saw come back, before (or without) its delivery being recorded."""
        async with self._lock:
            await self._db.execute(
                "UPDATE outbox SET platform_id = ? WHERE message_id = ? AND platform_id IS NULL", (platform_id, message)
            )

    async def ballot_id(self, room: str, number: int) -> str | None:
        """The platform id of a proposal's latest ballot, under which its messages are threaded."""
        async with self._lock:
            async with self._db.execute(
                "SELECT platform_id FROM outbox WHERE room = ? AND number = ? AND kind = ? AND platform_id IS NOT NULL"
                " ORDER BY seq DESC LIMIT 1",
                (room, number, Kind.BALLOT),
            ) as cursor:
                row = await cursor.fetchone()
        return row["platform_id"] if row else None

    async def state(self, key: str) -> str | None:
        async with self._lock:
            async with self._db.execute("SELECT value FROM platform_state WHERE key = ?", (key,)) as cursor:
                row = await cursor.fetchone()
        return row["value"] if row else None

    async def set_state(self, key: str, value: str) -> None:
        async with self._lock:
            await self._db.execute(
                "INSERT INTO platform_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def open_ballots(self) -> list[tuple[str, int, str]]:
        """(room, number, platform id of the current ballot) for every open proposal (reconciling votes)."""
        async with self._lock:
            async with self._db.execute(
                """SELECT p.room, p.number, o.platform_id FROM proposals p JOIN outbox o
                       ON o.room = p.room AND o.number = p.number AND o.kind = ? AND o.platform_id IS NOT NULL
                   WHERE p.state = ? AND o.seq = (SELECT MAX(seq) FROM outbox WHERE room = p.room
                       AND number = p.number AND kind = ? AND platform_id IS NOT NULL)""",
                (Kind.BALLOT, State.OPEN, Kind.BALLOT),
            ) as cursor:
                return [(row["room"], row["number"], row["platform_id"]) for row in await cursor.fetchall()]

    async def mark_undeliverable(self, key: str, reason: str, at: datetime) -> None:
        async with self._lock:
            await self._db.execute("UPDATE outbox SET sent_at = ?, error = ? WHERE key = ?", (to_text(at), reason, key))

    async def open_proposals(self) -> list[tuple[str, int]]:
        async with self._lock:
            async with self._db.execute(
                "SELECT room, number FROM proposals WHERE state = ? ORDER BY room, number", (State.OPEN,)
            ) as cursor:
                return [(row["room"], row["number"]) for row in await cursor.fetchall()]

    async def history(self, room: str, number: int) -> list[dict]:
        async with self._lock:
            return await Transaction(self._db).history(room, number)

    async def members_seen(self, room: str) -> set[str]:
        """Everyone who has proposed or acted in a room (the console's members across restarts)."""
        async with self._lock:
            async with self._db.execute(
                "SELECT DISTINCT member FROM history WHERE room = ? AND member IS NOT NULL", (room,)
            ) as cursor:
                return {row["member"] for row in await cursor.fetchall()}

    async def latest_time(self) -> datetime | None:
        """The latest instant the register knows of (the console's clock never goes back before it)."""
        async with self._lock:
            async with self._db.execute("SELECT MAX(at) FROM history") as cursor:
                return from_text((await cursor.fetchone())[0])


class Transaction:
    """The queries of one decision; created only by :meth:`Repository.transaction`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Undo a handler's partial writes when it refuses, keeping the rest of the transaction."""
        await self._db.execute("SAVEPOINT handler")
        try:
            yield
        except BaseException:
            await self._db.execute("ROLLBACK TO handler")
            await self._db.execute("RELEASE handler")
            raise
        await self._db.execute("RELEASE handler")

    async def claim_event(self, event_id: str, room: str, at: datetime, replaces: str | None = None) -> bool:
        """True the first time a platform event is seen; False for a duplicate (then change nothing)."""
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO processed_events (event_id, room, processed_at, replaces) VALUES (?, ?, ?, ?)",
            (event_id, room, to_text(at), replaces),
        )
        return cursor.rowcount == 1

    async def next_number(self, room: str) -> int:
        async with self._db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM proposals WHERE room = ?", (room,)) as c:
            return (await c.fetchone())[0]

    async def numbers(self, room: str, states: tuple[State, ...] | None = None) -> list[int]:
        query = "SELECT number FROM proposals WHERE room = ?"
        params: list = [room]
        if states:
            query += f" AND state IN ({','.join('?' * len(states))})"
            params += list(states)
        async with self._db.execute(query + " ORDER BY number", params) as cursor:
            return [row["number"] for row in await cursor.fetchall()]

    async def number_for_message(self, room: str, platform_id: str) -> int | None:
        """The proposal whose bot message (ballot, reminder, outcome…) has this platform id."""
        async with self._db.execute(
            "SELECT number FROM outbox WHERE room = ? AND platform_id = ? AND number IS NOT NULL",
            (room, platform_id),
        ) as cursor:
            row = await cursor.fetchone()
        return row["number"] if row else None

    async def ballot_number(self, room: str, platform_id: str) -> int | None:
        """The proposal whose *current* ballot this is: votes by reaction count only there."""
        async with self._db.execute(
            """SELECT o.number FROM outbox o WHERE o.room = ? AND o.platform_id = ? AND o.kind = ?
               AND o.seq = (SELECT MAX(seq) FROM outbox WHERE room = o.room AND number = o.number AND kind = ?)""",
            (room, platform_id, Kind.BALLOT, Kind.BALLOT),
        ) as cursor:
            row = await cursor.fetchone()
        return row["number"] if row else None

    async def took_effect(self, event_id: str) -> bool:
        """Whether a message, or an edit of it, changed the register (a further edit then changes nothing)."""
        async with self._db.execute(
            """SELECT 1 FROM history WHERE event_id = ? OR event_id IN
                   (SELECT event_id FROM processed_events WHERE replaces = ?) LIMIT 1""",
            (event_id, event_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def history(self, room: str, number: int) -> list[dict]:
        """Every line of a proposal's history, in order."""
        async with self._db.execute(
            "SELECT * FROM history WHERE room = ? AND number = ? ORDER BY id", (room, number)
        ) as cursor:
            return [dict(row) for row in await cursor.fetchall()]

    async def expression_of(self, room: str, event_id: str) -> tuple[int, int, str] | None:
        """(number, round, member) of what a member said about their position in this platform event."""
        async with self._db.execute(
            "SELECT number, round, member FROM expressions WHERE room = ? AND event_id = ?", (room, event_id)
        ) as cursor:
            row = await cursor.fetchone()
        return (row["number"], row["round"], row["member"]) if row else None

    async def load(self, room: str, number: int) -> Proposal | None:
        async with self._db.execute("SELECT * FROM proposals WHERE room = ? AND number = ?", (room, number)) as c:
            row = await c.fetchone()
        if row is None:
            return None
        async with self._db.execute(
            "SELECT text FROM versions WHERE room = ? AND number = ? ORDER BY version", (room, number)
        ) as c:
            versions = tuple(r["text"] for r in await c.fetchall())
        async with self._db.execute(
            "SELECT * FROM positions WHERE room = ? AND number = ? ORDER BY at, member", (room, number)
        ) as c:
            stances: dict[int, list[Stance]] = {}
            for p in await c.fetchall():
                stance = Stance(p["member"], Position(p["position"]), from_text(p["at"]), p["argument"])
                stances.setdefault(p["round"], []).append(stance)
        async with self._db.execute(
            "SELECT * FROM expressions WHERE room = ? AND number = ? AND retracted_at IS NULL ORDER BY seq",
            (room, number),
        ) as c:
            expressions: dict[int, list[Expression]] = {}
            for e in await c.fetchall():
                expression = Expression(e["event_id"], e["member"], e["position"] and Position(e["position"]),
                                        e["argument"], from_text(e["at"]))
                expressions.setdefault(e["round"], []).append(expression)
        async with self._db.execute(
            "SELECT * FROM rounds WHERE room = ? AND number = ? ORDER BY round", (room, number)
        ) as c:
            rounds = tuple(_round(r, tuple(stances.get(r["round"], ())), tuple(expressions.get(r["round"], ())))
                           for r in await c.fetchall())
        async with self._db.execute(
            "SELECT number FROM proposals WHERE room = ? AND challenges = ? AND state IN (?, ?) ORDER BY number",
            (room, number, State.OPEN, State.POSTPONED),
        ) as c:
            challenged_by = tuple(r["number"] for r in await c.fetchall())
        return Proposal(
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
        )

    async def save(self, room: str, step: Step, event_id: str | None) -> None:
        """Write the proposal as the step left it and append the step's changes to the history."""
        p = step.proposal
        await self._db.execute(
            """INSERT INTO proposals (room, number, title, proposer, created_at, state, locked_until,
                   duration_seconds, challenges, part, repealed_by, amended_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (room, number) DO UPDATE SET state = excluded.state, locked_until = excluded.locked_until,
                   repealed_by = excluded.repealed_by, amended_by = excluded.amended_by""",
            (
                room, p.number, p.title, p.proposer, to_text(p.created_at), p.state,
                p.locked_until and to_text(p.locked_until),
                int(p.duration.total_seconds()) if p.duration is not None else None,
                p.challenges, p.part, p.repealed_by, json.dumps(list(p.amended_by)),
            ),
        )
        await self._db.executemany(
            "INSERT OR IGNORE INTO versions (room, number, version, text) VALUES (?, ?, ?, ?)",
            [(room, p.number, i, text) for i, text in enumerate(p.versions, start=1)],
        )
        for r in p.rounds:
            await self._save_round(room, p.number, r)
        await self._save_expressions(room, step)
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
        await self._db.executemany(
            """INSERT OR IGNORE INTO expressions (room, number, round, member, event_id, position, argument, at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [(room, p.number, round_number, e.member, e.event, e.position, e.argument, to_text(e.at))
             for e in step.expressed],
        )
        await self._db.executemany(
            "UPDATE expressions SET retracted_at = ? WHERE room = ? AND event_id = ? AND retracted_at IS NULL",
            [(to_text(at), room, event) for event, at in step.retracted],
        )

    async def _save_round(self, room: str, number: int, r: Round) -> None:
        o = r.outcome
        t = o.tally if o else None
        await self._db.execute(
            """INSERT INTO rounds (room, number, round, rule, opened_at, deadline, version, outcome, reason,
                   agree, abstain, disagree, block, unargued_block, members, closed_at, closed_offline)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (room, number, round) DO UPDATE SET deadline = excluded.deadline,
                   outcome = excluded.outcome, reason = excluded.reason, agree = excluded.agree,
                   abstain = excluded.abstain, disagree = excluded.disagree, block = excluded.block,
                   unargued_block = excluded.unargued_block, members = excluded.members,
                   closed_at = excluded.closed_at, closed_offline = excluded.closed_offline""",
            (
                room, number, r.number, r.rule, to_text(r.opened_at), to_text(r.deadline), r.version,
                o and o.state, o and o.reason,
                t and t.agree, t and t.abstain, t and t.disagree, t and t.block, t and t.unargued_block,
                o and o.members, o and to_text(o.closed_at), o and int(o.offline),
            ),
        )

    async def reminders_done(self, room: str, number: int, round_: Round) -> frozenset[timedelta]:
        """The reminders dealt with before the round's current deadline (an extension makes them due again)."""
        async with self._db.execute(
            "SELECT offset_seconds FROM reminders WHERE room = ? AND number = ? AND round = ? AND deadline = ?",
            (room, number, round_.number, to_text(round_.deadline)),
        ) as cursor:
            return frozenset(timedelta(seconds=row[0]) for row in await cursor.fetchall())

    async def record_reminder(
        self, room: str, number: int, round_: Round, offset: timedelta, status: str, at: datetime
    ) -> None:
        await self._db.execute(
            """INSERT OR IGNORE INTO reminders (room, number, round, deadline, offset_seconds, status, at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (room, number, round_.number, to_text(round_.deadline), int(offset.total_seconds()), status, to_text(at)),
        )

    async def queue(self, message: Outgoing, at: datetime) -> None:
        """Queue a message for delivery after commit; a key already queued is not queued again."""
        await self._db.execute(
            """INSERT OR IGNORE INTO outbox (key, room, kind, number, body, html, lines, payload, reply_to, mentions,
                   created_at, message_id)
               VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)""",
            (
                message.key, message.room, message.kind, message.number, message.body, lines_to_json(message.lines),
                json.dumps(message.payload, ensure_ascii=False) if message.payload is not None else None,
                message.reply_to, json.dumps(list(message.mentions)), to_text(at), message_id(message.key),
            ),
        )


def _round(row: aiosqlite.Row, stances: tuple[Stance, ...], expressions: tuple[Expression, ...]) -> Round:
    outcome = None
    if row["outcome"] is not None:
        tally = Tally(row["agree"], row["abstain"], row["disagree"], row["block"], row["unargued_block"])
        outcome = Outcome(
            State(row["outcome"]), Reason(row["reason"]), tally, row["members"],
            from_text(row["closed_at"]), bool(row["closed_offline"]),
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
    )


def _outgoing(row: aiosqlite.Row) -> Outgoing:
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
    )
