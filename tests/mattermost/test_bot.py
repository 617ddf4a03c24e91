"""The bot on the fake Mattermost, with members acting through the fake (their posts and reactions reach the
bot over the websocket exactly as the server sends them). Every REST request the bot makes is checked against
the official OpenAPI description by the `mattermost` fixture."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from datetime import datetime

import aiohttp
import pytest

from bot.config import RegisterSettings
from bot.engine import rules
from bot.mattermost.bot import MattermostLoginFailed
from bot.ops.health import readiness
from bot.messages.markdown import escape_inline

from tests.volumes import fill, small_volume

from .bot_harness import RunningBot, bot_config, from_bot, payload

EMPTY = {"agree": 0, "abstain": 0, "disagree": 0, "block": 0, "unargued_block": 0}


class World:
    """A team, a channel, members and the bot's account on the fake; starts bots on a database in tmp_path."""

    def __init__(self, fake, tmp_path) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.team = fake.create_team("assembly")
        self.bot_user = fake.create_bot("consentbot")
        self.alice = fake.create_user("alice")
        self.bob = fake.create_user("bob")
        self.carol = fake.create_user("carol")
        self.channel = fake.create_channel(self.team, "town-square", creator=self.alice)
        for user in (self.bot_user, self.bob, self.carol):
            fake.add_member(self.channel, user)
        self.running: list[RunningBot] = []

    @property
    def bot_id(self) -> str:
        return self.bot_user.id

    async def start(self, token: str | None = None, directory=None, **assembly) -> RunningBot:
        config = bot_config(directory or self.tmp_path, self.fake.url, token or self.bot_user.token, **assembly)
        running = RunningBot(config)
        self.running.append(running)
        return await running.start()

    def say(self, user, message: str, root=None) -> dict:
        return self.fake.post(user, self.channel, message, root)

    async def bot_post(self, kind: str | None = None, number: int | None = None, *, where=None,
                       timeout: float = 10.0, after: int = 0) -> dict:
        base = from_bot(self.bot_id, kind, number)
        return await self.fake.wait_for_post(lambda p: base(p) and (where is None or where(p)),
                                             channel=self.channel, timeout=timeout, after=after)

    async def propose(self, text: str = "!propose Buy a kettle") -> dict:
        command = self.say(self.alice, text)
        return await self.bot_post("ballot", after=command["create_at"])

    async def answer_to(self, command: dict, kind: str, timeout: float = 10.0) -> dict:
        return await self.bot_post(kind, where=lambda p: p["root_id"] == (command["root_id"] or command["id"])
                                   and p["create_at"] > command["create_at"], timeout=timeout)

    async def acked(self, post: dict) -> None:
        await self.fake.wait_until(lambda: any(r["user_id"] == self.bot_id and r["emoji_name"] == "white_check_mark"
                                               for r in self.fake.reactions_on(post)), what="the bot's ✅")

    async def tally(self, number: int = 1) -> dict:
        asked = self.say(self.alice, f"!status #{number}")
        return payload(await self.answer_to(asked, "status"))["tally"]

    async def stored_tally(self, running: RunningBot, number: int = 1) -> dict:
        """The tally in the bot's database: what it counted, whether or not it could post anything yet."""
        async with running.bot.repository.transaction() as tx:
            proposal = await tx.load(self.channel.id, number)
        return rules.tally(proposal.current_round.stances).as_dict()

    def bot_posts(self, kind: str | None = None, channel=None) -> list[dict]:
        return [p for p in self.fake.posts_in(channel or self.channel) if from_bot(self.bot_id, kind)(p)]

    async def stop_all(self) -> None:
        for running in self.running:
            await running.stop()


@pytest.fixture
async def world(mattermost, tmp_path):
    w = World(mattermost, tmp_path)
    yield w
    await w.stop_all()


async def test_ballot_is_markdown_with_seeded_reactions_and_reactions_are_votes(world):
    fake = world.fake
    await world.start()
    ballot = await world.propose("!propose Buy a kettle\nFor the meeting room.")
    assert "**Proposal #1 by @\u2060alice: Buy a kettle**" in ballot["message"]
    assert "For the meeting room." in ballot["message"] and ballot["root_id"] == ""
    assert payload(ballot)["state"] == "open" and payload(ballot)["proposal"] == 1
    seeded = await fake.wait_until(lambda: [r for r in fake.reactions_on(ballot) if r["user_id"] == world.bot_id]
                                   if len(fake.reactions_on(ballot)) >= 4 else None, what="4 seeded reactions")
    assert {r["emoji_name"] for r in seeded} == {"+1", "shrug", "-1", "hand"}
    assert await world.tally() == EMPTY  # the bot's own reactions never count

    fake.react(world.bob, ballot, "+1_medium_skin_tone")   # a skin tone still means agree
    fake.react(world.carol, ballot, "-1")
    assert await world.tally() == {**EMPTY, "agree": 1, "disagree": 1}
    fake.react(world.carol, ballot, "white_check_mark")      # carol changes her mind
    assert await world.tally() == {**EMPTY, "agree": 2}
    fake.unreact(world.carol, ballot, "white_check_mark")    # ...and takes it back: her -1, still there, counts
    assert await world.tally() == {**EMPTY, "agree": 1, "disagree": 1}
    fake.unreact(world.carol, ballot, "-1")                  # nothing of hers is left: no position
    assert await world.tally() == {**EMPTY, "agree": 1}

    fake.react(world.bob, ballot, "thumbsup")                # an alias of his vote: still one vote
    assert await world.tally() == {**EMPTY, "agree": 1}
    fake.unreact(world.bob, ballot, "+1_medium_skin_tone")   # the alias left keeps the vote
    assert await world.tally() == {**EMPTY, "agree": 1}
    fake.unreact(world.bob, ballot, "thumbsup")
    assert await world.tally() == EMPTY
    world.running[0].check_alive()


async def test_commands_in_thread_and_with_a_number_are_acknowledged_and_mistakes_answered_in_thread(world):
    await world.start()
    ballot = await world.propose("!propose Paint the door")
    in_thread = world.say(world.bob, "!disagree too bright", root=ballot)
    await world.acked(in_thread)
    numbered = world.say(world.alice, "!agree #1")
    await world.acked(numbered)
    assert await world.tally() == {**EMPTY, "agree": 1, "disagree": 1}

    mistake = world.say(world.bob, "!extend soon", root=ballot)
    answer = await world.answer_to(mistake, "error")
    assert answer["root_id"] == ballot["id"] and "Usage: !extend" in answer["message"]
    unknown = world.say(world.bob, "!frobnicate")
    answer = await world.answer_to(unknown, "error")
    assert answer["root_id"] == unknown["id"]   # answered in the command's own thread


async def test_a_bare_block_is_asked_for_an_argument_in_the_thread_and_argued_by_a_reply(world):
    fake = world.fake
    await world.start()
    ballot = await world.propose()
    fake.react(world.bob, ballot, "raised_hand")
    request = await world.bot_post("block_request")
    assert request["root_id"] == ballot["id"] and "@bob" in request["message"].replace("@\u2060bob", "")
    assert payload(request)["tally"]["unargued_block"] == 1
    argument = world.say(world.bob, "We already have two kettles in the kitchen.", root=ballot)
    await world.acked(argument)
    assert (await world.tally())["block"] == 1


async def test_rounds_close_on_time_postponed_then_adopted_by_majority(world):
    fake = world.fake
    await world.start(minimum_duration="4s", days_between_rounds="1s", blocked_rounds_before_majority=1,
                      reminders=["2s"])
    ballot = await world.propose()
    world.say(world.bob, "!block #1 Thirty euros is too much while the roof leaks.")
    reminder = await world.bot_post("reminder", timeout=15)
    assert "@alice" in reminder["message"] and "@carol" in reminder["message"] and reminder["root_id"] == ""
    postponed = await world.bot_post("outcome", timeout=15)
    assert payload(postponed)["state"] == "postponed"
    assert "Thirty euros is too much" in postponed["message"]

    again = world.say(world.alice, "!round #1 A second-hand kettle.")
    second = await world.bot_post("ballot", after=again["create_at"])
    assert payload(second)["rule"] == "majority" and second["id"] != ballot["id"] and second["root_id"] == ""
    fake.react(world.alice, second, "+1")
    fake.react(world.carol, second, "thumbsup")
    fake.react(world.bob, second, "-1")
    adopted = await world.bot_post("outcome", where=lambda p: payload(p).get("round") == 2, timeout=15)
    assert payload(adopted)["state"] == "adopted"
    assert payload(adopted)["tally"] == {**EMPTY, "agree": 2, "disagree": 1}
    fake.react(world.carol, ballot, "hand")      # reactions on the old ballot no longer count
    assert (await world.tally())["block"] == 0


async def test_the_bots_own_posts_never_count_and_user_text_is_defused(world):
    fake = world.fake
    await world.start()
    fake.post(world.bot_user, world.channel, "!propose Sent by the bot itself")
    ballot = await world.propose("!propose ![x](http://evil.example/p.png) [click](http://evil.example) "
                                 "for @channel\n# Heading\nPing @all and @here <b>now</b> | a | b |")
    assert payload(ballot)["proposal"] == 1   # the bot's own command was never run
    message = ballot["message"]
    assert "![x]" not in message and "!\\[x\\]" in message and "\\[click\\]" in message
    assert "@channel" not in message and "@all" not in message and "@here" not in message
    assert "\n\\# Heading" in message and "\\| a \\|" in message
    # the fake computes mentions like the server: nobody is notified by this ballot
    assert fake._mentioned(world.bot_user, world.channel, message) == set()


async def test_votes_cast_while_the_bot_is_down_count_once_and_the_outcome_comes_on_time(world):
    fake = world.fake
    running = await world.start(minimum_duration="6s")
    ballot = await world.propose()
    await world.acked(world.say(world.alice, "!agree #1"))
    await running.stop()

    fake.react(world.bob, ballot, "+1")
    for i in range(5):
        world.say(world.alice, f"chatter {i}")
    world.say(world.carol, "!block #1 Not before the roof is repaired, please.")
    await running.start()
    outcome = await world.bot_post("outcome", timeout=15)
    assert payload(outcome)["state"] == "postponed"
    assert payload(outcome)["tally"] == {**EMPTY, "agree": 2, "block": 1}
    # Restarting again replays nothing: no second ballot, acknowledgement or outcome.
    await running.stop()
    await running.start()
    listing = world.say(world.alice, "!list")
    await world.answer_to(listing, "status")
    mine = [p for p in fake.posts_in(world.channel) if p["user_id"] == world.bot_id]
    assert sum(payload(p).get("kind") == "outcome" for p in mine) == 1
    assert sum(payload(p).get("kind") == "ballot" for p in mine) == 1
    assert sum(payload(p).get("kind") == "block_request" for p in mine) == 0


async def test_a_dropped_websocket_is_reconnected_and_votes_cast_in_the_gap_are_counted(world, caplog):
    caplog.set_level(logging.INFO)
    fake = world.fake
    running = await world.start()
    ballot = await world.propose()
    fake.react(world.carol, ballot, "-1")
    assert await world.tally() == {**EMPTY, "disagree": 1}
    resyncs = running.bot.resyncs
    assert fake.drop_websockets() == 1
    # While the bot is disconnected (nothing is delivered to it): a vote, a withdrawal and a command.
    fake.react(world.bob, ballot, "thumbsup")
    fake.unreact(world.carol, ballot, "-1")
    gap_command = world.say(world.alice, "!abstain #1")
    await fake.wait_until(lambda: running.bot.resyncs > resyncs, what="a resync after the reconnection")
    await world.acked(gap_command)
    assert await world.tally() == {**EMPTY, "agree": 1, "abstain": 1}
    assert fake.ws_connects == 2
    assert fake.requests_to("GET", rf"/api/v4/posts/{ballot['id']}/reactions")
    assert any(r.query.get("since") for r in fake.requests_to("GET", r"/api/v4/channels/\w+/posts"))
    # The warning of the closed websocket has an end the operator can see.
    again = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "works again" in r.getMessage()]
    assert len(again) == 1 and re.fullmatch(r"the websocket works again after 1 failure / \d+ s", again[0]), again


async def test_a_bad_token_fails_at_start_with_a_clear_error(world):
    started = time.monotonic()
    with pytest.raises(MattermostLoginFailed, match="rejected the bot's token"):
        await world.start(token="not-a-valid-token")
    assert time.monotonic() - started < 5
    assert world.fake.ws_connects == 0   # checked over REST before any websocket


async def test_a_revoked_token_stops_the_running_bot(world):
    running = await world.start()
    world.fake.revoke_token(world.bot_user)
    with pytest.raises(MattermostLoginFailed):
        await asyncio.wait_for(asyncio.shield(running.task), 10)


async def test_rate_limited_requests_wait_as_the_server_asks_and_post_once(world):
    fake = world.fake
    running = await world.start()
    fake.inject_429(2, retry_after=1)
    started = time.monotonic()
    ballot = await world.propose()
    await fake.wait_until(lambda: len(fake.reactions_on(ballot)) >= 4, what="seeded reactions")
    assert time.monotonic() - started >= 2   # two 429s, each waited out for its Retry-After
    assert running.bot.client.rate_limited == 2
    assert sum(payload(p).get("kind") == "ballot" for p in fake.posts_in(world.channel)) == 1


async def test_edits_run_only_commands_that_had_not_taken_effect(world):
    fake = world.fake
    await world.start()
    await world.propose()
    typo = world.say(world.bob, "!agree #7")
    await world.answer_to(typo, "error")
    fake.edit(world.bob, typo, "!agree #1")
    await world.acked(typo)
    fake.edit(world.bob, typo, "!block #1 On second thoughts, far too expensive for us.")
    refusal = await world.bot_post("error", where=lambda p: "already taken effect" in p["message"])
    assert refusal["root_id"] == typo["id"]
    assert await world.tally() == {**EMPTY, "agree": 1}


async def test_facilitators_are_channel_admins_and_system_admins(world):
    fake = world.fake
    await world.start()
    await world.propose()
    refused = world.say(world.bob, "!extend #1 2h")
    answer = await world.answer_to(refused, "error")
    assert "Only a facilitator may do this." in answer["message"]
    fake.set_channel_admin(world.channel, world.bob)
    extended = world.say(world.bob, "!extend #1 2h")
    announcement = await world.bot_post("announcement", after=extended["create_at"])
    assert announcement["root_id"] == "" and "extends the deadline" in announcement["message"]  # said to the channel
    admin = fake.create_user("root", system_admin=True)
    fake.add_member(world.channel, admin)
    again = world.say(admin, "!extend #1 3h")
    await world.bot_post("announcement", after=again["create_at"], where=lambda p: "root" in p["message"])


async def test_members_exclude_bots_and_channels_of_other_teams_are_ignored(world, tmp_path):
    fake = world.fake
    other_bot = fake.create_bot("otherbot")
    fake.add_member(world.channel, other_bot)
    elsewhere_team = fake.create_team("elsewhere")
    fake.add_to_team(elsewhere_team, world.bot_user)
    elsewhere = fake.create_channel(elsewhere_team, "general", creator=world.alice)
    fake.add_member(elsewhere, world.bot_user)
    await world.start(teams=["assembly"])
    ballot = await world.propose()
    assert payload(ballot)["members"] == 3   # alice, bob, carol: neither bot
    outside = fake.post(world.alice, elsewhere, "!propose Not here")
    marker = world.say(world.alice, "!list")
    await world.answer_to(marker, "status")
    assert not [p for p in fake.posts_in(elsewhere) if p["user_id"] == world.bot_id and p["id"] != outside["id"]]


async def test_a_fresh_install_replays_nothing_from_before_it_started(world, tmp_path):
    running = await world.start()
    await running.stop()
    world.say(world.alice, "!propose Sent while no bot was running")
    (tmp_path / "fresh").mkdir()
    await world.start(directory=tmp_path / "fresh")
    ballot = await world.propose("!propose Sent to the new installation")
    assert "Sent to the new installation" in ballot["message"] and payload(ballot)["proposal"] == 1
    assert sum(payload(p).get("kind") == "ballot" for p in world.fake.posts_in(world.channel)) == 1


async def test_a_post_sent_just_before_a_crash_is_recognised_not_posted_again(world):
    """The bot posted the ballot, then died before recording it; it comes back after the server's 30 s
    de-duplication window: the resync finds the post and records it instead of posting a second ballot."""
    fake = world.fake
    running = await world.start()
    ballot = await world.propose()
    await fake.wait_until(lambda: len(fake.reactions_on(ballot)) >= 4, what="seeded reactions")
    await running.stop()
    with sqlite3.connect(running.config.storage.path) as db:
        assert db.execute("UPDATE outbox SET sent_at = NULL, platform_id = NULL WHERE kind = 'ballot'").rowcount == 1
    fake.expire_pending_post_ids()

    await running.start()
    fake.react(world.bob, ballot, "+1")
    assert await world.tally() == {**EMPTY, "agree": 1}   # the recognised post is the ballot again
    assert sum(payload(p).get("kind") == "ballot" for p in fake.posts_in(world.channel)) == 1


# --- nothing lost, whatever the server does ------------------------------------------------------------------


async def test_a_bot_offline_while_2500_posts_arrive_handles_every_command_among_them(world, caplog):
    """The server's `since` listing holds at most 1000 posts, and on PostgreSQL the oldest: the newest 1,500
    are read page by page. With a `since` read alone, most of these votes would be lost."""
    fake = world.fake
    caplog.set_level(logging.WARNING, logger="bot.mattermost.bot")
    voters = [fake.create_user(f"voter{i:02d}") for i in range(30)]
    for voter in voters:
        fake.add_member(world.channel, voter)
    running = await world.start()
    await world.propose()
    await running.stop()

    commands, chatter = [], [world.alice, world.bob, world.carol]
    spacing = 2500 // len(voters)
    for i in range(2500):
        number, turn = divmod(i, spacing)
        if turn == spacing // 2 and number < len(voters):
            text = "!agree #1" if number % 2 == 0 else f"!disagree #1 Reason number {number}."
            commands.append(world.say(voters[number], text))
        else:
            world.say(chatter[i % 3], f"chatter {i}")
    assert len(commands) == 30 and len(fake.posts_in(world.channel)) >= 2500

    await running.start()
    assert await world.tally() == {**EMPTY, "agree": 15, "disagree": 15}
    for command in commands:
        await world.acked(command)
    pages = [r for r in fake.requests_to("GET", rf"/api/v4/channels/{world.channel.id}/posts")
             if r.query.get("per_page") == "200"]
    assert len(pages) >= 13   # 2,500 posts, 200 a page
    assert "edits and deletions of older posts may be missed" in caplog.text


async def test_a_deleted_command_leaves_its_vote_counted(world):
    fake = world.fake
    running = await world.start()
    await world.propose()
    command = world.say(world.bob, "!disagree #1 Too expensive for us.")
    await world.acked(command)
    fake.delete(world.bob, command)
    assert await world.tally() == {**EMPTY, "disagree": 1}   # asked after the deletion reached the bot
    resyncs = running.bot.resyncs
    fake.drop_websockets()   # the resync reads the deleted post again (delete_at set): still nothing changes
    await fake.wait_until(lambda: running.bot.resyncs > resyncs, what="a resync after the reconnection")
    assert await world.tally() == {**EMPTY, "disagree": 1}


async def test_a_deleted_ballot_is_posted_again_and_the_positions_taken_stand(world):
    fake = world.fake
    running = await world.start()
    ballot = await world.propose()
    fake.react(world.bob, ballot, "+1")
    await world.acked(world.say(world.carol, "!disagree #1 Too expensive for us."))
    assert await world.tally() == {**EMPTY, "agree": 1, "disagree": 1}
    admin = fake.create_user("root", system_admin=True)
    fake.add_member(world.channel, admin)

    fake.delete(admin, ballot)   # bob's 👍 disappears with it
    again = await world.bot_post("ballot", after=ballot["create_at"])
    assert again["id"] != ballot["id"] and payload(again)["proposal"] == 1 and again["root_id"] == ""
    await fake.wait_until(lambda: len(fake.reactions_on(again)) >= 4, what="the new ballot's seeded reactions")
    assert await world.tally() == {**EMPTY, "agree": 1, "disagree": 1}
    fake.react(world.alice, again, "+1")   # the new ballot's reactions count
    assert await world.tally() == {**EMPTY, "agree": 2, "disagree": 1}

    resyncs = running.bot.resyncs
    fake.drop_websockets()   # the resync sees the deleted ballot again and the new one's reactions: no change
    await fake.wait_until(lambda: running.bot.resyncs > resyncs, what="a resync after the reconnection")
    assert await world.tally() == {**EMPTY, "agree": 2, "disagree": 1}
    assert len(world.bot_posts("ballot")) == 1   # the live one


async def test_an_answer_whose_thread_was_deleted_meanwhile_is_posted_in_the_channel(world):
    fake = world.fake
    running = await world.start()
    ballot = await world.propose()
    await fake.wait_until(lambda: len(fake.reactions_on(ballot)) >= 4, what="seeded reactions")
    fake.inject_429(10_000, retry_after=1, only=r"POST /api/v4/posts")
    fake.react(world.bob, ballot, "raised_hand")   # a bare block: bob is asked for his argument in the thread
    await fake.wait_until(lambda: running.bot.client.rate_limited > 0, what="the request held up")
    admin = fake.create_user("root", system_admin=True)
    fake.add_member(world.channel, admin)
    fake.delete(admin, ballot)   # the thread the request was going to goes with it
    fake.stop_429()
    request = await world.bot_post("block_request")
    assert request["root_id"] == "" and "@bob" in request["message"]
    await world.bot_post("ballot", after=ballot["create_at"])


async def test_a_resync_before_the_new_ballot_is_out_takes_no_vote_back(world):
    """The deleted ballot has no reactions left: that is no member taking a vote back."""
    fake = world.fake
    running = await world.start()
    ballot = await world.propose()
    fake.react(world.bob, ballot, "+1")
    assert await world.tally() == {**EMPTY, "agree": 1}
    fake.inject_429(10_000, retry_after=1, only=r"POST /api/v4/posts")
    admin = fake.create_user("root", system_admin=True)
    fake.add_member(world.channel, admin)
    fake.delete(admin, ballot)
    await fake.wait_until(lambda: running.bot.client.rate_limited > 0, what="the new ballot held up")
    resyncs = running.bot.resyncs
    fake.drop_websockets()
    await fake.wait_until(lambda: running.bot.resyncs > resyncs, what="a resync after the reconnection")
    fake.stop_429()
    await world.bot_post("ballot", after=ballot["create_at"])
    assert await world.tally() == {**EMPTY, "agree": 1}


async def test_a_ballot_deleted_while_the_bot_is_down_is_posted_again_once(world):
    fake = world.fake
    running = await world.start()
    ballot = await world.propose()
    await world.acked(world.say(world.bob, "!agree #1"))
    await running.stop()
    admin = fake.create_user("root", system_admin=True)
    fake.add_member(world.channel, admin)
    fake.delete(admin, ballot)

    await running.start()   # the resync finds it deleted (delete_at set)
    again = await world.bot_post("ballot", after=ballot["create_at"])
    assert await world.tally() == {**EMPTY, "agree": 1}
    await running.stop()
    await running.start()   # the same deletion read again changes nothing
    assert await world.tally() == {**EMPTY, "agree": 1}
    assert [p["id"] for p in world.bot_posts("ballot")] == [again["id"]]


async def test_a_direct_message_is_answered_once_with_a_pointer_to_the_channels(world):
    fake = world.fake
    running = await world.start()
    direct = fake.direct_channel(world.alice, world.bot_user)
    fake.post(world.alice, direct, "!propose Buy a kettle")
    answer = await fake.wait_for_post(from_bot(world.bot_id), channel=direct)
    assert "in its channels" in answer["message"] and answer["root_id"] == ""   # a plain post of the conversation
    group = fake.group_channel(world.alice, world.bob, world.bot_user)
    fake.post(world.alice, group, "Shall we order pizza?")   # members talking among themselves: no answer
    command = fake.post(world.bob, group, "!agree #1")
    answer = await fake.wait_for_post(from_bot(world.bot_id), channel=group)
    assert "in its channels" in answer["message"] and answer["create_at"] > command["create_at"]

    resyncs = running.bot.resyncs
    fake.drop_websockets()   # neither a reconnection nor a restart answers anyone twice
    await fake.wait_until(lambda: running.bot.resyncs > resyncs, what="a resync after the reconnection")
    await running.stop()
    carols = fake.direct_channel(world.carol, world.bot_user)
    fake.post(world.carol, carols, "Hello?")   # sent while the bot is down: answered when it is back
    await running.start()
    await fake.wait_for_post(from_bot(world.bot_id), channel=carols)
    fake.post(world.alice, direct, "Hello again")
    await fake.wait_until(lambda: len(world.bot_posts(channel=direct)) == 2, what="the second answer")
    # Only pointers: no ballot, no acknowledgement, nothing ran where no assembly meets.
    assert [payload(p)["kind"] for p in world.bot_posts(channel=direct)] == ["error", "error"]
    assert [payload(p)["kind"] for p in world.bot_posts(channel=group)] == ["error"]
    assert not fake.reactions_on(command) and world.bot_posts() == []


async def test_an_outcome_and_a_status_too_long_for_one_post_arrive_whole_in_parts(world):
    """Twenty reasons of 1,000 characters that Markdown escaping doubles: about 40,000 characters."""
    fake = world.fake
    critics = [fake.create_user(f"critic{i:02d}") for i in range(20)]
    for critic in critics:
        fake.add_member(world.channel, critic)
    await world.start(minimum_duration="3s")
    await world.propose()
    reasons = [(f"{i:02d} " + "*_\\" * 400)[:1000] for i in range(len(critics))]
    commands = [world.say(critic, f"!disagree #1 {reason}") for critic, reason in zip(critics, reasons)]
    await world.acked(commands[-1])
    asked = world.say(world.alice, "!status #1")

    def whole(kind: str, where) -> list[dict] | None:
        posts = [p for p in world.bot_posts(kind) if where(p)]
        if not posts or len(posts) < payload(posts[0]).get("parts", 1):
            return None
        return posts

    status = await fake.wait_until(lambda: whole("status", lambda p: p["root_id"] == asked["id"]), what="the status")
    outcome = await fake.wait_until(lambda: whole("outcome", lambda p: True), timeout=15, what="the outcome")
    for parts in (status, outcome):
        assert len(parts) >= 3
        assert [(payload(p)["part"], payload(p)["parts"]) for p in parts] == [(i + 1, len(parts))
                                                                              for i in range(len(parts))]
        assert all(len(p["message"]) <= 16383 for p in parts)
        text = "\n".join(p["message"] for p in parts)
        assert len(text) > 16383 and all(escape_inline(reason) in text for reason in reasons)
    assert payload(outcome[0])["tally"]["disagree"] == 20 and payload(outcome[0])["state"] == "adopted"


async def test_votes_are_counted_while_the_bots_posts_are_rate_limited(world):
    """Delivery runs on its own: a server refusing every post of the bot (429) never delays a vote."""
    fake = world.fake
    voters = [fake.create_user(f"voter{i:02d}") for i in range(10)]
    for voter in voters:
        fake.add_member(world.channel, voter)
    running = await world.start()
    ballot = await world.propose()
    await fake.wait_until(lambda: len(fake.reactions_on(ballot)) >= 4, what="seeded reactions")
    fake.inject_429(10_000, retry_after=1, only=r"POST /api/v4/(posts|reactions)")
    commands = [world.say(voter, "!agree #1") for voter in voters[:5]]
    for voter in voters[5:]:
        fake.react(voter, ballot, "-1")

    async def counted() -> bool:
        return await world.stored_tally(running) == {**EMPTY, "agree": 5, "disagree": 5}

    await fake.wait_until(counted, timeout=5, what="every vote counted while posts are refused")
    await fake.wait_until(lambda: running.bot.client.rate_limited > 0, what="the bot's posts refused")
    assert fake.pending_429 > 0   # still refusing: not one post or reaction of the bot went through
    assert not any(r["user_id"] == world.bot_id for c in commands for r in fake.reactions_on(c))
    fake.stop_429()
    for command in commands:
        await world.acked(command)
    assert await world.tally() == {**EMPTY, "agree": 5, "disagree": 5}


async def test_votes_missed_while_down_are_counted_at_restart_while_the_bots_posts_are_rate_limited(world):
    """The first resync too only queues its answers: the bot is ready, and the votes counted, at once."""
    fake = world.fake
    running = await world.start()
    await world.propose()
    await running.stop()
    commands = [world.say(member, "!agree #1") for member in (world.alice, world.bob, world.carol)]
    fake.inject_429(10_000, retry_after=1, only=r"POST /api/v4/(posts|reactions)")
    started = time.monotonic()
    await running.start()
    assert time.monotonic() - started < 5   # a ✅ sent inline would wait out five 429s of 1 s first

    assert await world.stored_tally(running) == {**EMPTY, "agree": 3}
    assert fake.pending_429 > 0 and not any(r["user_id"] == world.bot_id for c in commands
                                             for r in fake.reactions_on(c))
    fake.stop_429()
    for command in commands:
        await world.acked(command)


async def test_a_vote_whose_event_never_reaches_the_bot_is_read_before_the_round_closes(world):
    fake = world.fake
    await world.start(minimum_duration="3s")
    ballot = await world.propose()
    fake.withhold_events(True)   # from now on the websocket stays silent
    vote = world.say(world.bob, "!agree #1")
    assert vote["create_at"] < datetime.fromisoformat(payload(ballot)["deadline"]).timestamp() * 1000
    outcome = await world.bot_post("outcome", timeout=15)
    assert payload(outcome)["tally"] == {**EMPTY, "agree": 1}
    assert fake.withhold_events(False) > 0   # the event arrives after all, late: it changes nothing
    status = await world.answer_to(world.say(world.alice, "!status #1"), "status")
    assert payload(status)["tally"] == {**EMPTY, "agree": 1}
    assert len(world.bot_posts("outcome")) == 1


async def test_the_register_is_served_beside_the_bot_while_it_runs(world, caplog):
    caplog.set_level(logging.INFO)
    config = bot_config(world.tmp_path, world.fake.url, world.bot_user.token)
    config = config.model_copy(update={"register": RegisterSettings(enabled=True, port=0)})
    running = RunningBot(config)
    world.running.append(running)
    await running.start()
    world.fake.drop_websockets()  # the next hello is no news: the log said once that the bot is up
    await world.fake.wait_until(lambda: running.bot.resyncs == 2, what="a resync after the reconnection")
    ready = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ready on")]
    assert ready == [f"ready on Mattermost: account @consentbot ({world.bot_id}); 1 assembly channels; added to "
                     f"channels by their members in every team it belongs to; register at {running.bot.register.url}"]
    assert world.bot_user.token not in caplog.text
    await world.propose("!propose Buy a kettle")
    page = f"{running.bot.register.url}/a/{world.channel.id}/1"
    async with aiohttp.ClientSession() as session:
        async with session.get(page) as response:
            assert response.status == 200 and "Buy a kettle" in await response.text()
        await running.stop()
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(page)


async def test_a_full_volume_acknowledges_nothing_and_what_came_meanwhile_is_read_again_once_freed(world, tmp_path):
    fake = world.fake
    with small_volume(tmp_path / "volume") as volume:
        running = await world.start(directory=volume)
        ballot = await world.propose()
        health = running.bot.repository.health
        filler = fill(volume)
        command = world.say(world.bob, "!agree #1")
        await fake.wait_until(lambda: not health.ok, what="the bot to say its database is full")
        assert running.bot.database_state() == {"problem": "database or disk is full", "lease": None}
        assert (await readiness(running.bot))["checks"]["database"] == {"ok": False, "error": "database or disk is full"}
        fake.react(world.carol, ballot, "-1")
        assert not [r for r in fake.reactions_on(command) if r["user_id"] == world.bot_id]  # nothing acknowledged
        filler.unlink()
        await world.acked(command)
        assert await world.tally() == {**EMPTY, "agree": 1, "disagree": 1}
        assert health.ok and running.task is not None and not running.task.done()
