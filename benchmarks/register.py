"""The public register at scale, each figure beside a minimal reference run in the same process:
python -m benchmarks.register [--decisions 10000] [--members 10] [--requests 300] [--official-decisions 1000]
                              [--facts-each 10] [--only assembly|official|network]

The assembly is made through the bot itself (ConsentService.handle, as a chat message, and run_due, as the
clock): --decisions proposals, each on one of the assembly's ten topics (one in five on a second), answered by
--members members (--decisions x --members positions; a block in one proposal of seven postpones it, the rest are
adopted), every round closed. Then, against the register served by aiohttp on 127.0.0.1 and asked by an aiohttp
client:

- an assembly's list (its first page, a page deep in the list, a search by state and title), a topic's list (its
  first page, a page deep in it, a search by state and title on it), the assembly's topics with their counts and
  proposal pages, p50 and p95 over --requests requests each, beside a bare aiohttp handler that returns the same
  bytes already rendered;
- the CSV export of everything (decisions, positions, history: `consent-bot export --format csv`), and the
  positions table over HTTP, beside a plain SQLite query written with csv.writer.

And an elected official's permanent record (the pact), in an assembly of its own: --official-decisions questions
the official referred, all adopted, each with --facts-each facts members recorded on what they did (1,000 and
10,000 by default) and one in four judged by a verdict, adopted: the official's page (its first page, a page deep
in it), its JSON, the officials' list, the official's feed and the assembly's, and a decision's page with its
facts, p50 and p95 beside the same bare aiohttp handler.

And a network of two rooms (linked assemblies), in a register of its own: --official-decisions joint decisions, each
answered by --members members (half of them in both rooms) and closed, beside as many proposals of one room's own: the
network's list (first page, a deep page), a joint decision's page with its tally room by room, and the member room's
list with its joint decisions among its own (first page, a deep page), p50 and p95 beside the bare handler.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from benchmarks.service import ROOM, START, NullPlatform, percentile
from bot.app.handlers import COMMANDS
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from bot.config import load_config
from bot.console import ConsoleRoom
from bot.register.exports import export_register
from bot.register.server import RegisterServer
from storage.repository import Repository

OFFICIAL = {"id": "martine", "name": "Martine Dupont", "role": "maire", "mandate_start": "2026-03-22",
            "accounts": ["mayor"], "pact": {"refer": "2026-04-02", "record": "2026-04-02"}}
WORDS = ("kettle", "garden", "bicycle", "library", "kitchen", "market", "roof", "festival", "bench", "tree")
TOPICS = ("transport", "housing", "culture", "sport", "schools", "health", "budget", "green", "youth", "elders")
OTHER_ROOM = "!other:bench"
"""The other room of the benchmark's network (half the members in it too)."""
TARGET_PAGE_MS = 100
TARGET_EXPORT_S = 2


def _config(folder: Path):
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"path": "register.db"},
        "assembly": {"language": "en", "working_days_only": False, "reminders": [], "name": "Benchmark assembly",
                     "officials": [OFFICIAL], "followup_reminder": False,
                     "topics": [{"id": topic, "names": {"en": topic.capitalize()}} for topic in TOPICS]},
        "register": {"port": 0},
        "networks": [{"id": "bench", "name": "Benchmark network", "rooms": [ROOM, OTHER_ROOM]}],
    }))
    return load_config(path, environ={})


class Room:
    """One room of the bot on a register of its own, spoken to as a chat platform would, its clock in our hands."""

    def __init__(self, folder: Path, members: list[str], repository: Repository) -> None:
        self.now = START
        self.count = 0
        self.repository = repository
        self.service = ConsentService(repository, _config(folder), COMMANDS, ConsoleRoom(set(members)),
                                      NullPlatform(), lambda: self.now)

    @classmethod
    async def open(cls, folder: Path, members: list[str]) -> Room:
        return cls(folder, members, await Repository.open(folder / "register.db"))

    async def say(self, member: str, text: str) -> None:
        self.count += 1
        self.now += timedelta(seconds=1)  # each message at its own instant, as in a room
        await self.service.handle(Incoming(ROOM, member, text, f"$e{self.count}", self.now))

    async def close_rounds(self) -> None:
        """Four days on: every round open now is closed, as the clock closes them."""
        self.now += timedelta(days=4)
        while (due := await self.service.next_due()) is not None and due[0] <= self.now:
            await self.service.run_due(due[1], due[2], self.now)
        await self.service.deliver()


async def make_assembly(folder: Path, decisions: int, members: int) -> None:
    """The register of an assembly that took ``decisions`` decisions, made through the bot as members would."""
    names = [f"member{i:03d}" for i in range(members)]
    room = await Room.open(folder, names)
    began = time.perf_counter()
    batch = 500  # proposals made together, then closed together when their deadline comes
    for first in range(1, decisions + 1, batch):
        for number in range(first, min(first + batch, decisions + 1)):
            words = " ".join(WORDS[(number * k) % len(WORDS)] for k in (1, 3, 7))
            await room.say(names[number % members], f"!propose topic {_topics_of(number)} Proposal {number}: a "
                                                    f"{words}\nThe text of proposal {number}.")
            for index, name in enumerate(names):
                if index == 0 and number % 7 == 0:
                    await room.say(name, f"!block #{number} This would cost far more than we have ({number}).")
                elif index % 3 == 1:
                    await room.say(name, f"!disagree #{number} not convinced by point {index}")
                else:
                    await room.say(name, f"!agree #{number}")
        await room.close_rounds()
    await room.repository.close()
    print(f"made through the bot: {decisions:,} decisions, {decisions * members:,} positions "
          f"in {time.perf_counter() - began:.0f} s")


def _topics_of(number: int) -> str:
    """A proposal's topics, as !propose names them: one of the ten in turn, and one in five on the next one too."""
    first = number % len(TOPICS)
    return TOPICS[first] + (f",{TOPICS[(first + 1) % len(TOPICS)]}" if number % 5 == 0 else "")


async def make_official_record(folder: Path, decisions: int, facts_each: int) -> None:
    """An official who referred ``decisions`` questions, all adopted, with ``facts_each`` facts recorded on each and
    one in four judged by an adopted verdict: made through the bot, as the official and members would."""
    names = [f"member{i:03d}" for i in range(5)]
    room = await Room.open(folder, [*names, "mayor"])
    began = time.perf_counter()
    batch = 500
    for first in range(1, decisions + 1, batch):
        numbers = range(first, min(first + batch, decisions + 1))
        for number in numbers:
            await room.say("mayor", f"!refer Question {number}: a {WORDS[number % len(WORDS)]}\n"
                                    f"The question the mayor refers ({number}).")
        await room.close_rounds()
    numbers = range(1, decisions + 1)
    for number in numbers:
        for fact in range(facts_each):
            await room.say(names[fact % len(names)], f"!fact #{number} martine did step {fact} of decision {number} "
                                                     f"source: https://example.org/deliberations/{number}-{fact}")
    judged = [number for number in numbers if number % 4 == 0]
    assessments = ("respected", "partly respected", "not respected")
    for index, number in enumerate(judged):
        await room.say(names[0], f"!verdict #{number} martine {assessments[index % 3]}: as the facts say ({number})")
    await room.close_rounds()
    await room.repository.close()
    print(f"made through the bot: {decisions:,} referrals, {decisions * facts_each:,} facts, {len(judged):,} verdicts "
          f"in {time.perf_counter() - began:.0f} s")


def _percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95, in ms."""
    return statistics.median(samples) * 1000, percentile(samples, 0.95) * 1000


async def _timed_gets(session: aiohttp.ClientSession, urls: list[str]) -> tuple[list[float], bytes]:
    timings = []
    body = b""
    for url in urls:
        began = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
            assert response.status == 200, (url, response.status)
        timings.append(time.perf_counter() - began)
    return timings, body


async def _reference_server(body: bytes) -> tuple[web.AppRunner, str]:
    """The floor: a bare aiohttp handler that returns a page already rendered."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/"


def _reference_csv(database: Path, folder: Path) -> None:
    """The floor of an export: one plain SQLite query per table, written as it comes with csv.writer (no time
    zone, no names hidden, no link, no validity of blocks)."""
    queries = {
        "decisions": """SELECT p.*, r.* FROM proposals p JOIN rounds r ON r.room = p.room AND r.number = p.number
                        AND r.round = (SELECT MAX(round) FROM rounds WHERE room = p.room AND number = p.number)
                        ORDER BY p.room, p.number""",
        "positions": "SELECT * FROM positions ORDER BY room, number, round, member",
        "history": "SELECT * FROM history ORDER BY id",
    }
    connection = sqlite3.connect(database)
    folder.mkdir(exist_ok=True)
    for name, query in queries.items():
        cursor = connection.execute(query)
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow([column[0] for column in cursor.description])
            writer.writerows(cursor)
    connection.close()


async def _timed(work) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process, its threads included) of awaiting ``work``."""
    wall, cpu = time.perf_counter(), time.process_time()
    await work
    return time.perf_counter() - wall, time.process_time() - cpu


async def _pages_beside_reference(session: aiohttp.ClientSession, pages: dict[str, list[str]], requests: int,
                                  verdicts: list[bool]) -> list[str]:
    """Each page's p50 and p95 over its URLs, beside a bare aiohttp handler returning its last body as many times."""
    lines = []
    for name, urls in pages.items():
        ours, body = await _timed_gets(session, urls)
        runner, reference = await _reference_server(body)
        theirs, _ = await _timed_gets(session, [reference] * requests)
        await runner.cleanup()
        p50, p95 = _percentiles(ours)
        _, r95 = _percentiles(theirs)
        verdicts.append(p95 <= TARGET_PAGE_MS)
        lines.append(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target ≤ {TARGET_PAGE_MS} ms) — "
                     f"bare aiohttp returning the same {len(body):,} bytes: p95 {r95:.2f} ms; "
                     f"ratio {p95 / r95:.0f}x")
    return lines


async def measure(folder: Path, decisions: int, requests: int) -> list[str]:
    config = _config(folder)
    repository = await Repository.open(folder / "register.db")
    server = await RegisterServer.start(config, repository)
    base = f"{server.url}/a/{ROOM}"
    rng = random.Random(10)
    pages = {
        "list, first page": [base] * requests,
        "list, a deep page": [f"{base}?page={rng.randrange(2, decisions // 20)}" for _ in range(requests)],
        "list, search by state and title": [f"{base}?state=adopted&q={rng.choice(WORDS)}" for _ in range(requests)],
        "a topic's list, first page": [f"{base}/topics/{rng.choice(TOPICS)}" for _ in range(requests)],
        "a topic's list, a deep page": [f"{base}/topics/{rng.choice(TOPICS)}?page={rng.randrange(2, decisions // 200)}"
                                        for _ in range(requests)],
        "a topic's list, search by state and title": [
            f"{base}/topics/{rng.choice(TOPICS)}?state=adopted&q={rng.choice(WORDS)}" for _ in range(requests)],
        "the topics with their counts": [f"{base}/topics"] * requests,
        "proposal page": [f"{base}/{rng.randrange(1, decisions + 1)}" for _ in range(requests)],
    }
    verdicts: list[bool] = []
    async with aiohttp.ClientSession() as session:
        await _timed_gets(session, [base, f"{base}/1"])  # warm: templates compiled, connection open
        lines = await _pages_beside_reference(session, pages, requests, verdicts)
        began = time.perf_counter()
        _, positions = await _timed_gets(session, [f"{server.url}/api/v1/a/{ROOM}/positions.csv"])
        web_csv = time.perf_counter() - began
    await server.stop()
    await repository.close()
    ours, theirs = [], []
    for _ in range(3):  # taking turns, so that the machine's load hits both alike; the best of three each
        ours.append(await _timed(export_register(config, "csv", None, folder / "export")))
        theirs.append(await _timed(asyncio.to_thread(_reference_csv, folder / "register.db", folder / "reference")))
    (wall, cpu), (reference_wall, reference_cpu) = min(ours), min(theirs)
    verdicts.append(wall <= TARGET_EXPORT_S)
    sizes = sum(f.stat().st_size for f in (folder / "export").iterdir())
    rows = positions.count(b"\n") - 1
    lines.append(f"CSV export of everything (decisions, {rows:,} positions, history; {sizes / 1e6:.1f} MB): "
                 f"{wall:.2f} s, CPU {cpu:.2f} s (target ≤ {TARGET_EXPORT_S} s) — a plain SQLite query per table "
                 f"written with csv.writer: {reference_wall:.2f} s, CPU {reference_cpu:.2f} s; ratio "
                 f"{wall / reference_wall:.1f}x")
    lines.append(f"machine load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    lines.append(f"positions.csv over HTTP ({len(positions) / 1e6:.1f} MB): {web_csv:.2f} s")
    lines.append("every target met" if all(verdicts) else "A TARGET WAS MISSED")
    return lines


async def make_network(folder: Path, decisions: int, members: int) -> None:
    """A network's register: ``decisions`` joint decisions of ROOM and OTHER_ROOM (half the members in both), each
    answered by every member and closed, and as many proposals of ROOM's own, through the bot."""
    names = [f"member{i:03d}" for i in range(members)]
    room = await Room.open(folder, names)
    room.service.directory.other_rooms[OTHER_ROOM] = set(names[members // 2:])
    for first in range(1, decisions + 1, 500):
        for number in range(first, min(first + 500, decisions + 1)):
            await room.say(names[0], f"!propose Proposal {number}")
            await room.say(names[1], f"!joint Joint decision {number}: a {WORDS[number % len(WORDS)]}")
            for index, name in enumerate(names):
                await room.say(name, f"!{'disagree' if index % 3 == 1 else 'agree'} #bench-{number}")
        await room.close_rounds()
    await room.repository.close()


async def measure_network(folder: Path, decisions: int, requests: int) -> list[str]:
    """A network's list, a joint decision's page (its tally room by room) and a member room's list among its own."""

    async def pages(url: str, repository: Repository) -> tuple[str, dict[str, list[str]]]:
        network, own = f"{url}/n/bench", f"{url}/a/{ROOM}"
        rng = random.Random(10)
        return f"a network of two rooms: {decisions:,} joint decisions and as many of a room's own", {
            "a network's list, first page": [network] * requests,
            "a network's list, a deep page": [f"{network}?page={rng.randrange(2, decisions // 20)}"
                                              for _ in range(requests)],
            "a joint decision's page": [f"{network}/{rng.randrange(1, decisions + 1)}" for _ in range(requests)],
            "a member room's list with its joint decisions, first page": [own] * requests,
            "a member room's list with its joint decisions, a deep page": [
                f"{own}?page={rng.randrange(2, decisions // 10)}" for _ in range(requests)],
        }

    return await _measured(folder, requests, pages)


async def measure_official(folder: Path, decisions: int, requests: int) -> list[str]:
    """An official's record of ``decisions`` decisions (their facts, statements, verdicts), served."""

    async def pages(url: str, repository: Repository) -> tuple[str, dict[str, list[str]]]:
        base = f"{url}/a/{ROOM}"
        official = f"{base}/officials/martine"
        rng = random.Random(10)
        async with repository.reading() as db:
            facts = (await db.fetchone("SELECT COUNT(*) AS n FROM facts"))["n"]
        return f"an official's record: {decisions:,} decisions, {facts:,} facts", {
            "official's page, first": [official] * requests,
            "official's page, a deep page": [f"{official}?page={rng.randrange(2, decisions // 20 + 1)}"
                                             for _ in range(requests)],
            "official's JSON, first page": [official.replace(base, f"{url}/api/v1/a/{ROOM}")] * requests,
            "the officials' list": [f"{base}/officials"] * requests,
            "official's feed": [f"{official}/feed.atom"] * requests,
            "assembly's feed": [f"{base}/feed.atom"] * requests,
            "a decision's page with its facts": [f"{base}/{rng.randrange(1, decisions + 1)}" for _ in range(requests)],
        }

    return await _measured(folder, requests, pages)


async def _measured(folder: Path, requests: int,
                    pages_of: Callable[[str, Repository], Awaitable[tuple[str, dict[str, list[str]]]]]) -> list[str]:
    """The register in ``folder`` served, and the pages ``pages_of`` names (given the server's address and the
    register, with a line about them) asked ``requests`` times each beside the reference."""
    config = _config(folder)
    repository = await Repository.open(folder / "register.db")
    server = await RegisterServer.start(config, repository)
    about, pages = await pages_of(server.url, repository)
    verdicts: list[bool] = []
    async with aiohttp.ClientSession() as session:
        await _timed_gets(session, [urls[0] for urls in pages.values()])  # warm: templates compiled, connection open
        lines = [about, *await _pages_beside_reference(session, pages, requests, verdicts)]
    await server.stop()
    await repository.close()
    lines.append(f"machine load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    lines.append("every target met" if all(verdicts) else "A TARGET WAS MISSED")
    return lines


async def main(decisions: int, members: int, requests: int, official_decisions: int, facts_each: int,
               only: str | None, keep: Path | None) -> None:
    # Each register: how it is made (once, kept with --keep), then measured.
    registers = {
        "assembly": (lambda place: make_assembly(place, decisions, members),
                     lambda place: measure(place, decisions, requests)),
        "network": (lambda place: make_network(place, official_decisions, members),
                    lambda place: measure_network(place, official_decisions, requests)),
        "official": (lambda place: make_official_record(place, official_decisions, facts_each),
                     lambda place: measure_official(place, official_decisions, requests)),
    }
    with tempfile.TemporaryDirectory() as temporary:
        folder = keep or Path(temporary)
        for name, (make, measured) in registers.items():
            if only not in (None, name):
                continue
            place = folder / name
            place.mkdir(parents=True, exist_ok=True)
            if not (place / "register.db").exists():
                await make(place)
            for line in await measured(place):
                print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--official-decisions", type=int, default=1_000)
    parser.add_argument("--facts-each", type=int, default=10)
    parser.add_argument("--only", choices=("assembly", "official", "network"))
    parser.add_argument("--keep", type=Path, help="a folder where the registers are kept (and reused) between runs")
    options = parser.parse_args()
    asyncio.run(main(options.decisions, options.members, options.requests, options.official_decisions,
                     options.facts_each, options.only, options.keep))
