"""Speed and memory of the bot's core, measured (not asserted): python -m benchmarks.service [--members N]

- votes: N members each vote through the full path (parse, transaction on a SQLite file, engine, save,
  outbox, delivery to a null platform), then change their vote once: latency per vote and throughput;
- closing the round with N positions and rendering its outcome;
- working_deadline() over a year of start instants;
- peak Python memory (tracemalloc) and the process's maximum resident size.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from bot.config import load_config
from bot.console import ConsoleRoom
from bot.engine.calendar import WorkingCalendar, working_deadline
from bot.app.handlers import COMMANDS
from bot.messages.outgoing import Outgoing
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from storage.repository import Repository

ROOM = "!bench:test"
START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)


class NullPlatform:
    async def send(self, message: Outgoing, ballot_id: str | None) -> str:
        return message.key


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[int(share * (len(values) - 1))]


async def votes(members: int, folder: Path) -> None:
    config_path = folder / "config.yaml"
    config_path.write_text(yaml.safe_dump({"storage": {"path": "bench.db"}, "assembly": {"language": "en"}}))
    config = load_config(config_path, environ={})
    repository = await Repository.open(config.storage.path)
    names = {f"member{i:05d}" for i in range(members)}
    clock = Clock(START)
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom(set(names)), NullPlatform(), clock)
    await service.handle(Incoming(ROOM, "member00000", "!propose Kettle", "$proposal", START))
    latencies = []
    began = time.perf_counter()
    for turn, verb in enumerate(("!agree #1", "!disagree #1 changed my mind")):
        for i, name in enumerate(sorted(names)):
            clock.now = START + timedelta(seconds=turn * members + i + 1)
            t0 = time.perf_counter()
            await service.handle(Incoming(ROOM, name, verb, f"${turn}-{i}", clock.now))
            latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - began
    print(f"votes: {len(latencies)} through the full path in {elapsed:.2f} s = {len(latencies) / elapsed:.0f} votes/s;"
          f" latency p50 {statistics.median(latencies) * 1000:.2f} ms, p95 {percentile(latencies, 0.95) * 1000:.2f} ms,"
          f" max {max(latencies) * 1000:.2f} ms")
    due = await service.next_due()
    clock.now = due[0] + timedelta(days=4)
    t0 = time.perf_counter()
    while (due := await service.next_due()) is not None:
        await service.run_due(due[1], due[2], clock.now)
    print(f"closing the round with {members} positions and announcing it: {(time.perf_counter() - t0) * 1000:.1f} ms")
    await repository.close()
    size = sum(p.stat().st_size for p in folder.glob("bench.db*"))
    print(f"database after {members} members x 2 votes: {size / 1024:.0f} KiB")


def deadlines() -> None:
    calendar = WorkingCalendar()
    starts = [START + timedelta(hours=7 * i) for i in range(365 * 24 // 7)]
    working_deadline(starts[0], timedelta(hours=72), calendar)  # load the holiday tables once
    t0 = time.perf_counter()
    for start in starts:
        working_deadline(start, timedelta(hours=72), calendar)
    per_call = (time.perf_counter() - t0) / len(starts)
    print(f"working_deadline(72h, FR holidays): {per_call * 1e6:.1f} µs per call over {len(starts)} starts")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    arguments = parser.parse_args()
    deadlines()
    tracemalloc.start()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(votes(arguments.members, Path(folder)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: peak traced Python allocations {peak / 1024 / 1024:.1f} MiB; max resident size {rss:.0f} MiB")


if __name__ == "__main__":
    main()
