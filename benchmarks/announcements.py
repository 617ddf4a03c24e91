"""A slow list server never delays a vote: python -m benchmarks.announcements [--outcomes 1000] [--votes 2000]

Two runs of the same service on a SQLite file, taking turns by blocks of votes: one whose assembly mails its list
through an SMTP server (aiosmtpd, in its own thread) that takes 100 ms a mail, with ``--outcomes`` outcomes (and
as many proposals) queued for it before the votes start, the announcer sending them in the background; the other
mailing nothing. Each vote's latency is the time from the member's command to the bot's answer in the chat; the
figure is the ratio of the medians (and of the 95th percentiles), with vs without the mails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml
from aiosmtpd.controller import Controller

from benchmarks.service import ROOM, START, Clock, NullPlatform, percentile
from bot.app.announcer import Announcer
from bot.app.handlers import COMMANDS
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from bot.channels import Channels
from bot.config import load_config
from bot.console import ConsoleRoom
from storage.repository import Repository
from tests.servers.announcements import free_port

PACE = 0.002
"""Seconds between two votes: 500 votes a second offered, far more than an assembly casts."""


class SlowList:
    """An SMTP server that takes ``delay`` seconds to accept each mail."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        await asyncio.sleep(self.delay)
        self.accepted += 1
        return "250 OK"


async def assembly(folder: Path, port: int | None, members: int) -> tuple[ConsentService, Clock, Repository]:
    email = {"lists": ["list@example.org"], "sender": "bot@example.org", "host": "127.0.0.1", "port": port,
             "security": "none", "per_minute": 600} if port else {}
    (folder / "config.yaml").write_text(yaml.safe_dump({"storage": {"path": "bench.db"}, "assembly": {
        "language": "en", "working_days_only": False, "email": email}}))
    config = load_config(folder / "config.yaml", environ={})
    repository = await Repository.open(config.storage.path)
    clock = Clock(START)
    names = {f"member{i:05d}" for i in range(members)}
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom(names), NullPlatform(), clock)
    if port:
        service.announcer = Announcer(repository, config, clock, Channels(config))
    return service, clock, repository


async def queue_outcomes(service: ConsentService, clock: Clock, outcomes: int) -> None:
    """``outcomes`` proposals made and closed: a proposal's mail and an outcome's each, queued."""
    for number in range(1, outcomes + 1):
        await service.handle(Incoming(ROOM, "member00000", f"!propose Decision {number}", f"$p{number}", clock.now))
    clock.now += timedelta(days=4)
    while (due := await service.next_due()) is not None and due[0] <= clock.now:
        await service.run_due(due[1], due[2], clock.now)


async def run(outcomes: int, votes: int) -> None:
    slow = SlowList(0.1)
    controller = Controller(slow, hostname="127.0.0.1", port=free_port())
    controller.start()
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as other:
        mailing = await assembly(Path(one), controller.port, votes)
        quiet = await assembly(Path(other), None, votes)
        for service, clock, _ in (mailing, quiet):
            await queue_outcomes(service, clock, outcomes)
            await service.handle(Incoming(ROOM, "member00000", "!propose Kettle", "$kettle", clock.now))
        latencies: dict[str, list[float]] = {"mails": [], "none": []}
        pending_at_start = len(await mailing[2].pending_announcements())
        announcing = mailing[0].announcer.start()
        for block in range(0, votes, 100):
            for label, (service, clock, _) in (("mails", mailing), ("none", quiet)):
                for i in range(block, min(block + 100, votes)):
                    clock.now += timedelta(seconds=1)
                    await asyncio.sleep(PACE)  # members' votes come one by one: the loop is idle between them
                    t0 = time.perf_counter()
                    await service.handle(Incoming(ROOM, f"member{i:05d}", f"!agree #{outcomes + 1}", f"$v{i}",
                                                  clock.now))
                    latencies[label].append(time.perf_counter() - t0)
        sent_meanwhile = slow.accepted
        announcing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await announcing  # its send under way ends before the database it notes in closes
        for _, _, repository in (mailing, quiet):
            await repository.close()
    controller.stop()
    with_mails, without = latencies["mails"], latencies["none"]
    print(f"{outcomes} outcomes and {outcomes} proposals queued ({pending_at_start} mails pending when the votes "
          f"began); {sent_meanwhile} accepted by the slow server (100 ms each) while {votes} votes were answered")
    for name, values in (("with mails", with_mails), ("without", without)):
        print(f"{name:>11}: vote answered in p50 {statistics.median(values) * 1000:.2f} ms, "
              f"p95 {percentile(values, 0.95) * 1000:.2f} ms")
    print(f"ratio with / without: p50 {statistics.median(with_mails) / statistics.median(without):.3f}, "
          f"p95 {percentile(with_mails, 0.95) / percentile(without, 0.95):.3f} (goal: at most 1.10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=1000)
    parser.add_argument("--votes", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.outcomes, arguments.votes))


if __name__ == "__main__":
    main()
