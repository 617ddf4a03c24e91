"""A network of two Matrix rooms and one Mattermost channel, served by two processes — a Matrix one and a
Mattermost one, each the real service with its own directory and sender — on one real PostgreSQL database.

Each posts only in its own platform's rooms; the members of the other platform's rooms come from the database, as
the process serving them recorded them; a joint decision's round is closed once whichever process is first at the
deadline, and the other announces the outcome in its rooms."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import yaml

from bot.app.commands import Registry
from bot.app.handlers import COMMANDS
from bot.app.ports import Incoming, Reference
from bot.app.service import ConsentService
from bot.app.shared_rooms import SharedDirectory, platform_service
from bot.config import Config, ConfigError, load_config
from bot.config.networks import room_platform, served_here
from bot.console import ConsoleRoom
from bot.messages.outgoing import Kind, Outgoing
from storage.lease import Lease
from storage.repository import Repository
from tests.conftest import TUESDAY, Clock, RecordingSender
from tests.polling import until

LILLE, FIVES = "!lille:test", "!fives:test"
"""The network's Matrix rooms."""
CANAL = "c4n4lch4nn3lid0000000000ab"
"""Its Mattermost channel (a channel id: 26 lowercase letters and digits)."""
ALONE = "4l0n3ch4nn3lid000000000000"
"""A Mattermost channel in no network."""
SCOPE = "network:metropole"
DEADLINE = datetime.fromisoformat("2027-06-11T10:00:00+02:00")
"""72 working hours after TUESDAY."""
BLOCK = "The budget would come out of the youth centre's funds."
REGISTRY: Registry = COMMANDS


def network_config(tmp_path: Path) -> Config:
    document = {"storage": {"path": "consent.db"}, "assembly": {"language": "en", "quorum": 0, "timezone": "Europe/Paris"},
                "rooms": {LILLE: {"language": "fr"}},
                "networks": [{"id": "metropole", "rooms": [LILLE, FIVES, CANAL]}]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_config(path, environ={})


def test_a_network_of_a_matrix_process_may_name_mattermost_channels_and_the_process_serves_its_own(tmp_path):
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump({
        "platform": "matrix", "matrix": {"homeserver": "https://matrix.example.org/", "user_id": "@bot:example.org",
                                         "allowed_inviters": [":example.org"]},
        "networks": [{"id": "metropole", "rooms": [LILLE, CANAL]}]}), encoding="utf-8")
    config = load_config(path, environ={})
    assert config.networks[0].rooms == (LILLE, CANAL)
    assert [room_platform(room) for room in (LILLE, CANAL, "console")] == ["matrix", "mattermost", None]
    assert [served_here(CANAL, platform) for platform in ("matrix", "mattermost", "console")] == [False, True, True]


def test_a_network_room_of_neither_platform_s_shape_is_refused_on_a_chat_platform(tmp_path):
    path = tmp_path / "mattermost.yaml"
    path.write_text(yaml.safe_dump({
        "platform": "mattermost", "mattermost": {"url": "https://chat.example.org"},
        "networks": [{"id": "metropole", "rooms": [CANAL, "Town-Square"]}]}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert any("'Town-Square' can match no one: a Mattermost channel id" in error for error in caught.value.errors)


@dataclass
class Process:
    """One platform's process: the real service, its platform's rooms (a console room stands for the platform's
    directory), what it sent."""

    platform: str
    service: ConsentService
    shared: SharedDirectory
    rooms: ConsoleRoom
    sender: RecordingSender
    repository: Repository
    counter: int = 0

    async def say(self, member: str, text: str, room: str, about: int | None = None) -> list[Outgoing]:
        self.counter += 1
        before = len(self.sender.sent)
        self.rooms.names_in(room).add(member)
        reference = Reference(about, SCOPE) if about is not None else None
        await self.service.handle(Incoming(room, member, text, f"${self.platform}{self.counter}", self.service.clock(),
                                           reference))
        return self.sender.sent[before:]

    async def advance_to(self, clock: Clock, moment: datetime) -> list[Outgoing]:
        """The clock moved on to ``moment``: this process does the due work of each instant, in order."""
        before = len(self.sender.sent)
        while (due := await self.service.next_due()) is not None and due[0] <= moment:
            clock.now = max(clock.now, due[0])
            await self.service.run_due(due[1], due[2], clock.now)
        clock.now = moment
        return self.sender.sent[before:]

    async def picked_up(self) -> list[Outgoing]:
        """What the process sends once it looks at what the other one queued for its rooms."""
        before = len(self.sender.sent)
        await self.service.delivery.pick_up()
        return self.sender.sent[before:]


async def start(platform: str, config: Config, url: str, clock: Clock, members: dict[str, set[str]]) -> Process:
    repository = await Repository.open(url)
    rooms, sender = ConsoleRoom(), RecordingSender()
    rooms.other_rooms.update({room: set(names) for room, names in members.items()})
    service, shared = platform_service(platform, repository, config, REGISTRY, rooms, sender, clock)
    assert shared is not None
    await shared.record()  # what the bot does when it is up
    await service.deliver()  # the first delivery reads the outbox: what was queued for its rooms while it was down
    return Process(platform, service, shared, rooms, sender, repository)


@pytest.fixture
async def processes(tmp_path: Path, migrated_postgres_url: str) -> AsyncIterator[tuple[Process, Process, Clock]]:
    """Matrix: LILLE (alice, bob), FIVES (bob, carol); Mattermost: CANAL (dan, erin). bob is in both Matrix rooms."""
    config, clock = network_config(tmp_path), Clock(TUESDAY)
    matrix = await start("matrix", config, migrated_postgres_url, clock, {LILLE: {"alice", "bob"},
                                                                           FIVES: {"bob", "carol"}})
    mattermost = await start("mattermost", config, migrated_postgres_url, clock, {CANAL: {"dan", "erin"}})
    yield matrix, mattermost, clock
    for process in (matrix, mattermost):
        await process.repository.close()


def rooms_of(messages: list[Outgoing], kind: Kind) -> list[str]:
    return [message.room for message in messages if message.kind is kind]


async def outcomes_queued(repository: Repository) -> list[tuple[str, str]]:
    async with repository.reading() as db:
        rows = await db.fetch("SELECT room, message_id FROM outbox WHERE kind = 'outcome' ORDER BY room")
    return [(row["room"], row["message_id"]) for row in rows]


async def test_each_process_posts_a_joint_ballot_in_its_own_rooms_and_counts_the_other_s_members(processes):
    matrix, mattermost, _ = processes
    said = await mattermost.say("dan", "!joint Shared budget for street parties", CANAL)
    assert rooms_of(said, Kind.BALLOT) == [CANAL]  # Mattermost posts in its channel only
    [ballot] = [m for m in said if m.kind is Kind.BALLOT]
    assert ballot.payload["members"] == 5  # alice, bob (once), carol: recorded by the Matrix process; dan, erin
    picked = await matrix.picked_up()
    assert rooms_of(picked, Kind.BALLOT) == [LILLE, FIVES]
    assert "Proposition #metropole-1" in picked[0].body  # each room in its language
    assert await matrix.picked_up() == []  # taken once


async def test_positions_from_both_platforms_make_one_tally(processes):
    matrix, mattermost, _ = processes
    await matrix.say("alice", "!joint Shared budget", LILLE)
    await mattermost.picked_up()
    await mattermost.say("dan", "!agree #metropole-1", CANAL)
    await matrix.say("bob", "!agree #metropole-1", FIVES)
    await matrix.say("bob", "!disagree #metropole-1", LILLE)  # bob is in two rooms: his latest counts, once
    [answer] = await mattermost.say("erin", "!status #metropole-1", CANAL)
    assert answer.payload["tally"] == {"agree": 1, "abstain": 0, "disagree": 1, "block": 0, "unargued_block": 0}
    assert "Participation: 2 of 5 members." in answer.body
    assert answer.body.splitlines()[-3:] == [f"{LILLE}: 1 of 2 members.", f"{FIVES}: 1 of 2 members.",
                                             f"{CANAL}: 1 of 2 members."]


async def test_a_member_who_leaves_a_room_of_the_other_platform_is_no_longer_counted(processes):
    matrix, mattermost, _ = processes
    matrix.rooms.names_in(FIVES).discard("carol")
    await matrix.shared.record()  # the Matrix process sees the membership change
    said = await mattermost.say("dan", "!joint Shared budget", CANAL)
    assert [m.payload["members"] for m in said if m.kind is Kind.BALLOT] == [4]


async def test_both_processes_at_the_deadline_close_the_round_once_and_each_announces_it_in_its_rooms(processes):
    matrix, mattermost, clock = processes
    await mattermost.say("dan", "!joint Shared budget", CANAL)
    await matrix.picked_up()
    await matrix.say("carol", f"!block #metropole-1 {BLOCK}", FIVES)
    clock.now = DEADLINE
    before = (len(matrix.sender.sent), len(mattermost.sender.sent))
    await asyncio.gather(matrix.service.run_due(SCOPE, 1, clock.now), mattermost.service.run_due(SCOPE, 1, clock.now))
    await matrix.picked_up()
    await mattermost.picked_up()
    said = matrix.sender.sent[before[0]:] + mattermost.sender.sent[before[1]:]
    assert sorted((m.room, m.payload["state"]) for m in said if m.kind is Kind.OUTCOME) == [
        (FIVES, "postponed"), (LILLE, "postponed"), (CANAL, "postponed")]
    assert [room for room, _ in await outcomes_queued(matrix.repository)] == [FIVES, LILLE, CANAL]


async def test_the_process_down_at_the_deadline_announces_the_outcome_in_its_rooms_when_it_comes_back(
        processes, tmp_path, migrated_postgres_url):
    matrix, mattermost, clock = processes
    await matrix.say("alice", "!joint Shared budget", LILLE)
    await mattermost.picked_up()
    await mattermost.say("dan", "!agree #metropole-1", CANAL)
    await matrix.repository.close()  # the Matrix process is down
    assert (await mattermost.service.next_due())[1:] == (SCOPE, 1)  # a joint decision proposed on Matrix
    said = await mattermost.advance_to(clock, DEADLINE)
    assert [(m.room, m.payload["state"]) for m in said if m.kind is Kind.OUTCOME] == [(CANAL, "adopted")]
    back = await start("matrix", network_config(tmp_path), migrated_postgres_url, clock,
                       {LILLE: {"alice", "bob"}, FIVES: {"bob", "carol"}})
    try:
        assert [(m.room, m.payload["state"]) for m in back.sender.of_kind(Kind.OUTCOME)] == [(LILLE, "adopted"),
                                                                                             (FIVES, "adopted")]
        assert back.sender.of_kind(Kind.BALLOT) == []  # sent before it went down: not again
        assert [room for room, _ in await outcomes_queued(back.repository)] == [FIVES, LILLE, CANAL]  # closed once
    finally:
        await back.repository.close()


async def test_a_process_does_no_due_work_of_the_other_platform_s_own_rooms(processes):
    matrix, mattermost, clock = processes
    await mattermost.say("erin", "!propose A kettle", ALONE)
    assert await matrix.service.next_due() is None
    assert (await mattermost.service.next_due())[1:] == (ALONE, 1)
    assert await matrix.repository.due_now(DEADLINE) == []
    assert await mattermost.repository.due_now(DEADLINE) == [(ALONE, 1)]


async def lease_sessions(url: str, holder: str, count: int) -> bool:
    """Whether ``count`` lease sessions of this process are open (each lease opens one when it first asks)."""
    connection = await asyncpg.connect(url)
    try:
        return count == await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                                                  holder)
    finally:
        await connection.close()


async def test_a_matrix_process_and_a_mattermost_process_both_act_each_with_its_own_standby(migrated_postgres_url):
    leases = {name: Lease(migrated_postgres_url, platform) for name, platform in
              [("matrix", "matrix"), ("mattermost", "mattermost"), ("standby", "matrix")]}
    try:
        await asyncio.wait_for(asyncio.gather(leases["matrix"].acquire(), leases["mattermost"].acquire()), 10)
        standing_by = asyncio.create_task(leases["standby"].acquire())
        await until(lambda: lease_sessions(migrated_postgres_url, leases["standby"].holder, 3),
                    what="the Matrix standby asking for the lease")
        assert not standing_by.done() and leases["mattermost"].held()
        await leases["matrix"].release()
        await asyncio.wait_for(standing_by, 10)  # the standby takes the Matrix process's lease over, not the other
        assert leases["standby"].state == "acting" and leases["mattermost"].held()
    finally:
        for lease in leases.values():
            await lease.release()


def code_in(message: Outgoing) -> str:
    """The code a step of linking gives, to be said next (!link <code>, or !associer <code> in French)."""
    return re.search(r"!(?:link|associer) ([a-z0-9]+)", message.body).group(1)


async def linked(matrix: Process, mattermost: Process, member: str, account: str) -> list[Outgoing]:
    """``member`` (in LILLE, on Matrix) and ``account`` (in CANAL, on Mattermost) link their accounts: the
    handshake's three steps; what the Mattermost process then sends."""
    [first] = await matrix.say(member, "!link", LILLE)
    [second] = await mattermost.say(account, f"!link {code_in(first)}", CANAL)
    assert second.kind is Kind.LINK and second.room == CANAL
    confirm = code_in(second)
    [done] = await matrix.say(member, f"!link {confirm}", LILLE)
    assert (done.kind, done.room, done.payload["step"], done.mentions) == (Kind.LINK, LILLE, "linked", ())
    return await mattermost.picked_up()


async def test_linked_accounts_count_once_and_the_latest_position_of_either_counts(processes):
    matrix, mattermost, clock = processes
    mattermost.rooms.names_in(CANAL).add("alice-mm")  # alice's Mattermost account
    told = await linked(matrix, mattermost, "alice", "alice-mm")
    assert [(m.room, m.mentions) for m in told] == [(CANAL, ("alice-mm",))]  # told on the other platform too
    assert "alice-mm et alice sont liés" in told[0].body  # in the language of the room she confirmed in
    said = await mattermost.say("dan", "!joint Shared budget", CANAL)
    assert [m.payload["members"] for m in said if m.kind is Kind.BALLOT] == [5]  # alice once, not six
    await matrix.picked_up()
    await matrix.say("alice", f"!block #metropole-1 {BLOCK}", LILLE)
    await mattermost.say("alice-mm", "!agree #metropole-1", CANAL)  # later, from her other account: it counts
    [answer] = await matrix.say("bob", "!status #metropole-1", LILLE)
    assert answer.payload["tally"] == {"agree": 1, "abstain": 0, "disagree": 0, "block": 0, "unargued_block": 0}
    said = await mattermost.advance_to(clock, DEADLINE)
    assert [m.payload["state"] for m in said if m.kind is Kind.OUTCOME] == ["adopted"]


async def test_someone_who_repeats_another_s_code_gets_a_code_only_the_other_can_confirm(processes):
    matrix, mattermost, _ = processes
    [first] = await matrix.say("alice", "!link", LILLE)
    [second] = await mattermost.say("mallory", f"!link {code_in(first)}", CANAL)  # read in the room, said by her
    confirm = code_in(second)
    [refused] = await matrix.say("bob", f"!link {confirm}", FIVES)
    assert refused.kind is Kind.ERROR and "another account" in refused.body
    [refused] = await mattermost.say("mallory", f"!link {confirm}", CANAL)
    assert refused.kind is Kind.ERROR
    assert await matrix.repository.linked_accounts() == {}


async def test_a_link_is_refused_with_a_clear_answer_where_it_would_count_someone_twice_or_is_stale(processes):
    matrix, mattermost, clock = processes
    [refused] = await matrix.say("alice", "!link nocode", FIVES)
    assert refused.kind is Kind.ERROR and "No code nocode was given in the last 10 minutes" in refused.body
    [first] = await matrix.say("alice", "!link", LILLE)
    code = code_in(first)
    [refused] = await matrix.say("bob", f"!link {code}", FIVES)  # the same platform
    assert refused.kind is Kind.ERROR and "other platform" in refused.body
    await mattermost.say("dan", "!joint Shared budget", CANAL)
    await mattermost.say("erin", "!agree #metropole-1", CANAL)
    [second] = await mattermost.say("erin", f"!link {code}", CANAL)
    confirm = code_in(second)
    [refused] = await matrix.say("alice", f"!associer {confirm}", LILLE)
    assert refused.kind is Kind.ERROR and "erin a pris position sur #metropole-1, encore ouverte" in refused.body
    clock.now += timedelta(minutes=11)
    [refused] = await matrix.say("alice", f"!link {confirm}", LILLE)
    assert refused.kind is Kind.ERROR and "Aucun code" in refused.body


async def test_unlinked_accounts_count_as_two_members_again(processes):
    matrix, mattermost, _ = processes
    mattermost.rooms.names_in(CANAL).add("alice-mm")
    await linked(matrix, mattermost, "alice", "alice-mm")
    [undone] = await mattermost.say("alice-mm", "!dissocier", CANAL)
    assert undone.payload["step"] == "unlinked"
    assert [(m.room, m.mentions) for m in await matrix.picked_up()] == [(LILLE, ("alice",))]
    said = await mattermost.say("dan", "!joint Shared budget", CANAL)
    assert [m.payload["members"] for m in said if m.kind is Kind.BALLOT] == [6]
    [refused] = await mattermost.say("alice-mm", "!unlink", CANAL)
    assert refused.kind is Kind.ERROR


async def test_a_reminder_does_not_name_a_linked_account_whose_member_answered_from_the_other_one(processes):
    matrix, mattermost, clock = processes
    mattermost.rooms.names_in(CANAL).add("alice-mm")
    await linked(matrix, mattermost, "alice", "alice-mm")
    await mattermost.say("dan", "!joint Shared budget", CANAL)
    await matrix.picked_up()
    await matrix.say("alice", "!agree #metropole-1", LILLE)  # from her Matrix account
    said = await mattermost.advance_to(clock, DEADLINE - timedelta(hours=1))
    reminders = [m for m in said if m.kind is Kind.REMINDER]
    assert reminders and {(m.room, m.mentions) for m in reminders} == {(CANAL, ("dan", "erin"))}
    assert not any("alice-mm" in m.body for m in reminders)
