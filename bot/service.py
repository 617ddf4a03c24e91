"""Platform event → command → rules engine → effects (store, queue messages, reschedule), one transaction each.

Adapters hand the service what members said (``Incoming``) and a ``Directory``
that answers who the members and facilitators of a room are; they receive the
messages to post through a ``Sender``. The service holds no rule: it loads,
asks the engine, saves and queues, all or nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot import render
from bot.commands import CommandError, Registry, UnknownCommand
from bot.config import AssemblySettings, Config
from bot.engine import rules, transitions
from bot.engine.due import CloseRound, SendReminder, due_work, next_due_at
from bot.engine.model import Position, Proposal, RuleViolation, State, Step
from bot.i18n import Messages
from bot.outgoing import Kind, Outgoing, Undeliverable
from bot.render import Text
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
class ReactionRemoved:
    """A member's reaction was taken back (Matrix: redacted)."""

    room: str
    reaction_id: str
    event_id: str
    at: datetime


class Directory(Protocol):
    """Who is in a room, as the platform says."""

    async def members(self, room: str) -> set[str]: ...

    async def is_facilitator(self, room: str, member: str) -> bool: ...


class Sender(Protocol):
    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        """Post a message (threaded under ``ballot_id`` when given); return the platform's id for it."""


def messages_for(settings: AssemblySettings) -> Messages:
    return Messages(settings.language, settings.code.calendar.zone)


@dataclass
class Context:
    """What a command handler works with, inside the transaction of its event."""

    tx: Transaction
    room: str
    sender: str
    event_id: str
    now: datetime
    settings: AssemblySettings
    directory: Directory
    reference: int | None
    arguments: str
    reply_to: str | None = None
    """The event the answers reply to (a command); None for reactions, which cannot be replied to."""
    outbox: list[Outgoing] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)

    @property
    def m(self) -> Messages:
        return messages_for(self.settings)

    def fail(self, message: str, **params: object) -> CommandError:
        return CommandError(self.m._(message, **params))

    async def is_facilitator(self) -> bool:
        if self.sender in self.settings.facilitators:
            return True
        return await self.directory.is_facilitator(self.room, self.sender)

    async def participants(self, proposal: Proposal) -> set[str]:
        return rules.participants(proposal.current_round, await self.directory.members(self.room))

    async def proposal(self, *candidates: State) -> Proposal:
        """The proposal named by #N or by the reply; else the only one in ``candidates`` states in this room."""
        number = self.reference
        if number is None:
            numbers = await self.tx.numbers(self.room, candidates or (State.OPEN,))
            if len(numbers) != 1:
                raise self.fail("Which proposal? Name it with #N (see !list).")
            number = numbers[0]
        proposal = await self.tx.load(self.room, number)
        if proposal is None:
            raise self.fail("There is no proposal #{number} in this room.", number=number)
        return proposal

    async def save(self, step: Step) -> Proposal:
        await self.tx.save(self.room, step, self.event_id)
        self.touched.add(step.proposal.number)
        return step.proposal

    async def say(self, kind: Kind, text: Text, proposal: Proposal | None = None, mentions: tuple[str, ...] = ()) -> None:
        payload: dict = {"kind": str(kind)}
        if proposal is not None:
            members = len(await self.participants(proposal))
            payload = render.payload(kind, proposal, members, self.m)
        self.outbox.append(
            Outgoing(self.next_key(), self.room, kind, text.body, text.html, payload,
                     proposal.number if proposal else None, self.reply_to, mentions)
        )

    def next_key(self) -> str:
        """The idempotency key of the next message this event causes: the same on every replay."""
        return f"{self.event_id}/{len(self.outbox)}"


async def _nothing_to_reschedule(room: str, number: int) -> None:
    """The console steps its clock through ``next_due`` instead of scheduling jobs."""


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
        self.sender = sender
        self.clock = clock
        self.started_at = clock()
        """Deadlines before this instant passed while the bot was offline."""
        self.on_change: Callable[[str, int], Awaitable[None]] = _nothing_to_reschedule
        """Awaited after a command may have changed a proposal's due times (the scheduler reschedules it)."""
        self._delivering = asyncio.Lock()

    async def handle(self, incoming: Incoming) -> None:
        """Carry out one member's message; answer every mistake; the same event twice changes nothing."""
        m = messages_for(self.config.for_room(incoming.room))
        if incoming.replaces is not None and await self._took_effect(incoming.replaces):
            await self._answer_only(incoming, Text().line(m._(
                "That command had already taken effect: an edit does not change it. Send a new command instead.")))
            return
        try:
            invocation = self.registry.parse(incoming.text)
        except UnknownCommand as unknown:
            text = Text().line(m._("Unknown command !{verb}. Send !help for the list of commands."), verb=unknown.verb)
            await self._answer_only(incoming, text)
            return
        if invocation is not None:
            reference = invocation.reference if invocation.reference is not None else incoming.about
            await self._run(incoming.room, incoming.sender, incoming.event_id, incoming.at, reference,
                            invocation.arguments, invocation.command.handler, invocation.command.usage,
                            replaces=incoming.replaces)
        elif incoming.about is not None and self.registry.reply_handler is not None:
            # Plain text in a ballot's thread: a block's argument, when its author owes one.
            await self._run(incoming.room, incoming.sender, incoming.event_id, incoming.at, incoming.about,
                            incoming.text.strip(), self.registry.reply_handler, None)

    async def react(self, vote: ReactionVote) -> None:
        """A position taken by reacting to a proposal's current ballot; reactions elsewhere are ignored."""
        async with self.repository.transaction() as tx:
            number = await tx.ballot_number(vote.room, vote.message_id)
        if number is None or self.registry.reaction_handler is None:
            return
        handler = self.registry.reaction_handler
        await self._run(vote.room, vote.sender, vote.event_id, vote.at, number, "",
                        lambda ctx: handler(ctx, vote.position), None, in_reply=False)

    async def unreact(self, removal: ReactionRemoved) -> None:
        """A reaction taken back: the position it set is withdrawn, unless the member has changed it since."""
        async with self.repository.transaction() as tx:
            if not await tx.claim_event(removal.event_id, removal.room, removal.at):
                return
            found = await tx.position_set_by(removal.room, removal.reaction_id)
            if found is None:
                return
            number, round_number, member = found
            proposal = await tx.load(removal.room, number)
            if proposal.state is not State.OPEN or proposal.current_round.number != round_number:
                return
            try:
                step = transitions.withdraw_position(proposal, member, removal.at)
            except RuleViolation:
                return  # the deadline has passed: the position stands as it was at the deadline
            await tx.save(removal.room, step, removal.event_id)

    async def proposal_of_message(self, room: str, platform_id: str) -> int | None:
        """The proposal a bot message (its ballot, a reminder…) is about: replies to it name that proposal."""
        async with self.repository.transaction() as tx:
            return await tx.number_for_message(room, platform_id)

    async def say_once(self, message: Outgoing) -> None:
        """Send a message whose key was never used: a notice said once per room, whatever happens after."""
        async with self.repository.transaction() as tx:
            await tx.queue(message, self.clock())
        await self.deliver()

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
    ) -> None:
        """One event through one handler, in one transaction; a refusal rolls back all but the answer."""
        settings = self.config.for_room(room)
        async with self.repository.transaction() as tx:
            if not await tx.claim_event(event_id, room, at, replaces):
                log.info("event %s already handled", event_id)
                return
            ctx = Context(tx, room, sender, event_id, at, settings, self.directory, reference, arguments,
                          reply_to=event_id if in_reply else None)
            try:
                async with tx.savepoint():
                    await handler(ctx)
            except (CommandError, RuleViolation) as failure:
                ctx.outbox.clear()
                ctx.touched.clear()
                proposal = await tx.load(room, reference) if reference is not None else None
                mentions = () if in_reply else (sender,)
                await ctx.say(Kind.ERROR, render.refusal(failure, ctx.m, usage), proposal, mentions)
            for message in ctx.outbox:
                await tx.queue(message, at)
        for number in ctx.touched:
            await self.on_change(room, number)
        await self.deliver()

    async def _answer_only(self, incoming: Incoming, text: Text) -> None:
        async with self.repository.transaction() as tx:
            if await tx.claim_event(incoming.event_id, incoming.room, incoming.at):
                await tx.queue(
                    Outgoing(f"{incoming.event_id}/0", incoming.room, Kind.ERROR, text.body, text.html,
                             {"kind": str(Kind.ERROR)}, reply_to=incoming.event_id),
                    incoming.at,
                )
        await self.deliver()

    async def due_at(self, room: str, number: int) -> datetime | None:
        """When the clock next owes this proposal something (the scheduler's job time)."""
        async with self.repository.transaction() as tx:
            proposal = await tx.load(room, number)
            if proposal is None or proposal.state is not State.OPEN:
                return None
            done = await tx.reminders_done(room, number, proposal.current_round.number)
        return next_due_at(proposal, self.config.for_room(room).code, done)

    async def next_due(self) -> tuple[datetime, str, int] | None:
        """The earliest due work over every open proposal (the console's simulated clock steps to it)."""
        upcoming = []
        for room, number in await self.repository.open_proposals():
            at = await self.due_at(room, number)
            if at is not None:
                upcoming.append((at, room, number))
        return min(upcoming, default=None)

    async def run_due(self, room: str, number: int, now: datetime) -> None:
        """Do what is due for one proposal at ``now``: close its round, or send its reminder."""
        settings = self.config.for_room(room)
        m = messages_for(settings)
        async with self.repository.transaction() as tx:
            proposal = await tx.load(room, number)
            if proposal is None:
                return
            round_ = proposal.current_round
            done = await tx.reminders_done(room, number, round_.number)
            work = due_work(proposal, now, settings.code, done)
            if work is None:
                return
            members = rules.participants(round_, await self.directory.members(room))
            if isinstance(work, CloseRound):
                offline = round_.deadline < self.started_at
                closed = transitions.close_round(proposal, len(members), now, settings.code, offline)
                await tx.save(room, closed, None)
                text = render.outcome(closed.proposal, m, settings.code)
                kind, key, mentions = Kind.OUTCOME, f"outcome/{room}/{number}/{round_.number}", ()
                proposal = closed.proposal
            else:
                assert isinstance(work, SendReminder)
                for skipped in work.skipped:
                    await tx.record_reminder(room, number, round_.number, skipped, "skipped", now)
                await tx.record_reminder(room, number, round_.number, work.offset, "sent", now)
                text = render.reminder(proposal, members, now, m)
                offset = int(work.offset.total_seconds())
                kind, key = Kind.REMINDER, f"reminder/{room}/{number}/{round_.number}/{offset}"
                mentions = tuple(rules.not_answered(round_, members)) + tuple(rules.owing_argument(round_))
            message = Outgoing(key, room, kind, text.body, text.html,
                               render.payload(kind, proposal, len(members), m), number, None, mentions)
            await tx.queue(message, now)
        await self.deliver()

    async def deliver(self) -> None:
        """Send every queued message, in order within each room; each is marked sent once the platform took it.

        A message whose send fails stays queued with the rest of its room's queue and is tried again at the
        next delivery (its key makes the platform drop a copy it already has); other rooms go on. A message
        the platform refuses for good is set aside with the reason, so it never holds up those after it.
        """
        async with self._delivering:
            held_up: set[str] = set()
            for message in await self.repository.pending_messages():
                if message.room in held_up:
                    continue
                ballot_id = None
                if message.number is not None and message.kind is not Kind.BALLOT:
                    ballot_id = await self.repository.ballot_id(message.room, message.number)
                try:
                    platform_id = await self.sender.send(message, ballot_id)
                except Undeliverable as refusal:
                    log.warning("%s cannot be delivered (%s): set aside", message.key, refusal)
                    await self.repository.mark_undeliverable(message.key, str(refusal), self.clock())
                    continue
                except Exception:
                    log.exception("sending %s failed; it stays queued with what follows it in %s",
                                  message.key, message.room)
                    held_up.add(message.room)
                    continue
                await self.repository.mark_sent(message.key, platform_id, self.clock())
