"""The outbox, delivered: every queued message sent in order within its room, exactly once, never in the reader's way.

Decisions write their messages to the outbox in their own transaction; this module sends them after
commit. On a chat platform it runs as a background task (:meth:`Delivery.run`): the code that reads
members' events only wakes it, so a throttled or unreachable platform never delays a vote being
counted. A failed send holds up only its own room and is tried again on a timer with backoff, whether
or not anything else happens; a message the platform refuses for good is set aside with the reason.
The console and the tests deliver inline instead, so their output follows each command at once.

The outbox is read once, at the first delivery; then the messages committed are handed over directly,
and what was sent is recorded with the next transaction (``Repository.note_sent``): a vote costs one
commit, not two. Beside a process of the other chat platform (linked assemblies), each delivers its own rooms'
messages only, and reads the outbox again now and then (:meth:`Delivery.pick_up`) for those the other queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from bot.app.observer import Observer
from bot.app.ports import Sender
from bot.log_context import about
from bot.messages.outgoing import Kind, Outgoing, Undeliverable
from storage.repository import Repository

log = logging.getLogger(__name__)

HANDED_KEPT = 10_000
"""Keys of the latest messages handed over, kept so that a message is never taken twice (committed here, and read
back from the outbox before it was handed over)."""
RETRY_START, RETRY_MAX = 0.5, 5.0
"""Seconds between delivery attempts while a room is held up: short, so that an outcome goes out within
seconds of the platform's return; a failed attempt costs one request."""


class Delivery:
    def __init__(self, repository: Repository, sender: Sender, clock: Callable[[], datetime]) -> None:
        self._repository = repository
        self._sender = sender
        self._clock = clock
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._background = False
        self._pending: list[Outgoing] | None = None
        """The messages to send, in order; read from the outbox at the first delivery."""
        self._ballots: dict[tuple[str, str, int], str] = {}
        """(room, scope, proposal) → the platform id of its latest ballot sent there, to thread its messages under."""
        self.attempts_failed = 0
        """Sends that failed and will be retried (worth watching in the logs and in tests)."""
        self.backlog = 0
        """Messages waiting to be sent (counted from the first delivery, which reads the outbox)."""
        self._progress_at = time.monotonic()
        """When a message was last sent or set aside, or the first of those waiting now was queued."""
        self.observer = Observer()
        self.serves: Callable[[str], bool] = lambda room: True
        """Whether this process posts in a room: every room, but beside a process of the other platform."""
        self._handed: OrderedDict[str, None] = OrderedDict()
        """The keys of the latest messages handed over to be sent (at most HANDED_KEPT)."""

    def _fresh(self, messages: list[Outgoing]) -> list[Outgoing]:
        """The messages of this process's rooms not handed over yet; from now on, handed over."""
        fresh = [message for message in messages if self.serves(message.room) and message.key not in self._handed]
        for message in fresh:
            self._handed[message.key] = None
        while len(self._handed) > HANDED_KEPT:
            self._handed.popitem(last=False)
        return fresh

    async def queued(self, messages: list[Outgoing]) -> None:
        """Messages were committed to the outbox: wake the background task, or deliver them now."""
        await self._take(self._fresh(messages))

    async def _take(self, messages: list[Outgoing]) -> None:
        if self._pending is not None:
            if not self.backlog:
                self._progress_at = time.monotonic()
            self._pending.extend(messages)
            self.backlog += len(messages)
        for message in messages:
            self.observer.queued(message.kind)
        if self._background:
            self._wake.set()
        else:
            await self.deliver()

    async def pick_up(self) -> None:
        """Take the messages another process queued for this process's rooms (a joint decision's ballot, outcome)."""
        async with self._lock:
            if self._pending is None:
                return  # the first delivery reads them all
            fresh = self._fresh(await self._repository.pending_messages())
        if fresh:
            await self._take(fresh)

    def retry_now(self) -> None:
        """The platform is back (a sync or a connection succeeded): try the held-up rooms at once."""
        self._wake.set()

    def start(self) -> asyncio.Task:
        """Deliver in a background task from now on (a chat platform): the service only wakes it."""
        self._background = True
        return asyncio.create_task(self.run(), name="delivery")

    async def run(self) -> None:
        """Deliver in the background until cancelled: at once when woken, on a backoff timer while held up."""
        self._background = True
        delay = RETRY_START
        try:
            while True:
                self._wake.clear()
                try:
                    delivered = await self.deliver()
                except Exception:  # the database itself failed: log, wait, try again
                    log.exception("delivery failed; trying again in %.1f s", delay)
                    delivered = False
                if delivered:
                    delay = RETRY_START
                    await self._wake.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                    delay = min(delay * 2, RETRY_MAX)
        finally:
            self._background = False

    async def deliver(self) -> bool:
        """Send every queued message, in order within each room; True when none is left held up.

        A message whose send fails stays queued with the rest of its room's queue and is tried again at the
        next attempt (its key makes the platform drop a copy it already has); other rooms go on.
        """
        async with self._lock:
            if self._pending is None:
                self._pending = await self._repository.pending_messages()  # those handed over before, besides
                self._fresh(self._pending)
                self.backlog, self._progress_at = len(self._pending), time.monotonic()
            batch, self._pending = self._pending, []
            held_up: set[str] = set()
            kept: list[Outgoing] = []
            done = 0
            try:
                for message in batch:
                    if message.room in held_up:
                        kept.append(message)
                    else:
                        with about(message.room, message.number):
                            await self._send(message, held_up, kept)
                    done += 1
            finally:
                # What was committed meanwhile goes after; a pass cancelled midway (a wait that gave up, the bot
                # stopping) keeps what it had not sent yet, the message in flight included.
                self._pending = kept + batch[done:] + self._pending
            if self._background:
                await self._repository.flush()
            return not held_up

    async def _send(self, message: Outgoing, held_up: set[str], kept: list[Outgoing]) -> None:
        """One message sent and noted; refused for good, set aside; failed, kept and its room held up."""
        started = time.perf_counter()
        try:
            platform_id = await self._sender.send(message, await self._ballot_of(message))
        except Undeliverable as refusal:
            log.warning("%s cannot be delivered (%s): set aside", message.key, refusal)
            self._repository.note_undeliverable(message.key, str(refusal), self._clock())
            self._progressed()
            self.observer.set_aside(message.kind)
            return
        except Exception as error:
            log.warning("sending %s failed (%s); it stays queued with what follows it in %s",
                        message.key, error or type(error).__name__, message.room)
            self.attempts_failed += 1
            held_up.add(message.room)
            kept.append(message)
            self.observer.failed(message.kind)
            return
        self._repository.note_sent(message.key, platform_id, self._clock())
        self._progressed()
        self.observer.sent(message.kind, time.perf_counter() - started)
        if message.kind is Kind.BALLOT and platform_id and message.number is not None:
            self._ballots[(message.room, message.scope, message.number)] = platform_id

    def _progressed(self) -> None:
        self.backlog -= 1
        self._progress_at = time.monotonic()

    def stalled_for(self) -> float:
        """Seconds messages have waited without any being sent or set aside (0 while none waits)."""
        return time.monotonic() - self._progress_at if self.backlog > 0 else 0.0

    async def _ballot_of(self, message: Outgoing) -> str | None:
        """The platform id of the ballot a message is threaded under (none for a ballot itself)."""
        if message.number is None or message.kind is Kind.BALLOT:
            return None
        key = (message.room, message.scope, message.number)
        if key not in self._ballots:
            ballot = await self._repository.ballot_id(message.room, message.number, message.scope)
            if ballot is None:
                return None
            self._ballots[key] = ballot
        return self._ballots[key]

    async def recognise(self, message_id: str, platform_id: str) -> None:
        """The bot saw its own message come back from the platform (a sync, a resync, its websocket).

        Recording its platform id at once lets the votes on a ballot count even when they come before the
        sender's own bookkeeping, or after a crash between the send and the bookkeeping.
        """
        await self._repository.record_platform_id(message_id, platform_id)
