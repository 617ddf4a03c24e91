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
- a member counted by delegation took no position of their own, and counts with someone who did;
- the assembly has topics: a proposal made on topics carries them, and its proposer or a facilitator (no one
  else) sets them later;
- every change of delegation is told to the room (given, ended, lapsed, expired), and what was told is what
  counts: each closed round counts by delegation exactly the members tests/service_model.py works out — for
  each member of the room who took no position, the most specific of their delegations in force at the
  deadline (the proposal's, its topics', the room's), then the chain of delegates — with the scope that counted;
- a delegation given until a day lapses at its end, as the clock passes it: never counted after, its member
  told once; a delegation to someone who left lapses at the next close, its member told;
- a challenge naming numbered parts of a decision written in parts is accepted or refused (a part the decision
  lacks) as the model says, and once adopted leaves the decision's text the model expects.

Delegation is on, on the room, on topics and on single proposals, some until a day; members come and go, so
delegations lapse.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import datetime, time, timedelta, timezone

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.config import default_config
from bot.config.settings import TopicSettings
from bot.console import ConsoleRoom
from bot.engine import rules
from bot.engine.model import Position, Proposal, State, Tally
from bot.app.handlers import COMMANDS
from bot.messages.outgoing import Kind, Outgoing
from bot.messages.sanitize import clean
from bot.app.ports import Incoming, ReactionVote, Redaction, Reference
from bot.app.service import ConsentService
from storage.repository import LAPSES, Repository
from tests import service_model as model
from tests.conftest import Clock, RecordingSender
from tests.servers.postgres import PostgresServer

ROOM = "!fuzz:test"
START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)
MEMBERS = ("alice", "bob", "carol", "dan", "erin", "fay")
FACILITATOR = "fay"
ANSWERS = {Kind.ACK, Kind.ERROR, Kind.STATUS, Kind.HELP, Kind.BALLOT, Kind.BLOCK_REQUEST, Kind.ANNOUNCEMENT, Kind.HISTORY,
           Kind.FOLLOWUP, Kind.DELEGATION, Kind.LINK}
VERBS = sorted({name for command in COMMANDS.commands for name in (command.verb, *command.aliases)})

NASTY_TEXTS = [
    "", " ", "\u200b" * 12, "." * 12, "😀" * 12, "x" * 1001, "&" * 1200, '"' * 999, "<script>alert(1)</script>",
    "@room @channel @here", "\ud800 lone", "bad\udcff utf8", "ctrl\x00\x1b\x7f chars", "line\nbreaks\r\nhere",
    "\u202eright to left", "Consentement éclairé requis pour toute photo.", "part 2: the kettle costs too much",
    "consent\nA new text for the next round", "24h", "3000000d", "9" * 30 + "d", "2j", "0s", "-1h",
    "We already have two kettles in the kitchen.", "#1", "#" + "9" * 5001,
]
REFERENCES = ["", "#1", "#2", "#3", "#0", "#9223372036854775808", "#" + "9" * 5001, "#١", "#٢", "#1#2", "# 1",
              "#net-1", "#NET-2", "#a-1-2", "#-1", "#net-" + "9" * 5001]
"""A proposal as members name it: the room's own, and joint decisions of networks the room is in none of."""
TOPICS = (TopicSettings(id="transport", names={"fr": "Mobilités", "en": "Transport"}),
          TopicSettings(id="culture", names={"fr": "Culture", "en": "Culture"}),
          TopicSettings(id="housing", names={"fr": "Logement", "en": "Housing"}))
TOPIC_IDS = tuple(topic.id for topic in TOPICS)
ARGUMENT = " We already have two kettles in the kitchen."

texts = st.one_of(st.sampled_from(NASTY_TEXTS), st.text(max_size=40),
                  st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12))
verbs = st.one_of(st.sampled_from(VERBS), st.sampled_from(VERBS).map(str.upper),
                  st.sampled_from(["dance", "", "agreee", "d'accord", "Désaccord", "!", "ágree"]))
durations = st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(hours=1), timedelta(hours=6),
                             timedelta(hours=23), timedelta(days=1), timedelta(days=2), timedelta(days=3),
                             timedelta(days=8), timedelta(days=40), timedelta(days=400)])
members = st.sampled_from(MEMBERS)
topic_lists = st.lists(st.sampled_from(TOPIC_IDS), unique=True, max_size=3)
scopes = st.one_of(st.just(""), st.sampled_from(TOPIC_IDS).map("topic:{}".format), st.just("proposal:"))
"""A delegation's scope: the room, a topic, or one proposal (its number drawn when the rule runs)."""
last_days = st.sampled_from([None, None, None, -1, 0, 2, 5, 30])
"""A delegation's last day, in days from today: none, one passed (refused), or one to come."""
texts_in_parts = st.lists(st.sampled_from(model.BODIES), max_size=4)


class ServiceMachine(RuleBasedStateMachine):
    """One room of six members (fay facilitates) on an in-memory register, the clock under the machine's hand.

    ``postgres``: a server to run on instead (a fresh database for each run of the machine, a copy of ``template``)."""

    postgres: PostgresServer | None = None
    template = "template0"
    covered: Counter = Counter()
    """How often each case the model checks came up, over every machine run (benchmarks.fuzz prints it)."""

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
        assembly = config.assembly.model_copy(update={"delegation": True, "topics": TOPICS})
        config = config.model_copy(update={"assembly": assembly})
        self.zone = assembly.timezone
        self.service = ConsentService(self.repository, config, COMMANDS, self.room, self.platform, self.clock)
        self.ids = itertools.count(1)
        self.events: list[tuple[str, Incoming]] = []
        """Every member message sent: (event id, the message), to edit, replay or redact."""
        self.reactions: list[str] = []
        self.history: list[tuple] = []
        self.steps = 0
        self.delegations = model.DelegationLog()
        self.observed = 0
        """How many of the bot's messages the delegation log has read."""
        self.topics: dict[int, tuple[str, ...]] = {}
        """The topics of the proposals the machine made or set the topics of."""
        self.in_parts: set[int] = set()
        """The proposals the machine wrote in numbered parts."""
        self.adopted: set[int] = set()
        """The proposals seen adopted when their round closed (decisions, perhaps repealed since)."""

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.repository.close())
        self.loop.close()

    # --- what members and the clock do ---------------------------------------------------------------------

    @initialize(topics=topic_lists, bodies=texts_in_parts, by_name=st.booleans())
    def a_first_proposal(self, topics: list[str], bodies: list[str], by_name: bool) -> None:
        self._propose("alice", topics, bodies, by_name)

    @rule(member=members, topics=topic_lists, bodies=texts_in_parts, by_name=st.booleans())
    def a_proposal(self, member: str, topics: list[str], bodies: list[str], by_name: bool) -> None:
        """A proposal on topics (named by id or by name), its text in numbered parts or not."""
        self._propose(member, topics, bodies, by_name)

    @rule(member=st.sampled_from(MEMBERS), verb=verbs, reference=st.sampled_from(REFERENCES), argument=texts,
          about=st.sampled_from([None, None, 1, 2]))
    def a_command(self, member: str, verb: str, reference: str, argument: str, about: int | None) -> None:
        self._say(member, f"!{verb} {reference} {argument}".strip(), about)

    @rule(member=st.sampled_from(MEMBERS), text=texts, about=st.sampled_from([None, 1, 2]))
    def plain_talk(self, member: str, text: str, about: int | None) -> None:
        self._say(member, text, about)

    @rule(data=st.data(), member=st.sampled_from(MEMBERS), position=st.sampled_from(Position),
          on_ballot=st.booleans())
    def a_reaction(self, data: st.DataObject, member: str, position: Position, on_ballot: bool) -> None:
        """A reaction on a proposal's ballot (an open one's, when there is one), or on another message."""
        number = data.draw(st.sampled_from(self._numbers((State.OPEN,)) or [1])) if on_ballot else None
        target = self.run(self.repository.ballot_id(ROOM, number)) if number else "$not-a-ballot"
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

    @rule(data=st.data(), votes=st.dictionaries(members, st.tuples(st.sampled_from(Position), st.booleans()),
                                                min_size=1, max_size=3), everywhere=st.booleans())
    def members_vote(self, data: st.DataObject, votes: dict[str, tuple[Position, bool]], everywhere: bool) -> None:
        """Some members take a position, argued or not, on one proposal or on every open one (so that rounds close
        with positions their delegators count with)."""
        numbers = self._numbers((State.OPEN,)) or self._numbers()
        for number in numbers if everywhere else [data.draw(st.sampled_from(numbers))]:
            for member, (position, argued) in votes.items():
                self._say(member, f"!{position.value} #{number}{ARGUMENT if argued else ''}")

    @rule(data=st.data(), member=members, topics=topic_lists, none=st.sampled_from(["none", "aucun"]))
    def topics_set_later(self, data: st.DataObject, member: str, topics: list[str], none: str) -> None:
        """Its proposer or a facilitator sets a proposal's topics (or none); anyone else is refused."""
        numbers = self._numbers()
        number = data.draw(st.sampled_from(numbers + [max(numbers) + 1]))
        before = self._load(number)
        answer = self._say(member, f"!topics #{number} {','.join(topics) or none}")
        allowed = before is not None and member in (before.proposer, FACILITATOR) and before.state is not \
            State.WITHDRAWN
        assert answer.kind is (Kind.ANNOUNCEMENT if allowed else Kind.ERROR), (member, number, answer.body)
        if allowed:
            self.topics[number] = tuple(sorted(topics))
        if before is not None:
            assert self._load(number).topics == (tuple(sorted(topics)) if allowed else before.topics)
        self.covered["topics set later" if allowed else "topics refused"] += 1

    @rule(data=st.data(), given=st.lists(st.tuples(members, members, st.sampled_from(["anyone", "voter", "delegator"]),
                                                   scopes, last_days, st.booleans()), min_size=1, max_size=3))
    def members_delegate(self, data: st.DataObject, given: list[tuple[str, str, str, str, int | None, bool]]) -> None:
        """Some members delegate, each on the room, a topic or one proposal, until a day or not, to anyone — or to a
        member who took a position on an open proposal, or who delegates too (so that delegations count, and make
        chains) —; each told to the room as given."""
        voters = sorted({s.member for n in self._numbers((State.OPEN,)) for s in self._load(n).current_round.stances})
        for member, delegate, whom, scope, last_day, at in given:
            delegators = sorted({who for who, _ in self.delegations.standing()})
            candidates = {"anyone": [], "voter": voters, "delegator": delegators}[whom]
            delegate = data.draw(st.sampled_from(candidates)) if candidates else delegate
            self._delegate(member, delegate, self._proposal_scope(data, scope), last_day, at)

    def _delegate(self, member: str, delegate: str, scope: str, last_day: int | None, at: bool) -> None:
        today = self.clock.now.astimezone(self.zone).date()
        day = today + timedelta(days=last_day) if last_day is not None else None
        until = f" until {day.isoformat()}" if day else ""
        self.room.names.add(member)
        valid = (member != delegate and delegate in self.room.names and self._exists(scope)
                 and (last_day is None or last_day >= 0))
        answer = self._say(member, f"!delegate {'@' * at}{delegate}{_scope_words(scope)}{until}")
        if not valid:
            assert answer.kind is Kind.ERROR, (member, delegate, scope, day, answer.body)
            return
        end = datetime.combine(day + timedelta(days=1), time(0), self.zone) if day else None  # the day's end
        assert answer.kind is Kind.DELEGATION and answer.mentions == (delegate,), answer.body
        assert {**answer.payload, "until": answer.payload["until"] and datetime.fromisoformat(
            answer.payload["until"])} == {"kind": "delegation", "member": member, "delegate": delegate, "scope": scope,
                                          "until": end}
        self.covered[f"delegation given on {scope.partition(':')[0] or 'the room'}{' until a day' * bool(day)}"] += 1

    @rule(data=st.data(), member=members, scope=scopes)
    def an_undelegation(self, data: st.DataObject, member: str, scope: str) -> None:
        """A member ends their delegation on one scope: the one they have there, as the room was told it."""
        scope = self._proposal_scope(data, scope)
        standing = self.delegations.standing().get((member, scope))
        answer = self._say(member, f"!undelegate{_scope_words(scope)}")
        if standing is None:
            assert answer.kind is Kind.ERROR, (member, scope, answer.body)
            return
        until = standing.until and standing.until.astimezone(timezone.utc).isoformat()
        assert answer.kind is Kind.DELEGATION and answer.payload == {
            "kind": "delegation", "member": member, "delegate": None, "scope": scope, "until": until}, answer.payload
        self.covered["delegation ended"] += 1

    @precondition(lambda self: self.in_parts & self.adopted)
    @rule(data=st.data(), member=members, form=st.sampled_from(["single", "range", "list"]),
          change=st.sampled_from(["none", "body", "numbered", "first only"]), word=st.sampled_from(["part", "partie"]))
    def a_part_challenge(self, data: st.DataObject, member: str, form: str, change: str, word: str) -> None:
        """A challenge naming numbered parts of a decision written in parts ("part 2", "part 2-3", "part 2,4"), one
        of them perhaps not there: a new text for them, or none (they are removed)."""
        number = data.draw(st.sampled_from(sorted(self.in_parts & self.adopted)))
        decision = self._load(number)
        parts = model.read(decision.text)
        top = max(parts or {3: ""}) + 1  # up to one part past the last: a part the decision lacks
        if form == "single":
            part = str(data.draw(st.integers(1, top)))
        elif form == "range":
            first = data.draw(st.integers(1, top - 1))
            part = f"{first}-{data.draw(st.integers(first + 1, top))}"
        else:
            part = ",".join(map(str, sorted(data.draw(st.lists(st.integers(1, top), min_size=2, max_size=2,
                                                                unique=True)))))
        named = model.named(part)
        bodies = st.sampled_from(model.BODIES)
        new = {"none": "", "body": data.draw(bodies), "first only": model.written({named[0]: data.draw(bodies)}),
               "numbered": model.written({n: data.draw(bodies) for n in named})}[change]
        answer = self._say(member, f"!challenge #{number} {word} {part}: Simpler kitchen rules\n{new}".strip())
        if parts is None:
            return  # no longer a text the machine wrote (amended, or a change added after it): one answer is all
        locked = decision.locked_until is not None and self.clock.now < decision.locked_until
        accepted = decision.state is State.ADOPTED and not locked and not model.refused(parts, part, new)
        if not accepted:
            assert answer.kind is Kind.ERROR, (decision.state, decision.text, part, new, answer.body)
            self.covered["part challenge refused" if decision.state is State.ADOPTED else "challenge of no decision"
                         " in force"] += 1
            return
        assert answer.kind is Kind.BALLOT, (decision.text, part, new, answer.body)
        assert (answer.payload["challenges"], answer.payload["challenged_part"]) == (number, part)
        if number in self.topics:
            self.topics[answer.payload["proposal"]] = self.topics[number]  # a challenge is on its decision's topics
        self.covered["part challenge made"] += 1

    @rule(duration=durations)
    def time_passes(self, duration: timedelta) -> None:
        """As the console's /advance: every due closing, reminder and delegation's end at its own instant, in order.
        Once past, no delegation given until a day before it stands any more."""
        target = self.clock.now + duration
        while (due := self.run(self.service.next_due())) is not None and due[0] <= target:
            self.clock.now = max(self.clock.now, due[0])
            if due[2] == LAPSES:
                self._expire(due[1])
            else:
                self._due(due[1], due[2])
        self.clock.now = target
        assert not [d for d in self.delegations.standing().values() if d.until and d.until <= target]
        self._step()

    @rule(duration=durations)
    def the_clock_s_work_waits(self, duration: timedelta) -> None:
        """Time passes while the clock's work waits (a bot busy or restarting): the rounds due close later, at one
        instant, each on the delegations as they stood at its own deadline, and lapsed ones after their day."""
        self.clock.now += duration
        self._step()

    def _expire(self, room: str) -> None:
        """The delegations whose last day has ended lapse, each member told once."""
        now = self.clock.now
        ending = sorted((d.member, d.scope) for d in self.delegations.standing().values() if d.until and d.until <= now)
        self.run(self.service.run_due(room, LAPSES, now))
        assert self._told(now) == ending
        self.covered["delegation expired, its member told"] += len(ending)

    def _due(self, room: str, number: int) -> None:
        """A proposal's due work; a round that closes counts by delegation what the model works out, and a
        delegation to someone no longer in the room lapses, its member told."""
        now = self.clock.now
        before = self._load(number)
        if before.state is not State.OPEN or now < before.current_round.deadline:
            self.run(self.service.run_due(room, number, now))
            assert self._told(now) == []
            return
        round_, members = before.current_round, set(self.room.names)
        stood = self.delegations.standing(round_.deadline)
        topics = self.topics.get(number, before.topics)
        assert before.topics == topics, (number, before.topics, topics)
        own = {stance.member: stance.position for stance in round_.stances}
        expected = model.counted_by_delegation(stood, round_.deadline, number, topics, own, round_.rule, members)
        self.covered["round closed"] += 1
        self.covered["round closed, delegations standing"] += bool(stood)
        self.covered["round closed, positions taken"] += bool(own)
        self.covered["round closed late, delegations changed since its deadline"] += any(
            round_.deadline < change.at for change in self.delegations.changes)
        self.covered["round closed, a delegation past its last day left out"] += any(
            d.until and d.until <= round_.deadline and d.member not in own for d in stood.values())
        self.covered["round closed, a member's topic delegations naming different delegates"] += any(
            len({stood[(m, f"topic:{t}")].delegate for t in topics if (m, f"topic:{t}") in stood}) > 1
            for m in members - set(own))
        lapsing = sorted((d.member, d.scope) for d in self.delegations.standing().values()
                         if d.member in members and d.delegate not in members)
        decision = self._load(before.challenges) if before.challenges is not None else None
        self.run(self.service.run_due(room, number, now))
        assert self._told(now) == lapsing
        self.covered["delegation lapsed, its delegate gone"] += len(lapsing)
        after = self._load(number)
        if after.state is State.ADOPTED:
            self.adopted.add(number)
        outcome = after.rounds[round_.number - 1].outcome
        counted = {(d.member, d.position, d.by, d.scope) for d in outcome.delegated}
        assert counted == expected, (number, topics, own, members, stood, counted, expected)
        added = Counter(str(position) for _, position, _, _ in expected)
        assert outcome.tally == Tally(**{name: count + added[name] for name, count in round_.counts.as_dict().items()})
        for member, _, by, scope in counted:  # a delegation past its last day never counts
            assert stood[(member, scope)].until is None or round_.deadline < stood[(member, scope)].until
            self.covered[f"counted by delegation on {scope.partition(':')[0] or 'the room'}"] += 1
            self.covered["counted through a chain of delegations"] += stood[(member, scope)].delegate != by
        if decision is not None:
            self._check_revision(decision, after, self._load(decision.number))

    def _check_revision(self, decision: Proposal, challenge: Proposal, revised: Proposal) -> None:
        """An adopted challenge leaves the decision's text as the model says (repealed, for a whole without text);
        one not adopted leaves it as it was."""
        if challenge.state is not State.ADOPTED or decision.state is not State.ADOPTED:
            assert revised.text == decision.text
            return
        if not challenge.part and not challenge.text:
            assert revised.state is State.REPEALED
            return
        expected = model.revised(decision.text, challenge.number, challenge.part, challenge.text)
        if expected is not None:
            assert revised.text == expected, (decision.text, challenge.part, challenge.text, revised.text, expected)
            self.covered["challenge adopted, the text as the model says" + " (numbered parts)" * bool(
                model.named(challenge.part) and model.read(decision.text))] += 1

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

    def _propose(self, member: str, topics: list[str], bodies: list[str], by_name: bool) -> None:
        named = [t.names["fr"] if by_name else t.id for t in TOPICS if t.id in topics]
        on = f"topic {','.join(named)} " if named else ""
        answer = self._say(member, f"!propose {on}Kitchen rules\n{model.written(dict(enumerate(bodies, 1)))}"
                           if bodies else f"!propose {on}Buy a kettle\nFor the meeting room.")
        assert answer.kind is Kind.BALLOT and answer.payload.get("topics", []) == sorted(topics), answer.body
        self.topics[answer.payload["proposal"]] = tuple(sorted(topics))
        if bodies:
            self.in_parts.add(answer.payload["proposal"])

    def _say(self, member: str, text: str, about: int | None = None) -> Outgoing | None:
        incoming = Incoming(ROOM, member, text, f"$event{next(self.ids)}", self.clock(),
                            Reference(about) if about is not None else None)
        return self._deliver(incoming, expect_answer=_is_command(text))

    def _deliver(self, incoming: Incoming, expect_answer: bool) -> Outgoing | None:
        self.room.names.add(incoming.sender)
        self.events.append((incoming.event_id, incoming))
        self.run(self.service.handle(incoming))
        answers = [m for m in self.sent if m.reply_to == incoming.event_id and m.kind in ANSWERS]
        # A command gets exactly one answer; plain text in a ballot's thread may be a block's argument: one ✅.
        assert len(answers) == 1 if expect_answer else len(answers) <= 1, (
            incoming.text[:80], [(m.kind, m.body[:80]) for m in answers])
        self._step()
        return answers[0] if answers else None

    def _step(self) -> None:
        assert self._told(self.clock.now) == [], "a delegation ended without its member, outside the clock's work"
        self.steps += 1
        self.clock.now += timedelta(seconds=1)

    def _told(self, at: datetime) -> list[tuple[str, str]]:
        """The delegations the bot said something of since last read, entered in the log as said at ``at``: (member,
        scope) of those that ended without their member (lapsed, expired), who is told, sorted."""
        ended = []
        for message in self.sent[self.observed:]:
            if message.kind is Kind.DELEGATION:
                self.delegations.told(at, message.payload)
                if message.reply_to is None:
                    assert message.payload["delegate"] is None and message.mentions == (message.payload["member"],)
                    ended.append((message.payload["member"], message.payload["scope"]))
        self.observed = len(self.sent)
        return sorted(ended)

    def _load(self, number: int) -> Proposal | None:
        return self.run(self._read(lambda tx: tx.load(ROOM, number)))

    def _numbers(self, states: tuple[State, ...] | None = None) -> list[int]:
        return self.run(self._read(lambda tx: tx.numbers(ROOM, states)))

    async def _read(self, query):
        async with self.repository.transaction() as tx:
            return await query(tx)

    def _proposal_scope(self, data: st.DataObject, scope: str) -> str:
        if scope != "proposal:":
            return scope
        numbers = self._numbers()  # an open proposal (a delegation on it may count), or one the room does not have
        return f"proposal:{data.draw(st.sampled_from(self._numbers((State.OPEN,)) + [max(numbers) + 1]))}"

    def _exists(self, scope: str) -> bool:
        kind, _, value = scope.partition(":")
        return kind != "proposal" or int(value) in self._numbers()

    async def _took_effect(self, event: str) -> bool:
        async with self.repository.transaction() as tx:
            return await tx.took_effect(event)


def _scope_words(scope: str) -> str:
    """What a command says after the member to name a delegation's scope: " topic <id>", " #<number>", nothing."""
    kind, _, value = scope.partition(":")
    return {"topic": f" topic {value}", "proposal": f" #{value}"}.get(kind, "")


def _is_command(text: str) -> bool:
    """What the README calls a command: a message starting with ! and something after it."""
    stripped = clean(text).strip()
    return stripped.startswith("!") and len(stripped) > 1
