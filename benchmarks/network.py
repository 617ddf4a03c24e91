"""What a joint decision costs (issue 21): python -m benchmarks.network [--rooms 20] [--members 500] [--runs 7]

A network of ``rooms`` rooms of ``members`` members each (one in twenty also a member of the next room), on a SQLite
file, the whole service path (parse, one transaction, engine, outbox, delivery to a null platform):

- a vote's CPU time on the network's joint decision beside a vote on a room's own proposal, measured in turn, 200
  votes at a time each, by the same members in the same rooms (each room has a proposal of its own: only the
  joint-ness differs) (goal: no more);
- the joint decision's close, everyone's latest position counted over the union of the rooms (goal ≤ 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from bot.app.handlers import COMMANDS
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from bot.config import load_config
from bot.console import ConsoleRoom
from bot.messages.outgoing import Outgoing
from storage.repository import Repository

START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)
BATCH = 200
POSITIONS = ("agree", "agree", "abstain", "disagree")


class Discard:
    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        return None


def member(room: int, index: int) -> str:
    return f"@m{room:02d}-{index:04d}:example.org"


def network(rooms: int, members: int) -> dict[str, set[str]]:
    """Room id → its members; one member in twenty also sits in the next room. Ids shaped as Matrix's (a room's and
    a member's, some thirty characters): SQLite's keys then weigh what they do in a deployment — with ids as short as
    "room00", shorter than the network's scope "network:metropole", a room's own vote came out 10 % cheaper."""
    people = {f"!room{r:02d}qwertyuiopasdf:example.org": {member(r, i) for i in range(members)} for r in range(rooms)}
    ids = sorted(people)
    for index, room in enumerate(ids):
        people[ids[(index + 1) % len(ids)]] |= {member(index, i) for i in range(0, members, 20)}
    return people


async def figures(folder: Path, rooms: int, members: int, runs: int) -> None:
    people = network(rooms, members)
    first, *others = sorted(people)
    (folder / "config.yaml").write_text(yaml.safe_dump({
        "storage": {"path": "bench.db"},
        "assembly": {"language": "en", "working_days_only": False, "reminders": [], "quorum": 0},
        "networks": [{"id": "metropole", "name": "Métropole", "rooms": sorted(people)}]}))
    config = load_config(folder / "config.yaml", environ={})
    directory = ConsoleRoom(set(people[first]), other_rooms={room: people[room] for room in others})
    repository = await Repository.open(folder / "bench.db")
    now = [START]
    service = ConsentService(repository, config, COMMANDS, directory, Discard(), lambda: now[0])
    count = 0

    async def say(room: str, member: str, text: str) -> None:
        nonlocal count
        count += 1
        now[0] += timedelta(milliseconds=1)
        await service.handle(Incoming(room, member, text, f"$e{count}", now[0]))
        await service.deliver()

    for room in sorted(people):
        await say(room, sorted(people[room])[0], "!propose A kettle for the room")
    await say(first, sorted(people[first])[0], "!joint A shared budget for the network")
    voters = [(room, member) for room in sorted(people) for member in sorted(people[room])]
    joint, own = [], []
    for run in range(runs):
        # Vote by vote in turn, the same member on the joint decision and on their room's own proposal: what the
        # machine does meanwhile (a WAL checkpoint, another process) weighs on both alike.
        spent = {"#metropole-1": 0.0, "#1": 0.0}
        for i in range(BATCH):
            room, member = voters[(run * BATCH + i) % len(voters)]
            for reference in ("#metropole-1", "#1") if i % 2 else ("#1", "#metropole-1"):
                began = time.process_time()
                await say(room, member, f"!{POSITIONS[i % len(POSITIONS)]} {reference}")
                spent[reference] += time.process_time() - began
        joint.append(spent["#metropole-1"] / BATCH)
        own.append(spent["#1"] / BATCH)
    for room, member in voters:  # everyone answers the joint decision before its close
        await say(room, member, f"!agree #metropole-1")
    union = len(set().union(*people.values()))
    due = await service.next_due()
    while due is not None and due[1] != "network:metropole":
        now[0] = max(now[0], due[0])
        await service.run_due(due[1], due[2], now[0])
        due = await service.next_due()
    assert due is not None, "the joint decision has a deadline"
    now[0] = max(now[0], due[0])
    began = time.perf_counter()
    await service.run_due(due[1], due[2], now[0])
    await service.deliver()
    closed = time.perf_counter() - began
    await repository.close()
    ratio = statistics.median(joint) / statistics.median(own)
    print(f"{rooms} rooms of {members} members, {union:,} members in the union")
    print(f"a vote on the joint decision: {statistics.median(joint) * 1e6:.0f} µs CPU (median of {runs} batches of "
          f"{BATCH}); on a room's own proposal: {statistics.median(own) * 1e6:.0f} µs; ratio {ratio:.2f} (goal <= 1)")
    print(f"closing the joint decision over the union (whole service path, outcome queued in {rooms} rooms): "
          f"{closed * 1000:.0f} ms (goal <= 1000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(figures(Path(folder), arguments.rooms, arguments.members, arguments.runs))


if __name__ == "__main__":
    main()
