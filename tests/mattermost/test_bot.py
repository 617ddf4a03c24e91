"""The bot on the fake Mattermost, with members acting through the fake (their posts and reactions reach the
bot over the websocket exactly as the server sends them). Every REST request the bot makes is checked against
the official OpenAPI description by the `mattermost` fixture."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from bot.mattermost.bot import MattermostLoginFailed

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


async def test_a_dropped_websocket_is_reconnected_and_votes_cast_in_the_gap_are_counted(world):
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
    await world.acked(world.say(world.bob, "!extend #1 2h"))
    admin = fake.create_user("root", system_admin=True)
    fake.add_member(world.channel, admin)
    await world.acked(world.say(admin, "!extend #1 3h"))


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
    with sqlite3.connect(running.config.storage_path) as db:
        assert db.execute("UPDATE outbox SET sent_at = NULL, platform_id = NULL WHERE kind = 'ballot'").rowcount == 1
    fake.expire_pending_post_ids()

    await running.start()
    fake.react(world.bob, ballot, "+1")
    assert await world.tally() == {**EMPTY, "agree": 1}   # the recognised post is the ballot again
    assert sum(payload(p).get("kind") == "ballot" for p in fake.posts_in(world.channel)) == 1
