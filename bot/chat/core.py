"""What every chat adapter does the same way, whatever its platform.

- :class:`ChatBot`: the service, the scheduler and delivery wired together; an error in one event never
  stops the others (:meth:`ChatBot.guarded`); a member's instant is never later than when the bot received it
  (:meth:`ChatBot.instant`); background work, the scheduler and the platform's client are stopped on the way
  out, whatever happened (:meth:`ChatBot.run`).
- :class:`Backoff`: how long to wait before trying a lost platform again.
- :class:`ChatSender`: acknowledgements and the reactions seeded on a ballot, the same on every platform; the
  platform posts the rest, each part of a split message with its payload (:func:`part_payload`).
- :class:`Recent`: a bounded memory (the thread a member's message was in, the bot's own posts seen).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.app.announcer import Announcer
from bot.app.handlers import COMMANDS
from bot.app.ports import Directory
from bot.app.scheduler import DueScheduler
from bot.app.shared_rooms import platform_service
from bot.channels import Channels
from bot.config import Config
from bot.engine.model import Position
from bot.messages.outgoing import Kind, Outgoing
from storage.database import LeaseLost
from storage.repository import Repository

if TYPE_CHECKING:
    from bot.ops.server import OpsServer
    from bot.register.server import RegisterServer
    from storage.lease import Lease

log = logging.getLogger(__name__)

CANCEL_AGAIN = 1.0
"""Seconds a cancelled task has to end before it is cancelled again (see ``cancelled``)."""


def listing(items: list[str], most: int = 5) -> str:
    """Items for a log line, bounded: the first ``most``, then how many more."""
    shown = ", ".join(items[:most])
    return f"{shown} and {len(items) - most} more" if len(items) > most else shown


class Recent(OrderedDict):
    """A mapping that forgets its oldest entries beyond ``size``: what a long-running bot remembers of
    recent events without growing forever."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class Backoff:
    """Exponential backoff: ``start`` seconds, doubling up to ``maximum``, back to ``start`` after a success."""

    def __init__(self, start: float, maximum: float) -> None:
        self.start, self.maximum = start, maximum
        self.delay = start

    def next(self) -> float:
        """The delay to wait now; the next one doubles."""
        delay = self.delay
        self.delay = min(self.delay * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self.delay = self.start


def part_payload(message: Outgoing, index: int, parts: int) -> dict[str, Any] | None:
    """The payload of one part of a message split for its platform: ``part`` and ``parts`` say which."""
    if parts == 1:
        return message.payload
    return {**(message.payload or {"kind": str(message.kind)}), "part": index + 1, "parts": parts}


class ChatSender(ABC):
    """Sends the outbox's messages to a chat platform: what is the same everywhere is done here."""

    def __init__(self, seed_reactions: dict[Position, str], acknowledgement: str) -> None:
        self.seeds = seed_reactions
        """The reaction the bot adds to each ballot for each position, so members can click them."""
        self.acknowledgement = acknowledgement
        """The reaction that tells a member their command was taken into account."""
        self.may_send: Callable[[], bool] = lambda: True
        """False once this process may no longer act (a standby took its lease over): nothing more is sent."""

    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        """Post a message (threaded under ``ballot_id`` when it belongs there); the platform's id for it."""
        if not self.may_send():
            raise LeaseLost(f"{message.key} not sent: this process no longer holds the lease")
        if message.kind is Kind.ACK and message.reply_to:
            return await self.react(message.room, message.reply_to, self.acknowledgement, message.key)
        if message.kind is Kind.SEED:
            # The bot's own reactions never count: they only show members what to click.
            for position, key in self.seeds.items():
                await self.react(message.room, ballot_id or "", key, f"{message.key}/{position.value}")
            return None
        return await self.post(message, ballot_id)

    @abstractmethod
    async def react(self, room: str, target: str, key: str, idempotency_key: str) -> str | None:
        """Add the bot's reaction ``key`` to the event ``target``; sent twice, it is there once."""

    @abstractmethod
    async def post(self, message: Outgoing, ballot_id: str | None) -> str | None:
        """Post a message, split in parts if it is too long for the platform; the id of its first part."""


class ChatBot(ABC):
    """A chat adapter: it reads its platform's events into the service, which holds every rule."""

    platform = "chat"
    link = "the platform"
    """What reads the platform's events (the sync, the websocket), as the log names it."""
    fatal: tuple[type[Exception], ...] = ()
    """Errors that stop the bot (a rejected token) rather than one event."""

    def __init__(self, config: Config, repository: Repository, directory: Directory, sender: ChatSender,
                 clock: Callable[[], datetime]) -> None:
        self.config = config
        self.repository = repository
        self.directory = directory
        self.sender = sender
        self.service, self.shared = platform_service(config.platform, repository, config, COMMANDS, directory, sender,
                                                     clock)
        """``shared``: beside a process of the other platform (a network spans both), the directory of both."""
        self.scheduler = DueScheduler(self.service, clock, self.catch_up)
        self.ready = asyncio.Event()
        """Set once the first read of the platform is handled and the scheduler started."""
        self.stopped = False
        self._background: list[asyncio.Task] = []
        self._scheduling = False
        self.register: RegisterServer | None = None
        """The public register served beside the bot while it runs (``register.enabled``)."""
        self.ops: OpsServer | None = None
        """Health and metrics served while the bot runs (``ops.enabled``)."""
        self.answered_at: float | None = None
        """When the platform last answered (a sync, a websocket event), on the monotonic clock; None: never yet."""
        self.unreachable = False
        """Whether the latest attempt to reach the platform failed (a sync, the websocket)."""
        self.lease: Lease | None = None
        """On PostgreSQL: the bot acts only while it holds this lease, standing by until then (storage/lease.py)."""
        self._failures = 0
        """How many attempts to reach the platform failed in a row; 0 while it answers."""
        self._failing_since = 0.0
        """When the first of those failed, on the monotonic clock."""

    async def run(self) -> None:
        """Serve until cancelled or a fatal error (or, under a lease, until it is lost); then stop every background
        task, the scheduler and the client. With ``register.enabled``, the public register is served beside, over
        the same database, while the bot runs."""
        if self.config.register.enabled:  # else the web server and its templates are never loaded
            from bot.register.server import RegisterServer

            self.register = await RegisterServer.start(self.config, self.repository)
        if self.config.ops.enabled:  # else prometheus-client is never loaded
            from bot.ops.server import OpsServer

            self.ops = await OpsServer.start(self)
        try:
            if self.lease is None:
                await self.serve()
            else:
                await self._serve_under_lease(self.lease)
        finally:
            self.stopped = True
            await self.stopping()
            for task in self._background:
                task.cancel()
            for task in self._background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self._scheduling:
                self.scheduler.shutdown()
            await self.close()
            if self.register is not None:
                await self.register.stop()
            if self.ops is not None:
                await self.ops.stop()

    @abstractmethod
    async def serve(self) -> None:
        """Log in and read the platform's events until cancelled."""

    async def stand_by(self) -> None:
        """Wait, ready, until this process holds the lease (a platform may keep up meanwhile: MatrixBot)."""
        assert self.lease is not None
        await self.lease.acquire()

    async def _serve_under_lease(self, lease: Lease) -> None:
        """Stand by, then serve while the lease is renewed; return once it is lost (the caller stands by again)."""
        await self.stand_by()
        lease.fence(self.repository)
        self.sender.may_send = lease.held
        await self.repository.wait_for_decisions_under_way()
        serving = asyncio.create_task(self.serve(), name="serve")
        keeping = asyncio.create_task(lease.keep(), name="lease")
        try:
            await asyncio.wait({serving, keeping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (keeping, serving):
                await cancelled(task)
                with contextlib.suppress(asyncio.CancelledError):
                    await task  # ended: its error, if it had one
        if serving.done() and not serving.cancelled():
            serving.result()  # what stopped it

    @abstractmethod
    async def catch_up(self, room: str) -> bool:
        """Return once everything the platform received in ``room`` until now is handled (a round there is
        about to close); False if the bot stopped meanwhile."""

    async def stopping(self) -> None:
        """The bot is stopping: release whoever waits on it."""

    @abstractmethod
    async def close(self) -> None:
        """Close the platform's client."""

    def rate_limits(self) -> tuple[int, float]:
        """How many requests the platform asked to retry later, and the seconds waited for it (the metrics)."""
        return 0, 0.0

    def answered(self) -> None:
        """The platform answered: a sync, a websocket event. After failures the log says it works again, once: the
        warnings of each failure have an end an operator can see."""
        self.answered_at = time.monotonic()
        self.unreachable = False
        if self._failures:
            log.info("%s works again after %d failure%s / %.0f s", self.link, self._failures,
                     "" if self._failures == 1 else "s", self.answered_at - self._failing_since)
            self._failures = 0

    def unanswered(self) -> None:
        """The platform could not be reached, or closed the connection."""
        self.unreachable = True
        if not self._failures:
            self._failing_since = time.monotonic()
        self._failures += 1

    @abstractmethod
    def identity(self) -> list[str]:
        """Who the bot is on its platform, where it acts and who may bring it into a room: what the line saying it
        is up tells an operator (never a secret)."""

    def now_ready(self) -> None:
        """The first read of the platform is handled and the scheduler started: set ``ready``, saying so once in the
        log with the bot's identity and the addresses it serves."""
        if self.ready.is_set():
            return
        served = [f"register at {self.register.url}"] if self.register is not None else []
        if self.ops is not None:
            served.append(f"health and metrics at {self.ops.url}")
        log.info("ready on %s: %s", self.platform, "; ".join([*self.identity(), *served]))
        if self.shared is not None:
            self.in_background(asyncio.create_task(self.shared.watch(self._picked_up), name="other platform"))
        self.ready.set()

    async def _picked_up(self) -> None:
        """Take what the other platform's process did for this one: its messages for these rooms, its due times."""
        await self.service.delivery.pick_up()
        await self.scheduler.look_again()

    def database_state(self) -> dict[str, str | None]:
        """What a readiness check (``/readyz``) reports of the database: ``problem``, why decisions cannot be stored
        now (None while they are), and ``lease``, on PostgreSQL, whether this process is ``acting`` or ``standing
        by`` (None on SQLite). Meanwhile the log says both as they change."""
        return {"problem": self.repository.health.problem, "lease": self.lease.state if self.lease else None}

    def in_background(self, task: asyncio.Task) -> asyncio.Task:
        """Keep a task running beside the reader, stopped with the bot."""
        self._background.append(task)
        return task

    def start_delivery(self) -> None:
        """From now on, messages are sent by a background task: reading events never waits on sending; and the
        assembly's mails and webhook calls, if it has any, by another (bot.app.announcer)."""
        self.in_background(self.service.delivery.start())
        if self.config.announces():
            announcer = Announcer(self.repository, self.config, self.service.clock, Channels(self.config))
            announcer.observer = self.service.observer
            announcer.acting = lambda: self.sender.may_send()  # read at each round: the lease sets it later
            announcer.serves = self.service.delivery.serves
            self.service.announcer = announcer
            self.in_background(announcer.start())

    async def start_clock(self) -> None:
        """Start the scheduler once (work that came due while the bot was down runs at once)."""
        if not self._scheduling:
            self._scheduling = True
            await self.scheduler.start()

    async def guarded(self, work: Awaitable[None]) -> None:
        """Handle one event; an error is logged and the bot goes on with the next. Not when the database failed:
        then the event could not be stored, and must be read again rather than skipped (the caller's to do)."""
        try:
            await work
        except self.fatal:
            raise
        except Exception as error:
            if self.repository.unavailable(error):
                raise
            log.exception("handling a %s event failed; going on with the next", self.platform)
            self.service.observer.event_failed()

    def instant(self, at: datetime) -> datetime:
        """When a member acted, as the platform recorded it, but never later than it reached the bot: a clock
        ahead cannot slip a vote past a deadline."""
        now = self.service.clock()
        self.service.observer.received((now - at).total_seconds())
        return min(at, now)


async def cancelled(task: asyncio.Task) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling it again every CANCEL_AGAIN seconds while it runs on. A
    call cut off mid-way can swallow a cancellation (asyncpg, closing its connection under it, raises an error of its
    own instead), which a loop that retries errors takes for one more: seen once, a process that had lost its lease
    serving on without it instead of standing by."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_AGAIN)


async def run_chat_bot(config: Config, make: Callable[[Config, Repository], ChatBot]) -> None:
    """Open the database, run the bot until it stops, close the database. On PostgreSQL the bot acts under a lease,
    standing by while another process holds it, and stands by again if it loses it (each time afresh: nothing
    it held in memory outlives its turn, and nothing it had not written yet is written)."""
    lease = None
    if config.storage.url:
        from storage.lease import Lease  # asyncpg is loaded only by those who use it

        lease = Lease(config.storage.url, config.platform)
    repository = await Repository.open(config.database, acting=True)  # a wrong URL stops the bot here, said
    try:
        while True:
            try:
                bot = make(config, repository)
                bot.lease = lease
                await bot.run()
            finally:
                if lease is not None and lease.state == "lost":
                    await repository.abandon()  # at once: the way to the database may be cut
                else:
                    await repository.close()
            if lease is None or lease.state != "lost":
                return
            log.warning("standing by again")
            repository = await lease.reopened(lambda: Repository.open(config.database, acting=True))
    finally:
        if lease is not None:
            await lease.release()
