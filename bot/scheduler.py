"""Deadlines and reminders on the real clock: APScheduler jobs that the database defines.

One job per open proposal, at the next instant the clock owes it something
(``ConsentService.due_at``). The database is the truth and the scheduler a
cache: at start every job is rebuilt from the open proposals, and work that came
due while the bot was down is done at once.

Before a round closes, the platform is read up to the deadline (``catch_up``): a vote a member cast
just before it, still on its way to the bot, counts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.service import ConsentService

log = logging.getLogger(__name__)


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
        service.on_change = self._reschedule

    async def start(self) -> None:
        """Rebuild the jobs from the database; work that came due while the bot was down runs at once."""
        self._scheduler.start()
        for room, number in await self._service.repository.open_proposals():
            await self._reschedule(room, number)

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    def add_listener(self, callback: Callable, mask: int) -> None:
        self._scheduler.add_listener(callback, mask)

    def job_times(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    async def _fire(self, room: str, number: int) -> None:
        try:
            if await self._service.closing_due(room, number, self._clock()):
                # Everything the platform received up to the deadline is read before the round closes.
                if not await self._catch_up(room):
                    return  # the bot is stopping: the round closes at the next start
            await self._service.run_due(room, number, self._clock())
        except Exception:
            log.exception("due work for %s #%s failed; it is tried again at the next start", room, number)
        await self._reschedule(room, number)

    async def _reschedule(self, room: str, number: int) -> None:
        job_id = f"due/{room}/{number}"
        at = await self._service.due_at(room, number)
        if at is None:
            if self._scheduler.get_job(job_id):
                self._scheduler.remove_job(job_id)
            return
        # misfire_grace_time=None: a job that fires late (busy loop, suspended machine) still runs. A past
        # time runs at once.
        self._scheduler.add_job(self._fire, DateTrigger(max(at, self._clock())), args=(room, number), id=job_id,
                                replace_existing=True, misfire_grace_time=None)
        log.debug("%s due at %s", job_id, at.isoformat())
