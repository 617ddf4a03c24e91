"""Platform event → command → rules engine → effects (store, queue messages, reschedule), one transaction each.

Adapters hand the service what members said (``Incoming``, ``ReactionVote``, ``Redaction``) and a
``Directory`` that answers who the members and facilitators of a room are; the messages the service
queues are sent by :class:`bot.delivery.Delivery`. The service holds no rule: it loads, asks the
engine, saves and queues, all or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from bot import render
from bot.commands import MAX_REFERENCE, CommandError, Registry, UnknownCommand
from bot.config import AssemblySettings, Config
from bot.delivery import Delivery, Sender
from bot.engine import rules, transitions
from bot.engine.due import CloseRound, SendReminder, due_work, next_due_at
from bot.engine.model import Action, Position, Proposal, RuleViolation, State, Step
from bot.i18n import Messages
from bot.outgoing import Kind, Outgoing
from bot.render import Text
from bot.sanitize import clean, excerpt
from storage.repository import Repository, Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """A member's message, as the adapter saw it."""

    room: str
    sender: str
    text: str
    event_id: str
    at: datetime
    """When the member sent it, as the platform recorded it (never later than when the bot received it)."""
    about: int | None = None
    """The proposal the message answers (a reply to or in the thread of its ballot), when the adapter knows."""
    replaces: str | None = None
    """For an edit: the event id of the message it edits."""


@dataclass(frozen=True)
class ReactionVote:
    """A member reacted to a bot message with an emoji that stands for a position."""

    room: str
    sender: str
    message_id: str
    position: Position
    event_id: str
    at: datetime


@dataclass(frozen=True)
class Redaction:
    """A message or reaction was removed from the room (Matrix: redacted; Mattermost: a reaction taken back)."""

    room: str
    removed: str
    """The platform id of the message or reaction removed."""
    by: str
    """Who removed it: its author, or a moderator."""
    event_id: str
    at: datetime


class Directory(Protocol):
    """Who is in a room, as the platform says."""

    async def members(self, room: str) -> set[str]: ...

    async def count(self, room: str) -> int:
        """How many members: ``len(members(room))``, asked for on every vote, so cheaper."""

    async def is_facilitator(self, room: str, member: str) -> bool: ...


VOTES = {Action.POSITION, Action.POSITION_WITHDRAWN, Action.REMOVED_BY_MODERATOR}
"""Changes that never move a due time: a vote costs no reckoning of the clock."""


def messages_for(settings: AssemblySettings) -> Messages:
    return Messages(settings.language, settings.code.calendar.zone)


@dataclass(frozen=True)
class Facts:
    """What the platform's directory says for one event, asked before its transaction opens (on Mattermost it
    may be a request over the network, which must never hold the database)."""

    count: int
    """How many members the room has."""
    facilitator: bool | None = None
    """Whether the sender facilitates the room, for the commands that need it."""
    members: set[str] | None = None
    """The room's members, for the commands that name them."""


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
    outbox: list[Outgoing] = field(default_factory=list)
    touched: dict[int, Proposal] = field(default_factory=dict)
    """The proposals whose due time (a reminder, a close) this event may have changed, as it left them."""

    @property
    def m(self) -> Messages:
        return messages_for(self.settings)

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

    async def proposal(self, *candidates: State, member: str | None = None) -> Proposal:
        """The proposal named by #N or by the reply; else the only one in ``candidates`` states in this room.

        With ``member``, only that member's positions are loaded (a decision about them alone).
        """
        number = self.reference
        if number is None:
            numbers = await self.tx.numbers(self.room, candidates or (State.OPEN,))
            if not numbers and not candidates:
                postponed = await self.tx.numbers(self.room, (State.POSTPONED,))
                if postponed:
                    raise self.fail("No proposal is open in this room; postponed: {numbers} (see !list).",
                                    numbers=", ".join(f"#{n}" for n in postponed))
                raise self.fail("No proposal is open in this room (see !list).")
            if len(numbers) != 1:
                raise self.fail("Which proposal? Name it with #N (see !list).")
            number = numbers[0]
        if number > MAX_REFERENCE:
            raise self.fail("There is no such proposal in this room (see !list).")
        if member is None:
            proposal = await self.tx.load(self.room, number)
        else:
            proposal = await self.tx.load_for(self.room, number, member)
        if proposal is None:
            raise self.fail("There is no proposal #{number} in this room.", number=number)
        return proposal

    async def save(self, step: Step) -> Proposal:
        await self.tx.save(self.room, step, self.event_id)
        if any(change.action not in VOTES for change in step.changes):
            self.touched[step.proposal.number] = step.proposal
        return step.proposal

    async def say(self, kind: Kind, text: Text, proposal: Proposal | None = None, mentions: tuple[str, ...] = ()) -> None:
        payload: dict = {"kind": str(kind)}
        if proposal is not None:
            payload = render.payload(kind, proposal, self.participation(proposal), self.m)
        self.outbox.append(
            Outgoing(self.next_key(), self.room, kind, tuple(text.lines), payload,
                     proposal.number if proposal else None, self.reply_to, mentions)
        )

    def next_key(self) -> str:
        """The idempotency key of the next message this event causes: the same on every replay."""
        return f"{self.event_id}/{len(self.outbox)}"


async def _nothing_to_reschedule(at: datetime) -> None:
    """The console steps its clock through ``next_due`` instead of scheduling jobs."""


def _cleaned(event):
    """The event with every text field cleaned (see :func:`bot.sanitize.clean`)."""
    return replace(event, **{name: clean(value) for name, value in vars(event).items() if type(value) is str})


class ConsentService:
    def __init__(
        self,
        repository: Repository,
        config: Config,
        registry: Registry,
        directory: Directory,
        sender: Sender,
        clock: Callable[[], datetime],
    ) -> None:
        self.repository = repository
        self.config = config
        self.registry = registry
        self.directory = directory
        self.delivery = Delivery(repository, sender, clock)
        self.clock = clock
        self.started_at = clock()
        """Deadlines before this instant passed while the bot was offline."""
        self.on_change: Callable[[datetime], Awaitable[None]] = _nothing_to_reschedule
        """Awaited with a due time a decision set (the scheduler wakes up then, if that is earlier)."""

    async def handle(self, incoming: Incoming) -> None:
        """Carry out one member's message; answer every mistake; the same event twice changes nothing."""
        incoming = _cleaned(incoming)
        m = messages_for(self.config.for_room(incoming.room))
        if incoming.replaces is not None and await self._took_effect(incoming.replaces):
            await self._answer_only(incoming, Text().line(m._(
                "That command had already taken effect: an edit does not change it. Send a new command instead.")))
            return
        try:
            invocation = self.registry.parse(incoming.text)
        except UnknownCommand as unknown:
            text = Text().line(m._("Unknown command !{verb}. Send !help for the list of commands."),
                               verb=excerpt(unknown.verb, 30))
            await self._answer_only(incoming, text)
            return
        if invocation is not None:
            reference = invocation.reference if invocation.reference is not None else incoming.about
            await self._run(incoming.room, incoming.sender, incoming.event_id, incoming.at, reference,
                            invocation.arguments, invocation.command.handler, invocation.command.usage,
                            replaces=incoming.replaces, needs=invocation.command.needs)
        elif incoming.about is not None and self.registry.reply_handler is not None:
            # Plain text in a ballot's thread: a block's argument, when its author owes one.
            await self._run(incoming.room, incoming.sender, incoming.event_id, incoming.at, incoming.about,
                            incoming.text.strip(), self.registry.reply_handler, None)

    async def react(self, vote: ReactionVote) -> None:
        """A position taken by reacting to a proposal's current ballot; reactions elsewhere are ignored."""
        vote = _cleaned(vote)
        async with self.repository.transaction() as tx:
            number = await tx.ballot_number(vote.room, vote.message_id)
        if number is None or self.registry.reaction_handler is None:
            return
        handler = self.registry.reaction_handler
        await self._run(vote.room, vote.sender, vote.event_id, vote.at, number, "",
                        lambda ctx: handler(ctx, vote.position), None, in_reply=False)

    async def redacted(self, redaction: Redaction) -> None:
        """A member's vote (reaction or command) removed from the room.

        Its author takes it back: their position is again what the rest of what they said stands for. A
        moderator's removal is recorded and announced, and the position stands until its owner changes it.
        """
        redaction = _cleaned(redaction)
        count = await self.directory.count(redaction.room)
        async with self.repository.transaction() as tx:
            if await tx.claim_event(redaction.event_id, redaction.room, redaction.at):
                await self._remove(tx, redaction, self.config.for_room(redaction.room), count)
        await self.delivery.queued(tx.queued)

    async def _remove(self, tx: Transaction, redaction: Redaction, settings: AssemblySettings, count: int) -> None:
        ballot = await tx.ballot_number(redaction.room, redaction.removed)
        if ballot is not None:
            await self._repost(tx, redaction, ballot, settings, count)
            return
        found = await tx.expression_of(redaction.room, redaction.removed)
        if found is None:
            # Not a vote (yet): if the removed event reaches the bot later (a recount), it is gone already.
            await tx.claim_event(redaction.removed, redaction.room, redaction.at)
            return
        number, round_number, member = found
        proposal = await tx.load_for(redaction.room, number, member)
        if proposal.state is not State.OPEN or proposal.current_round.number != round_number:
            return  # the round is closed: its positions stand as they were at the deadline
        if redaction.by != member:
            step = transitions.moderator_removal(proposal, redaction.by, member, redaction.at)
            await tx.save(redaction.room, step, redaction.event_id)
            m = messages_for(settings)
            text = render.moderation(step.proposal, redaction.by, member, m)
            await tx.queue(Outgoing(f"{redaction.event_id}/0", redaction.room, Kind.MODERATION, tuple(text.lines),
                                    render.payload(Kind.MODERATION, step.proposal, count, m), number, None,
                                    (member,)), redaction.at)
            return
        try:
            step = transitions.take_back(proposal, member, redaction.removed, redaction.at)
        except RuleViolation:
            return  # the deadline has passed: the position stands as it was at the deadline
        await tx.save(redaction.room, step, redaction.event_id)

    async def _repost(self, tx: Transaction, redaction: Redaction, number: int, settings: AssemblySettings,
                      count: int) -> None:
        """A proposal's current ballot was removed from the room: while its round is open, it is posted again
        (the positions already taken stand, whatever reactions went with the old one)."""
        proposal = await tx.load(redaction.room, number)
        if proposal.state is not State.OPEN:
            return
        m = messages_for(settings)
        decision = await tx.load(redaction.room, proposal.challenges) if proposal.challenges else None
        text = render.ballot(proposal, m, settings.code, reposted=True, decision=decision)
        await tx.queue(Outgoing(f"{redaction.event_id}/0", redaction.room, Kind.BALLOT, tuple(text.lines),
                                render.payload(Kind.BALLOT, proposal, count, m), number), redaction.at)
        await tx.queue(Outgoing(f"{redaction.event_id}/1", redaction.room, Kind.SEED, number=number), redaction.at)

    async def not_an_assembly(self, incoming: Incoming) -> None:
        """A message where no assembly meets (a direct message): a short answer pointing to the channels."""
        incoming = _cleaned(incoming)
        await self._answer_only(incoming, render.not_an_assembly(messages_for(self.config.assembly)))

    async def proposal_of_message(self, room: str, platform_id: str) -> int | None:
        """The proposal a bot message (its ballot, a reminder…) is about: replies to it name that proposal."""
        async with self.repository.transaction() as tx:
            return await tx.number_for_message(room, platform_id)

    async def say_once(self, message: Outgoing) -> None:
        """Send a message whose key was never used: a notice said once per room, whatever happens after."""
        async with self.repository.transaction() as tx:
            await tx.queue(message, self.clock())
        await self.delivery.queued(tx.queued)

    async def _took_effect(self, event_id: str) -> bool:
        async with self.repository.transaction() as tx:
            return await tx.took_effect(event_id)

    async def _run(
        self,
        room: str,
        sender: str,
        event_id: str,
        at: datetime,
        reference: int | None,
        arguments: str,
        handler: Callable[[Context], Awaitable[None]],
        usage: str | None,
        in_reply: bool = True,
        replaces: str | None = None,
        needs: frozenset[str] = frozenset(),
    ) -> None:
        """One event through one handler, in one transaction; a refusal rolls back all but the answer."""
        settings = self.config.for_room(room)
        facts = await self._facts(room, sender, settings, needs)
        async with self.repository.transaction() as tx:
            if not await tx.claim_event(event_id, room, at, replaces):
                log.info("event %s already handled", event_id)
                return
            ctx = Context(tx, room, sender, event_id, at, settings, facts, reference, arguments,
                          reply_to=event_id if in_reply else None)
            try:
                async with tx.savepoint():
                    await handler(ctx)
            except (CommandError, RuleViolation) as failure:
                ctx.outbox.clear()
                ctx.touched.clear()
                proposal = None
                if reference is not None and reference <= MAX_REFERENCE:
                    proposal = await tx.load_for(room, reference, sender)
                mentions = () if in_reply else (sender,)
                await ctx.say(Kind.ERROR, render.refusal(failure, ctx.m, usage), proposal, mentions)
            for message in ctx.outbox:
                await tx.queue(message, at)
            due = [await self._record_due(tx, room, proposal, settings) for proposal in ctx.touched.values()]
        await self._rescheduled(due)
        await self.delivery.queued(tx.queued)

    async def _facts(self, room: str, sender: str, settings: AssemblySettings, needs: frozenset[str]) -> Facts:
        facilitator = None
        if "facilitator" in needs:
            facilitator = sender in settings.facilitators or await self.directory.is_facilitator(room, sender)
        members = await self.directory.members(room) if "members" in needs else None
        return Facts(len(members) if members is not None else await self.directory.count(room), facilitator, members)

    @staticmethod
    async def _record_due(tx: Transaction, room: str, proposal: Proposal, settings: AssemblySettings
                          ) -> datetime | None:
        """Record when the clock next owes this proposal something (kept with every decision that moves it)."""
        at = None
        if proposal.state is State.OPEN:
            done = await tx.reminders_done(room, proposal.number, proposal.current_round)
            at = next_due_at(proposal, settings.code, done)
        await tx.set_due(room, proposal.number, at)
        return at

    async def _rescheduled(self, due: list[datetime | None]) -> None:
        times = [at for at in due if at is not None]
        if times:
            await self.on_change(min(times))

    async def _answer_only(self, incoming: Incoming, text: Text) -> None:
        async with self.repository.transaction() as tx:
            if await tx.claim_event(incoming.event_id, incoming.room, incoming.at):
                await tx.queue(
                    Outgoing(f"{incoming.event_id}/0", incoming.room, Kind.ERROR, tuple(text.lines),
                             {"kind": str(Kind.ERROR)}, reply_to=incoming.event_id),
                    incoming.at,
                )
        await self.delivery.queued(tx.queued)

    async def next_due(self) -> tuple[datetime, str, int] | None:
        """The earliest due work over every open proposal (the console's simulated clock steps to it)."""
        return await self.repository.next_due()

    async def record_missing_due_times(self) -> None:
        """A register from before due times were recorded: reckon them once, at the first start."""
        for room, number in await self.repository.without_due_time():
            async with self.repository.transaction() as tx:
                proposal = await tx.load_for(room, number, "")
                await self._record_due(tx, room, proposal, self.config.for_room(room))

    async def closing_due(self, room: str, number: int, now: datetime) -> bool:
        """Whether the proposal's round is due to close at ``now`` (the platform is then read up to now first)."""
        async with self.repository.transaction() as tx:
            proposal = await tx.load(room, number)
        return proposal is not None and proposal.state is State.OPEN and now >= proposal.current_round.deadline

    async def run_due(self, room: str, number: int, now: datetime) -> None:
        """Do what is due for one proposal at ``now``: close its round, or send its reminder."""
        settings = self.config.for_room(room)
        m = messages_for(settings)
        room_members = await self.directory.members(room)  # asked before the transaction: it may be a request
        async with self.repository.transaction() as tx:
            proposal = await tx.load(room, number)
            if proposal is None:
                return
            round_ = proposal.current_round
            done = await tx.reminders_done(room, number, round_)
            work = due_work(proposal, now, settings.code, done)
            members = rules.participants(round_, room_members)
            if isinstance(work, CloseRound):
                offline = round_.deadline < self.started_at
                closed = transitions.close_round(proposal, len(members), now, settings.code, offline)
                await tx.save(room, closed, None)
                revised = await self._revise(tx, room, closed.proposal, now)
                text = render.outcome(closed.proposal, m, settings.code, revised)
                kind, key, mentions = Kind.OUTCOME, f"outcome/{room}/{number}/{round_.number}", ()
                proposal = closed.proposal
            elif isinstance(work, SendReminder):
                for skipped in work.skipped:
                    await tx.record_reminder(room, number, round_, skipped, "skipped", now)
                await tx.record_reminder(room, number, round_, work.offset, "sent", now)
                text = render.reminder(proposal, members, now, m)
                offset, deadline = int(work.offset.total_seconds()), int(round_.deadline.timestamp())
                kind, key = Kind.REMINDER, f"reminder/{room}/{number}/{round_.number}/{deadline}/{offset}"
                mentions = tuple(rules.not_answered(round_, members)) + tuple(rules.owing_argument(round_))
            if work is not None:
                message = Outgoing(key, room, kind, tuple(text.lines),
                                   render.payload(kind, proposal, len(members), m), number, None, mentions)
                await tx.queue(message, now)
            due = await self._record_due(tx, room, proposal, settings)
        await self._rescheduled([due])
        await self.delivery.queued(tx.queued)

    @staticmethod
    async def _revise(tx: Transaction, room: str, closed: Proposal, now: datetime) -> Proposal | None:
        """An adopted challenge changes the decision it named (in the same transaction): the decision as revised."""
        if closed.challenges is None or closed.state is not State.ADOPTED:
            return None
        decision = await tx.load(room, closed.challenges)
        if decision is None:
            return None
        step = transitions.revise(decision, closed, now)
        await tx.save(room, step, None)
        return step.proposal

    async def deliver(self) -> bool:
        """Send what is queued now (the console, tests, and a chat adapter before its first read)."""
        return await self.delivery.deliver()


__all__ = ["ConsentService", "Context", "Directory", "Facts", "Incoming", "ReactionVote", "Redaction", "Sender",
           "messages_for"]
