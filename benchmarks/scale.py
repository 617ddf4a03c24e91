"""The scale figures of BENCHMARKS.md, each beside the minimal reference (benchmarks/reference.py) run in the
same process: python -m benchmarks.scale [--members 1000] [--proposals 10000] [--database memory|file|postgres]

- votes/s through the console's full path (a line typed → parsed → decided → stored → acknowledged),
  N members voting then changing their vote once;
- ms per vote once N positions are in (N = 100, 1,000, 5,000): flat means O(1) in the room's size;
- start → ready (the database opened, every due job rebuilt) with P open proposals;
- `!list` with P proposals, answered with its first page.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from benchmarks.reference import ReferenceVotes
from bot.config import load_config
from bot.console import Console, ConsoleRoom, ConsoleSender, SimulatedClock
from bot.app.handlers import COMMANDS
from bot.app.scheduler import DueScheduler
from bot.app.service import ConsentService
from storage.repository import Repository

START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)


def _config(folder: Path, database: str):
    path = folder / "config.yaml"
    storage = {"path": "bench.db"}
    path.write_text(yaml.safe_dump({"storage": storage, "assembly": {"language": "en", "minimum_duration": "60d"}}))
    return load_config(path, environ={})


async def _open(folder: Path, database: str) -> Repository:
    return await Repository.open(":memory:" if database == "memory" else folder / "bench.db")


async def _console(folder: Path, database: str, members: set[str]) -> tuple[Console, Repository]:
    repository = await _open(folder, database)
    console, _ = await _console_on(repository, _config(folder, database), members)
    return console, repository


async def _say(console: Console, member: str, line: str) -> None:
    console.member = member
    console.clock.now += timedelta(seconds=1)
    await console.handle(line)


async def votes_per_second(folder: Path, database: str, members: int, chunk: int = 100) -> None:
    """N members vote, then change their vote; the bot and the reference take turns by chunks of votes, so that
    the machine's drifts hit both alike."""
    names = [f"member{i:05d}" for i in range(members)]
    console, repository = await _console(folder, database, set(names))
    await _say(console, names[0], "!propose Kettle")
    reference = ReferenceVotes(":memory:" if database == "memory" else str(folder / "reference.db"))
    lines = [(name, "!agree #1") for name in names] + [(name, "!disagree #1 changed my mind") for name in names]
    ours = theirs = 0.0
    for start in range(0, len(lines), chunk):
        began = time.perf_counter()
        for member, line in lines[start:start + chunk]:
            await _say(console, member, line)
        ours += time.perf_counter() - began
        theirs += reference.run(lines[start:start + chunk], io.StringIO())
    await repository.close()
    reference.close()
    print(f"votes/s through the console, {members} members, {database}: {len(lines) / ours:,.0f} "
          f"(reference {len(lines) / theirs:,.0f}; the reference is {ours / theirs:.1f}x faster)")


async def cost_per_vote(folder: Path, database: str, sizes: tuple[int, ...], sample: int = 200,
                        rounds: int = 5) -> None:
    """One room per size, each with a proposal holding that many positions; then members who already voted
    change their vote, one vote in each room in turn (so that the machine's drifts hit every size alike)."""
    names = [f"member{i:05d}" for i in range(max(sizes))]
    console, repository = await _console(folder, database, set(names))
    rooms = {size: f"room-{size}" for size in sizes}
    for size, room in rooms.items():
        console.room_id = room
        await _say(console, names[0], "!propose Kettle")
        for name in names[:size]:
            await _say(console, name, "!agree #1")
    timings: dict[int, list[float]] = {size: [] for size in sizes}
    for i in range(sample * rounds):
        for size, room in rooms.items():
            console.room_id = room
            t0 = time.perf_counter()
            await _say(console, names[i % size], "!abstain #1" if i % 2 else "!agree #1")
            timings[size].append(time.perf_counter() - t0)
    await repository.close()
    medians = {size: statistics.median(values) * 1000 for size, values in timings.items()}
    shown = " / ".join(f"N={size:,}: {ms:.2f} ms" for size, ms in medians.items())
    print(f"ms per vote (median of {sample * rounds}) once N positions are in, {database}: {shown}; "
          f"N={sizes[-1]:,} is {medians[sizes[-1]] / medians[sizes[0]]:.2f}x N={sizes[0]:,}")


async def start_and_list(folder: Path, database: str, proposals: int) -> None:
    """P proposals made through the bot (their ballots in the outbox, their due times recorded); then the bot
    starts on that register — the database opened, the scheduler set — and someone asks for !list."""
    config = _config(folder, database)
    repository = await _open(folder, database)
    names = {"alice"}
    console, _ = await _console_on(repository, config, names)
    for number in range(1, proposals + 1):
        await _say(console, "alice", f"!propose Proposal {number}")
    if database != "memory":
        await repository.close()
    began = time.perf_counter()
    if database != "memory":
        repository = await _open(folder, database)
    console, service = await _console_on(repository, config, names)
    scheduler = DueScheduler(service, SimulatedClock(console.clock.now))
    await scheduler.start()
    ready = time.perf_counter() - began
    scheduler.shutdown()
    began = time.perf_counter()
    await _say(console, "alice", "!list")
    listing = time.perf_counter() - began
    await repository.close()
    reference = ReferenceVotes(":memory:" if database == "memory" else str(folder / "reference.db"))
    reference_list = reference.list_proposals(proposals, io.StringIO())
    began = time.perf_counter()
    reference.db.execute("SELECT MIN(number) FROM proposals WHERE state = 'open'").fetchone()
    reference_ready = time.perf_counter() - began
    reference.close()
    print(f"start → ready with {proposals:,} open proposals, {database}: {ready * 1000:.1f} ms "
          f"(reference {reference_ready * 1000:.2f} ms)")
    print(f"!list with {proposals:,} proposals, {database}: {listing * 1000:.1f} ms "
          f"(reference {reference_list * 1000:.2f} ms)")


async def _console_on(repository: Repository, config, names: set[str]) -> tuple[Console, ConsentService]:
    clock = SimulatedClock(START)
    room = ConsoleRoom(set(names))
    service = ConsentService(repository, config, COMMANDS, room, ConsoleSender(io.StringIO(), as_json=False), clock)
    return Console(service, room, clock, io.StringIO()), service


async def main(members: int, proposals: int, databases: list[str]) -> None:
    for database in databases:
        with tempfile.TemporaryDirectory() as folder:
            await votes_per_second(Path(folder), database, members)
        with tempfile.TemporaryDirectory() as folder:
            await cost_per_vote(Path(folder), database, (100, 1000, 5000))
        with tempfile.TemporaryDirectory() as folder:
            await start_and_list(Path(folder), database, proposals)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--database", action="append", choices=["memory", "file"])
    options = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(options.members, options.proposals, options.database or ["memory", "file"]))
