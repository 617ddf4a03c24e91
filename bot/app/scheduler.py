"""Deadlines and reminders on the real clock: one APScheduler job, at the earliest instant the database says
some proposal is due.

Every decision that moves a proposal's due time records it (``proposals.next_due_at``); the job wakes at the
earliest, does all that is due then, and sets itself again. The database is the truth and the job a cache of
one row: starting costs one indexed query, whatever the number of open proposals, and work that came due
while the bot was down is done at once.

Before a round closes, the platform is read up to the deadline (``catch_up``): a vote a member cast just
before it, still on its way to the bot, counts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.app.scopes import network_of
from bot.app.service import ConsentService
from bot.log_context import about

log = logging.getLogger(__name__)

JOB = "due"
RETRY_AFTER = timedelta(seconds=2)
"""Due work the database could not take is tried again this soon (the database's health says why meanwhile)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def _nothing_to_read(room: str) -> bool:
    """Without a platform (the console, tests of the clock alone) every event is handled as it comes."""
    return True


class DueScheduler:
    def __init__(self, service: ConsentService, clock: Callable[[], datetime] = utc_now,
                 catch_up: Callable[[str], Awaitable[bool]] = _nothing_to_read) -> None:
        self._service = service
        self._clock = clock
        self._catch_up = catch_up
        self._scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self._running = False
        self._again = False
        service.on_change = self._earlier

    async def start(self) -> None:
        """Set the job at the earliest due time; work that came due while the bot was down runs at once."""
        self._scheduler.start()
        await self._service.record_missing_due_times()
        await self._set()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    def add_listener(self, callback: Callable, mask: int) -> None:
        self._scheduler.add_listener(callback, mask)

    def next_time(self) -> datetime | None:
        job = self._scheduler.get_job(JOB)
        return job.next_run_time if job else None

    async def look_again(self) -> None:
        """Another process may have set a due time (a joint decision proposed from its platform's room): wake then
        if it is earlier (a run under way sets the job again when it ends)."""
        if not self._running and (due := await self._service.next_due()) is not None:
            await self._earlier(due[0])

    async def _fire(self) -> None:
        if self._running:
            # The job came due again during a run (a deadline set meanwhile, or the run's own next time already
            # past): the run under way goes round once more instead of this run being dropped.
            self._again = True
            return
        self._running = True
        try:
            await self._run_until_nothing_is_due()
        except Exception as error:
            if not self._service.repository.unavailable(error):
                raise
            # The database fails (its health says why): the work stays due, and is tried again soon.
            log.warning("due work waits for the database; trying again in %.0f s", RETRY_AFTER.total_seconds())
            self._schedule(self._clock() + RETRY_AFTER)
        finally:
            self._running = False

    async def _run_until_nothing_is_due(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            if not await self._run_due():
                return  # the bot is stopping: what is due is done at the next start
        await self._set()

    async def _run_due(self) -> bool:
        """Do all that is due now; False when the platform could not be read because the bot is stopping."""
        caught_up: set[str] = set()
        for room, number in await self._service.repository.due_now(self._clock()):
            with about(room, number):
                try:
                    if room not in caught_up and await self._service.closing_due(room, number, self._clock()):
                        # Everything the platform received up to the deadline is read before the round closes: in
                        # the room, or in each room of a joint decision's network this process reads.
                        for place in self._read_before_closing(room):
                            if not await self._catch_up(place):
                                return False
                        caught_up.add(room)
                    await self._service.run_due(room, number, self._clock())
                except Exception as error:
                    if self._service.repository.unavailable(error):
                        raise
                    log.exception("due work for %s #%s failed; it is tried again at the next start", room, number)
        return True

    def _read_before_closing(self, scope: str) -> list[str]:
        network = network_of(self._service.config, scope)
        if network is None:
            return [scope]
        return [room for room in network.rooms if self._service.delivery.serves(room)]

    async def _set(self) -> None:
        due = await self._service.next_due()
        if due is None:
            if self._scheduler.get_job(JOB):
                self._scheduler.remove_job(JOB)
            return
        self._schedule(due[0])

    async def _earlier(self, at: datetime) -> None:
        """A decision set a due time: wake then if it is before the job's time."""
        current = self.next_time()
        if current is None or at < current:
            self._schedule(at)

    def _schedule(self, at: datetime) -> None:
        # misfire_grace_time=None: a job that fires late (busy loop, suspended machine) still runs; a past time
        # runs at once. APScheduler would drop (not delay) a run that comes while one is under way, so it may start
        # several and _fire keeps them to one at a time itself.
        self._scheduler.add_job(self._fire, DateTrigger(max(at, self._clock())), id=JOB, replace_existing=True,
                                misfire_grace_time=None, max_instances=100)
        log.debug("next due work at %s", at.isoformat())
