"""The public register's read model: what its pages, open data and feeds show, read and never written.

Every query here is written once for SQLite and PostgreSQL (``storage.database.Database``, ``?``
placeholders): no function of one database only, an explicit ORDER BY everywhere, searches with LIKE and
escaped wildcards. A page's queries run in :meth:`storage.repository.Repository.reading`, so they see one
state of the register, never half a decision.

A proposal's data comes from a handful of queries that take a room and, optionally, one proposal: the
same rows make a proposal's page and the export of a whole assembly, so both say the same thing. The pact's
record (who is bound to apply a decision, the facts members recorded, the officials' statements, the verdicts) is
read the same way, and an official's record in figures is counted by the engine's own rules
(``pact.verdict_in_force``, ``pact.record_counts``) over rows read through the indexes on officials.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.engine import pact
from bot.engine.model import (Action, Assessment, Fact, Position, Reason, Referral, Rule, State, Statement, Tally,
                              Verdict)
from storage.database import Database, Row
from storage.repository import fact_of, from_day, from_text, statement_of

PAGE_SIZE = 20
"""Proposals on one page of an assembly's list (as many as a page of !list)."""
MAX_SEARCH_LENGTH = 200
"""A title has at most 200 characters: a longer search finds nothing."""
MAX_OFFSET = 1_000_000_000
"""No assembly holds more proposals (a proposal number has at most 9 digits)."""
EXPORTED = ("decisions", "positions", "history", "officials", "verdicts", "facts", "statements")
"""What an export reads: the open-data tables of an assembly."""
FEED_SIZE = 50
"""Entries in an assembly's feed: its latest proposals, outcomes and challenges, facts and statements."""
WHOLE_ROOM = "room"
"""The scope of a delegation on the whole room, as the register publishes it (stored as "", ``Delegation.scope``): a
value of its own, that an empty CSV cell (a position taken) is not."""

_HEADER = ("p.room, p.number, p.title, p.proposer, p.created_at, p.state, p.locked_until, p.challenges, p.part,"
           " p.repealed_by, p.amended_by, p.referred_by, p.needed_by, p.verdict_of, p.verdict_official, p.assessments")
_ROUND = ("r.round, r.rule, r.opened_at, r.deadline, r.version, r.outcome, r.reason, r.agree, r.abstain, r.disagree,"
          " r.block, r.unargued_block, r.members, r.closed_at, r.closed_offline")
_LATEST_ROUND = "r.round = (SELECT MAX(l.round) FROM rounds l WHERE l.room = p.room AND l.number = p.number)"
_ON_TOPIC = "{}.number IN (SELECT t.number FROM proposal_topics t WHERE t.room = ? AND t.topic = ?)"
"""A row of a proposal of the room (its table's alias in braces) on a topic: the room, then the topic's id as
parameters (read through the index proposals_by_topic)."""
_FEW_NUMBERS = 200
"""Topics are read by proposal number up to this many numbers, beyond for the whole room."""
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
    referral: Referral | None = None
    """For a referral: the official who referred the question, and the day they need the opinion by."""
    verdict: Verdict | None = None
    """For a verdict: the decision and the official it judges, and the assessment of each version."""
    topics: tuple[str, ...] = ()
    """The assembly's topics it is on (their ids, sorted; an id the configuration no longer declares stays)."""


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
    scope: str | None = None
    """Counted by delegation: which of the member's delegations counted — "room" (WHOLE_ROOM) the room's,
    "topic:<id>" the one on a topic of the proposal, "proposal:<number>" the one on this proposal; None for a
    position taken."""


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
    rooms: tuple[RoomTally, ...] = ()
    """A joint decision's closed round: the tally in each room of its network, as counted at the close."""


@dataclass(frozen=True)
class RoomTally:
    """A joint decision's round in one room of its network, counted at its close: the room's members then, and the
    positions those members took wherever they took them (a member of several rooms is counted in each room)."""

    room: str
    members: int
    tally: Tally


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
    """A proposal in a list: its header and its latest round. For a verdict it is also what the engine's
    ``pact.verdict_in_force`` reads of one (its number, state and when it was decided, as a Proposal has them)."""

    header: Header
    latest: RoundRecord

    @property
    def number(self) -> int:
        return self.header.number

    @property
    def state(self) -> State:
        return self.header.state

    @property
    def decided_at(self) -> datetime | None:
        return self.latest.closed_at

    @property
    def assessment(self) -> Assessment | None:
        """For a verdict: the assessment of the text its latest round voted on (as ``Proposal.assessment``)."""
        verdict = self.header.verdict
        return verdict.assessments[self.latest.version - 1] if verdict is not None else None


@dataclass(frozen=True)
class Accountability:
    """What the register holds on one official's application of one decision: whether they are bound to apply it
    now, the facts members recorded, the official's own statements, and every verdict proposed on it."""

    official: str
    bound: bool
    facts: tuple[Fact, ...] = ()
    statements: tuple[Statement, ...] = ()
    verdicts: tuple[Line, ...] = ()
    """Every verdict proposed on this official and decision, adopted or not, the oldest first."""

    @property
    def in_force(self) -> Line | None:
        """The assembly's judgment: its latest adopted verdict (the engine's rule)."""
        return pact.verdict_in_force(self.verdicts)


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
    bound: tuple[str, ...] = ()
    """The officials bound to apply it now."""
    accountability: tuple[Accountability, ...] = ()
    """For each official bound to apply it, or about whom something was recorded on it: what is on record."""
    followups: tuple[Statement, ...] = ()
    """Follow-ups given before the pact (statements of no official), the oldest first: a member's word, kept."""
    judged: Header | None = None
    """For a verdict: the decision it judges."""

    @property
    def latest(self) -> RoundRecord:
        return self.rounds[-1]

    @property
    def line(self) -> Line:
        return Line(self.header, self.latest)

    @property
    def text(self) -> str:
        """The text in force for a decision amended since it was adopted; else the one its latest round voted on."""
        if self.header.amended_by:
            return self.versions[-1]
        return self.versions[self.latest.version - 1] if self.versions else ""

    def amended_by(self, version: int) -> Header | None:
        """The challenge whose adoption made version ``version`` (from 1) of this decision's text; None for a version
        its proposer wrote. A decision is amended once adopted, when it has no more rounds: the versions after the one
        its last round voted on are its challenges', in the order they were adopted (``amended_by``)."""
        index = version - self.latest.version - 1 if self.rounds else -1
        if not 0 <= index < len(self.header.amended_by):
            return None
        return next((c for c in self.challenged_by if c.number == self.header.amended_by[index]), None)


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
class TopicFigures:
    """A topic of an assembly, and how many of its proposals are on it in each state."""

    topic: str
    counts: Mapping[State, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Search:
    """What a list shows: the proposals in these states (none: all) whose titles hold ``words``, on ``topic`` (its
    id; "": on any topic or none)."""

    states: tuple[State, ...] = ()
    words: str = ""
    topic: str = ""


@dataclass(frozen=True)
class Export:
    """Everything an assembly's register holds, as its open-data tables give it, in rows as stored: an assembly has
    a row per vote, so they are written out without a model around them."""

    room: str
    decisions: list[Row]
    """Each proposal with its latest round: the columns of a proposal and of a round (storage/migrations), by number."""
    topics: dict[str, dict[int, tuple[str, ...]]]
    """Each proposal's topics (read with the decisions), by scope then number: those on none are left out."""
    positions: list[Row]
    """room, number, round, rule, member, position, argument, valid ('true', or None for a block in a consent
    round: valid if argued), at, delegated_by, scope (of the delegation that counted; None for a position taken); by
    proposal, round, then the positions taken before those counted by delegation, by member (without names: by
    time)."""
    history: list[Row]
    """room, proposal, round, at, action, member, position, argument, detail; by proposal, in order."""
    facts: list[Row] = field(default_factory=list)
    """room, proposal, official, member, at, happened_on, text, source; by proposal, in the order recorded."""
    statements: list[Row] = field(default_factory=list)
    """room, proposal, official (None: a follow-up given before the pact), member, at, text; likewise."""
    verdicts: list[Line] = field(default_factory=list)
    """Every verdict proposed, by number (at most one a proposal: read whole)."""
    figures: dict[str, OfficialFigures] = field(default_factory=dict)
    """Each official with something on record, in figures."""


@dataclass(frozen=True)
class FeedEvent:
    """Something a feed reader is told: a proposal made (``round``, ``fact`` and ``statement`` None), a round's
    outcome, a fact recorded on a decision, or a statement made on it (an official's, or a follow-up given before
    the pact)."""

    header: Header
    at: datetime
    round: RoundRecord | None = None
    text: str = ""
    """A proposal made: its first text."""
    deadline: datetime | None = None
    """A proposal made: the deadline of its first round."""
    fact: Fact | None = None
    statement: Statement | None = None
    seq: int = 0
    """A fact or a statement: its place among the decision's (from 1)."""


@dataclass(frozen=True)
class OfficialFigures:
    """An official's record in one assembly, in figures."""

    official: str
    referrals: int = 0
    """Questions they referred to the assembly."""
    bound: int = 0
    """Proposals they are bound to apply now (decisions, and questions they referred still to be decided)."""
    facts: int = 0
    statements: int = 0
    verdicts: int = 0
    """Verdicts proposed on them, adopted or not."""
    record: Mapping[str, int] = field(default_factory=lambda: pact.record_counts(()))
    """The engine's count (``pact.record_counts``) of the verdicts in force on the decisions they are bound to apply
    (or were, when a verdict on them is in force), by assessment, and ``none``: those with no verdict yet."""


@dataclass(frozen=True)
class Entry:
    """A proposal in an official's record, and what is on record about the official on it."""

    line: Line
    accountability: Accountability


@dataclass(frozen=True)
class OfficialRecord:
    """An official's permanent record in an assembly: its figures, and one page of the proposals in it (those they
    referred, are bound to apply, or about which a fact, a statement or a verdict of theirs is on record), the
    newest first."""

    figures: OfficialFigures
    total: int
    """Proposals in the record, on every page."""
    entries: tuple[Entry, ...]


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

    async def assembly(self, room: str, joint: Sequence[str] = ()) -> Assembly | None:
        """The room with its proposals' counts, and those of the joint decisions kept under the scopes ``joint``
        (its networks'); None when there are none."""
        among, parameters = _among("room", (room, *joint))
        async with self.reading() as db:
            rows = await db.fetch("SELECT state, COUNT(*) AS n, MAX(created_at) AS latest FROM proposals"
                                  f" WHERE {among} GROUP BY state ORDER BY state", parameters)
        if not rows:
            return None
        return Assembly(room, {State(row["state"]): row["n"] for row in rows},
                        from_text(max(row["latest"] for row in rows)))

    async def listing(self, room: str, search: Search, page: int, joint: Sequence[str] = ()) -> Listing:
        """Page ``page`` (from 1) of the room's proposals that ``search`` finds, the newest first, with the joint
        decisions kept under the scopes ``joint`` (its networks') among them."""
        where, parameters = _where((room, *joint), search)
        # A room's own proposals are numbered in the order they were made; beside joint decisions, numbered apart,
        # the order is when they were made.
        newest = "p.created_at DESC, p.number DESC" if joint else "p.number DESC"
        offset = min((max(page, 1) - 1) * self.page_size, MAX_OFFSET)
        async with self.reading() as db:
            total = (await db.fetchone(f"SELECT COUNT(*) AS n FROM proposals p WHERE {where}", parameters))["n"]
            # The page's numbers first, from the proposals alone: a page deep in the list skips rows of one table.
            rows = await db.fetch(
                f"""SELECT {_HEADER}, {_ROUND} FROM proposals p JOIN rounds r
                       ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                    WHERE (p.room, p.number) IN (SELECT p.room, p.number FROM proposals p WHERE {where}
                                                 ORDER BY {newest} LIMIT ? OFFSET ?)
                    ORDER BY {newest}""",
                (*parameters, self.page_size, offset))
            topics = await _topics_of(db, rows)
        return Listing(total, tuple(Line(_header(row, topics[row["room"]]), _round(row)) for row in rows))

    async def topics(self, room: str, topic: str | None = None) -> dict[str, TopicFigures]:
        """The room's topics with proposals on them (only ``topic``, when given), by id, each with its proposals'
        counts by state: the topics the configuration declares and those it no longer does alike."""
        only, parameters = ("", (room,)) if topic is None else (" AND t.topic = ?", (room, topic))
        async with self.reading() as db:
            rows = await db.fetch(
                f"""SELECT t.topic, p.state, COUNT(*) AS n FROM proposal_topics t
                    JOIN proposals p ON p.room = t.room AND p.number = t.number
                    WHERE t.room = ?{only} GROUP BY t.topic, p.state ORDER BY t.topic, p.state""", parameters)
        counts: dict[str, dict[State, int]] = {}
        for row in rows:
            counts.setdefault(row["topic"], {})[State(row["state"])] = row["n"]
        return {name: TopicFigures(name, by_state) for name, by_state in counts.items()}

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
            tallies = await _room_tallies(db, "scope = ? AND number = ?", (room, number))
            history = await _history(db, "h.room = ? AND h.number = ?", (room, number))
            challenged = judged = None
            if header.challenges is not None:
                [challenged] = await _headers(db, "p.room = ? AND p.number = ?", (room, header.challenges)) or [None]
            if header.verdict is not None:
                [judged] = await _headers(db, "p.room = ? AND p.number = ?", (room, header.verdict.decision)) or [None]
            challenged_by = await _headers(db, "p.room = ? AND p.challenges = ?", (room, number))
            on_record = await _on_record(db, "room = ? AND number = ?", (room, number),
                                         "p.room = ? AND p.verdict_of = ?")
        return _record(header, [row["text"] for row in versions], [r for _, r in rounds], positions, tallies,
                       [h for _, h in history], challenged, challenged_by, on_record, judged)

    async def export(self, room: str, names: bool = True, tables: Collection[str] = EXPORTED,
                     joint: Sequence[str] = ()) -> Export:
        """Every proposal of the room with its latest round, every position, every line of history, and the pact's
        record (the officials in figures, every verdict, fact and statement); with ``names`` false, no member id (the
        database leaves them out). Only the ``tables`` asked for are read (the others are left empty): one CSV file
        of an assembly does not read the whole of it, holding the bot's database. The decisions, positions and
        history of the joint decisions kept under the scopes ``joint`` (the room's networks') follow the room's own;
        the pact's tables are the room's own."""
        scopes = (room, *joint)
        among = _among("{}.room", scopes)[0]
        # The room's own rows first, then each network's; a room alone is read in the order of its primary key.
        lead, led = ("{0}.room = ? DESC, {0}.room, ", (*scopes, room)) if joint else ("", scopes)
        member = "{}.member" if names else "NULL"
        by = "{}.by_member" if names else "NULL"
        # Without names, rows in the order of members' ids would tell who is who to anyone who knows the members.
        # With names, each query reads in the order of its primary key (no sort of a whole assembly's positions).
        order = "s.number, s.round, s.member" if names else "s.number, s.round, s.at, s.position, s.argument"
        # A member a moderator removed a vote of is named in the detail of that line of history.
        detail = "h.detail" if names else "CASE WHEN h.action = 'removed_by_moderator' THEN NULL ELSE h.detail END"
        rows: list[Row] = []
        topics: dict[str, dict[int, tuple[str, ...]]] = {}
        taken: list[Row] = []
        delegated: list[Row] = []
        history: list[Row] = []
        facts: list[Row] = []
        statements: list[Row] = []
        verdicts: list[Line] = []
        figures: dict[str, OfficialFigures] = {}
        async with self.reading() as db:
            if "decisions" in tables:
                rows = await db.fetch(
                    f"""SELECT {_HEADER}, {_ROUND} FROM proposals p JOIN rounds r
                           ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                        WHERE {among.format("p")} ORDER BY {lead.format("p")}p.number""", led)
                topics = {scope: await _topics(db, scope) for scope in scopes}
            if "positions" in tables:
                taken = await db.fetch(
                    f"""SELECT s.room, s.number, s.round, r.rule, {member.format("s")} AS member, s.position,
                           s.argument,
                           CASE WHEN s.position = 'block' AND r.rule = 'consent' THEN NULL ELSE 'true' END AS valid,
                           s.at, NULL AS delegated_by, NULL AS scope
                        FROM positions s JOIN rounds r ON r.room = s.room AND r.number = s.number AND r.round = s.round
                        WHERE {among.format("s")} ORDER BY {lead.format("s")}{order}""", led)
                # The members counted by delegation at a close, with whose position (valid: a block is never
                # delegated).
                delegated = await db.fetch(
                    f"""SELECT s.room, s.number, s.round, r.rule, {member.format("s")} AS member, s.position,
                           '' AS argument, 'true' AS valid, r.closed_at AS at, {by.format("s")} AS delegated_by,
                           CASE WHEN s.scope = '' THEN '{WHOLE_ROOM}' ELSE s.scope END AS scope
                        FROM delegated_positions s JOIN rounds r ON r.room = s.room AND r.number = s.number
                             AND r.round = s.round
                        WHERE {among.format("s")}
                        ORDER BY {lead.format("s")}s.number, s.round, {"s.member" if names else "s.position"}""",
                    led)
            if "history" in tables:
                history = await db.fetch(
                    f"""SELECT h.room, h.number AS proposal, h.round, h.at, h.action, {member.format("h")} AS member,
                           h.position, h.argument, {detail} AS detail
                        FROM history h WHERE {among.format("h")} ORDER BY {lead.format("h")}h.number, h.id""", led)
            if "facts" in tables:
                facts = await db.fetch(
                    f"""SELECT f.room, f.number AS proposal, f.official, {member.format("f")} AS member, f.at,
                           f.happened_on, f.text, f.source FROM facts f WHERE f.room = ? ORDER BY f.number, f.seq""",
                    (room,))
            if "statements" in tables:
                statements = await db.fetch(
                    f"""SELECT s.room, s.number AS proposal, s.official, {member.format("s")} AS member, s.at, s.text
                        FROM statements s WHERE s.room = ? ORDER BY s.number, s.seq""", (room,))
            if "verdicts" in tables:
                verdicts = await _lines(db, "p.room = ? AND p.verdict_of IS NOT NULL", (room,))
            if "officials" in tables:
                figures = await _figures(db, room, None)
        # Each round's positions taken, then those counted by delegation (merge keeps ties in argument order).
        positions = list(heapq.merge(taken, delegated, key=lambda row: (row["room"] != room, row["room"], row["number"],
                                                                         row["round"])))
        return Export(room, rows, topics, positions, history, facts, statements, verdicts, figures)

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
            tallies = await _room_tallies(db, "scope = ?", (room,))
            history: dict[int, list[HistoryRecord]] = {}
            for number, h in await _history(db, "h.room = ?", (room,)):
                history.setdefault(number, []).append(h)
            on_record = await _on_record(db, "room = ?", (room,), "p.room = ? AND p.verdict_of IS NOT NULL")
        by_number = {h.number: h for h in headers}
        challenges: dict[int, list[Header]] = {}
        for h in headers:
            if h.challenges is not None:
                challenges.setdefault(h.challenges, []).append(h)
        return [
            _record(h, versions.get(h.number, ()), rounds[h.number], positions, tallies, history.get(h.number, ()),
                    by_number.get(h.challenges) if h.challenges is not None else None, challenges.get(h.number, ()),
                    on_record, by_number.get(h.verdict.decision) if h.verdict is not None else None)
            for h in headers if h.number in rounds
        ]

    async def figures(self, room: str, official: str | None = None) -> dict[str, OfficialFigures]:
        """Every official's record in the room in figures (or only ``official``'s), by id: the officials declared
        and those no longer declared alike, each with something on record."""
        async with self.reading() as db:
            return await _figures(db, room, official)

    async def official(self, room: str, official: str, page: int) -> OfficialRecord:
        """An official's record in the room: its figures and page ``page`` (from 1) of the proposals in it."""
        offset = min((max(page, 1) - 1) * self.page_size, MAX_OFFSET)
        async with self.reading() as db:
            figures = await _figures(db, room, official)
            pair = (room, official)
            # Every proposal in the record, each once (a number per row, read from the indexes on officials).
            numbers = [row["number"] for row in await db.fetch(
                """SELECT number FROM bound_officials WHERE room = ? AND official = ?
                   UNION SELECT number FROM proposals WHERE room = ? AND referred_by = ?
                   UNION SELECT number FROM facts WHERE room = ? AND official = ?
                   UNION SELECT number FROM statements WHERE room = ? AND official = ?
                   UNION SELECT verdict_of FROM proposals WHERE room = ? AND verdict_official = ?
                   ORDER BY number DESC""", pair * 5)]
            shown = numbers[offset:offset + self.page_size]
            if not shown:
                return OfficialRecord(figures.get(official, OfficialFigures(official)), len(numbers), ())
            among = f"number IN ({', '.join('?' * len(shown))})"
            lines = await db.fetch(
                f"""SELECT {_HEADER}, {_ROUND} FROM proposals p JOIN rounds r
                       ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                    WHERE p.room = ? AND p.{among} ORDER BY p.number DESC""", (room, *shown))
            topics = await _topics(db, room, shown)
            on_record = await _on_record(db, f"room = ? AND official = ? AND {among}", (*pair, *shown),
                                         f"p.room = ? AND p.verdict_official = ? AND p.verdict_of IN "
                                         f"({', '.join('?' * len(shown))})", (*pair, *shown))
        entries = []
        for row in lines:
            line = Line(_header(row, topics), _round(row))
            # What was read is this official's only: one account, or none (a question they referred, unbound since).
            [accountability] = _accountability(line.number, on_record) or [Accountability(official, False)]
            entries.append(Entry(line, accountability))
        return OfficialRecord(figures.get(official, OfficialFigures(official)), len(numbers), tuple(entries))

    async def feed(self, room: str, size: int = FEED_SIZE, official: str | None = None,
                   topic: str | None = None, joint: Sequence[str] = ()) -> list[FeedEvent]:
        """The room's latest proposals (challenges among them), outcomes, facts and statements, the newest first, and
        those of the joint decisions kept under the scopes ``joint`` (its networks'); of ``official``: the questions
        they referred and their outcomes, the facts recorded on them, their statements and the verdicts on them
        adopted; on ``topic`` (its id): only what is about the proposals on it (the room's own)."""
        scopes = (room,) if official is not None or topic is not None else (room, *joint)
        made_where = closed_where = accounted = ""
        made_only: list[str] = []
        closed_only: list[str] = []
        accounted_only: list[str] = []
        if official is not None:
            made_where = " AND p.referred_by = ?"
            closed_where = " AND (p.referred_by = ? OR (p.verdict_official = ? AND r.outcome = 'adopted'))"
            accounted = " AND official = ?"
            made_only, closed_only, accounted_only = [official], [official, official], [official]
        if topic is not None:
            made_where += " AND " + _ON_TOPIC.format("p")
            closed_where += " AND " + _ON_TOPIC.format("p")
            accounted += " AND " + _ON_TOPIC.format("a")
            for parameters in (made_only, closed_only, accounted_only):
                parameters += [room, topic]
        async with self.reading() as db:
            made = await db.fetch(
                f"""SELECT {_HEADER}, v.text, r.deadline AS first_deadline FROM proposals p
                    JOIN rounds r ON r.room = p.room AND r.number = p.number AND r.round = 1
                    LEFT JOIN versions v ON v.room = p.room AND v.number = p.number AND v.version = 1
                    WHERE {_among("p.room", scopes)[0]}{made_where}
                    ORDER BY p.created_at DESC, p.number DESC LIMIT ?""",
                (*scopes, *made_only, size))
            closed = await db.fetch(
                f"""SELECT {_HEADER}, {_ROUND} FROM rounds r JOIN proposals p ON p.room = r.room AND p.number = r.number
                    WHERE {_among("r.room", scopes)[0]} AND r.outcome IS NOT NULL{closed_where}
                    ORDER BY r.closed_at DESC, r.number DESC, r.round DESC LIMIT ?""",
                (*scopes, *closed_only, size))
            facts, statements = [await db.fetch(
                f"""SELECT {_HEADER}, a.* FROM (SELECT * FROM {table} a WHERE {_among("room", scopes)[0]}{accounted}
                                                ORDER BY at DESC, number DESC, seq DESC LIMIT ?) a
                    JOIN proposals p ON p.room = a.room AND p.number = a.number""",
                (*scopes, *accounted_only, size)) for table in ("facts", "statements")]
            topics = await _topics_of(db, [*made, *closed, *facts, *statements])
        events = [FeedEvent(_header(row, topics[row["room"]]), from_text(row["created_at"]), None, row["text"] or "",
                            from_text(row["first_deadline"])) for row in made]
        for row in closed:
            r = _round(row)
            events.append(FeedEvent(_header(row, topics[row["room"]]), r.closed_at, r))
        events += [FeedEvent(_header(row, topics[row["room"]]), from_text(row["at"]), fact=fact_of(row),
                             seq=row["seq"]) for row in facts]
        events += [FeedEvent(_header(row, topics[row["room"]]), from_text(row["at"]), statement=statement_of(row),
                             seq=row["seq"]) for row in statements]
        events.sort(key=lambda e: (e.at, e.header.room, e.header.number, e.round.number if e.round else 0, e.seq),
                    reverse=True)
        return events[:size]


def like_pattern(words: str) -> str:
    """A LIKE pattern that finds ``words`` anywhere, its own % and _ taken literally (escaped with \\)."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _among(column: str, scopes: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """A condition that ``column`` is one of ``scopes`` (a room, and the scopes of its networks' joint decisions)."""
    if len(scopes) == 1:
        return f"{column} = ?", tuple(scopes)
    return f"{column} IN ({', '.join('?' * len(scopes))})", tuple(scopes)


def _where(scopes: Sequence[str], search: Search) -> tuple[str, tuple[Any, ...]]:
    """The proposals of ``scopes`` that ``search`` finds (a topic: of the first scope, the room's own)."""
    among, kept = _among("p.room", scopes)
    where, parameters = among, list(kept)
    room = scopes[0]
    if search.states:
        where += f" AND p.state IN ({', '.join('?' * len(search.states))})"
        parameters += [str(state) for state in search.states]
    if search.words:
        # LOWER() on both sides: the same folding whatever the database (SQLite folds ASCII letters only).
        where += " AND LOWER(p.title) LIKE LOWER(?) ESCAPE '\\'"
        parameters.append(like_pattern(search.words))
    if search.topic:  # the room's topics are its own proposals'
        where += " AND p.room = ? AND " + _ON_TOPIC.format("p")
        parameters += [room, room, search.topic]
    return where, tuple(parameters)


async def _topics(db: Database, room: str, numbers: Collection[int] | None = None) -> dict[int, tuple[str, ...]]:
    """The topics of the room's proposals ``numbers`` (None: all), by number; a proposal on none is left out. Many
    numbers are read as the whole room: one range of the primary key, where a long list of them would be as many
    lookups (and could pass a database's limit of parameters)."""
    if numbers is not None and len(numbers) <= _FEW_NUMBERS:
        if not numbers:
            return {}
        among, parameters = f" AND number IN ({', '.join('?' * len(numbers))})", (room, *sorted(set(numbers)))
    else:
        among, parameters = "", (room,)
    found: dict[int, list[str]] = {}
    for row in await db.fetch(f"SELECT number, topic FROM proposal_topics WHERE room = ?{among}"
                              " ORDER BY number, topic", parameters):
        found.setdefault(row["number"], []).append(row["topic"])
    wanted = None if numbers is None else set(numbers)
    return {number: tuple(topics) for number, topics in found.items() if wanted is None or number in wanted}


async def _topics_of(db: Database, rows: Sequence[Row]) -> dict[str, dict[int, tuple[str, ...]]]:
    """The topics of the proposals of ``rows`` (of a room and of its networks' joint decisions), by scope, then by
    number."""
    numbers: dict[str, set[int]] = {}
    for row in rows:
        numbers.setdefault(row["room"], set()).add(row["number"])
    return {scope: await _topics(db, scope, among) for scope, among in numbers.items()}


async def _headers(db: Database, where: str, parameters: Sequence[Any]) -> list[Header]:
    """The headers of one room's proposals ``where`` finds, with their topics, by number."""
    rows = await db.fetch(f"SELECT {_HEADER} FROM proposals p WHERE {where} ORDER BY p.number", parameters)
    topics = await _topics(db, rows[0]["room"], [row["number"] for row in rows]) if rows else {}
    return [_header(row, topics) for row in rows]


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
            f"""SELECT s.number, s.round, s.member, s.position, s.by_member, s.scope, r.closed_at
                FROM delegated_positions s
                JOIN rounds r ON r.room = s.room AND r.number = s.number AND r.round = s.round
                WHERE {where} ORDER BY s.number, s.round, s.member""", parameters):
        found.setdefault((row["number"], row["round"]), []).append(
            PositionRecord(row["member"], _POSITIONS[row["position"]], "", from_text(row["closed_at"]),
                           row["by_member"], row["scope"] or WHOLE_ROOM))
    return {key: tuple(value) for key, value in found.items()}


async def _lines(db: Database, where: str, parameters: Sequence[Any]) -> list[Line]:
    """One room's proposals with their latest round and their topics, by number."""
    rows = await db.fetch(f"""SELECT {_HEADER}, {_ROUND} FROM proposals p JOIN rounds r
                                 ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                              WHERE {where} ORDER BY p.number""", parameters)
    topics = await _topics(db, rows[0]["room"], [row["number"] for row in rows]) if rows else {}
    return [Line(_header(row, topics), _round(row)) for row in rows]


@dataclass(frozen=True)
class _OnRecord:
    """The pact's rows of some decisions, by number: officials bound, facts, statements, verdicts proposed."""

    bound: dict[int, list[str]]
    facts: dict[int, list[Fact]]
    statements: dict[int, list[Statement]]
    verdicts: dict[int, list[Line]]
    """By the number of the decision they judge."""


async def _on_record(db: Database, where: str, parameters: Sequence[Any], verdicts_where: str,
                     verdicts_parameters: Sequence[Any] | None = None) -> _OnRecord:
    """What the pact put on record about the decisions ``where`` finds (on the columns room, number and, for the
    facts, statements and officials bound, official), and the verdicts ``verdicts_where`` finds."""
    found = _OnRecord({}, {}, {}, {})
    for row in await db.fetch(f"SELECT number, official FROM bound_officials WHERE {where} ORDER BY number, official",
                              parameters):
        found.bound.setdefault(row["number"], []).append(row["official"])
    for table, into, made in (("facts", found.facts, fact_of), ("statements", found.statements, statement_of)):
        for row in await db.fetch(f"SELECT * FROM {table} WHERE {where} ORDER BY number, seq", parameters):
            into.setdefault(row["number"], []).append(made(row))
    for line in await _lines(db, verdicts_where, parameters if verdicts_parameters is None else verdicts_parameters):
        found.verdicts.setdefault(line.header.verdict.decision, []).append(line)
    return found


def _accountability(number: int, on_record: _OnRecord) -> tuple[Accountability, ...]:
    """Each official's account on decision ``number``: those bound first, then those no longer bound about whom
    something is on record (what was recorded stays)."""
    bound = on_record.bound.get(number, [])
    facts = on_record.facts.get(number, [])
    statements = [s for s in on_record.statements.get(number, []) if s.official is not None]
    verdicts = on_record.verdicts.get(number, [])
    officials = dict.fromkeys([*bound, *(f.official for f in facts), *(s.official for s in statements),
                               *(v.header.verdict.official for v in verdicts)])
    return tuple(Accountability(
        official, official in bound, tuple(f for f in facts if f.official == official),
        tuple(s for s in statements if s.official == official),
        tuple(v for v in verdicts if v.header.verdict.official == official)) for official in officials)


def _record(header: Header, versions: Sequence[str], rounds: Sequence[RoundRecord],
            positions: Mapping[tuple[int, int], tuple[PositionRecord, ...]],
            tallies: Mapping[tuple[int, int], tuple[RoomTally, ...]], history: Sequence[HistoryRecord],
            challenged: Header | None, challenged_by: Sequence[Header], on_record: _OnRecord,
            judged: Header | None) -> Record:
    number = header.number
    return Record(
        header=header,
        versions=tuple(versions),
        rounds=tuple(replace(r, positions=positions.get((number, r.number), ()),
                             rooms=tallies.get((number, r.number), ())) for r in rounds),
        history=tuple(history),
        challenged=challenged,
        challenged_by=tuple(challenged_by),
        bound=tuple(on_record.bound.get(number, ())),
        accountability=_accountability(number, on_record),
        followups=tuple(s for s in on_record.statements.get(number, ()) if s.official is None),
        judged=judged,
    )


@dataclass(frozen=True)
class _Judged:
    """A verdict as the engine's ``pact.verdict_in_force`` reads one, and its assessment: what a count needs."""

    number: int
    state: State
    decided_at: datetime | None
    assessment: Assessment


async def _figures(db: Database, room: str, official: str | None) -> dict[str, OfficialFigures]:
    """The officials' records in figures (``official``'s only, when given), each query grouped by official through
    the indexes on them. The record counts each decision an official is bound to apply, or was bound to when a verdict
    on them is in force, once, by its verdict in force."""
    only, parameters = ("", (room,)) if official is None else (" AND {} = ?", (room, official))
    counted: dict[str, dict[str, int]] = {}
    for name, sql in (
            ("referrals", "SELECT referred_by AS official, COUNT(*) AS n FROM proposals"
                          " WHERE room = ? AND referred_by IS NOT NULL" + only.format("referred_by")
                          + " GROUP BY referred_by"),
            ("facts", "SELECT official, COUNT(*) AS n FROM facts WHERE room = ?" + only.format("official")
                      + " GROUP BY official"),
            ("statements", "SELECT official, COUNT(*) AS n FROM statements WHERE room = ? AND official IS NOT NULL"
                           + only.format("official") + " GROUP BY official")):
        for row in await db.fetch(sql, parameters):
            counted.setdefault(row["official"], {})[name] = row["n"]
    accountable: dict[str, set[int]] = {}
    for row in await db.fetch(
            "SELECT b.official, b.number, p.state FROM bound_officials b JOIN proposals p ON p.room = b.room"
            " AND p.number = b.number WHERE b.room = ?" + only.format("b.official"), parameters):
        counts = counted.setdefault(row["official"], {})
        counts["bound"] = counts.get("bound", 0) + 1
        if row["state"] in pact.ACCOUNTABLE:
            accountable.setdefault(row["official"], set()).add(row["number"])
    # Each verdict as much as its count needs (an official's page counts them all: no whole proposal read).
    verdicts: dict[str, dict[int, list[_Judged]]] = {}
    for row in await db.fetch(
            f"""SELECT p.number, p.state, p.verdict_of, p.verdict_official, p.assessments, r.version, r.closed_at
                FROM proposals p JOIN rounds r ON r.room = p.room AND r.number = p.number AND {_LATEST_ROUND}
                WHERE p.room = ? AND p.verdict_official IS NOT NULL""" + only.format("p.verdict_official"),
            parameters):
        judged = _Judged(row["number"], State(row["state"]), from_text(row["closed_at"]),
                         Assessment(json.loads(row["assessments"])[row["version"] - 1]))
        verdicts.setdefault(row["verdict_official"], {}).setdefault(row["verdict_of"], []).append(judged)
        counts = counted.setdefault(row["verdict_official"], {})
        counts["verdicts"] = counts.get("verdicts", 0) + 1
    figures = {}
    for name in sorted(counted):
        in_force = {number: pact.verdict_in_force(lines) for number, lines in verdicts.get(name, {}).items()}
        decisions = accountable.get(name, set()) | {number for number, line in in_force.items() if line is not None}
        record = pact.record_counts(in_force[n].assessment if in_force.get(n) else None for n in decisions)
        figures[name] = OfficialFigures(name, **counted[name], record=record)
    return figures


async def _history(db: Database, where: str, parameters: Sequence[Any]) -> list[tuple[int, HistoryRecord]]:
    rows = await db.fetch(
        "SELECT h.number, h.round, h.action, h.member, h.position, h.argument, h.detail, h.at FROM history h"
        f" WHERE {where} ORDER BY h.number, h.id", parameters)
    return [(row["number"], HistoryRecord(from_text(row["at"]), row["round"], _ACTIONS[row["action"]], row["member"],
                                          _POSITIONS[row["position"]] if row["position"] else None, row["argument"],
                                          row["detail"]))
            for row in rows]


def _header(row: Row, topics: Mapping[int, tuple[str, ...]]) -> Header:
    """A proposal's header from its row, with its topics (``topics``: by number, as ``_topics`` reads them)."""
    return Header(
        room=row["room"], number=row["number"], title=row["title"], proposer=row["proposer"],
        created_at=from_text(row["created_at"]), state=State(row["state"]),
        locked_until=from_text(row["locked_until"]), challenges=row["challenges"], part=row["part"],
        repealed_by=row["repealed_by"], amended_by=tuple(json.loads(row["amended_by"])),
        referral=Referral(row["referred_by"], from_day(row["needed_by"])) if row["referred_by"] else None,
        verdict=None if row["verdict_of"] is None else Verdict(
            row["verdict_of"], row["verdict_official"], tuple(map(Assessment, json.loads(row["assessments"])))),
        topics=topics.get(row["number"], ()),
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


async def _room_tallies(db: Database, where: str, parameters: Sequence[Any]
                        ) -> dict[tuple[int, int], tuple[RoomTally, ...]]:
    """The joint decisions' tallies in each room ``where`` finds, keyed by (number, round), the rooms by id."""
    found: dict[tuple[int, int], list[RoomTally]] = {}
    for row in await db.fetch(f"SELECT * FROM room_tallies WHERE {where} ORDER BY number, round, room", parameters):
        found.setdefault((row["number"], row["round"]), []).append(RoomTally(
            row["room"], row["members"],
            Tally(row["agree"], row["abstain"], row["disagree"], row["block"], row["unargued_block"])))
    return {key: tuple(value) for key, value in found.items()}
