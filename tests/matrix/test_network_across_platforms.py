"""A network across platforms, end to end: two Matrix rooms on the real Synapse and one channel on the Mattermost
fake (which checks every request against the official API description), two `consent-bot run` processes — one per
platform — on one real PostgreSQL database.

A joint proposal made on Mattermost is posted in all three rooms; positions come from each; an argued block in one
Matrix room postpones it everywhere; a second round is opened from Mattermost, and the Matrix process is killed
(SIGKILL) before its deadline: the Mattermost process closes it, adopted, and the Matrix process announces the
outcome in its rooms when it comes back. Nobody is counted twice (a member of both Matrix rooms counts once) and each
room gets exactly one outcome per round."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import yaml

from tests.mattermost.bot_harness import from_bot as post_from_bot, payload
from tests.mattermost.fake import FakeMattermost, load_contract
from tests.polling import until

from .bot_harness import QUICK, bot_config, from_bot, joined, rooms_of_a_network
from .crashes import BotProcess
from .member import content

BLOCK = "The budget would come out of the youth centre's funds."
NETWORK = {"minimum_duration": "20s", "days_between_rounds": "0s"}


@pytest_asyncio.fixture(loop_scope="session")
async def mattermost():
    """The Mattermost fake, in this loop (the Matrix tests' one), reachable by a bot process over TCP."""
    fake = FakeMattermost(load_contract())
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.problems() == []


async def recorded_rooms(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        return {row["room"] for row in await connection.fetch("SELECT DISTINCT room FROM room_members")}
    finally:
        await connection.close()


@dataclass
class Deployment:
    """Two Matrix rooms (fives: alice, bob; moulins: alice, carol), a Mattermost channel (canal: dan, erin), one
    network of the three, and one `consent-bot run` per platform on one PostgreSQL database."""

    url: str
    members: list
    bot_id: str
    fives: str
    moulins: str
    mattermost: FakeMattermost
    bot_user: object
    dan: object
    erin: object
    canal: object
    on_matrix: BotProcess
    on_mattermost: BotProcess

    async def start(self) -> None:
        self.on_matrix.start()
        self.on_mattermost.start()
        alice = self.members[0]
        for room in (self.fives, self.moulins):
            await alice.wait_for(joined(self.bot_id), room=room, timeout=30)
        await self.mattermost.wait_for_connections(1, timeout=30)
        # Each process records who is in its rooms once it is up: the other counts them from there.
        await until(lambda: _has_all(self.url, {self.fives, self.moulins, self.canal.id}), timeout=30,
                    what="the members of the three rooms recorded")

    def stop(self) -> None:
        for process in (self.on_matrix, self.on_mattermost):
            process.stop()
        print(self.on_matrix.log_tail(), self.on_mattermost.log_tail(), sep="\n---\n")

    def outcomes(self) -> tuple[Counter, Counter]:
        """The outcomes posted, by (Matrix room, round) as alice saw them, and by round in the channel."""
        alice = self.members[0]
        on_matrix = Counter((alice.room_of[e.event_id], content(e)["consent_bot"]["round"]) for e in alice.events
                            if from_bot(self.bot_id, "outcome")(e))
        on_mattermost = Counter(payload(p)["round"] for p in self.mattermost.posts_in(self.canal)
                                if post_from_bot(self.bot_user.id, "outcome")(p))
        return on_matrix, on_mattermost


@pytest_asyncio.fixture(loop_scope="session")
async def deployment(tmp_path: Path, members, bot_account, mattermost: FakeMattermost, postgres):
    url = await postgres.create_database()
    alice, bob, carol = await members("alice", "bob", "carol")
    bot_id = bot_account.user_id
    fives, moulins = await rooms_of_a_network(alice, bot_id, bob, carol)
    team = mattermost.create_team("assembly")
    bot_user = mattermost.create_bot("consentbot")
    dan, erin = mattermost.create_user("dan"), mattermost.create_user("erin")
    canal = mattermost.create_channel(team, "town-square", creator=dan)
    for user in (bot_user, erin):
        mattermost.add_member(canal, user)
    networks = [{"id": "metropole", "rooms": [fives, moulins, canal.id], **NETWORK}]
    (tmp_path / "matrix").mkdir()
    bot_config(tmp_path / "matrix", bot_account, [alice.user_id], {"store_path": str(tmp_path / "matrix" / "crypto")},
               storage={"url": url}, sections={"networks": networks})
    (tmp_path / "mattermost").mkdir()
    (tmp_path / "mattermost" / "config.yaml").write_text(yaml.safe_dump({
        "platform": "mattermost", "storage": {"url": url}, "assembly": QUICK, "networks": networks,
        "mattermost": {"url": mattermost.url, "token": bot_user.token, "teams": []}}), encoding="utf-8")
    on_matrix = BotProcess(tmp_path / "matrix" / "config.yaml", tmp_path / "matrix" / "bot.log")
    on_mattermost = BotProcess(tmp_path / "mattermost" / "config.yaml", tmp_path / "mattermost" / "bot.log")
    world = Deployment(url, [alice, bob, carol], bot_id, fives, moulins, mattermost, bot_user, dan, erin, canal,
                       on_matrix, on_mattermost)
    try:
        await world.start()
        yield world
    finally:
        world.stop()


async def test_a_joint_decision_of_matrix_rooms_and_a_mattermost_channel_by_two_processes_on_one_database(
        deployment: Deployment):
    d = deployment
    alice, bob, carol = d.members
    bot_id, fives, moulins, canal, mattermost = d.bot_id, d.fives, d.moulins, d.canal, d.mattermost
    bot_user, dan, erin, on_matrix = d.bot_user, d.dan, d.erin, d.on_matrix
    proposal = mattermost.post(dan, canal, "!joint Shared budget for street parties")
    ballot_in_canal = await mattermost.wait_for_post(post_from_bot(bot_user.id, "ballot"), channel=canal,
                                                     timeout=20, after=proposal["create_at"])
    ballot_in_fives = await bob.wait_for(from_bot(bot_id, "ballot"), room=fives, timeout=20)
    ballot_in_moulins = await carol.wait_for(from_bot(bot_id, "ballot"), room=moulins, timeout=20)
    # alice (in both Matrix rooms, once), bob, carol, dan, erin
    assert payload(ballot_in_canal)["members"] == 5
    assert content(ballot_in_fives)["consent_bot"]["network"] == "metropole"

    await carol.react(moulins, ballot_in_moulins.event_id, "👍")
    await alice.send_text(fives, "!agree #metropole-1")
    mattermost.post(erin, canal, "!agree #metropole-1")
    await bob.send_text(fives, f"!block #metropole-1 {BLOCK}")
    postponed = [await alice.wait_for(from_bot(bot_id, "outcome"), room=room, timeout=60)
                 for room in (fives, moulins)]
    in_canal = await mattermost.wait_for_post(post_from_bot(bot_user.id, "outcome"), channel=canal, timeout=60)
    states = [content(o)["consent_bot"] for o in postponed] + [payload(in_canal)]
    assert [(s["state"], s["members"], s["tally"]["agree"], s["tally"]["block"]) for s in states] == [
        ("postponed", 5, 3, 1)] * 3

    asked = mattermost.post(dan, canal, "!round #metropole-1 Taken from the festivities' budget.")
    second = await mattermost.wait_for_post(
        lambda p: post_from_bot(bot_user.id, "ballot")(p) and payload(p)["round"] == 2, channel=canal, timeout=20,
        after=asked["create_at"])
    await carol.wait_for(lambda e: from_bot(bot_id, "ballot")(e) and content(e)["consent_bot"]["round"] == 2,
                         room=moulins, timeout=20)
    mattermost.react(erin, second, "+1")
    await asyncio.to_thread(on_matrix.kill)  # down at the deadline
    adopted = await mattermost.wait_for_post(
        lambda p: post_from_bot(bot_user.id, "outcome")(p) and payload(p)["round"] == 2, channel=canal, timeout=60)
    assert (payload(adopted)["state"], payload(adopted)["members"]) == ("adopted", 5)
    on_matrix.start()  # back: it announces the outcome in its rooms
    for room in (fives, moulins):
        outcome = await alice.wait_for(lambda e: from_bot(bot_id, "outcome")(e) and
                                       content(e)["consent_bot"]["round"] == 2, room=room, timeout=60)
        assert content(outcome)["consent_bot"]["state"] == "adopted"

    # Exactly one outcome per room and round.
    await alice.send_text(fives, "!status #metropole-1")
    await alice.wait_for(from_bot(bot_id, "status"), room=fives, timeout=20)
    assert d.outcomes() == ({(fives, 1): 1, (moulins, 1): 1, (fives, 2): 1, (moulins, 2): 1}, {1: 1, 2: 1})


async def _has_all(url: str, rooms: set[str]) -> bool:
    return rooms <= await recorded_rooms(url)



async def positions(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT member, position FROM positions WHERE room = 'network:metropole'"
                                      " AND number = 1 AND round = 1")
    finally:
        await connection.close()
    return {row["member"]: row["position"] for row in rows}


@pytest.mark.parametrize("killed", ["matrix", "mattermost"])
async def test_either_process_killed_with_sigkill_across_a_joint_deadline_loses_no_position_nor_says_twice(
        deployment: Deployment, killed: str):
    d = deployment
    alice, bob, carol = d.members
    await alice.send_text(d.fives, "!joint Shared budget")
    ballot = await carol.wait_for(from_bot(d.bot_id, "ballot"), room=d.moulins, timeout=20)
    in_canal = await d.mattermost.wait_for_post(post_from_bot(d.bot_user.id, "ballot"), channel=d.canal, timeout=20)
    await alice.send_text(d.fives, "!agree #metropole-1")
    await bob.send_text(d.fives, "!disagree #metropole-1 too dear for now")
    await carol.react(d.moulins, ballot.event_id, "👍")
    d.mattermost.post(d.dan, d.canal, "!abstain #metropole-1")
    d.mattermost.post(d.erin, d.canal, "!agree #metropole-1")
    expected = {alice.user_id: "agree", bob.user_id: "disagree", carol.user_id: "agree", d.dan.id: "abstain",
                d.erin.id: "agree"}
    await until(lambda: _positions_are(d.url, expected), timeout=30, what="every position counted")
    process = d.on_matrix if killed == "matrix" else d.on_mattermost
    deadline = datetime.fromisoformat(payload(in_canal)["deadline"])
    # The scenario's instant, not a synchronisation: the kill lands half a second before the deadline, the
    # process comes back after it.
    await asyncio.sleep(max(0.0, (deadline - datetime.now(timezone.utc)).total_seconds() - 0.5))
    await asyncio.to_thread(process.kill)
    process.start()
    for room in (d.fives, d.moulins):
        outcome = await alice.wait_for(from_bot(d.bot_id, "outcome"), room=room, timeout=60)
        assert content(outcome)["consent_bot"]["state"] == "adopted"
    adopted = await d.mattermost.wait_for_post(post_from_bot(d.bot_user.id, "outcome"), channel=d.canal, timeout=60)
    assert (payload(adopted)["tally"]["agree"], payload(adopted)["members"]) == (3, 5)
    assert await positions(d.url) == expected  # positions wrong: 0
    await alice.send_text(d.fives, "!status #metropole-1")
    await alice.wait_for(from_bot(d.bot_id, "status"), room=d.fives, timeout=20)
    assert d.outcomes() == ({(d.fives, 1): 1, (d.moulins, 1): 1}, {1: 1})


async def _positions_are(url: str, expected: dict[str, str]) -> bool:
    return await positions(url) == expected
