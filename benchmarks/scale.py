"""The scale figures of BENCHMARKS.md, each beside the minimal reference (benchmarks/reference.py) run in the
same process: python -m benchmarks.scale [--members 1000] [--proposals 10000] [--database memory|file|postgres]
[--runs 5]

postgres: a throwaway PostgreSQL server (tests/servers/postgres.py) with its default, durable settings (fsync
on), over a unix socket; the bot and the reference each on a fresh database of it, with the bot's session
settings (synchronous_commit=off, as SQLite's synchronous=NORMAL for the file).

- votes/s through the console's full path (a line typed → parsed → decided → stored → acknowledged),
  N members voting then changing their vote once;
- ms per vote once N positions are in (N = 100, 1,000, 5,000): flat means O(1) in the room's size;
- start → ready (the database opened, every due job rebuilt) with P open proposals;
- `!list` with P proposals, answered with its first page.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from benchmarks.reference import PostgresReferenceVotes, ReferenceVotes
from bot.config import load_config
from bot.console import Console, ConsoleRoom, ConsoleSender, SimulatedClock
from bot.app.handlers import COMMANDS
from bot.app.scheduler import DueScheduler
from bot.app.service import ConsentService
from storage.repository import Repository
from tests.servers.postgres import PostgresServer

START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)


def _config(folder: Path, database: str):
    path = folder / "config.yaml"
    storage = {"path": "bench.db"}
    path.write_text(yaml.safe_dump({"storage": storage, "assembly": {"language": "en", "minimum_duration": "60d"}}))
    return load_config(path, environ={})


class Place:
    """Where one benchmark keeps the bot's register and the reference's: in memory, in SQLite files in
    ``folder``, or in two fresh databases of a PostgreSQL server."""

    def __init__(self, folder: Path, database: str, server: PostgresServer | None) -> None:
        self.folder, self.database, self.server = folder, database, server
        self.bot: str | None = None

    async def open(self) -> Repository:
        """The bot's register (the same one again after it was closed)."""
        if self.bot is None:
            self.bot = {"memory": ":memory:", "file": str(self.folder / "bench.db")}.get(self.database) or (
                await self.server.create_database())
        return await Repository.open(self.bot)

    async def reference(self) -> ReferenceVotes | PostgresReferenceVotes:
        if self.database == "postgres":
            return await PostgresReferenceVotes.connect(await self.server.create_database())
        return ReferenceVotes(":memory:" if self.database == "memory" else str(self.folder / "reference.db"))


async def _settled(result):
    """What a reference's method gives: at once for SQLite, awaited for PostgreSQL."""
    return await result if inspect.isawaitable(result) else result


async def _console(place: Place, members: set[str]) -> tuple[Console, Repository]:
    repository = await place.open()
    console, _ = await _console_on(repository, _config(place.folder, place.database), members)
    return console, repository


async def _say(console: Console, member: str, line: str) -> None:
    console.member = member
    console.clock.now += timedelta(seconds=1)
    await console.handle(line)


async def votes_per_second(place: Place, members: int, chunk: int = 100) -> tuple[float, float]:
    """N members vote, then change their vote; the bot and the reference take turns by chunks of votes, so that
    the machine's drifts hit both alike. Votes/s of the bot and of the reference."""
    names = [f"member{i:05d}" for i in range(members)]
    console, repository = await _console(place, set(names))
    await _say(console, names[0], "!propose Kettle")
    reference = await place.reference()
    lines = [(name, "!agree #1") for name in names] + [(name, "!disagree #1 changed my mind") for name in names]
    ours = theirs = 0.0
    for start in range(0, len(lines), chunk):
        began = time.perf_counter()
        for member, line in lines[start:start + chunk]:
            await _say(console, member, line)
        ours += time.perf_counter() - began
        theirs += await _settled(reference.run(lines[start:start + chunk], io.StringIO()))
    await repository.close()
    await _settled(reference.close())
    return len(lines) / ours, len(lines) / theirs


async def votes_per_second_runs(folder: Path, database: str, server: PostgresServer | None, members: int,
                                runs: int) -> None:
    """``runs`` measures of votes/s, each on fresh registers: their median, and their range (the machine is
    shared: one run can fall on a busy moment)."""
    figures = []
    for run in range(runs):
        place_folder = folder / f"run{run}"
        place_folder.mkdir()
        figures.append(await votes_per_second(Place(place_folder, database, server), members))
    ours = sorted(f[0] for f in figures)
    theirs = sorted(f[1] for f in figures)
    ratios = sorted(f[1] / f[0] for f in figures)
    print(f"votes/s through the console, {members} members, {database}, median of {runs} runs: "
          f"{statistics.median(ours):,.0f} (runs {ours[0]:,.0f}–{ours[-1]:,.0f}); reference "
          f"{statistics.median(theirs):,.0f} ({theirs[0]:,.0f}–{theirs[-1]:,.0f}); the reference is "
          f"{statistics.median(ratios):.1f}x faster ({ratios[0]:.1f}–{ratios[-1]:.1f}x)")


async def cost_per_vote(place: Place, sizes: tuple[int, ...], sample: int = 200, rounds: int = 5) -> None:
    """One room per size, each with a proposal holding that many positions; then members who already voted
    change their vote, one vote in each room in turn (so that the machine's drifts hit every size alike)."""
    names = [f"member{i:05d}" for i in range(max(sizes))]
    console, repository = await _console(place, set(names))
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
    print(f"ms per vote (median of {sample * rounds}) once N positions are in, {place.database}: {shown}; "
          f"N={sizes[-1]:,} is {medians[sizes[-1]] / medians[sizes[0]]:.2f}x N={sizes[0]:,}")


async def start_and_list(place: Place, proposals: int) -> None:
    """P proposals made through the bot (their ballots in the outbox, their due times recorded); then the bot
    starts on that register — the database opened, the scheduler set — and someone asks for !list."""
    config = _config(place.folder, place.database)
    repository = await place.open()
    names = {"alice"}
    console, _ = await _console_on(repository, config, names)
    for number in range(1, proposals + 1):
        await _say(console, "alice", f"!propose Proposal {number}")
    if place.database != "memory":
        await repository.close()
    began = time.perf_counter()
    if place.database != "memory":
        repository = await place.open()
    console, service = await _console_on(repository, config, names)
    scheduler = DueScheduler(service, SimulatedClock(console.clock.now))
    await scheduler.start()
    ready = time.perf_counter() - began
    scheduler.shutdown()
    began = time.perf_counter()
    await _say(console, "alice", "!list")
    listing = time.perf_counter() - began
    await repository.close()
    reference = await place.reference()
    reference_list = await _settled(reference.list_proposals(proposals, io.StringIO()))
    reference_ready = await _settled(reference.ready())
    await _settled(reference.close())
    print(f"start → ready with {proposals:,} open proposals, {place.database}: {ready * 1000:.1f} ms "
          f"(reference {reference_ready * 1000:.2f} ms)")
    print(f"!list with {proposals:,} proposals, {place.database}: {listing * 1000:.1f} ms "
          f"(reference {reference_list * 1000:.2f} ms)")


async def _console_on(repository: Repository, config, names: set[str]) -> tuple[Console, ConsentService]:
    clock = SimulatedClock(START)
    room = ConsoleRoom(set(names))
    service = ConsentService(repository, config, COMMANDS, room, ConsoleSender(io.StringIO(), as_json=False), clock)
    return Console(service, room, clock, io.StringIO()), service


async def main(members: int, proposals: int, databases: list[str], runs: int) -> None:
    server = PostgresServer.start() if "postgres" in databases else None
    try:
        for database in databases:
            with tempfile.TemporaryDirectory() as folder:
                await votes_per_second_runs(Path(folder), database, server, members, runs)
            with tempfile.TemporaryDirectory() as folder:
                await cost_per_vote(Place(Path(folder), database, server), (100, 1000, 5000))
            with tempfile.TemporaryDirectory() as folder:
                await start_and_list(Place(Path(folder), database, server), proposals)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--database", action="append", choices=["memory", "file", "postgres"])
    parser.add_argument("--runs", type=int, default=5, help="measures of votes/s (their median is shown)")
    options = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(options.members, options.proposals, options.database or ["memory", "file"], options.runs))
