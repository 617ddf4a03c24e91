"""What a command handler works with: the event, the facts the platform gave before the transaction, and the
transaction itself; and the one error type whose message is for the member."""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import AssemblySettings
from bot.config.networks import network_label
from bot.engine import rules
from bot.engine.model import Action, Change, Proposal, State, Step
from bot.messages import render
from bot.messages.i18n import Messages
from bot.messages.outgoing import Kind, Outgoing
from bot.messages.lines import Text
from storage.repository import Transaction

MAX_REFERENCE = 999_999_999
"""No room will ever hold more proposals: a larger #N (even of thousands of digits) is "no such proposal"."""


class CommandError(Exception):
    """A user-facing failure: ``message`` is for the member, already in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


VOTES = {Action.POSITION, Action.POSITION_WITHDRAWN, Action.REMOVED_BY_MODERATOR}
"""Changes that never move a due time: a vote costs no reckoning of the clock."""


def messages_for(settings: AssemblySettings, scope: str = "") -> Messages:
    """The messages said by ``settings`` about a decision kept under ``scope`` (a joint decision's number is written
    with its network's id)."""
    return Messages(settings.language, settings.code.calendar.zone, network_label(scope))


@dataclass(frozen=True)
class Facts:
    """What the platform's directory says for one event, asked before its transaction opens (on Mattermost it
    may be a request over the network, which must never hold the database)."""

    count: int
    """How many members the room has."""
    facilitator: bool | None = None
    """Whether the sender facilitates the room, for the commands that need it."""
    members: set[str] | None = None
    """The room's members, for the commands that name them; for a joint decision, the members of the network's rooms
    (each once), always."""
    named: str | None = None
    """The member the command's first word names, for the commands that name one (None: nobody in the room)."""
    members_by_room: dict[str, Set[str]] | None = None
    """For a joint decision, the members of each room of its network."""
    joint_scopes: tuple[str, ...] = ()
    """For the commands that need them, the scopes of the joint decisions the room takes part in (its networks')."""
    spans_platforms: bool = False
    """For the same commands, whether one of the room's networks has rooms on both Matrix and Mattermost."""


@dataclass
class Context:
    """What a command handler works with, inside the transaction of its event."""

    tx: Transaction
    room: str
    sender: str
    event_id: str
    now: datetime
    settings: AssemblySettings
    facts: Facts
    reference: int | None
    arguments: str
    reply_to: str | None = None
    """The event the answers reply to (a command); None for reactions, which cannot be replied to."""
    scope: str = ""
    """Where the proposals it names are kept when not in the room itself: a network's joint decisions."""
    places: tuple[tuple[str, AssemblySettings], ...] = ()
    """For a joint decision, each room of its network with the settings said by there (its language)."""
    outbox: list[Outgoing] = field(default_factory=list)
    touched: dict[int, Proposal] = field(default_factory=dict)
    """The proposals whose due time (a reminder, a close) this event may have changed, as it left them."""
    wakes: list[datetime] = field(default_factory=list)
    """Other times the clock owes something from this event (a delegation lapsing)."""
    changes: list[Change] = field(default_factory=list)
    """What this event recorded in the history (for the metrics, once committed)."""

    @property
    def m(self) -> Messages:
        return messages_for(self.settings, self.scope)

    @property
    def kept_under(self) -> str:
        """Where the proposals this event names are kept and numbered: the room, or the network's scope."""
        return self.scope or self.room

    def fail(self, message: str, **params: object) -> CommandError:
        return CommandError(self.m._(message, **params))

    @property
    def facilitator(self) -> bool:
        """Whether the sender facilitates this room (asked for by the commands that need it)."""
        assert self.facts.facilitator is not None, "declare needs=FACILITATOR on the command"
        return self.facts.facilitator

    def participation(self, proposal: Proposal) -> int:
        """The "m" of participation: the room's members and anyone who answered and has since left — or, for
        a decision about one member (an acknowledgement), the room's size: it costs nothing per vote."""
        if self.facts.members is not None and proposal.loaded_for is None:
            return len(rules.participants(proposal.current_round, self.facts.members))
        return self.facts.count

    async def proposal(self, *candidates: State, member: str | None = None, shown_only: bool = False) -> Proposal:
        """The proposal named by #N or by the reply; else the only one in ``candidates`` states in this room.

        With ``member``, only that member's positions are loaded (a decision about them alone), and of what they
        said, as much as a new word of theirs said now needs (Transaction.load_for); ``shown_only``:
        a proposal only to be shown, without what each member said (Transaction.view).
        """
        number = self.reference
        if number is None:
            numbers = await self.tx.numbers(self.kept_under, candidates or (State.OPEN,))
            if not numbers and not candidates:
                postponed = await self.tx.numbers(self.kept_under, (State.POSTPONED,))
                if postponed:
                    raise self.fail("No proposal is open in this room; postponed: {numbers} (see !list).",
                                    numbers=", ".join(f"#{n}" for n in postponed))
                raise self.fail("No proposal is open in this room (see !list).")
            if len(numbers) != 1:
                raise self.fail("Which proposal? Name it with #N (see !list).")
            number = numbers[0]
        if number > MAX_REFERENCE:
            raise self.fail("There is no such proposal in this room (see !list).")
        if shown_only:
            proposal = await self.tx.view(self.kept_under, number)
        elif member is None:
            proposal = await self.tx.load(self.kept_under, number)
        else:
            proposal = await self.tx.load_for(self.kept_under, number, member, saying_at=self.now)
        if proposal is None:
            raise self.fail("There is no proposal #{number} in this room.", number=number)
        return proposal

    async def save(self, step: Step) -> Proposal:
        await self.tx.save(self.kept_under, step, self.event_id)
        self.changes.extend(step.changes)
        if any(change.action not in VOTES for change in step.changes):
            self.touched[step.proposal.number] = step.proposal
        return step.proposal

    async def say(self, kind: Kind, text: Text, proposal: Proposal | None = None, mentions: tuple[str, ...] = (),
                  details: dict | None = None) -> None:
        """Queue a message; about a proposal, it carries its state; ``details`` are added to the payload."""
        payload: dict = {"kind": str(kind), **(details or {})}
        if proposal is not None:
            payload = render.payload(kind, proposal, self.participation(proposal), self.m)
        self.outbox.append(
            Outgoing(self.next_key(), self.room, kind, tuple(text.lines), payload,
                     proposal.number if proposal else None, self.reply_to, mentions, scope=self.scope)
        )

    async def say_everywhere(self, kind: Kind, text_for: Callable[[Messages, AssemblySettings], Text],
                             proposal: Proposal, mentions: tuple[str, ...] = ()) -> None:
        """Queue a message about a proposal in every room it is decided in, each in its room's language: the room
        alone, or each room of a joint decision's network (the room the event came from answering it)."""
        if not self.scope:
            await self.say(kind, text_for(self.m, self.settings), proposal, mentions)
            return
        for room, settings in self.places:
            m = messages_for(settings, self.scope)
            self.outbox.append(Outgoing(self.next_key(), room, kind, tuple(text_for(m, settings).lines),
                                        render.payload(kind, proposal, self.participation(proposal), m),
                                        proposal.number, self.reply_to if room == self.room else None, mentions,
                                        scope=self.scope))

    def next_key(self) -> str:
        """The idempotency key of the next message this event causes: the same on every replay."""
        return f"{self.event_id}/{len(self.outbox)}"

