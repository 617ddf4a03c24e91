"""Fixtures for integration tests against a real Synapse (no mocks).

Event loop — the one rule to know:
    Everything under tests/matrix runs in ONE session-wide event loop. The `synapse` server is
    session-scoped and Members' aiohttp sessions and sync tasks live in the loop that created them,
    so fixtures and tests must share a loop. pytest-asyncio 1.x decides a test's loop from its
    `asyncio` marker; `pytest_collection_modifyitems` below prepends
    `pytest.mark.asyncio(loop_scope="session")` to every async test collected in this directory
    (the recipe in pytest-asyncio's docs, "run all tests in the session in the same event loop").
    Test modules need no `pytestmark`. Async fixtures defined here say
    `@pytest_asyncio.fixture(loop_scope="session")` explicitly, because pyproject sets
    asyncio_default_fixture_loop_scope = "function". Your own async fixtures in tests/matrix must
    do the same, or they will run in a different loop than the test.

Fixtures:
    synapse       (session)  a started `Synapse` (tests/matrix/synapse.py); stopped at the end.
                             Shared by all tests: use fresh users and rooms (the fixtures do).
    members       (function) factory: `alice, bob = await members("alice", "bob")` or
                             `a, b, c = await members(3)` -> started `Member`s (fresh accounts with
                             unique localparts), closed after the test.
    encrypted_members (function) factory like `members`: `EncryptedMember`s (tests/matrix/member.py), clients
                             that encrypt as Element does, each with its own crypto store in a temp dir.
    voters        (function) factory: `bob, carol = await voters(2)` -> Members that do not sync
                             (send, react, redact, join only): cheap in numbers.
    bot_account   (function) a fresh `Account` (user_id, access_token, device_id, password,
                             homeserver) for the bot under test; not logged in or syncing.
    start_bot     (function) `bot = await start_bot([alice.user_id], matrix=None, **assembly)` -> a started
                             RunningBot (tests/matrix/bot_harness.py) on bot_account, with those assembly
                             settings (and more of its matrix section, e.g. {"room_key_wait": "5s"});
                             stopped after the test.

Member (tests/matrix/member.py, re-exported here): a nio AsyncClient on the account's access token
(restore_login; no password login, no E2E) with a background sync loop recording every timeline event:
    member.user_id, .account, .client, .events (in order), .by_id, .room_of[event_id], .invited_to,
    .limited_syncs (real timeline gaps), .failure (exception that ended the sync loop)
    await wait_for(predicate, timeout=10, room=None) -> Event    (already seen or still to come)
    await wait_for_event(event_id, timeout=10) -> Event
    await wait_for_count(predicate, count, timeout=10, room=None) -> list[Event]
    matching(predicate=all, room=None) -> list[Event]            (no waiting)
    await send_text(room, body, reply_to=None, thread_root=None, *, notice=False, html=None,
                    mentions=None) -> event_id
    await send(room, event_type, content) -> event_id
    await react(room, event_id, key) / redact(room, event_id, reason=None) / edit(room, event_id, new_body)
    await create_room(invite=(), name=None, **room_create_options) -> room_id
    await join(room_id) / leave(room_id) / invite(room_id, user_id)
    await power_levels(room) -> dict ; await set_power_level(room, user_id, level) -> event_id
    await start() -> self ; await close()
Helpers: content(event) and relates_to(event) read event.source (nio's classes drop relations).
A refused request raises MatrixRequestError (.errcode like "M_FORBIDDEN", .http_status).

Synapse's start time(s) are printed in the terminal summary ("synapse" section), with or without -rA.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from .bot_harness import RunningBot, bot_config
from .member import EncryptedMember, Member
from .synapse import Account, Synapse

HERE = Path(__file__).parent
_SERVERS = pytest.StashKey[list[Synapse]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every item of the session: only touch the ones in this directory.
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if pytest_asyncio.is_async_test(item) and HERE in item.path.parents:
            item.add_marker(session_loop, append=False)  # before the bare marker of asyncio_mode=auto


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    servers = config.stash.get(_SERVERS, [])
    if not servers:
        return
    terminalreporter.section("synapse")
    for server in servers:
        times = ", ".join(f"{kind} {seconds:.2f}s" for kind, seconds in server.start_times)
        terminalreporter.write_line(f"synapse started in: {times}  ({server.url}, dir {server.directory})")


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Synapse]:
    # Synchronous on purpose: starting is a subprocess plus HTTP polling, so no event loop is needed.
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    request.config.stash.setdefault(_SERVERS, []).append(server)
    server.start()
    print(f"synapse started in {server.started_in:.2f}s at {server.url}")
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def members(synapse: Synapse) -> AsyncIterator[Callable[..., Awaitable[list[Member]]]]:
    started: list[Member] = []

    async def make(first: int | str = 1, *names: str) -> list[Member]:
        prefixes = [f"member{i}" for i in range(1, first + 1)] if isinstance(first, int) else [first, *names]
        result = []
        for prefix in prefixes:
            account = await synapse.register(Synapse.unique_localpart(prefix))
            member = Member(account)
            started.append(member)   # closed even if start() fails
            result.append(await member.start())
        return result

    yield make
    for member in started:
        await member.close()


@pytest_asyncio.fixture(loop_scope="session")
async def encrypted_members(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[list[Member]]]]:
    started: list[Member] = []

    async def make(*names: str) -> list[EncryptedMember]:
        result = []
        for name in names:
            account = await synapse.register(Synapse.unique_localpart(name))
            member = EncryptedMember(account, tmp_path / "stores" / account.user_id)
            started.append(member)
            result.append(await member.start())
        return result

    yield make
    for member in started:
        await member.close()


@pytest_asyncio.fixture(loop_scope="session")
async def voters(synapse: Synapse) -> AsyncIterator[Callable[..., Awaitable[list[Member]]]]:
    """voters(n) -> n Members that act (send, react, redact, join) without syncing: many of them cost
    Synapse nothing between their requests. Closed after the test."""
    made: list[Member] = []

    async def make(count: int, prefix: str = "voter") -> list[Member]:
        accounts = await asyncio.gather(*(synapse.register(Synapse.unique_localpart(f"{prefix}{i}"))
                                          for i in range(1, count + 1)))
        made.extend(Member(account) for account in accounts)
        return made[-count:]

    yield make
    for member in made:
        await member.close()


@pytest_asyncio.fixture(loop_scope="session")
async def bot_account(synapse: Synapse) -> Account:
    return await synapse.register(Synapse.unique_localpart("consentbot"))


@pytest_asyncio.fixture(loop_scope="session")
async def start_bot(tmp_path: Path, bot_account: Account) -> AsyncIterator[Callable[..., Awaitable[RunningBot]]]:
    running: list[RunningBot] = []

    async def start(allowed: list[str], matrix: dict | None = None, **assembly: object) -> RunningBot:
        bot = RunningBot(bot_config(tmp_path, bot_account, allowed, matrix, **assembly))
        running.append(bot)
        return await bot.start()

    yield start
    for bot in running:
        await bot.stop()
