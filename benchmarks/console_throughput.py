"""The console driven as scripts drive it, beside the same votes handed to the service in process:
python -m benchmarks.console_throughput [--members 1000] [--runs 5]

The console: ``run_console`` (what ``consent-bot console --json`` runs) on a SQLite file, its input the read end of
a pipe a thread writes the script into — ``!propose Kettle``, then every member's ``/as memberNNNNN`` and
``!agree #1``, then each member's ``!disagree #1 …`` —, its JSON lines written to /dev/null. The reference: the same
proposal and 2 × N votes through ``ConsentService.handle`` in this process, on a SQLite file, members known
beforehand, answers to a null platform (benchmarks.service's path). Both databases are made beforehand. The two
take turns run by run; measured in CPU time of this process (the machine's other work does not count) and wall
time; the figure is the ratio of the CPU times (goal: at most 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import yaml

from benchmarks.service import ROOM, START, Clock, NullPlatform
from bot.app.handlers import COMMANDS
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from bot.config import Config, load_config
from bot.console import ConsoleRoom, run_console
from storage.repository import Repository

VOTES = ("!agree #1", "!disagree #1 changed my mind")


def names(members: int) -> list[str]:
    return [f"member{i:05d}" for i in range(members)]


async def made(folder: Path) -> Config:
    """The configuration of a run, its database made (migrations are no part of what is measured)."""
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({"storage": {"path": "bench.db"}, "assembly": {"language": "en"}}))
    config = load_config(path, environ={})
    await (await Repository.open(config.storage.path)).close()
    return config


async def through_the_console(config: Config, members: int) -> None:
    script = "!propose Kettle\n" + "".join(f"/as {name}\n{verb}\n" for verb in VOTES for name in names(members))
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "w", encoding="utf-8") as pipe:
            pipe.write(script)

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_end, encoding="utf-8") as source, open(os.devnull, "w") as nowhere:
        await run_console(config, START, True, config.storage.path, source, nowhere, nowhere)
    writer.join()


async def in_process(config: Config, members: int) -> None:
    repository = await Repository.open(config.storage.path)
    clock = Clock(START)
    service = ConsentService(repository, config, COMMANDS, ConsoleRoom(set(names(members))), NullPlatform(), clock)
    await service.handle(Incoming(ROOM, "member00000", "!propose Kettle", "$proposal", START))
    for turn, verb in enumerate(VOTES):
        for i, name in enumerate(names(members)):
            clock.now = START + timedelta(seconds=turn * members + i + 1)
            await service.handle(Incoming(ROOM, name, verb, f"${turn}-{i}", clock.now))
    await repository.close()


def timed(path: Callable[[Config, int], Awaitable[None]], members: int) -> tuple[float, float]:
    """CPU and wall seconds of one run of ``path``."""
    with tempfile.TemporaryDirectory() as folder:
        config = asyncio.run(made(Path(folder)))
        cpu, wall = time.process_time(), time.perf_counter()
        asyncio.run(path(config, members))
        return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    votes = len(VOTES) * arguments.members
    console, reference = [], []
    for run in range(arguments.runs):
        reference.append(timed(in_process, arguments.members))
        console.append(timed(through_the_console, arguments.members))
        print(f"run {run + 1}: in process {reference[-1][0]:.2f} s CPU ({reference[-1][1]:.2f} s), console "
              f"{console[-1][0]:.2f} s CPU ({console[-1][1]:.2f} s), ratio {console[-1][0] / reference[-1][0]:.2f}")
    cpu = statistics.median(c for c, _ in console) / statistics.median(c for c, _ in reference)
    wall = statistics.median(w for _, w in console) / statistics.median(w for _, w in reference)
    print(f"median: in process {votes / statistics.median(c for c, _ in reference):.0f} votes per CPU second, "
          f"console {votes / statistics.median(c for c, _ in console):.0f}; the console takes {cpu:.2f}x the CPU "
          f"time ({wall:.2f}x the wall time) of the votes in process (goal: at most 1.5)")


if __name__ == "__main__":
    main()
