"""The application as adapters see it: platform event → command → rules engine → effects, one transaction each.

Adapters hand the service what members said (:mod:`bot.app.ports`); :mod:`bot.app.inbox` reads it,
:mod:`bot.app.deadlines` does the clock's work, :mod:`bot.app.delivery` sends what both queue. The service
holds no rule: it loads, asks the engine, saves and queues, all or nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.app.announcer import Announcer
from bot.app.commands import Registry
from bot.app.deadlines import Deadlines
from bot.app.delivery import Delivery
from bot.app.inbox import Inbox
from bot.app.observer import Observer
from bot.app.ports import Directory, Sender
from bot.app.scopes import Rosters
from bot.config import Config
from bot.messages.outgoing import Outgoing
from storage.repository import Repository


async def _nothing_to_reschedule(at: datetime) -> None:
    """The console steps its clock through ``next_due`` instead of scheduling jobs."""


class ConsentService(Inbox, Deadlines):
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
        self.rosters = Rosters(directory)
        self.delivery = Delivery(repository, sender, clock)
        self.clock = clock
        self.started_at = clock()
        """Deadlines before this instant passed while the bot was offline."""
        self.on_change: Callable[[datetime], Awaitable[None]] = _nothing_to_reschedule
        """Awaited with a due time a decision set (the scheduler wakes up then, if that is earlier)."""
        self.observer = Observer()
        """Told what the service did, once committed (the metrics, bot.ops): nobody by default."""
        self.announcer: Announcer | None = None
        """Sends the mails and webhook calls decisions queue (a chat platform's; the console keeps them queued)."""

    def announced(self, messages: list[Outgoing]) -> None:
        """Mails and webhook calls were committed: the announcer takes them, if one runs."""
        if self.announcer is not None:
            self.announcer.queued(messages)

    def watch(self, observer: Observer) -> None:
        """From now on, tell ``observer`` what the service, its delivery and its announcer do."""
        self.observer = self.delivery.observer = observer
        if self.announcer is not None:
            self.announcer.observer = observer

    async def deliver(self) -> bool:
        """Send what is queued now (the console, tests, and a chat adapter before its first read)."""
        return await self.delivery.deliver()
