"""Closing a round with delegations, measured: python -m benchmarks.delegation [--members 10000] [--delegations 5000]

A room of N members; half of those who do not delegate take a position (agree, abstain or disagree, and a few
blocks); D members delegate, in chains up to 50 long, each chain ending with a member who answered (or, one
chain in ten, with nobody, or in a cycle). Printed, each beside a minimal reference in the same run:

- resolving the delegated positions (bot.engine.rules.delegated_positions) against a bare dictionary walk;
- the whole close through the service on a SQLite file: the round loaded whole, the delegations as they stood
  at the deadline read, resolved, the outcome decided, saved (with every delegated position) and announced;
- the same D delegations spread over scopes as an assembly with 20 topics has them (see ``scoped``): resolved
  for a proposal on 1, 2 and 3 topics (bot.engine.rules.delegated_for) beside the room-wide resolution above
  (delegated_positions on the D room-wide delegations), goal at most 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from bot.app.handlers import COMMANDS
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from bot.config import load_config
from bot.console import ConsoleRoom
from bot.engine.model import Delegation, Position, Round, Rule, Stance
from bot.engine.rules import delegated_for, delegated_positions
from bot.messages.outgoing import Outgoing
from storage.repository import Repository

ROOM = "!bench:console"
START = datetime(2027, 6, 8, 8, 0, tzinfo=timezone.utc)
LONGEST_CHAIN = 50
TOPICS = tuple(f"t{i:02d}" for i in range(20))
PROPOSALS = 20
"""Delegations on a single proposal are spread over this many (the one that closes, #1, among them)."""
DEADLINE = START + timedelta(days=3)


def assembly(members: int, delegating: int, seed: int = 7) -> tuple[list[str], dict[str, Position], dict[str, str]]:
    """Member names, their own positions, and the delegations (member → delegate)."""
    rng = random.Random(seed)
    names = [f"m{i:05d}" for i in range(members)]
    delegators, others = names[:delegating], names[delegating:]
    own = {name: rng.choice([Position.AGREE, Position.AGREE, Position.ABSTAIN, Position.DISAGREE])
           for name in others[: len(others) // 2]}
    for name in rng.sample(sorted(own), max(1, len(own) // 100)):
        own[name] = Position.BLOCK
    answered = sorted(own)
    delegations: dict[str, str] = {}
    index = 0
    while index < len(delegators):
        chain = delegators[index:index + rng.randint(1, LONGEST_CHAIN)]
        index += len(chain)
        for member, delegate in zip(chain, chain[1:]):
            delegations[member] = delegate
        ending = rng.random()
        if ending < 0.05:
            delegations[chain[-1]] = chain[0]  # a cycle
        elif ending < 0.1:
            delegations[chain[-1]] = others[-1]  # a member who did not answer, and delegates to nobody
        else:
            delegations[chain[-1]] = rng.choice(answered)
    return names, own, delegations


def reference_resolution(own: dict[str, Position], delegations: dict[str, str], members: set[str]) -> dict:
    """The same job in its barest form: walk each chain once, remembering each member's answer."""
    memo: dict[str, object] = {}
    for start in delegations:
        if start in own or start in memo:
            continue
        path, node, answer = [], start, None
        while node not in memo:
            if node in own:
                answer = own[node]
                break
            if node in path or node not in delegations or node not in members:
                break
            path.append(node)
            node = delegations[node]
        else:
            answer = memo[node]
        for member in path:
            memo[member] = answer
    return memo


def engine_figures(members: int, delegating: int, repeat: int = 20) -> None:
    names, own, delegations = assembly(members, delegating)
    room = set(names)
    round_ = Round(1, Rule.CONSENT, START, START + timedelta(days=3), 1,
                   stances=tuple(Stance(member, position, START) for member, position in own.items()))
    ours, theirs = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        delegated = delegated_positions(round_, delegations, room)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        reference_resolution(own, delegations, room)
        theirs.append(time.perf_counter() - began)
    longest = max(_chain_length(member, delegations) for member in delegations)
    print(f"resolving {len(delegations):,} delegations (chains up to {longest}) among {members:,} members: "
          f"{statistics.median(ours) * 1000:.1f} ms, {len(delegated):,} counted by delegation "
          f"(reference {statistics.median(theirs) * 1000:.1f} ms, ratio {statistics.median(ours) / statistics.median(theirs):.1f})")


def scoped(delegations: dict[str, str], seed: int = 7) -> list[Delegation]:
    """As many delegations as the room-wide ``delegations`` (member → delegate), spread as an assembly with topics
    has them: 40 % on the room, 50 % on one of 20 topics, 10 % on one of 20 proposals. One in ten is a member's
    second delegation, on another scope (to the delegate of the edge it replaces); one in ten is given until a
    day, a fifth of those ended before the deadline (not expired yet: the close still reads them)."""
    rng = random.Random(seed)
    edges = list(delegations.items())
    firsts = edges[:len(edges) * 9 // 10]
    given = {(member, _scope(rng)): delegate for member, delegate in firsts}
    for _, delegate in edges[len(firsts):]:
        member, scope = rng.choice(firsts)[0], _scope(rng)
        while (member, scope) in given or member == delegate:
            member, scope = rng.choice(firsts)[0], _scope(rng)
        given[(member, scope)] = delegate
    return [Delegation(member, delegate, scope, _until(rng)) for (member, scope), delegate in given.items()]


def _scope(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.4:
        return ""
    return f"topic:{rng.choice(TOPICS)}" if draw < 0.9 else f"proposal:{rng.randint(1, PROPOSALS)}"


def _until(rng: random.Random) -> datetime | None:
    draw = rng.random()
    if draw < 0.02:
        return DEADLINE - timedelta(hours=1)
    return DEADLINE + timedelta(days=30) if draw < 0.1 else None


def scoped_engine_figures(members: int, delegating: int, repeat: int = 20) -> None:
    """delegated_for on the scoped delegations, for proposal #1 on 1–3 topics, beside delegated_positions on the
    room-wide ones (today's resolution), measured in turn in the same loop."""
    names, own, room_wide = assembly(members, delegating)
    delegations, room = scoped(room_wide), set(names)
    round_ = Round(1, Rule.CONSENT, START, DEADLINE, 1,
                   stances=tuple(Stance(member, position, START) for member, position in own.items()))
    scopes = Counter(d.scope.partition(":")[0] or "room" for d in delegations)
    print(f"{len(delegations):,} delegations by {len({d.member for d in delegations}):,} members: "
          + ", ".join(f"{count:,} on {kind}" for kind, count in sorted(scopes.items())))
    for count in (1, 2, 3):
        ours, theirs = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            delegated = delegated_for(round_, 1, TOPICS[:count], delegations, room)
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            delegated_positions(round_, room_wide, room)
            theirs.append(time.perf_counter() - began)
        print(f"resolving them for a proposal on {count} topic{'s' * (count > 1)}: "
              f"{statistics.median(ours) * 1000:.1f} ms, {len(delegated):,} counted by delegation (room-wide "
              f"resolution {statistics.median(theirs) * 1000:.1f} ms, ratio "
              f"{statistics.median(ours) / statistics.median(theirs):.2f}, goal <= 2)")


def _chain_length(member: str, delegations: dict[str, str]) -> int:
    """How many members pass a vote on along the chain from ``member``."""
    seen = [member]
    while (member := delegations.get(member)) is not None and member not in seen and member in delegations:
        seen.append(member)
    return len(seen)


class Discard:
    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        return None


async def close_figures(folder: Path, members: int, delegating: int, runs: int = 3) -> None:
    names, own, delegations = assembly(members, delegating)
    config_path = folder / "config.yaml"
    config_path.write_text(yaml.safe_dump({"storage": {"path": "bench.db"}, "assembly": {
        "language": "en", "delegation": True, "working_days_only": False, "reminders": []}}))
    config = load_config(config_path, environ={})
    timings = []
    for run in range(runs):
        repository = await Repository.open(folder / f"bench{run}.db")
        now = [START]
        service = ConsentService(repository, config, COMMANDS, ConsoleRoom(set(names)), Discard(), lambda: now[0])
        count = 0

        async def say(member: str, text: str) -> None:
            nonlocal count
            count += 1
            now[0] += timedelta(milliseconds=1)
            await service.handle(Incoming(ROOM, member, text, f"$e{count}", now[0]))

        for member, delegate in delegations.items():
            await say(member, f"!delegate {delegate}")
        await say(names[-1], "!propose Kettle")
        for member, position in own.items():
            argument = " We already have two kettles in the kitchen." if position is Position.BLOCK else ""
            await say(member, f"!{position.value} #1{argument}")
        due, room, number = await service.next_due()
        now[0] = due
        began = time.perf_counter()
        await service.run_due(room, number, due)
        timings.append(time.perf_counter() - began)
        async with repository.transaction() as tx:
            outcome = (await tx.load(room, number)).current_round.outcome
        await repository.close()
    reference = await _reference_close(folder, names, own, delegations)
    print(f"closing a round of {members:,} members with {len(delegations):,} delegations (SQLite file, whole "
          f"service path): {statistics.median(timings) * 1000:.0f} ms (runs: "
          f"{', '.join(f'{t * 1000:.0f}' for t in timings)}), {len(outcome.delegated):,} counted by delegation, "
          f"{outcome.state}; reference {reference * 1000:.0f} ms, ratio {statistics.median(timings) / reference:.1f}")


async def _reference_close(folder: Path, names: list[str], own: dict, delegations: dict) -> float:
    """A bare close on the same SQLite settings: read positions and delegations, resolve, write the outcome."""
    import sqlite3
    db = sqlite3.connect(folder / "reference.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE positions (member TEXT PRIMARY KEY, position TEXT)")
    db.execute("CREATE TABLE delegations (member TEXT PRIMARY KEY, delegate TEXT)")
    db.execute("CREATE TABLE delegated (member TEXT PRIMARY KEY, position TEXT)")
    db.executemany("INSERT INTO positions VALUES (?, ?)", [(m, str(p)) for m, p in own.items()])
    db.executemany("INSERT INTO delegations VALUES (?, ?)", list(delegations.items()))
    began = time.perf_counter()
    db.execute("BEGIN")
    positions = {m: Position(p) for m, p in db.execute("SELECT member, position FROM positions")}
    graph = dict(db.execute("SELECT member, delegate FROM delegations"))
    resolved = reference_resolution(positions, graph, set(names))
    db.executemany("INSERT INTO delegated VALUES (?, ?)", [(m, str(p)) for m, p in resolved.items() if p])
    db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--delegations", type=int, default=5_000)
    arguments = parser.parse_args()
    engine_figures(arguments.members, arguments.delegations)
    scoped_engine_figures(arguments.members, arguments.delegations)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(close_figures(Path(folder), arguments.members, arguments.delegations))


if __name__ == "__main__":
    main()
