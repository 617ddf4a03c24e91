"""The small immutable types the social code talks about."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from bot.engine.calendar import WorkingCalendar


class Position(StrEnum):
    AGREE = "agree"
    ABSTAIN = "abstain"
    DISAGREE = "disagree"
    BLOCK = "block"


class Rule(StrEnum):
    CONSENT = "consent"
    MAJORITY = "majority"


class State(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    POSTPONED = "postponed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REPEALED = "repealed"
    """An adopted decision a challenge, once adopted itself, repealed as a whole."""


class Reason(StrEnum):
    """Why a round closed the way it did: which rule decided."""

    NO_VALID_BLOCK = "no_valid_block"
    VALID_BLOCK = "valid_block"
    NO_QUORUM = "no_quorum"
    MAJORITY_REACHED = "majority_reached"
    MAJORITY_MISSED = "majority_missed"


@dataclass(frozen=True)
class SocialCode:
    """An assembly's parameters of the social code (config ``assembly:``)."""

    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    minimum_duration: timedelta = timedelta(hours=72)
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    days_between_rounds: timedelta = timedelta(days=7)
    blocked_rounds_before_majority: int = 2
    majority: Fraction = Fraction(2, 3)
    majority_lock: relativedelta = field(default_factory=lambda: relativedelta(months=3))
    quorum: Fraction = Fraction(0)
    followup_reminder: relativedelta | None = field(default_factory=lambda: relativedelta(days=30))
    """How long after its adoption a decision nobody has followed up is brought up again, once (None: never)."""


@dataclass(frozen=True)
class Stance:
    """One member's current position in a round."""

    member: str
    position: Position
    at: datetime
    argument: str = ""


@dataclass(frozen=True)
class Expression:
    """One thing a member said about their position in a round — a reaction, a command, a withdrawal — with
    the platform event that carried it and the instant they said it."""

    event: str
    member: str
    position: Position | None
    """None: the member withdrew their position (``!unvote``)."""
    argument: str
    at: datetime


@dataclass(frozen=True)
class Tally:
    agree: int = 0
    abstain: int = 0
    disagree: int = 0
    block: int = 0
    unargued_block: int = 0

    @property
    def answered(self) -> int:
        return self.agree + self.abstain + self.disagree + self.block + self.unargued_block

    def as_dict(self) -> dict[str, int]:
        return {
            "agree": self.agree,
            "abstain": self.abstain,
            "disagree": self.disagree,
            "block": self.block,
            "unargued_block": self.unargued_block,
        }

    def plus(self, field: str | None, count: int) -> Tally:
        """This tally with ``count`` more (or fewer) under one of its fields (None: no change)."""
        return self if field is None else replace(self, **{field: getattr(self, field) + count})


@dataclass(frozen=True)
class Delegation:
    """A member entrusts their vote to another: on the whole room, on a topic's proposals, or on one proposal;
    until a time, or until they end it."""

    member: str
    delegate: str
    scope: str = ""
    """What it covers: "" the room, "topic:<id>" a topic, "proposal:<number>" one proposal."""
    until: datetime | None = None
    """When it lapses (None: when its member ends it)."""

    def in_force(self, at: datetime) -> bool:
        return self.until is None or at < self.until


@dataclass(frozen=True)
class Delegated:
    """A member who took no position, counted at the close with the position their delegation led to."""

    member: str
    position: Position
    """As counted: agree, abstain or disagree (a delegate's block counts against, in a majority round only)."""
    by: str
    """Whose own position it is: the end of the chain of delegations."""
    scope: str = ""
    """The scope of the member's own delegation that counted (see Delegation.scope)."""


@dataclass(frozen=True)
class Outcome:
    state: State
    reason: Reason
    tally: Tally
    """Every position counted, delegated ones included."""
    members: int
    closed_at: datetime
    offline: bool = False
    delegated: tuple[Delegated, ...] = ()
    """The members counted by delegation, and whose position they count with."""


@dataclass(frozen=True)
class Round:
    number: int
    rule: Rule
    opened_at: datetime
    deadline: datetime
    version: int
    stances: tuple[Stance, ...] = ()
    """The members' positions, as loaded: every member's (a whole proposal), or only the acting member's (a
    decision about one member, which costs the same whatever the room's size)."""
    outcome: Outcome | None = None
    expressions: tuple[Expression, ...] = ()
    """What members said in this round and still stands (not taken back by its author), in arrival order;
    loaded like ``stances``."""
    counts: Tally = Tally()
    """The running tally of every member's position, kept by each change: what the round decides on."""
    latest_expressions_only: bool = False
    """Whether ``expressions`` holds, of what the acting member said, only the latest (and what is added since):
    all that a new expression said after it needs, however often the member changed their mind (see
    transitions._restand)."""

    def stance_of(self, member: str) -> Stance | None:
        return next((s for s in self.stances if s.member == member), None)

    def expressions_of(self, member: str) -> tuple[Expression, ...]:
        return tuple(e for e in self.expressions if e.member == member)


class Assessment(StrEnum):
    """What the assembly says of how an official applied one of its decisions (the pact's verdict)."""

    RESPECTED = "respected"
    PARTLY_RESPECTED = "partly_respected"
    NOT_RESPECTED = "not_respected"


@dataclass(frozen=True)
class Referral:
    """An official referred the question to the assembly (the pact: officials refer their decisions to it)."""

    official: str
    """The official's id (config ``officials``)."""
    needed_by: date | None = None
    """The day the official needs the assembly's opinion by (in the assembly's time zone), when they said."""


@dataclass(frozen=True)
class Verdict:
    """What a verdict proposal is about: whether an official's actions took a decision into account."""

    decision: int
    official: str
    assessments: tuple[Assessment, ...]
    """The assessment of each version of the verdict's text (its reason), in order: an amendment may change it."""


@dataclass(frozen=True)
class Fact:
    """What an official did to apply a decision, recorded by a member of the assembly: dated, sourced, kept."""

    official: str
    member: str
    """Who recorded it."""
    at: datetime
    """When it was recorded."""
    text: str
    happened_on: date | None
    """When the official did it, when known."""
    source: str
    """Where it can be checked: a link, a deliberation's number."""


@dataclass(frozen=True)
class Statement:
    """What an official says of their own application of a decision: their word, never the assembly's record."""

    official: str | None
    """None: a follow-up given before the pact, by ``member`` (kept for what it was)."""
    member: str
    at: datetime
    text: str


@dataclass(frozen=True)
class Proposal:
    number: int
    title: str
    proposer: str
    created_at: datetime
    versions: tuple[str, ...]
    rounds: tuple[Round, ...]
    state: State = State.OPEN
    locked_until: datetime | None = None
    duration: timedelta | None = None
    """The time to answer its proposer asked for, when longer than the minimum: every round lasts that long."""
    challenges: int | None = None
    """For a challenge: the number of the decision it would revise."""
    part: str = ""
    """For a challenge: the part of that decision it names ("" for the whole)."""
    challenged_by: tuple[int, ...] = ()
    """The challenges of this decision not decided yet (meanwhile it stays in force)."""
    repealed_by: int | None = None
    amended_by: tuple[int, ...] = ()
    topics: tuple[str, ...] = ()
    """The assembly's topics it is about (their ids, config ``topics``)."""
    referral: Referral | None = None
    """The official who referred the question to the assembly, when one did."""
    bound: tuple[str, ...] = ()
    """The officials bound to apply the decision (their ids): the referring official, and whom facilitators add."""
    facts: tuple[Fact, ...] = ()
    """For a decision: what its officials did to apply it, as members recorded it, oldest first."""
    statements: tuple[Statement, ...] = ()
    """For a decision: what its officials said of it themselves, oldest first."""
    verdict: Verdict | None = None
    """For a verdict: the decision and the official it judges."""
    application_reminded: bool = False
    """Whether the room was reminded, once, that no fact was recorded on applying the decision."""
    loaded_for: str | None = None
    """Set when only this member's positions were loaded (a decision about them alone)."""

    @property
    def current_round(self) -> Round:
        return self.rounds[-1]

    @property
    def decided_at(self) -> datetime | None:
        """When its last round closed (for a decision: when it was adopted or rejected)."""
        outcome = self.current_round.outcome
        return outcome.closed_at if outcome is not None else None

    @property
    def assessment(self) -> Assessment | None:
        """For a verdict: the assessment of the text voted on in the current round (of the decision, once adopted)."""
        if self.verdict is None:
            return None
        return self.verdict.assessments[self.current_round.version - 1]

    @property
    def text(self) -> str:
        """The text voted on in the current round; for a decision amended since, the text in force."""
        if self.amended_by:
            return self.versions[-1]
        return self.versions[self.current_round.version - 1]


@dataclass(frozen=True)
class Summary:
    """A proposal in a list: what one line of ``!list`` says."""

    number: int
    title: str
    state: State
    round: int
    deadline: datetime
    scope: str = ""
    """Where it is kept when not in the room's own: the network's scope of a joint decision."""


class Action(StrEnum):
    PROPOSED = "proposed"
    POSITION = "position"
    POSITION_WITHDRAWN = "position_withdrawn"
    ROUND_OPENED = "round_opened"
    ROUND_CLOSED = "round_closed"
    EXTENDED = "extended"
    AMENDED = "amended"
    CHALLENGED = "challenged"
    """A challenge of this decision was made: ``detail`` is the challenge's number."""
    REPEALED = "repealed"
    REVISED = "revised"
    """An adopted challenge amended this decision: ``detail`` is the challenge's number."""
    WITHDRAWN = "withdrawn"
    REMOVED_BY_MODERATOR = "removed_by_moderator"
    FOLLOWED_UP = "followed_up"
    """Before the pact, an update on applying the decision: ``detail`` is its status and progress (now a statement)."""
    FOLLOWUP_REMINDED = "followup_reminded"
    """Nobody had recorded a fact on applying the decision: the room was reminded."""
    BOUND = "bound"
    """An official is bound to apply the decision: ``detail`` is the official's id."""
    UNBOUND = "unbound"
    """An official is no longer bound to apply it: ``detail`` is the official's id."""
    FACT_RECORDED = "fact_recorded"
    """A member recorded what an official did: ``detail`` is the official's id, ``argument`` the fact."""
    STATEMENT_MADE = "statement_made"
    """An official said what they did: ``detail`` is the official's id, ``argument`` the statement."""
    TOPICS_SET = "topics_set"
    """Its topics were set: ``detail`` is their ids, comma-separated (empty: none)."""
    VERDICT_PROPOSED = "verdict_proposed"
    """A verdict on an official's application of this decision was proposed: ``detail`` is the verdict's number."""


@dataclass(frozen=True)
class Change:
    """One line of the append-only history: who did what, when."""

    action: Action
    member: str | None
    at: datetime
    round: int
    position: Position | None = None
    argument: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Step:
    """A transition's result: the proposal after it, what to write in the history, and the members'
    expressions it adds to the current round or takes back ((event, when))."""

    proposal: Proposal
    changes: tuple[Change, ...]
    expressed: tuple[Expression, ...] = ()
    retracted: tuple[tuple[str, datetime], ...] = ()


class RuleViolation(Exception):
    """The social code refuses an action; ``code`` names the rule, ``params`` explain it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params
