"""The outbox, delivered: every queued message sent in order within its room, exactly once, never in the reader's way.

Decisions write their messages to the outbox in their own transaction; this module sends them after
commit. On a chat platform it runs as a background task (:meth:`Delivery.run`): the code that reads
members' events only wakes it, so a throttled or unreachable platform never delays a vote being
counted. A failed send holds up only its own room and is tried again on a timer with backoff, whether
or not anything else happens; a message the platform refuses for good is set aside with the reason.
The console and the tests deliver inline instead, so their output follows each command at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from bot.outgoing import Kind, Outgoing, Undeliverable
from storage.repository import Repository

log = logging.getLogger(__name__)

RETRY_START, RETRY_MAX = 0.5, 5.0
"""Seconds between delivery attempts while a room is held up: short, so that an outcome goes out within
seconds of the platform's return; a failed attempt costs one request."""


class Sender(Protocol):
    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        """Post a message (threaded under ``ballot_id`` when given); return the platform's id for it."""


class Delivery:
    def __init__(self, repository: Repository, sender: Sender, clock: Callable[[], datetime]) -> None:
        self._repository = repository
        self._sender = sender
        self._clock = clock
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._background = False
        self.attempts_failed = 0
        """Sends that failed and will be retried (worth watching in the logs and in tests)."""

    async def queued(self) -> None:
        """Messages were committed to the outbox: wake the background task, or deliver them now."""
        if self._background:
            self._wake.set()
        else:
            await self.deliver()

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
            held_up: set[str] = set()
            for message in await self._repository.pending_messages():
                if message.room in held_up:
                    continue
                ballot_id = None
                if message.number is not None and message.kind is not Kind.BALLOT:
                    ballot_id = await self._repository.ballot_id(message.room, message.number)
                try:
                    platform_id = await self._sender.send(message, ballot_id)
                except Undeliverable as refusal:
                    log.warning("%s cannot be delivered (%s): set aside", message.key, refusal)
                    await self._repository.mark_undeliverable(message.key, str(refusal), self._clock())
                    continue
                except Exception as error:
                    log.warning("sending %s failed (%s); it stays queued with what follows it in %s",
                                message.key, error or type(error).__name__, message.room)
                    self.attempts_failed += 1
                    held_up.add(message.room)
                    continue
                await self._repository.mark_sent(message.key, platform_id, self._clock())
            return not held_up

    async def recognise(self, message_id: str, platform_id: str) -> None:
        """The bot saw its own message come back from the platform (a sync, a resync, its websocket).

        Recording its platform id at once lets the votes on a ballot count even when they come before the
        sender's own bookkeeping, or after a crash between the send and the bookkeeping.
        """
        await self._repository.record_platform_id(message_id, platform_id)
