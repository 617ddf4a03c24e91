"""A stateful fuzz of the service: members and facilitators send every command with random arguments, react,
edit, redact, replay events, and the clock jumps; after every step the invariants of a decision tool hold.

Used by tests/test_service_fuzz.py (a fast profile in CI) and benchmarks/fuzz.py (a long run). Inputs are
what platforms can deliver: huge and Unicode numbers, long and invisible texts, lone surrogates and control
characters (JSON and terminals carry them), edits of edits, redactions by anyone, clock jumps of years.

Invariants, checked after every step:
- no exception escapes the service;
- every command is answered exactly once, and a replayed event changes nothing and says nothing;
- the positions the bot counts are exactly what each member's standing expressions replay to;
- the history only grows, and no line of it ever changes;
- every closed round has exactly one outcome message, an open round none;
- a member counted by delegation took no position of their own, and counts with someone who did.

Delegation is on, and members come and go, so delegations lapse.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.config import default_config
from bot.console import ConsoleRoom
from bot.engine import rules
from bot.engine.model import Position, State
from bot.app.handlers import COMMANDS
from bot.messages.outgoing import Kind
from bot.messages.sanitize import clean
from bot.app.ports import Incoming, ReactionVote, Redaction
from bot.app.service import ConsentService
from storage.repository import Repository
from tests.conftest import Clock, RecordingSender
from tests.servers.postgres import PostgresServer

ROOM = "!fuzz:test"
START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)
MEMBERS = ("alice", "bob", "carol", "dan", "erin", "fay")
FACILITATOR = "fay"
ANSWERS = {Kind.ACK, Kind.ERROR, Kind.STATUS, Kind.HELP, Kind.BALLOT, Kind.BLOCK_REQUEST, Kind.ANNOUNCEMENT, Kind.HISTORY,
           Kind.FOLLOWUP, Kind.DELEGATION}
VERBS = sorted({name for command in COMMANDS.commands for name in (command.verb, *command.aliases)})

NASTY_TEXTS = [
    "", " ", "\u200b" * 12, "." * 12, "😀" * 12, "x" * 1001, "&" * 1200, '"' * 999, "<script>alert(1)</script>",
    "@room @channel @here", "\ud800 lone", "bad\udcff utf8", "ctrl\x00\x1b\x7f chars", "line\nbreaks\r\nhere",
    "\u202eright to left", "Consentement éclairé requis pour toute photo.", "part 2: the kettle costs too much",
    "consent\nA new text for the next round", "24h", "3000000d", "9" * 30 + "d", "2j", "0s", "-1h",
    "We already have two kettles in the kitchen.", "#1", "#" + "9" * 5001,
]
REFERENCES = ["", "#1", "#2", "#3", "#0", "#9223372036854775808", "#" + "9" * 5001, "#١", "#٢", "#1#2", "# 1"]

texts = st.one_of(st.sampled_from(NASTY_TEXTS), st.text(max_size=40),
                  st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12))
verbs = st.one_of(st.sampled_from(VERBS), st.sampled_from(VERBS).map(str.upper),
                  st.sampled_from(["dance", "", "agreee", "d'accord", "Désaccord", "!", "ágree"]))
durations = st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(hours=1), timedelta(hours=23),
                             timedelta(days=1), timedelta(days=3), timedelta(days=8), timedelta(days=40),
                             timedelta(days=400)])


class ServiceMachine(RuleBasedStateMachine):
    """One room of six members (fay facilitates) on an in-memory register, the clock under the machine's hand.

    ``postgres``: a server to run on instead (a fresh database for each run of the machine, a copy of ``template``)."""

    postgres: PostgresServer | None = None
    template = "template0"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = Clock(START)
        self.room = ConsoleRoom(set(MEMBERS[:3]), {FACILITATOR})
        self.platform = RecordingSender()
        self.sent = self.platform.sent
        location = self.run(self.postgres.create_database(self.template)) if self.postgres else ":memory:"
        self.repository = self.run(Repository.open(location))
        config = default_config()
        config = config.model_copy(update={"assembly": config.assembly.model_copy(update={"delegation": True})})
        self.service = ConsentService(self.repository, config, COMMANDS, self.room, self.platform, self.clock)
        self.ids = itertools.count(1)
        self.events: list[tuple[str, Incoming]] = []
        """Every member message sent: (event id, the message), to edit, replay or redact."""
        self.reactions: list[str] = []
        self.history: list[tuple] = []
        self.steps = 0

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.repository.close())
        self.loop.close()

    # --- what members and the clock do ---------------------------------------------------------------------

    @initialize()
    def a_first_proposal(self) -> None:
        self._say("alice", "!propose Buy a kettle\nFor the meeting room.")

    @rule(member=st.sampled_from(MEMBERS), verb=verbs, reference=st.sampled_from(REFERENCES), argument=texts,
          about=st.sampled_from([None, None, 1, 2]))
    def a_command(self, member: str, verb: str, reference: str, argument: str, about: int | None) -> None:
        self._say(member, f"!{verb} {reference} {argument}".strip(), about)

    @rule(member=st.sampled_from(MEMBERS), text=texts, about=st.sampled_from([None, 1, 2]))
    def plain_talk(self, member: str, text: str, about: int | None) -> None:
        self._say(member, text, about)

    @rule(member=st.sampled_from(MEMBERS), position=st.sampled_from(Position), on_ballot=st.booleans())
    def a_reaction(self, member: str, position: Position, on_ballot: bool) -> None:
        target = self.run(self.repository.ballot_id(ROOM, 1)) if on_ballot else "$not-a-ballot"
        event = f"$reaction{next(self.ids)}"
        self.reactions.append(event)
        self.room.names.add(member)
        self.run(self.service.react(ReactionVote(ROOM, member, target or "$none", position, event, self.clock())))
        self._step()

    @precondition(lambda self: self.events or self.reactions)
    @rule(data=st.data(), by_author=st.booleans())
    def a_redaction(self, data: st.DataObject, by_author: bool) -> None:
        removed = data.draw(st.sampled_from([e for e, _ in self.events] + self.reactions))
        sender = next((m.sender for e, m in self.events if e == removed), None)
        by = sender if by_author and sender else data.draw(st.sampled_from(MEMBERS))
        self.run(self.service.redacted(Redaction(ROOM, removed, by, f"$redaction{next(self.ids)}", self.clock())))
        self._step()

    @precondition(lambda self: self.events)
    @rule(data=st.data(), argument=texts)
    def an_edit(self, data: st.DataObject, argument: str) -> None:
        event, original = data.draw(st.sampled_from(self.events))
        verb = data.draw(verbs)
        edit = Incoming(ROOM, original.sender, f"!{verb} {argument}", f"$edit{next(self.ids)}", self.clock(),
                        original.about, replaces=event)
        took_effect = self.run(self._took_effect(event))
        self._deliver(edit, expect_answer=took_effect or _is_command(edit.text))

    @precondition(lambda self: self.events)
    @rule(data=st.data())
    def a_replay(self, data: st.DataObject) -> None:
        """The platform delivers an event again (a resync, a restart): nothing changes, nothing is said."""
        _, incoming = data.draw(st.sampled_from(self.events))
        before = len(self.sent)
        self.run(self.service.handle(incoming))
        assert self.sent[before:] == [], "a replayed event was answered again"
        self._step()

    @rule(member=st.sampled_from(MEMBERS))
    def a_member_joins(self, member: str) -> None:
        self.room.names.add(member)

    @rule(member=st.sampled_from(MEMBERS))
    def a_member_leaves(self, member: str) -> None:
        self.room.names.discard(member)

    @rule(member=st.sampled_from(MEMBERS), delegate=st.sampled_from(MEMBERS))
    def a_delegation(self, member: str, delegate: str) -> None:
        self._say(member, f"!delegate {delegate}")

    @rule(duration=durations)
    def time_passes(self, duration: timedelta) -> None:
        """As the console's /advance: every due closing and reminder at its own instant, in order."""
        target = self.clock.now + duration
        while (due := self.run(self.service.next_due())) is not None and due[0] <= target:
            self.clock.now = max(self.clock.now, due[0])
            self.run(self.service.run_due(due[1], due[2], self.clock.now))
        self.clock.now = target
        self._step()

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def the_register_holds(self) -> None:
        self.run(self._check_register())

    async def _check_register(self) -> None:
        closed: set[tuple[int, int]] = set()
        async with self.repository.transaction() as tx:
            numbers = await tx.numbers(ROOM)
            for number in numbers:
                proposal = await tx.load(ROOM, number)
                closed |= {(number, r.number) for r in proposal.rounds if r.outcome is not None}
                # The positions counted are what each member's standing expressions replay to.
                round_ = proposal.current_round
                members = {e.member for e in round_.expressions}
                replayed = {m: rules.standing_stance(m, round_.expressions) for m in members}
                assert {s.member: s for s in round_.stances} == {m: s for m, s in replayed.items() if s}
                # The running tally a vote keeps is the tally recounted from every position (and, once the
                # round is closed, the positions it counted by delegation).
                delegated = round_.outcome.delegated if round_.outcome is not None else ()
                assert round_.counts == rules.with_delegated(rules.tally(round_.stances, round_.rule), delegated)
                own = {s.member: s.position for s in round_.stances}
                for entry in delegated:
                    assert entry.member not in own and entry.by in own and entry.position is not Position.BLOCK
                assert proposal.state is not State.OPEN or round_.outcome is None
        # The history only grows, and no line of it changes.
        history = [row for number in numbers for row in await self.repository.history(ROOM, number)]
        rows = [tuple(row.values()) for row in sorted(history, key=lambda row: row["id"])]
        assert rows[:len(self.history)] == self.history, "a line of the history changed or disappeared"
        self.history = rows
        # Every closed round has exactly one outcome; an open one none.
        outcomes: dict[tuple[int, int], int] = {}
        for message in self.sent:
            if message.kind is Kind.OUTCOME:
                key = (message.payload["proposal"], message.payload["round"])
                outcomes[key] = outcomes.get(key, 0) + 1
        assert set(outcomes) == closed and set(outcomes.values()) <= {1}, outcomes

    # --- helpers -------------------------------------------------------------------------------------------

    def _say(self, member: str, text: str, about: int | None = None) -> None:
        incoming = Incoming(ROOM, member, text, f"$event{next(self.ids)}", self.clock(), about)
        self._deliver(incoming, expect_answer=_is_command(text))

    def _deliver(self, incoming: Incoming, expect_answer: bool) -> None:
        self.room.names.add(incoming.sender)
        self.events.append((incoming.event_id, incoming))
        self.run(self.service.handle(incoming))
        answers = [m for m in self.sent if m.reply_to == incoming.event_id and m.kind in ANSWERS]
        # A command gets exactly one answer; plain text in a ballot's thread may be a block's argument: one ✅.
        assert len(answers) == 1 if expect_answer else len(answers) <= 1, (
            incoming.text[:80], [(m.kind, m.body[:80]) for m in answers])
        self._step()

    def _step(self) -> None:
        self.steps += 1
        self.clock.now += timedelta(seconds=1)

    async def _took_effect(self, event: str) -> bool:
        async with self.repository.transaction() as tx:
            return await tx.took_effect(event)


def _is_command(text: str) -> bool:
    """What the README calls a command: a message starting with ! and something after it."""
    stripped = clean(text).strip()
    return stripped.startswith("!") and len(stripped) > 1
