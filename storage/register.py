"""The public register's read model: what its pages, open data and feeds show, read and never written.

Every query here is written once for SQLite and PostgreSQL (``storage.database.Database``, ``?``
placeholders): no function of one database only, an explicit ORDER BY everywhere, searches with LIKE and
escaped wildcards. A page's queries run in :meth:`storage.repository.Repository.reading`, so they see one
state of the register, never half a decision.

A proposal's data comes from a handful of queries that take a room and, optionally, one proposal: the
same rows make a proposal's page and the export of a whole assembly, so both say the same thing.
"""

from __future__ import annotations

import heapq
import json
import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.engine.model import Action, FollowUp, Position, Reason, Rule, State, Tally
from storage.database import Database, Row
from storage.repository import followup_of, from_text

PAGE_SIZE = 20
"""Proposals on one page of an assembly's list (as many as a page of !list)."""
MAX_SEARCH_LENGTH = 200
"""A title has at most 200 characters: a longer search finds nothing."""
MAX_OFFSET = 1_000_000_000
"""No assembly holds more proposals (a proposal number has at most 9 digits)."""
FEED_SIZE = 50
"""Entries in an assembly's feed: its latest proposals, outcomes and challenges."""

_HEADER = ("p.room, p.number, p.title, p.proposer, p.created_at, p.state, p.locked_until, p.challenges, p.part,"
           " p.repealed_by, p.amended_by")
_ROUND = ("r.round, r.rule, r.opened_at, r.deadline, r.version, r.outcome, r.reason, r.agree, r.abstain, r.disagree,"
          " r.block, r.unargued_block, r.members, r.closed_at, r.closed_offline")
_LATEST_ROUND = "r.round = (SELECT MAX(l.round) FROM rounds l WHERE l.room = p.room AND l.number = p.number)"
# The enums by their stored values: a dictionary lookup per row, where an export reads a row per position.
_POSITIONS = {p.value: p for p in Position}
_ACTIONS = {a.value: a for a in Action}


@dataclass(frozen=True)
class Header:
    """A proposal's own row: what it is, who made it, where it stands, what it challenges or changed it."""

    room: str
    number: int
    title: str
    proposer: str
    created_at: datetime
    state: State
    locked_until: datetime | None
    challenges: int | None
    """For a challenge: the decision it would revise."""
    part: str
    """For a challenge: the part of that decision it names ("" for the whole)."""
    repealed_by: int | None
    amended_by: tuple[int, ...]


@dataclass(frozen=True)
class PositionRecord:
    """A member's position in a round as it stands (the history keeps every change)."""

    member: str
    position: Position
    argument: str
    at: datetime
    delegated_by: str | None = None
    """A member who took no position, counted at the close with their delegate's: that delegate (then ``at`` is
    the close, ``argument`` empty)."""


@dataclass(frozen=True)
class RoundRecord:
    number: int
    rule: Rule
    opened_at: datetime
    deadline: datetime
    version: int
    """The version of the text this round voted on (from 1)."""
    outcome: State | None
    """None while the round is open."""
    reason: Reason | None
    closed_at: datetime | None
    offline: bool
    """The round closed when the bot came back after its deadline."""
    tally: Tally
    """Counted at the close; the running count while the round is open."""
    members: int | None
    """The "m" of participation, counted at the close; None while open."""
    positions: tuple[PositionRecord, ...] = ()


@dataclass(frozen=True)
class HistoryRecord:
    at: datetime
    round: int
    action: Action
    member: str | None
    position: Position | None
    argument: str
    detail: str


@dataclass(frozen=True)
class Line:
    """A proposal in a list: its header and its latest round."""

    header: Header
    latest: RoundRecord


@dataclass(frozen=True)
class Record:
    """A proposal whole: every version, every round with its positions, its history, its challenges both ways."""

    header: Header
    versions: tuple[str, ...]
    rounds: tuple[RoundRecord, ...]
    history: tuple[HistoryRecord, ...]
    challenged: Header | None
    """The decision this challenge would revise."""
    challenged_by: tuple[Header, ...]
    """Every challenge made of this decision, decided or not, the oldest first."""
    followups: tuple[FollowUp, ...] = ()
    """What those bound to apply the decision said of it, the oldest first."""

    @property
    def followup(self) -> FollowUp | None:
        """Where applying the decision stands: the latest follow-up."""
        return self.followups[-1] if self.followups else None

    @property
    def latest(self) -> RoundRecord:
        return self.rounds[-1]

    @property
    def text(self) -> str:
        """The text in force for a decision amended since it was adopted; else the one its latest round voted on."""
        if self.header.amended_by:
            return self.versions[-1]
        return self.versions[self.latest.version - 1] if self.versions else ""


@dataclass(frozen=True)
class Assembly:
    """A room with proposals, and how many it has in each state."""

    room: str
    counts: Mapping[State, int]
    latest: datetime
    """When its latest proposal was made."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Listing:
    """One page of an assembly's proposals, the newest first, and how many match in all."""

    total: int
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Search:
    """What a list shows: the proposals in these states (none: all) whose titles hold ``words``."""

    states: tuple[State, ...] = ()
    words: str = ""


@dataclass(frozen=True)
class Export:
    """Everything an assembly's register holds, as its open-data tables give it, in rows as stored: an assembly has
    a row per vote, so they are written out without a model around them."""

    room: str
    decisions: list[Row]
    """Each proposal with its latest round: the columns of a proposal and of a round (storage/migrations), by number."""
    positions: list[Row]
    """room, number, round, rule, member, position, argument, valid ('true', or None for a block in a consent
    round: valid if argued), at, delegated_by; by proposal, round, then the positions taken before those counted
    by delegation, by member (without names: by time)."""
    history: list[Row]
    """room, proposal, round, at, action, member, position, argument, detail; by proposal, in order."""


@dataclass(frozen=True)
class FeedEvent:
    """Something a feed reader is told: a proposal made (``round`` and ``followup`` None), a round's outcome, or a
    follow-up of a decision."""

    header: Header
    at: datetime
    round: RoundRecord | None = None
    text: str = ""
    """A proposal made: its first text."""
    deadline: datetime | None = None
    """A proposal made: the deadline of its first round."""
    followup: FollowUp | None = None


Reading = Callable[[], AbstractAsyncContextManager[Database]]


@dataclass
class RegisterReader:
    """The register's queries, each run inside ``reading()`` (e.g. ``Repository.reading``)."""

    reading: Reading
    page_size: int = PAGE_SIZE

    async def assemblies(self) -> list[Assembly]:
        """Every room with at least one proposal, by room id."""
        async with self.reading() as db:
            rows = await db.fetch("SELECT room, state, COUNT(*) AS n, MAX(created_at) AS latest FROM proposals"
                                  " GROUP BY room, state ORDER BY room, state")
        counts: dict[str, dict[State, int]] = {}
        latest: dict[str, str] = {}
        for row in rows:
            counts.setdefault(row["room"], {})[State(row["state"])] = row["n"]
            latest[row["room"]] = max(latest.get(row["room"], ""), row["latest"])
        return [Assembly(room, counts[room], from_text(latest[room])) for room in counts]

    async def assembly(self, room: str) -> Assembly | None:
        async with self.reading() as db:
            rows = await db.fetch("SELECT state, COUNT(*) AS n, MAX(created_at) AS latest FROM proposals"
                                  " WHERE room = ? GROUP BY state ORDER BY state", (room,))
        if not rows:
            return None
        return Assembly(room, {State(row["state"]): row["n"] for row in rows},
                        from_text(max(row["latest"] for row in rows)))

    async def listing(self, room: str, search: Search, page: int) -> Listing:
        """Page ``page`` (from 1) of the room's proposals that ``search`` finds, the newest first."""
        where, parameters = _where(room, search)
        offset = min((max(page, 1) - 1) * self.page_size, MAX_OFFSET)
        async with self.reading() as db:
            total = (await db.fetchone(f"SELECT COUNT(*) AS n FROM proposals p WHERE {where}", parameters))["n"]
            # The page's numbers first, from the proposals alone: a page deep in the list skips rows of one table.
            rows = await db.fetch(
                f"""SELECT {_HEADER}, {_ROUND} FROM proposals p JOIN rounds r
                       ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                    WHERE p.room = ? AND p.number IN (SELECT p.number FROM proposals p WHERE {where}
                                                      ORDER BY p.number DESC LIMIT ? OFFSET ?)
                    ORDER BY p.number DESC""",
                (room, *parameters, self.page_size, offset))
        return Listing(total, tuple(Line(_header(row), _round(row)) for row in rows))

    async def record(self, room: str, number: int) -> Record | None:
        """A proposal whole, or None if the room has no such proposal."""
        async with self.reading() as db:
            [header] = await _headers(db, "p.room = ? AND p.number = ?", (room, number)) or [None]
            if header is None:
                return None
            versions = await db.fetch("SELECT text FROM versions WHERE room = ? AND number = ? ORDER BY version",
                                      (room, number))
            rounds = await _rounds(db, "r.room = ? AND r.number = ?", (room, number))
            positions = await _positions(db, "s.room = ? AND s.number = ?", (room, number))
            history = await _history(db, "h.room = ? AND h.number = ?", (room, number))
            followups = await _followups(db, "f.room = ? AND f.number = ?", (room, number))
            challenged = None
            if header.challenges is not None:
                [challenged] = await _headers(db, "p.room = ? AND p.number = ?", (room, header.challenges)) or [None]
            challenged_by = await _headers(db, "p.room = ? AND p.challenges = ?", (room, number))
        return Record(
            header=header,
            versions=tuple(row["text"] for row in versions),
            rounds=tuple(_with_positions(r, positions.get((number, r.number), ())) for _, r in rounds),
            history=tuple(h for _, h in history),
            challenged=challenged,
            challenged_by=tuple(challenged_by),
            followups=tuple(followups.get(number, ())),
        )

    async def export(self, room: str, names: bool = True,
                     tables: Collection[str] = ("decisions", "positions", "history")) -> Export:
        """Every proposal of the room with its latest round, every position, every line of history; with ``names``
        false, no member id (the database leaves them out). Only the ``tables`` asked for are read (the others are
        left empty): one CSV file of an assembly does not read the whole of it, holding the bot's database."""
        member = "{}.member" if names else "NULL"
        by = "{}.by_member" if names else "NULL"
        # Without names, rows in the order of members' ids would tell who is who to anyone who knows the members.
        # With names, each query reads in the order of its primary key (no sort of a whole assembly's positions).
        order = "s.number, s.round, s.member" if names else "s.number, s.round, s.at, s.position, s.argument"
        # A member a moderator removed a vote of is named in the detail of that line of history.
        detail = "h.detail" if names else "CASE WHEN h.action = 'removed_by_moderator' THEN NULL ELSE h.detail END"
        rows: list[Row] = []
        taken: list[Row] = []
        delegated: list[Row] = []
        history: list[Row] = []
        async with self.reading() as db:
            if "decisions" in tables:
                rows = await db.fetch(
                    f"""SELECT {_HEADER}, {_ROUND} FROM proposals p JOIN rounds r
                           ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                        WHERE p.room = ? ORDER BY p.number""", (room,))
            if "positions" in tables:
                taken = await db.fetch(
                    f"""SELECT s.room, s.number, s.round, r.rule, {member.format("s")} AS member, s.position,
                           s.argument,
                           CASE WHEN s.position = 'block' AND r.rule = 'consent' THEN NULL ELSE 'true' END AS valid,
                           s.at, NULL AS delegated_by
                        FROM positions s JOIN rounds r ON r.room = s.room AND r.number = s.number AND r.round = s.round
                        WHERE s.room = ? ORDER BY {order}""", (room,))
                # The members counted by delegation at a close, with whose position (valid: a block is never
                # delegated).
                delegated = await db.fetch(
                    f"""SELECT s.room, s.number, s.round, r.rule, {member.format("s")} AS member, s.position,
                           '' AS argument, 'true' AS valid, r.closed_at AS at, {by.format("s")} AS delegated_by
                        FROM delegated_positions s JOIN rounds r ON r.room = s.room AND r.number = s.number
                             AND r.round = s.round
                        WHERE s.room = ? ORDER BY s.number, s.round, {"s.member" if names else "s.position"}""",
                    (room,))
            if "history" in tables:
                history = await db.fetch(
                    f"""SELECT h.room, h.number AS proposal, h.round, h.at, h.action, {member.format("h")} AS member,
                           h.position, h.argument, {detail} AS detail
                        FROM history h WHERE h.room = ? ORDER BY h.number, h.id""", (room,))
        # Each round's positions taken, then those counted by delegation (merge keeps ties in argument order).
        positions = list(heapq.merge(taken, delegated, key=operator.itemgetter("number", "round")))
        return Export(room, rows, positions, history)

    async def records(self, room: str) -> list[Record]:
        """Every proposal of the room whole, by number (the JSON and Markdown exports)."""
        async with self.reading() as db:
            headers = await _headers(db, "p.room = ?", (room,))
            versions: dict[int, list[str]] = {}
            for row in await db.fetch("SELECT number, text FROM versions WHERE room = ? ORDER BY number, version",
                                      (room,)):
                versions.setdefault(row["number"], []).append(row["text"])
            rounds: dict[int, list[RoundRecord]] = {}
            for number, r in await _rounds(db, "r.room = ?", (room,)):
                rounds.setdefault(number, []).append(r)
            positions = await _positions(db, "s.room = ?", (room,))
            history: dict[int, list[HistoryRecord]] = {}
            for number, h in await _history(db, "h.room = ?", (room,)):
                history.setdefault(number, []).append(h)
            followups = await _followups(db, "f.room = ?", (room,))
        by_number = {h.number: h for h in headers}
        challenges: dict[int, list[Header]] = {}
        for h in headers:
            if h.challenges is not None:
                challenges.setdefault(h.challenges, []).append(h)
        return [
            Record(
                header=h,
                versions=tuple(versions.get(h.number, ())),
                rounds=tuple(_with_positions(r, positions.get((h.number, r.number), ())) for r in rounds[h.number]),
                history=tuple(history.get(h.number, ())),
                challenged=by_number.get(h.challenges) if h.challenges is not None else None,
                challenged_by=tuple(challenges.get(h.number, ())),
                followups=tuple(followups.get(h.number, ())),
            )
            for h in headers if h.number in rounds
        ]

    async def feed(self, room: str, size: int = FEED_SIZE) -> list[FeedEvent]:
        """The room's latest proposals (challenges among them), outcomes and follow-ups, the newest first."""
        async with self.reading() as db:
            made = await db.fetch(
                f"""SELECT {_HEADER}, v.text, r.deadline AS first_deadline FROM proposals p
                    JOIN rounds r ON r.room = p.room AND r.number = p.number AND r.round = 1
                    LEFT JOIN versions v ON v.room = p.room AND v.number = p.number AND v.version = 1
                    WHERE p.room = ? ORDER BY p.created_at DESC, p.number DESC LIMIT ?""", (room, size))
            followed = await db.fetch(
                f"""SELECT {_HEADER}, f.at, f.member, f.status, f.progress, f.note
                    FROM followups f JOIN proposals p ON p.room = f.room AND p.number = f.number
                    WHERE f.room = ? ORDER BY f.at DESC, f.number DESC, f.seq DESC LIMIT ?""", (room, size))
            closed = await db.fetch(
                f"""SELECT {_HEADER}, {_ROUND} FROM rounds r JOIN proposals p ON p.room = r.room AND p.number = r.number
                    WHERE r.room = ? AND r.outcome IS NOT NULL
                    ORDER BY r.closed_at DESC, r.number DESC, r.round DESC LIMIT ?""", (room, size))
        events = [FeedEvent(_header(row), from_text(row["created_at"]), None, row["text"] or "",
                            from_text(row["first_deadline"])) for row in made]
        for row in closed:
            r = _round(row)
            events.append(FeedEvent(_header(row), r.closed_at, r))
        for row in followed:
            followup = followup_of(row)
            events.append(FeedEvent(_header(row), followup.at, followup=followup))
        events.sort(key=lambda e: (e.at, e.header.number, e.round.number if e.round else 0), reverse=True)
        return events[:size]


def like_pattern(words: str) -> str:
    """A LIKE pattern that finds ``words`` anywhere, its own % and _ taken literally (escaped with \\)."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(room: str, search: Search) -> tuple[str, tuple[Any, ...]]:
    where, parameters = "p.room = ?", [room]
    if search.states:
        where += f" AND p.state IN ({', '.join('?' * len(search.states))})"
        parameters += [str(state) for state in search.states]
    if search.words:
        # LOWER() on both sides: the same folding whatever the database (SQLite folds ASCII letters only).
        where += " AND LOWER(p.title) LIKE LOWER(?) ESCAPE '\\'"
        parameters.append(like_pattern(search.words))
    return where, tuple(parameters)


async def _headers(db: Database, where: str, parameters: Sequence[Any]) -> list[Header]:
    rows = await db.fetch(f"SELECT {_HEADER} FROM proposals p WHERE {where} ORDER BY p.number", parameters)
    return [_header(row) for row in rows]


async def _rounds(db: Database, where: str, parameters: Sequence[Any]) -> list[tuple[int, RoundRecord]]:
    rows = await db.fetch(f"SELECT r.number, {_ROUND} FROM rounds r WHERE {where} ORDER BY r.number, r.round",
                          parameters)
    return [(row["number"], _round(row)) for row in rows]


async def _positions(db: Database, where: str, parameters: Sequence[Any]
                     ) -> dict[tuple[int, int], tuple[PositionRecord, ...]]:
    """Each round's positions, keyed by (number, round): those members took, in the order they took them, then
    those counted by delegation at the close, by member."""
    found: dict[tuple[int, int], list[PositionRecord]] = {}
    for row in await db.fetch(
            "SELECT s.number, s.round, s.member, s.position, s.argument, s.at FROM positions s"
            f" WHERE {where} ORDER BY s.number, s.round, s.at, s.member", parameters):
        found.setdefault((row["number"], row["round"]), []).append(
            PositionRecord(row["member"], _POSITIONS[row["position"]], row["argument"], from_text(row["at"])))
    for row in await db.fetch(
            f"""SELECT s.number, s.round, s.member, s.position, s.by_member, r.closed_at FROM delegated_positions s
                JOIN rounds r ON r.room = s.room AND r.number = s.number AND r.round = s.round
                WHERE {where} ORDER BY s.number, s.round, s.member""", parameters):
        found.setdefault((row["number"], row["round"]), []).append(
            PositionRecord(row["member"], _POSITIONS[row["position"]], "", from_text(row["closed_at"]),
                           row["by_member"]))
    return {key: tuple(value) for key, value in found.items()}


async def _followups(db: Database, where: str, parameters: Sequence[Any]) -> dict[int, list[FollowUp]]:
    """Each decision's follow-ups, by number, the oldest first."""
    found: dict[int, list[FollowUp]] = {}
    for row in await db.fetch(
            "SELECT f.number, f.at, f.member, f.status, f.progress, f.note FROM followups f"
            f" WHERE {where} ORDER BY f.number, f.seq", parameters):
        found.setdefault(row["number"], []).append(followup_of(row))
    return found


async def _history(db: Database, where: str, parameters: Sequence[Any]) -> list[tuple[int, HistoryRecord]]:
    rows = await db.fetch(
        "SELECT h.number, h.round, h.action, h.member, h.position, h.argument, h.detail, h.at FROM history h"
        f" WHERE {where} ORDER BY h.number, h.id", parameters)
    return [(row["number"], HistoryRecord(from_text(row["at"]), row["round"], _ACTIONS[row["action"]], row["member"],
                                          _POSITIONS[row["position"]] if row["position"] else None, row["argument"],
                                          row["detail"]))
            for row in rows]


def _header(row: Row) -> Header:
    return Header(
        room=row["room"], number=row["number"], title=row["title"], proposer=row["proposer"],
        created_at=from_text(row["created_at"]), state=State(row["state"]),
        locked_until=from_text(row["locked_until"]), challenges=row["challenges"], part=row["part"],
        repealed_by=row["repealed_by"], amended_by=tuple(json.loads(row["amended_by"])),
    )


def _round(row: Row) -> RoundRecord:
    return RoundRecord(
        number=row["round"], rule=Rule(row["rule"]), opened_at=from_text(row["opened_at"]),
        deadline=from_text(row["deadline"]), version=row["version"],
        outcome=State(row["outcome"]) if row["outcome"] else None,
        reason=Reason(row["reason"]) if row["reason"] else None,
        closed_at=from_text(row["closed_at"]), offline=bool(row["closed_offline"]),
        tally=Tally(row["agree"] or 0, row["abstain"] or 0, row["disagree"] or 0, row["block"] or 0,
                    row["unargued_block"] or 0),
        members=row["members"],
    )


def _with_positions(r: RoundRecord, positions: tuple[PositionRecord, ...]) -> RoundRecord:
    return replace(r, positions=positions)
