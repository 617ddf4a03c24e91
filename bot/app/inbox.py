"""Reading events: a member's message, reaction or removal, through its handler, in one transaction each.

Each event is claimed by its platform id (the same event twice changes nothing), its text cleaned, the
platform's directory asked what the handler needs before the transaction opens, then the handler decides
with the rules engine, and the transaction stores the decision with the messages it queues and the
proposal's next due time — all or nothing. A refusal rolls back all but the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from bot.app.commands import Registry, UnknownCommand
from bot.app.announcer import announce
from bot.app.context import MAX_REFERENCE, CommandError, Context, Facts, messages_for
from bot.app.deadlines import record_due, rescheduled
from bot.app.delivery import Delivery
from bot.app.joint import scope_of
from bot.app.observer import Observer
from bot.app.ports import Directory, Incoming, ReactionVote, Redaction, Reference
from bot.app.scopes import Rosters, linked_accounts, network_of, networks_of_room, places, settings_for
from bot.config import AssemblySettings, Config
from bot.engine import transitions
from bot.engine.model import RuleViolation, State
from bot.log_context import about
from bot.messages import render
from bot.messages.outgoing import Kind, Outgoing
from bot.messages.lines import Text
from bot.messages.sanitize import clean, excerpt
from storage.repository import Repository, Transaction

log = logging.getLogger(__name__)


def _cleaned(event):
    """The event with every text field cleaned (see :func:`bot.messages.sanitize.clean`): itself when none
    needed it (most events)."""
    changed = {name: cleaned for name, value in vars(event).items()
               if type(value) is str and (cleaned := clean(value)) != value}
    return replace(event, **changed) if changed else event


class Inbox:
    """The members' events, as :class:`bot.app.service.ConsentService` handles them."""

    repository: Repository
    config: Config
    registry: Registry
    directory: Directory
    rosters: Rosters
    delivery: Delivery
    clock: Callable[[], datetime]
    on_change: Callable[[datetime], Awaitable[None]]
    observer: Observer

    async def handle(self, incoming: Incoming) -> None:
        """Carry out one member's message; answer every mistake; the same event twice changes nothing."""
        incoming = _cleaned(incoming)
        if incoming.replaces is not None and await self._took_effect(incoming.replaces):
            m = messages_for(self.config.for_room(incoming.room))
            await self._answer_only(incoming, Text().line(m._(
                "That command had already taken effect: an edit does not change it. Send a new command instead.")))
            return
        try:
            invocation = self.registry.parse(incoming.text)
        except UnknownCommand as unknown:
            m = messages_for(self.config.for_room(incoming.room))
            text = Text().line(m._("Unknown command !{verb}. Send !help for the list of commands."),
                               verb=excerpt(unknown.verb, 30))
            await self._answer_only(incoming, text)
            self.observer.decided("unknown", "refused", ())
            return
        if invocation is not None:
            about = incoming.about
            reference = invocation.reference if invocation.reference is not None else about and about.number
            m = messages_for(self.config.for_room(incoming.room))
            try:
                scope, arguments = scope_of(self.config, incoming.room, invocation, about, m)
            except CommandError as failure:
                await self._answer_only(incoming, render.refusal(failure.message, m, invocation.command.usage))
                self.observer.decided(invocation.command.verb, "refused", ())
                return
            await self._run(incoming.room, incoming.sender, incoming.event_id, incoming.at, reference,
                            arguments, invocation.command.handler, invocation.command.usage,
                            replaces=incoming.replaces, needs=invocation.command.needs, command=invocation.command.verb,
                            scope=scope)
        elif incoming.about is not None and self.registry.reply_handler is not None:
            # Plain text in a ballot's thread: a block's argument, when its author owes one.
            await self._run(incoming.room, incoming.sender, incoming.event_id, incoming.at, incoming.about.number,
                            incoming.text.strip(), self.registry.reply_handler, None, command="reply",
                            scope=incoming.about.scope)

    async def react(self, vote: ReactionVote) -> None:
        """A position taken by reacting to a proposal's current ballot; reactions elsewhere are ignored."""
        vote = _cleaned(vote)
        async with self.repository.transaction() as tx:
            ballot = await tx.ballot_number(vote.room, vote.message_id)
        if ballot is None or self.registry.reaction_handler is None:
            return
        handler = self.registry.reaction_handler
        scope, number = ballot
        await self._run(vote.room, vote.sender, vote.event_id, vote.at, number, "",
                        lambda ctx: handler(ctx, vote.position), None, in_reply=False, command="reaction", scope=scope)

    async def redacted(self, redaction: Redaction) -> None:
        """A member's vote (reaction or command) removed from the room.

        Its author takes it back: their position is again what the rest of what they said stands for. A
        moderator's removal is recorded and announced, and the position stands until its owner changes it.
        """
        redaction = _cleaned(redaction)
        # The members each scope the room decides in counts: the room's own, and each of its networks' (asked
        # before the transaction: it may be a request).
        counts = {"": await self.directory.count(redaction.room)}
        networks = networks_of_room(self.config, redaction.room)
        linked = await linked_accounts(self.config, self.repository) if networks else {}
        for network in networks:
            counts[network.scope] = len((await self.rosters.of(network, linked)).members)
        async with about(redaction.room), self.repository.transaction() as tx:
            if await tx.claim_event(redaction.event_id, redaction.room, redaction.at):
                await self._remove(tx, redaction, counts, linked)
        await self.delivery.queued(tx.queued)

    async def _remove(self, tx: Transaction, redaction: Redaction, counts: dict[str, int],
                      linked: dict[str, str]) -> None:
        ballot = await tx.ballot_number(redaction.room, redaction.removed)
        if ballot is not None:
            await self._repost(tx, redaction, *ballot, counts[ballot[0]])
            return
        for scope in counts:  # a vote on the room's own proposals, or on a joint decision of one of its networks
            found = await tx.expression_of(scope or redaction.room, redaction.removed)
            if found is not None:
                break
        else:
            # Not a vote (yet): if the removed event reaches the bot later (a recount), it is gone already.
            await tx.claim_event(redaction.removed, redaction.room, redaction.at)
            return
        kept_under = scope or redaction.room
        number, round_number, member = found
        proposal = await tx.load_for(kept_under, number, member)
        if proposal.state is not State.OPEN or proposal.current_round.number != round_number:
            return  # the round is closed: its positions stand as they were at the deadline
        if (linked.get(redaction.by, redaction.by) if scope else redaction.by) != member:
            step = transitions.moderator_removal(proposal, redaction.by, member, redaction.at)
            await tx.save(kept_under, step, redaction.event_id)
            m = messages_for(settings_for(self.config, scope, redaction.room), scope)
            text = render.moderation(step.proposal, redaction.by, member, m)
            await tx.queue(Outgoing(f"{redaction.event_id}/0", redaction.room, Kind.MODERATION, tuple(text.lines),
                                    render.payload(Kind.MODERATION, step.proposal, counts[scope], m), number, None,
                                    (member,), scope=scope), redaction.at)
            return
        try:
            step = transitions.take_back(proposal, member, redaction.removed, redaction.at)
        except RuleViolation:
            return  # the deadline has passed: the position stands as it was at the deadline
        await tx.save(kept_under, step, redaction.event_id)

    async def _repost(self, tx: Transaction, redaction: Redaction, scope: str, number: int, count: int) -> None:
        """A proposal's current ballot was removed from the room: while its round is open, it is posted again
        (the positions already taken stand, whatever reactions went with the old one)."""
        kept_under = scope or redaction.room
        proposal = await tx.load(kept_under, number)
        if proposal.state is not State.OPEN:
            return
        settings = settings_for(self.config, scope, redaction.room)
        m = messages_for(settings, scope)
        about = proposal.challenges or (proposal.verdict.decision if proposal.verdict else None)
        decision = await tx.load(kept_under, about) if about else None
        text = render.ballot(proposal, m, settings, reposted=True, decision=decision)
        await tx.queue(Outgoing(f"{redaction.event_id}/0", redaction.room, Kind.BALLOT, tuple(text.lines),
                                render.payload(Kind.BALLOT, proposal, count, m), number, scope=scope), redaction.at)
        await tx.queue(Outgoing(f"{redaction.event_id}/1", redaction.room, Kind.SEED, number=number, scope=scope),
                       redaction.at)

    async def not_an_assembly(self, incoming: Incoming) -> None:
        """A message where no assembly meets (a direct message): a short answer pointing to the channels."""
        incoming = _cleaned(incoming)
        await self._answer_only(incoming, render.not_an_assembly(messages_for(self.config.assembly)))

    async def proposal_of_message(self, room: str, platform_id: str) -> Reference | None:
        """The proposal a bot message (its ballot, a reminder…) is about: replies to it name that proposal."""
        async with self.repository.transaction() as tx:
            found = await tx.number_for_message(room, platform_id)
        return Reference(found[1], found[0]) if found else None

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
        *,
        command: str,
        scope: str = "",
    ) -> None:
        """One event through one handler, in one transaction; a refusal rolls back all but the answer. ``scope``: a
        network's, when the event is about its joint decisions."""
        settings = settings_for(self.config, scope, room)
        linked = await linked_accounts(self.config, self.repository) if scope else {}
        sender = linked.get(sender, sender)  # in a joint decision, a linked account speaks as the member it is
        facts = await self._facts(room, scope, sender, settings, needs, arguments, linked)
        result = "done"
        async with about(room, reference), self.repository.transaction() as tx:
            if not await tx.claim_event(event_id, room, at, replaces):
                log.debug("event %s already handled", event_id)  # every restart reads some again: routine
                return
            ctx = Context(tx, room, sender, event_id, at, settings, facts, reference, arguments,
                          reply_to=event_id if in_reply else None, scope=scope,
                          places=places(self.config, scope) if scope else ())
            try:
                async with tx.savepoint():
                    await handler(ctx)
            except (CommandError, RuleViolation) as failure:
                result = "refused"
                ctx.outbox.clear()
                ctx.touched.clear()
                ctx.wakes.clear()
                ctx.changes.clear()
                proposal = None
                if reference is not None and reference <= MAX_REFERENCE:
                    proposal = await tx.load_for(ctx.kept_under, reference, sender)
                mentions = () if in_reply else (sender,)
                message = failure.message if isinstance(failure, CommandError) else render.violation(failure, ctx.m)
                await ctx.say(Kind.ERROR, render.refusal(message, ctx.m, usage), proposal, mentions)
            for message in ctx.outbox:
                await tx.queue(message, at)
            await announce(tx, ctx.outbox, self.config, at)
            due = [await record_due(tx, ctx.kept_under, proposal, settings)
                   for proposal in ctx.touched.values()] + ctx.wakes
        self.observer.decided(command, result, ctx.changes)
        await rescheduled(self.on_change, due)
        await self.delivery.queued(tx.queued)
        self.announced(tx.announced)

    async def _facts(self, room: str, scope: str, sender: str, settings: AssemblySettings, needs: frozenset[str],
                     arguments: str, linked: dict[str, str]) -> Facts:
        """What the handler needs from the platform. A joint decision's members are those of its network's rooms,
        each once, always asked for; its facilitators are the network's (the configuration's) only."""
        facilitator = None
        if "facilitator" in needs:
            facilitator = sender in settings.facilitators or (
                not scope and await self.directory.is_facilitator(room, sender))
        named = None
        if "named" in needs and arguments.split():
            named = await self.directory.resolve(room, arguments.split()[0])
        network = network_of(self.config, scope)
        if network is not None:
            roster = await self.rosters.of(network, linked)
            return Facts(len(roster.members), facilitator, roster.members, named, roster.by_room)
        members = await self.directory.members(room) if "members" in needs else None
        count = len(members) if members is not None else await self.directory.count(room)
        networks = networks_of_room(self.config, room) if "networks" in needs else []
        return Facts(count, facilitator, members, named, joint_scopes=tuple(n.scope for n in networks),
                     spans_platforms=any(len(n.platforms) > 1 for n in networks))

    async def _answer_only(self, incoming: Incoming, text: Text) -> None:
        async with self.repository.transaction() as tx:
            if await tx.claim_event(incoming.event_id, incoming.room, incoming.at):
                await tx.queue(
                    Outgoing(f"{incoming.event_id}/0", incoming.room, Kind.ERROR, tuple(text.lines),
                             {"kind": str(Kind.ERROR)}, reply_to=incoming.event_id),
                    incoming.at,
                )
        await self.delivery.queued(tx.queued)
