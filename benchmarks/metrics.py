"""What the metrics cost a vote, measured beside the same run without them: python -m benchmarks.metrics [--runs 5]

A vote goes the full path of a chat adapter's (ChatBot.instant, the service: parse, one transaction on a SQLite
file, engine, outbox, delivery to a null platform), N members voting then changing their vote. The same votes go
to two bots on fresh databases, one watched by the metrics (bot.ops.metrics: the service's observer, the transaction
timer, the lag histogram), one not (the service's default observer, which ignores everything), 50 votes at a time
each, in turn: CPU time per vote (process_time) on each side, and their ratio, run by run; the median ratio is the
figure. The calls the metrics receive per vote are also counted, and timed alone many times over: their CPU per
vote, beside the vote's (what the ratio would show on an idle machine).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml

from benchmarks.service import ROOM, START, Clock, NullPlatform
from bot.app.ports import Incoming
from bot.chat.core import ChatBot
from bot.config import load_config
from bot.console import ConsoleRoom
from bot.engine.model import Action, Change, Position
from bot.ops.metrics import Metrics
from storage.repository import Repository


class BenchBot(ChatBot):
    """A chat adapter with no platform: what the metrics watch, as a real adapter would have it."""

    async def serve(self) -> None: ...

    async def catch_up(self, room: str) -> bool:
        return True

    async def close(self) -> None: ...


HOOKS = ("decided", "queued", "sent", "received")
BLOCK = 50
"""Votes in a row on one side before the other side's turn: both sides share whatever load comes and goes."""


async def voting(folder: Path, members: list[str], watched: bool, calls: dict[str, int] | None = None):
    """A bot on a fresh SQLite file with a proposal open; with ``watched``, the metrics watch it."""
    path = folder / f"{'watched' if watched else 'bare'}-{time.monotonic_ns()}"
    path.mkdir()
    (path / "config.yaml").write_text(yaml.safe_dump({"storage": {"path": "bench.db"}, "assembly": {"language": "en"}}))
    config = load_config(path / "config.yaml", environ={})
    repository = await Repository.open(config.storage.path)
    clock = Clock(START)
    bot = BenchBot(config, repository, ConsoleRoom(set(members)), NullPlatform(), clock)
    if watched:
        metrics = Metrics(bot)
        bot.service.watch(metrics)
        if calls is not None:
            count(metrics, repository, calls)
    await bot.service.handle(Incoming(ROOM, members[0], "!propose Kettle", "$proposal", START))
    return bot, clock


async def cpu_per_vote(members: int, folder: Path, calls: dict[str, int] | None = None) -> tuple[float, float]:
    """CPU per vote without the metrics and with them: the same votes on two bots, BLOCK votes at a time each."""
    names = sorted(f"member{i:05d}" for i in range(members))
    sides = {watched: await voting(folder, names, watched, calls) for watched in (False, True)}
    spent = {False: 0.0, True: 0.0}
    votes = [(turn, i, verb) for turn, verb in enumerate(("!agree #1", "!disagree #1 changed my mind"))
             for i in range(members)]
    for block in range(0, len(votes), BLOCK):
        for watched in ((False, True) if block // BLOCK % 2 == 0 else (True, False)):
            bot, clock = sides[watched]
            began = time.process_time()
            for turn, i, verb in votes[block:block + BLOCK]:
                clock.now = START + timedelta(seconds=turn * members + i + 1)
                await bot.service.handle(Incoming(ROOM, names[i], verb, f"${turn}-{i}", bot.instant(clock.now)))
            spent[watched] += time.process_time() - began
    for bot, _ in sides.values():
        await bot.repository.close()
    return spent[False] / len(votes), spent[True] / len(votes)


def count(metrics: Metrics, repository: Repository, calls: dict[str, int]) -> None:
    """Count each call the metrics receive (the service's hooks, the transaction timer)."""
    def counted(name: str, hook):
        def call(*arguments):
            calls[name] = calls.get(name, 0) + 1
            return hook(*arguments)
        return call

    for name in HOOKS:
        setattr(metrics, name, counted(name, getattr(metrics, name)))
    repository.on_transaction = counted("transaction", repository.on_transaction)


def hooks_per_vote(members: int, folder: Path, rounds: int = 20_000) -> float:
    """The CPU the metrics' own calls cost per vote: as many calls as a vote makes, timed alone."""
    calls: dict[str, int] = {}
    asyncio.run(cpu_per_vote(members, folder, calls))
    votes = 2 * members
    with tempfile.TemporaryDirectory() as spare:
        (Path(spare) / "c.yaml").write_text("storage: {path: x.db}\n")
        config = load_config(Path(spare) / "c.yaml", environ={})
        repository = asyncio.run(Repository.open(config.storage.path))
        metrics = Metrics(BenchBot(config, repository, ConsoleRoom(set()), NullPlatform(), Clock(START)))
        change = (Change(Action.POSITION, "m", START, 1, Position.AGREE),)
        work = {"decided": lambda: metrics.decided("agree", "done", change), "queued": lambda: metrics.queued("ack"),
                "sent": lambda: metrics.sent("ack", 0.001), "received": lambda: metrics.received(0.2),
                "transaction": lambda: repository.on_transaction(0.0004)}
        per_vote = 0.0
        for name, call in work.items():
            began = time.process_time()
            for _ in range(rounds):
                call()
            per_vote += (time.process_time() - began) / rounds * calls.get(name, 0) / votes
        asyncio.run(repository.close())
    print("calls the metrics receive per vote: " + ", ".join(f"{name} {calls.get(name, 0) / votes:.2f}"
                                                           for name in work))
    return per_vote


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    ratios, spent_bare = [], []
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(cpu_per_vote(200, Path(folder)))  # warm up: imports, catalogs, caches
        for run in range(arguments.runs):
            bare, watched = asyncio.run(cpu_per_vote(arguments.members, Path(folder)))
            ratios.append(watched / bare)
            spent_bare.append(bare)
            print(f"run {run + 1}: CPU per vote {bare * 1e6:.0f} µs without metrics, {watched * 1e6:.0f} µs with them: "
                  f"{ratios[-1]:.3f}x")
        bare = statistics.median(spent_bare)
        hooks = hooks_per_vote(arguments.members, Path(folder))
    print(f"metrics cost per vote, whole votes: median {statistics.median(ratios):.3f}x (runs {min(ratios):.3f}-"
          f"{max(ratios):.3f}x; goal < 1.05x)")
    print(f"metrics cost per vote, their calls alone: {hooks * 1e6:.1f} µs of a vote's {bare * 1e6:.0f} µs = "
          f"{hooks / bare * 100:.2f} %")


if __name__ == "__main__":
    main()
