"""APScheduler on the real clock: one job, at the earliest due time the database holds, set again at start."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES

from bot.console import ConsoleRoom
from bot.app.handlers import COMMANDS
from bot.messages.outgoing import Kind, Outgoing
from bot.app.scheduler import DueScheduler, utc_now
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from tests.conftest import ROOM, Clock, RecordingSender, write_config
from tests.polling import until


@dataclass
class WaitingSender(RecordingSender):
    """Lets a test await the bot's outcome instead of sleeping."""

    outcome: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Outgoing, ballot_id: str | None) -> str:
        platform_id = await super().send(message, ballot_id)
        if message.kind is Kind.OUTCOME:
            self.outcome.set()
        return platform_id


def short_rounds(tmp_path):
    return write_config(tmp_path, language="en", working_days_only=False, minimum_duration="2s", reminders=["1s"])


async def test_a_round_closes_at_its_deadline_after_its_reminder(tmp_path, repository):
    sender = WaitingSender()
    room = ConsoleRoom({"alice", "bob"})
    service = ConsentService(repository, short_rounds(tmp_path), COMMANDS, room, sender, utc_now)
    scheduler = DueScheduler(service)
    job_done = asyncio.Event()
    scheduler.add_listener(lambda event: job_done.set() if sender.outcome.is_set() else None, EVENT_JOB_EXECUTED)
    await scheduler.start()
    try:
        await service.handle(Incoming(ROOM, "alice", "!propose Kettle", "$p", utc_now()))
        deadline = datetime.fromisoformat(sender.sent[0].payload["deadline"])
        assert scheduler.next_time() == deadline - timedelta(seconds=1)  # the reminder first
        await asyncio.wait_for(sender.outcome.wait(), timeout=15)
        assert [m.kind for m in sender.sent] == [Kind.BALLOT, Kind.SEED, Kind.REMINDER, Kind.OUTCOME]
        assert "Not answered yet: alice, bob." in sender.sent[2].body
        assert sender.sent[3].payload["state"] == "adopted"
        # Once the closing job has finished, the round owes nothing more: the next job is the decision's
        # follow-up reminder, 30 calendar days after its adoption.
        await asyncio.wait_for(job_done.wait(), timeout=5)
        adopted = datetime.fromisoformat(sender.sent[3].payload["deadline"])
        assert scheduler.next_time() - adopted >= timedelta(days=30)
        assert scheduler.next_time() - adopted <= timedelta(days=30, hours=1)  # a DST change on the way
    finally:
        scheduler.shutdown()


async def test_jobs_are_rebuilt_from_the_database_at_start(tmp_path, repository):
    config = write_config(tmp_path, language="en", working_days_only=False, minimum_duration="1h", reminders=[])
    opened = utc_now()
    before = ConsentService(repository, config, COMMANDS, ConsoleRoom(), RecordingSender(), Clock(opened))
    await before.handle(Incoming(ROOM, "alice", "!propose Kettle", "$p", opened))
    # A new process: nothing scheduled until start() reads the open proposals.
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom(), RecordingSender(), utc_now)
    scheduler = DueScheduler(service)
    assert scheduler.next_time() is None
    await scheduler.start()
    try:
        assert scheduler.next_time() == opened + timedelta(hours=1)
    finally:
        scheduler.shutdown()


async def test_a_deadline_missed_while_down_is_closed_at_start_and_said_so(tmp_path, repository):
    config = short_rounds(tmp_path)
    long_ago = utc_now() - timedelta(days=1)
    before = ConsentService(repository, config, COMMANDS, ConsoleRoom(), RecordingSender(), Clock(long_ago))
    await before.handle(Incoming(ROOM, "alice", "!propose Kettle", "$p", long_ago))
    sender = WaitingSender()
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom({"alice"}), sender, utc_now)
    scheduler = DueScheduler(service)
    await scheduler.start()
    try:
        await asyncio.wait_for(sender.outcome.wait(), timeout=10)
        [outcome] = sender.sent
        assert "while the bot was offline" in outcome.body
    finally:
        scheduler.shutdown()


async def test_an_extension_moves_the_due_time_and_the_job_wakes_at_the_earliest(tmp_path, repository):
    config = write_config(tmp_path, language="en", working_days_only=False, minimum_duration="1h", reminders=[],
                          facilitators=["fatima"])
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom(), RecordingSender(), utc_now)
    scheduler = DueScheduler(service)
    await scheduler.start()
    try:
        now = utc_now()
        await service.handle(Incoming(ROOM, "alice", "!propose Kettle", "$p", now))
        assert scheduler.next_time() == now + timedelta(hours=1)
        await service.handle(Incoming(ROOM, "fatima", "!extend #1 2h", "$e", now))
        # One job for every proposal: it wakes at the earliest; at its run, nothing is due yet, and it is set
        # again at the new deadline.
        await service.handle(Incoming(ROOM, "alice", "!propose Paint", "$p2", now))
        assert scheduler.next_time() == now + timedelta(hours=1)
        assert await repository.due_now(now + timedelta(hours=1)) == [(ROOM, 2)]
    finally:
        scheduler.shutdown()


async def test_work_that_comes_due_during_a_slow_run_is_done_when_the_run_ends(tmp_path, repository):
    # Seen under a throttling homeserver: reading the platform before a deadline took long, the job came due again
    # meanwhile, and APScheduler dropped that run; the rounds due then never closed.
    sender = WaitingSender()
    config = write_config(tmp_path, language="en", working_days_only=False, minimum_duration="1s", reminders=[])
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom({"alice"}), sender, utc_now)
    reading, read = asyncio.Event(), asyncio.Event()

    async def slow_catch_up(room: str) -> bool:
        reading.set()
        await read.wait()
        return True

    scheduler = DueScheduler(service, catch_up=slow_catch_up)
    fired_again = asyncio.Event()
    scheduler.add_listener(lambda event: fired_again.set() if reading.is_set() else None,
                           EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES)
    await scheduler.start()
    try:
        await service.handle(Incoming(ROOM, "alice", "!propose Kettle", "$p1", utc_now()))
        await asyncio.wait_for(reading.wait(), timeout=10)  # #1's run reads the platform, and takes its time
        await service.handle(Incoming(ROOM, "alice", "!propose Paint", "$p2", utc_now()))
        await asyncio.wait_for(fired_again.wait(), timeout=10)  # #2 came due while #1's run was under way
        read.set()
        await until(lambda: [m.number for m in sender.sent if m.kind is Kind.OUTCOME] == [1, 2],
                    timeout=10, what="both outcomes")
    finally:
        scheduler.shutdown()
