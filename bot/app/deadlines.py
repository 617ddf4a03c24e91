"""The clock's work: close a round when its deadline comes, send its reminders, and keep each proposal's next
due time with the decisions that move it (the scheduler wakes up then; the database is the truth)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.app.announcer import announce
from bot.app.context import messages_for
from bot.messages.i18n import Messages
from bot.app.delivery import Delivery
from bot.app.observer import Observer
from bot.app.ports import Directory
from bot.app.scopes import Rosters, linked_accounts, network_of, places, settings_for
from bot.config import AssemblySettings, Config
from bot.config.settings import NetworkSettings
from bot.engine import rules, transitions
from bot.engine.due import CloseRound, RemindApplication, SendReminder, due_work, next_due_at
from bot.engine.model import Delegation, Proposal, State
from bot.messages import delegation as delegation_text, joint as joint_text, pact as pact_text, render
from bot.messages.lines import Text
from bot.messages.outgoing import Kind, Outgoing
from bot.register.links import permalink
from storage.repository import LAPSES, Repository, Transaction


async def record_due(tx: Transaction, room: str, proposal: Proposal, settings: AssemblySettings) -> datetime | None:
    """Record when the clock next owes this proposal something (kept with every decision that moves it)."""
    done = frozenset()
    if proposal.state is State.OPEN:
        done = await tx.reminders_done(room, proposal.number, proposal.current_round)
    at = next_due_at(proposal, settings.code, done)
    await tx.set_due(room, proposal.number, at)
    return at


async def rescheduled(on_change: Callable[[datetime], Awaitable[None]], due: list[datetime | None]) -> None:
    """Tell the scheduler the earliest of the due times a transaction recorded."""
    times = [at for at in due if at is not None]
    if times:
        await on_change(min(times))


class Deadlines:
    """The clock's work, as :class:`bot.app.service.ConsentService` does it."""

    repository: Repository
    config: Config
    directory: Directory
    rosters: Rosters
    delivery: Delivery
    started_at: datetime
    on_change: Callable[[datetime], Awaitable[None]]
    observer: Observer

    async def next_due(self) -> tuple[datetime, str, int] | None:
        """The earliest due work over every open proposal (the console's simulated clock steps to it)."""
        return await self.repository.next_due()

    async def record_missing_due_times(self) -> None:
        """A register from before due times were recorded: reckon them once, at the first start."""
        for room, number in await self.repository.without_due_time():
            async with self.repository.transaction() as tx:
                proposal = await tx.load_for(room, number, "")
                await record_due(tx, room, proposal, settings_for(self.config, room, room))

    async def closing_due(self, room: str, number: int, now: datetime) -> bool:
        """Whether the proposal's round is due to close at ``now`` (the platform is then read up to now first)."""
        async with self.repository.transaction() as tx:
            proposal = await tx.load(room, number)
        return proposal is not None and proposal.state is State.OPEN and now >= proposal.current_round.deadline

    async def run_due(self, room: str, number: int, now: datetime) -> None:
        """Do what is due for one proposal at ``now``: close its round, or send its reminder.

        ``room`` is where the proposal is kept: a room, or a network's scope for a joint decision, whose members are
        those of its rooms (each once), and whose outcome and reminders are said in each room, in its language."""
        if number == LAPSES:
            await self._expire(room, now)
            return
        network = network_of(self.config, room)
        scope = network.scope if network is not None else ""
        settings = settings_for(self.config, room, room)
        m = messages_for(settings, scope)
        # Asked before the transaction: it may be a request.
        if network is not None:
            linked = await linked_accounts(self.config, self.repository)
            roster = await self.rosters.of(network, linked)
            room_members, by_room, accounts = roster.members, roster.by_room, roster.accounts
        else:
            linked = {}
            room_members = await self.directory.members(room)
            by_room = accounts = {room: room_members}
        async with self.repository.transaction() as tx:
            proposal = await tx.load(room, number)
            if proposal is None:
                return
            round_ = proposal.current_round
            done = await tx.reminders_done(room, number, round_)
            work = due_work(proposal, now, settings.code, done)
            members = rules.participants(round_, room_members)
            said_in = places(self.config, room)
            if isinstance(work, CloseRound):
                offline = round_.deadline < self.started_at
                delegated = ()
                if network is not None:
                    delegations = await self._joint_delegations(tx, network, round_.deadline, linked)
                    delegated = rules.delegated_for(round_, number, proposal.topics, delegations, room_members)
                elif settings.delegation:
                    current = await tx.delegations(room)
                    delegations = await tx.delegations_at(room, round_.deadline, current)
                    delegated = rules.delegated_for(round_, number, proposal.topics, delegations, room_members)
                    await self._lapse(tx, room, current, room_members, now, settings, m)
                closed = transitions.close_round(proposal, len(members), now, settings.code, offline, delegated)
                await tx.save(room, closed, None)
                if network is not None:  # the register shows each room's part in the joint tally
                    await tx.record_room_tallies(room, number, round_.number, rules.tally_by_room(round_, by_room))
                revised = await self._revise(tx, room, closed.proposal, now)
                link = permalink(self.config.register.public_url, room, number)
                proposal = closed.proposal
                kind, key = Kind.OUTCOME, f"outcome/{room}/{number}/{round_.number}"
                # The answer to a referral reaches the official who referred it; a verdict, the official judged.
                addressed = (proposal.referral.official,) if proposal.referral else ()
                addressed += (proposal.verdict.official,) if proposal.verdict else ()

                def said(m: Messages, settings: AssemblySettings, place: str) -> tuple[Text, tuple[str, ...]]:
                    # A joint decision's outcome lists the positions of the room's members (all of them: the register).
                    if network is None:
                        text = render.outcome(proposal, m, settings, revised, link)
                    else:
                        rooms = joint_text.participation_by_room(Text(), proposal.current_round, by_room, said_in, m)
                        text = render.outcome(proposal, m, settings, revised, link, by_room[place], rooms)
                    return text, pact_text.accounts(addressed, settings)
            elif isinstance(work, SendReminder):
                for skipped in work.skipped:
                    await tx.record_reminder(room, number, round_, skipped, "skipped", now)
                await tx.record_reminder(room, number, round_, work.offset, "sent", now)
                offset, deadline = int(work.offset.total_seconds()), int(round_.deadline.timestamp())
                kind, key = Kind.REMINDER, f"reminder/{room}/{number}/{round_.number}/{deadline}/{offset}"

                def said(m: Messages, settings: AssemblySettings, place: str) -> tuple[Text, tuple[str, ...]]:
                    # The room's members who have not answered, as the room names them (a linked account that
                    # answered from its other account has answered).
                    here = accounts[place] if network is not None else members
                    waiting = rules.not_answered(round_, here, linked)
                    owing = tuple(member for member in rules.owing_argument(round_) if member in here)
                    return render.reminder(proposal, waiting, now, m), tuple(waiting) + owing
            elif isinstance(work, RemindApplication):
                reminded = transitions.remind_application(proposal, now)
                await tx.save(room, reminded, None)
                proposal = reminded.proposal
                kind, key = Kind.FOLLOWUP_REMINDER, f"followup-reminder/{room}/{number}"

                def said(m: Messages, settings: AssemblySettings, place: str) -> tuple[Text, tuple[str, ...]]:
                    mentions = pact_text.accounts(proposal.bound, settings) or tuple(sorted(settings.facilitators))
                    return pact_text.application_reminder(proposal, settings, m), mentions
            if work is not None:
                # A room's own proposal is spoken of in the room, to everyone who takes part; a joint decision in
                # each room of its network, in the room's language, to that room's members.
                for place, place_settings in said_in:
                    place_m = messages_for(place_settings, scope)
                    text, mentions = said(place_m, place_settings, place)
                    message = Outgoing(f"{key}/{place}" if network is not None else key, place, kind,
                                       tuple(text.lines), render.payload(kind, proposal, len(members), place_m), number,
                                       None, mentions, scope=scope)
                    await tx.queue(message, now)
                    await announce(tx, [message], self.config, now)
            due = await record_due(tx, room, proposal, settings)
        if isinstance(work, CloseRound):
            self.observer.closed(proposal)
        await rescheduled(self.on_change, [due])
        await self.delivery.queued(tx.queued)
        self.announced(tx.announced)

    async def _joint_delegations(self, tx: Transaction, network: NetworkSettings, deadline: datetime,
                                 linked: dict[str, str]) -> list[Delegation]:
        """The delegations given in the rooms of a network that turn delegation on, as they stood at a joint
        decision's deadline. A delegate in none of the network's rooms any more gives nothing (delegated_positions);
        the delegation itself lapses, and its member is told, at its room's own next close."""
        by_room = {room: await tx.delegations_at(room, deadline) for room in network.rooms
                   if self.config.for_room(room).delegation}
        return rules.joint_delegations(by_room, linked, deadline)

    @staticmethod
    async def _lapse(tx: Transaction, room: str, current: list[Delegation], members: set[str], now: datetime,
                     settings: AssemblySettings, m: Messages) -> None:
        """A delegation to someone who has left the room lapses (seen when a round closes); its member is told."""
        for delegation in current:
            if delegation.member in members and delegation.delegate not in members:
                await tx.record_delegation(room, delegation.member, None, now, None, "lapsed", delegation.scope)
                await _tell(tx, room, delegation, delegation_text.lapsed(delegation, settings, m), now)

    async def _expire(self, room: str, now: datetime) -> None:
        """Delegations given until a day lapse at its end; each member is told."""
        settings = self.config.for_room(room)
        m = messages_for(settings)
        async with self.repository.transaction() as tx:
            for delegation in await tx.lapsing(room, now):
                await tx.record_delegation(room, delegation.member, None, now, None, "expired", delegation.scope)
                await _tell(tx, room, delegation, delegation_text.expired(delegation, settings, m), now)
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


async def _tell(tx: Transaction, room: str, delegation: Delegation, text: Text, now: datetime) -> None:
    """Tell a member, in the room, that their delegation has ended without them."""
    key = f"lapsed/{room}/{delegation.member}/{delegation.scope}/{now.isoformat()}"
    details = {**delegation_text.details(delegation), "delegate": None}
    await tx.queue(Outgoing(key, room, Kind.DELEGATION, tuple(text.lines), {"kind": str(Kind.DELEGATION), **details},
                            mentions=(delegation.member,)), now)
