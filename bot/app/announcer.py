"""Announced beyond the room: each new proposal, round, outcome, fact and official's statement is queued for the
assembly's mailing list and webhooks in the decision's own transaction (rows of the outbox, each on its channel),
then sent by the :class:`Announcer` in the background, exactly once.

The announcer never stands in the chat's way: it has its own task and its own queue, makes its calls outside any
transaction, and records what it did like the chat's delivery (with the next transaction). A server that refuses
for now is tried again with backoff (its channel waits, others go on), one that refuses for good is set aside, and
what a server still refuses ``give_up_after`` after it was queued is given up, with an error in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.app.context import messages_for
from bot.app.observer import Observer
from bot.app.scopes import network_of, settings_for
from bot.config import Config
from bot.messages.announcement import mail, webhook_call
from bot.messages.outgoing import Kind, Outgoing, Undeliverable
from storage.repository import Repository, Transaction

log = logging.getLogger(__name__)

RETRY_START, RETRY_MAX = timedelta(seconds=1), timedelta(minutes=5)
WEBHOOK_GIVE_UP = timedelta(days=2)


def event_of(message: Outgoing) -> str | None:
    """What a chat message announces beyond the room, if anything (see settings.ANNOUNCED)."""
    if message.kind is Kind.BALLOT and message.payload:
        return "proposal" if message.payload.get("round") == 1 else "round"
    return {Kind.OUTCOME: "outcome", Kind.FACT: "fact", Kind.STATEMENT: "statement"}.get(message.kind)


def chat_address(config: Config, room: str) -> str | None:
    """Where members answer: the assembly's own address for it, else on Matrix a matrix.to link to the room."""
    given = config.for_room(room).email.chat_address
    return given or (f"https://matrix.to/#/{room}" if config.platform == "matrix" else None)


async def announce(tx: Transaction, messages: list[Outgoing], config: Config, at: datetime) -> None:
    """Queue, in the transaction that queued ``messages``, the mails and webhook calls that announce them.

    A joint decision is said in each room of its network; it is announced once, by the network's ``email`` and
    ``webhooks`` (by default the assembly's), from what is said in its first room (in that room's language)."""
    for message in messages:
        event = event_of(message)
        network = network_of(config, message.scope)
        if event is None or message.number is None or (network is not None and message.room != network.rooms[0]):
            continue
        settings = settings_for(config, message.scope, message.room)
        if not (settings.email.lists or settings.webhooks):
            continue
        proposal = await tx.view(message.scope or message.room, message.number)
        m = messages_for(settings, message.scope)
        public_url = config.register.public_url
        assembly = (network.name or network.id) if network else settings.name or message.room
        if settings.email.lists:
            # Members of a network answer in their own room: no one room's address is theirs.
            address = chat_address(config, message.room) if network is None else None
            await tx.queue(mail(message, event, proposal, settings, m, public_url, address, at, assembly), at)
        for hook in settings.webhooks:
            if event in hook.events:
                await tx.queue(webhook_call(message, event, proposal, hook, m, public_url, at, assembly), at)


class Channel(Protocol):
    """A way out: sends one announcement, raising Undeliverable when the server refuses it for good."""

    async def send(self, message: Outgoing) -> None: ...


class Announcer:
    def __init__(self, repository: Repository, config: Config, clock: Callable[[], datetime],
                 channel: Callable[[Outgoing], Channel]) -> None:
        self._repository = repository
        self._config = config
        self._clock = clock
        self._channel = channel
        self._wake = asyncio.Event()
        self._pending: list[list] | None = None
        """[message, attempts, next try (None: now), refused since (None: never tried)], in order; read from the
        outbox once, then handed over."""
        self._sent: dict[tuple[str, int], deque[datetime]] = {}
        """Per mail server, when its latest mails were sent (at most per_minute in any minute)."""
        self.observer = Observer()
        """Told what became of each mail and webhook call (the operator's metrics)."""
        self.acting: Callable[[], bool] = lambda: True
        """False while this process may not act (on PostgreSQL, a standby, or a process whose lease was taken over):
        then nothing is sent, lest the process now acting send it too."""
        self.serves: Callable[[str], bool] = lambda room: True
        """Whether this process sends the announcements of a room: where a Matrix and a Mattermost process share a
        database, each those of its platform's rooms (a joint decision's: its network's first room's)."""

    def queued(self, messages: list[Outgoing]) -> None:
        """Announcements were committed to the outbox: take them, and wake up."""
        messages = [message for message in messages if self.serves(message.room)]
        if self._pending is not None:
            self._pending += [[message, 0, None, None] for message in messages]
        if messages:
            self._wake.set()

    def start(self) -> asyncio.Task:
        return asyncio.create_task(self.run(), name="announcer")

    async def run(self) -> None:
        """Send in the background until cancelled: when woken, and when the earliest retry is due."""
        while True:
            self._wake.clear()
            try:
                wait = await self.deliver()
            except Exception:  # the database itself failed: log, wait, try again
                log.exception("announcing failed; trying again in %s", RETRY_START * 5)
                wait = RETRY_START * 5
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait.total_seconds() if wait is not None else None)

    async def deliver(self) -> timedelta | None:
        """Send what is due, in order within each channel; how long until the next retry (None: nothing left)."""
        if not self.acting():
            return RETRY_START
        if self._pending is None:
            self._pending = [list(item) for item in await self._repository.pending_announcements()
                             if self.serves(item[0].room)]
        held: set[str] = set()
        for item in list(self._pending):
            message, _, next_try, _ = item
            if message.channel in held or (next_try is not None and next_try > self._clock()):
                held.add(message.channel)  # one at a time, in order, within a channel
                continue
            if not self._may_send(message):
                held.add(message.channel)
                continue
            if await self._send(item):
                self._pending.remove(item)
            else:
                held.add(message.channel)
        await self._repository.flush()
        waits = [next_try - self._clock() for _, _, next_try, _ in self._pending if next_try is not None]
        if any(next_try is None for _, _, next_try, _ in self._pending):
            waits.append(timedelta(seconds=1))  # held back by the rate of a mail server: look again soon
        return min(waits, default=None)

    def _may_send(self, message: Outgoing) -> bool:
        """A mail server gets at most ``per_minute`` mails in any minute; webhooks have no such bound."""
        if message.channel != "email":
            return True
        email = settings_for(self._config, message.scope, message.room).email
        sent = self._sent.setdefault((email.host, email.port), deque())
        while sent and self._clock() - sent[0] >= timedelta(minutes=1):
            sent.popleft()
        return len(sent) < email.per_minute

    async def _send(self, item: list) -> bool:
        """One announcement sent (True) or set aside for good (True); refused for now, its retry planned (False)."""
        message, attempts, _, failing_since = item
        try:
            await self._channel(message).send(message)
        except Undeliverable as refusal:
            log.error("%s %s cannot be delivered (%s): set aside", message.channel, message.key, refusal)
            self._repository.note_undeliverable(message.key, str(refusal), self._clock())
            self.observer.announced(_kind(message), "given_up")
            return True
        except Exception as error:
            now = self._clock()
            failing_since = failing_since or now
            if now - failing_since >= self._give_up_after(message):
                log.error("%s %s: given up after %s of refusals (%s)", message.channel, message.key,
                          now - failing_since, error or type(error).__name__)
                self._repository.note_undeliverable(message.key, f"given up: {error}", now)
                self.observer.announced(_kind(message), "given_up")
                return True
            item[1:] = attempts + 1, now + min(RETRY_START * 2 ** attempts, RETRY_MAX), failing_since
            log.warning("%s %s failed (%s): trying again at %s", message.channel, message.key,
                        error or type(error).__name__, item[2])
            self._repository.note_attempt(message.key, item[1], item[2], failing_since)
            self.observer.announced(_kind(message), "retried")
            return False
        if message.channel == "email":
            email = settings_for(self._config, message.scope, message.room).email
            self._sent.setdefault((email.host, email.port), deque()).append(self._clock())
        self._repository.note_sent(message.key, None, self._clock())
        await self._repository.flush()  # at once: a crash now must not send it again (a commit a mail is cheap)
        self.observer.announced(_kind(message), "sent")
        return True

    def _give_up_after(self, message: Outgoing) -> timedelta:
        if message.channel != "email":
            return WEBHOOK_GIVE_UP
        return settings_for(self._config, message.scope, message.room).email.give_up_after


def _kind(message: Outgoing) -> str:
    """The metrics' channel: "email" or "webhook" (never a webhook's name: labels stay few)."""
    return "webhook" if message.channel.startswith("webhook:") else message.channel
