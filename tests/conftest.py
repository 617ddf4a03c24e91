"""Shared fixtures: a real repository, a real configuration, the console's room as the directory.

    repository    (function) a Repository on a register of the test's own: every test that uses it runs twice, on
                             SQLite and on PostgreSQL.
    register      (function) where that register is, as Repository.open takes it, once per database: a SQLite file
                             (a path), then a PostgreSQL database (a postgresql:// URL) already at the latest schema.
    database      (function) the same, but empty (for tests of migrations).
    postgres_url, migrated_postgres_url
                  (function) a PostgreSQL database of the test's own, empty or at the latest schema.
    postgres      (session)  the throwaway PostgreSQL server (tests/servers/postgres.py), started by the first test
                             that needs it. Without PostgreSQL installed it fails: tests/servers/install-postgres.sh.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from hypothesis import settings

from bot.config import Config, load_config
from bot.console import ConsoleRoom
from bot.app.handlers import COMMANDS
from bot.messages.outgoing import Kind, Outgoing
from bot.app.ports import Incoming, Reference
from bot.app.service import ConsentService
from storage.repository import Repository
from tests.servers.postgres import FOR_TESTS, PostgresServer, database_name

# Speed is measured in benchmarks, never in tests: hypothesis' 200 ms deadline an example failed a property test on a
# machine loaded by other suites (tests/register/test_diff.py), where 20,000 examples find nothing wrong.
settings.register_profile("consent-bot", deadline=None)
settings.load_profile("consent-bot")

ROOM = "!room:test"
# A Tuesday in Paris, far from any holiday, so 72 h of working time end on Friday at the same hour.
TUESDAY = datetime.fromisoformat("2027-06-08T10:00:00+02:00")
FRIDAY_DEADLINE = datetime.fromisoformat("2027-06-11T10:00:00+02:00")
"""The deadline of a round opened on TUESDAY: 72 working hours later."""


def write_config(directory: Path, **assembly: object) -> Config:
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump({"storage": {"path": "consent.db"}, "assembly": assembly}), encoding="utf-8")
    return load_config(path, environ={})


@dataclass
class RecordingSender:
    """The platform side of a test: keeps what the bot sent, in order; can be made to fail."""

    sent: list[Outgoing] = field(default_factory=list)
    failures: int = 0

    async def send(self, message: Outgoing, ballot_id: str | None) -> str:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unavailable")
        self.sent.append(message)
        return f"msg-{len(self.sent)}"

    def of_kind(self, kind: Kind) -> list[Outgoing]:
        return [m for m in self.sent if m.kind is kind]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass
class Assembly:
    """A room with members, driving a real ConsentService over a real database."""

    service: ConsentService
    room: ConsoleRoom
    sender: RecordingSender
    clock: Clock
    repository: Repository
    counter: int = 0

    async def say(self, member: str, text: str, about: int | None = None, event_id: str | None = None,
                  room: str = ROOM, scope: str = "") -> list[Outgoing]:
        """A member's message in ``room`` (a member of it from now on); returns what the bot answered to it.
        ``about``: the number of the proposal whose ballot it answers (``scope``: a network's joint decision's)."""
        self.counter += 1
        before = len(self.sender.sent)
        event = event_id or f"$event{self.counter}"
        self.room.names_in(room).add(member)
        reference = Reference(about, scope) if about is not None else None
        await self.service.handle(Incoming(room, member, text, event, self.clock.now, reference))
        return self.sender.sent[before:]

    async def advance_to(self, moment: datetime) -> list[Outgoing]:
        """Move the clock, doing the due work at each due instant in order (as the console does)."""
        before = len(self.sender.sent)
        while (due := await self.service.next_due()) is not None and due[0] <= moment:
            self.clock.now = max(self.clock.now, due[0])
            await self.service.run_due(due[1], due[2], self.clock.now)
        self.clock.now = moment
        return self.sender.sent[before:]


async def make_assembly(config: Config, clock: Clock, repository: Repository, room: ConsoleRoom | None = None,
                        sender: RecordingSender | None = None) -> Assembly:
    room = room or ConsoleRoom()
    sender = sender or RecordingSender()
    service = ConsentService(repository, config, COMMANDS, room, sender, clock)
    return Assembly(service, room, sender, clock, repository)


async def facilitated_room(tmp_path: Path, repository: Repository) -> Assembly:
    """An assembly in English without a quorum: alice, bob and carol are members, fay facilitates."""
    config = write_config(tmp_path, language="en", facilitators=["fay"], quorum=0)
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob", "carol", "fay"})
    return assembly


async def status(room: Assembly, number: int = 1) -> Outgoing:
    """The bot's answer to !status #number, asked by someone who takes no part."""
    [answer] = await room.say("zoe", f"!status #{number}")
    assert answer.kind is Kind.STATUS
    return answer


DATABASES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start(FOR_TESTS)
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_template(postgres: PostgresServer) -> str:
    """A database at the latest schema: each test's register is copied from it, and pays for no migration."""
    url = await postgres.create_database()
    await (await Repository.open(url)).close()
    return database_name(url)


@pytest.fixture
async def postgres_url(postgres: PostgresServer) -> str:
    return await postgres.create_database()


@pytest.fixture
async def migrated_postgres_url(postgres: PostgresServer, postgres_template: str) -> str:
    return await postgres.create_database(template=postgres_template)


def _location(request: pytest.FixtureRequest, tmp_path: Path, postgres_fixture: str) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "consent.db")
    return request.getfixturevalue(postgres_fixture)  # the server starts only if a test needs it


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _location(request, tmp_path, "postgres_url")


@pytest.fixture(params=DATABASES)
def migrated_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind, its tables made (PostgreSQL: a copy of a migrated template, faster)."""
    return _location(request, tmp_path, "migrated_postgres_url")


@pytest.fixture
async def repository(migrated_database: str) -> AsyncIterator[Repository]:
    repository = await Repository.open(migrated_database)
    yield repository
    await repository.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path, language="en")


@pytest.fixture
async def assembly(config: Config, repository: Repository) -> Assembly:
    return await make_assembly(config, Clock(TUESDAY), repository)
