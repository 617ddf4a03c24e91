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
from pathlib import Path

import asyncpg
import pytest_asyncio
import yaml

from tests.mattermost.bot_harness import from_bot as post_from_bot, payload
from tests.mattermost.fake import FakeMattermost, load_contract
from tests.polling import until

from .bot_harness import QUICK, bot_config, from_bot, joined
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


async def test_a_joint_decision_of_matrix_rooms_and_a_mattermost_channel_by_two_processes_on_one_database(
        tmp_path: Path, members, bot_account, mattermost: FakeMattermost, postgres):
    url = await postgres.create_database()
    alice, bob, carol = await members("alice", "bob", "carol")
    bot_id = bot_account.user_id
    fives = await alice.create_room(invite=[bot_id, bob.user_id])
    moulins = await alice.create_room(invite=[bot_id, carol.user_id])
    await bob.join(fives)
    await carol.join(moulins)
    team = mattermost.create_team("assembly")
    bot_user = mattermost.create_bot("consentbot")
    dan, erin = mattermost.create_user("dan"), mattermost.create_user("erin")
    canal = mattermost.create_channel(team, "town-square", creator=dan)
    for user in (bot_user, erin):
        mattermost.add_member(canal, user)
    networks = [{"id": "metropole", "rooms": [fives, moulins, canal.id], **NETWORK}]

    (tmp_path / "matrix").mkdir()
    bot_config(tmp_path / "matrix", bot_account, [alice.user_id], {"store_path": str(tmp_path / "matrix" / "crypto")},
               storage={"url": url},
               sections={"networks": networks})
    (tmp_path / "mattermost").mkdir()
    (tmp_path / "mattermost" / "config.yaml").write_text(yaml.safe_dump({
        "platform": "mattermost", "storage": {"url": url}, "assembly": QUICK, "networks": networks,
        "mattermost": {"url": mattermost.url, "token": bot_user.token, "teams": []}}), encoding="utf-8")
    on_matrix = BotProcess(tmp_path / "matrix" / "config.yaml", tmp_path / "matrix" / "bot.log")
    on_mattermost = BotProcess(tmp_path / "mattermost" / "config.yaml", tmp_path / "mattermost" / "bot.log")
    try:
        on_matrix.start()
        on_mattermost.start()
        for room in (fives, moulins):
            await alice.wait_for(joined(bot_id), room=room, timeout=30)
        await mattermost.wait_for_connections(1, timeout=30)
        # Each process records who is in its rooms once it is up: the other counts them from there.
        await until(lambda: _has_all(url, {fives, moulins, canal.id}), timeout=30,
                    what="the members of the three rooms recorded")

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
        matrix_outcomes = Counter((alice.room_of[e.event_id], content(e)["consent_bot"]["round"]) for e in alice.events
                                  if from_bot(bot_id, "outcome")(e))
        mattermost_outcomes = Counter(payload(p)["round"] for p in mattermost.posts_in(canal)
                                      if post_from_bot(bot_user.id, "outcome")(p))
        assert matrix_outcomes == {(fives, 1): 1, (moulins, 1): 1, (fives, 2): 1, (moulins, 2): 1}
        assert mattermost_outcomes == {1: 1, 2: 1}
    finally:
        for process in (on_matrix, on_mattermost):
            process.stop()
        print(on_matrix.log_tail(), on_mattermost.log_tail(), sep="\n---\n")


async def _has_all(url: str, rooms: set[str]) -> bool:
    return rooms <= await recorded_rooms(url)

