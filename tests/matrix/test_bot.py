"""The bot in real rooms on a real Synapse, with members as real Matrix clients."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import datetime, timezone

import aiohttp
from nio import RoomMemberEvent

from .bot_harness import (RunningBot, answer_to, bot_config, from_bot, joined, propose, reaction_by, room_with_bot,
                          skip_sync_past, status, tally)
from .member import content, relates_to


async def test_a_proposal_gets_a_ballot_with_seeded_reactions_and_reactions_are_votes(start_bot, members):
    alice, bob, carol = await members("alice", "bob", "carol")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob, carol)

    await alice.send_text(room, "!propose Buy a kettle\nFor the meeting room.")
    ballot = await alice.wait_for(from_bot(bot.user_id, "ballot"), room=room)
    body = content(ballot)
    assert "Buy a kettle" in body["body"] and "For the meeting room." in body["body"]
    assert "<strong>" in body["formatted_body"] and body["msgtype"] == "m.text"
    assert body["consent_bot"]["state"] == "open" and body["m.mentions"] == {"user_ids": []}
    seeded = await alice.wait_for_count(lambda e: getattr(e, "reacts_to", None) == ballot.event_id
                                        and e.sender == bot.user_id, 4, room=room)
    assert {e.key for e in seeded} == {"👍", "🤷", "👎", "✋"}

    await bob.react(room, ballot.event_id, "👍🏽")      # a skin tone still means agree
    carol_vote = await carol.react(room, ballot.event_id, "👎")
    await carol.wait_for_event(carol_vote)
    assert await status(alice, room, bot.user_id) == {"agree": 1, "abstain": 0, "disagree": 1, "block": 0,
                                                       "unargued_block": 0}
    # carol changes her mind (a new reaction replaces her position), then takes it back: her 👎, still on
    # the ballot, counts again; once she removes it too, she has no position.
    carol_agrees = await carol.react(room, ballot.event_id, "✅")
    await carol.wait_for_event(carol_agrees)
    assert (await status(alice, room, bot.user_id))["agree"] == 2
    await carol.redact(room, carol_agrees)
    assert await status(alice, room, bot.user_id) == {"agree": 1, "abstain": 0, "disagree": 1, "block": 0,
                                                       "unargued_block": 0}
    await carol.redact(room, carol_vote)
    assert await status(alice, room, bot.user_id) == {"agree": 1, "abstain": 0, "disagree": 0, "block": 0,
                                                       "unargued_block": 0}
    bot.check_alive()


async def test_commands_in_reply_and_in_thread_are_acknowledged_and_mistakes_answered_in_thread(start_bot, members):
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    ballot = await propose(alice, room, bot.user_id, "!propose Paint the door")

    in_reply = await bob.send_text(room, "> <@bot> Paint the door\n\n!disagree too bright", reply_to=ballot.event_id)
    await bob.wait_for(reaction_by(bot.user_id, in_reply, "✅"), room=room)
    in_thread = await alice.send_text(room, "!agree", thread_root=ballot.event_id)
    await alice.wait_for(reaction_by(bot.user_id, in_thread, "✅"), room=room)
    assert await status(alice, room, bot.user_id) == {"agree": 1, "abstain": 0, "disagree": 1, "block": 0,
                                                       "unargued_block": 0}

    mistake = await bob.send_text(room, "!extend soon", thread_root=ballot.event_id)
    answer = await bob.wait_for(from_bot(bot.user_id, "error"), room=room)
    relation = relates_to(answer)
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == ballot.event_id
    assert relation["m.in_reply_to"]["event_id"] == mistake
    assert "Usage: !extend" in content(answer)["body"] and content(answer)["msgtype"] == "m.notice"


async def test_a_bare_block_is_asked_for_an_argument_in_the_thread_and_argued_by_a_reply(start_bot, members):
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    ballot = await propose(alice, room, bot.user_id)

    await bob.react(room, ballot.event_id, "✋")
    request = await bob.wait_for(from_bot(bot.user_id, "block_request"), room=room)
    body = content(request)
    assert body["m.mentions"] == {"user_ids": [bob.user_id]} and body["msgtype"] == "m.text"
    assert f'href="https://matrix.to/#/{bob.user_id}"' in body["formatted_body"]
    assert relates_to(request)["rel_type"] == "m.thread" and relates_to(request)["event_id"] == ballot.event_id
    assert tally(request)["unargued_block"] == 1

    argument = await bob.send_text(room, "We already have two kettles in the kitchen.", thread_root=ballot.event_id)
    await bob.wait_for(reaction_by(bot.user_id, argument, "✅"), room=room)
    assert (await status(alice, room, bot.user_id))["block"] == 1


async def test_rounds_close_on_time_postponed_then_adopted_by_majority(start_bot, members):
    alice, bob, carol = await members("alice", "bob", "carol")
    # The reminder comes 8 s after the proposal: bob's block is handled by then on a loaded machine too (a
    # reminder 2 s after it named bob as not having answered, his block still on its way).
    bot = await start_bot([alice.user_id], minimum_duration="10s", days_between_rounds="1s",
                          blocked_rounds_before_majority=1, reminders=["2s"])
    room = await room_with_bot(alice, bot.user_id, bob, carol)
    ballot = await propose(alice, room, bot.user_id)
    await bob.send_text(room, "!block #1 Thirty euros is too much while the roof leaks.")
    reminder = await alice.wait_for(from_bot(bot.user_id, "reminder"), room=room, timeout=20)
    # A reminder mentions who has not answered, so it is m.text: notices never notify.
    assert content(reminder)["msgtype"] == "m.text"
    assert content(reminder)["m.mentions"] == {"user_ids": sorted([alice.user_id, carol.user_id])}
    postponed = await alice.wait_for(from_bot(bot.user_id, "outcome"), room=room, timeout=20)
    assert content(postponed)["consent_bot"]["state"] == "postponed"
    assert "Thirty euros is too much" in content(postponed)["body"]
    assert "Participation: 1 of 3 members." in content(postponed)["body"]

    await alice.send_text(room, "!round #1 A second-hand kettle.")
    second = await alice.wait_for(lambda e: from_bot(bot.user_id, "ballot")(e) and e.event_id != ballot.event_id,
                                  room=room)
    assert content(second)["consent_bot"]["rule"] == "majority"
    await alice.react(room, second.event_id, "👍")
    await carol.react(room, second.event_id, "👍")
    await bob.react(room, second.event_id, "👎")
    adopted = await alice.wait_for(lambda e: from_bot(bot.user_id, "outcome")(e)
                                   and content(e)["consent_bot"]["round"] == 2, room=room, timeout=20)
    assert content(adopted)["consent_bot"]["state"] == "adopted"
    assert tally(adopted) == {"agree": 2, "abstain": 0, "disagree": 1, "block": 0, "unargued_block": 0}
    # Reactions on the old ballot no longer count.
    await carol.react(room, ballot.event_id, "✋")
    assert (await status(alice, room, bot.user_id))["block"] == 0


async def test_invitations_from_strangers_are_refused(start_bot, members):
    alice, stranger = await members("alice", "stranger")
    bot = await start_bot([alice.user_id])
    room = await stranger.create_room(invite=[bot.user_id])
    left = await stranger.wait_for(lambda e: isinstance(e, RoomMemberEvent) and e.state_key == bot.user_id
                                   and e.membership == "leave", room=room, timeout=15)
    assert left.sender == bot.user_id


async def test_old_messages_are_not_replayed_and_user_text_is_defused(start_bot, members):
    alice, bob = await members("alice", "bob")
    room = await alice.create_room(invite=[bob.user_id])
    await bob.join(room)
    old = await alice.send_text(room, "!propose From before the bot came")
    await bob.wait_for_event(old)
    bot = await start_bot([alice.user_id])
    await alice.invite(room, bot.user_id)
    await alice.wait_for(lambda e: isinstance(e, RoomMemberEvent) and e.state_key == bot.user_id
                         and e.membership == "join", room=room, timeout=15)
    await alice.send_text(room, "!propose <img src=x onerror=alert(1)> for @room\nPing @room <b>now</b>")
    ballot = await alice.wait_for(from_bot(bot.user_id, "ballot"), room=room)
    body = content(ballot)
    assert body["consent_bot"]["proposal"] == 1  # the old proposal was never made
    assert "<img" not in body["formatted_body"] and "&lt;img src=x" in body["formatted_body"]
    assert "@room" not in body["body"] and "@room" not in body["formatted_body"]
    assert body["m.mentions"] == {"user_ids": []}


async def test_votes_cast_while_the_bot_is_down_count_once_and_the_outcome_comes_on_time(start_bot, members):
    alice, bob, carol = await members("alice", "bob", "carol")
    # Long enough for the 120 messages below to reach the homeserver before the deadline on a loaded machine too
    # (they took 5 to 23 s past a 12 s one with the two cores shared by three test suites).
    bot = await start_bot([alice.user_id], minimum_duration="45s")
    room = await room_with_bot(alice, bot.user_id, bob, carol)
    ballot = await propose(alice, room, bot.user_id)
    await alice.send_text(room, "!agree #1")
    await alice.wait_for(lambda e: from_bot(bot.user_id)(e) or getattr(e, "key", None) == "✅"
                         and e.sender == bot.user_id, room=room)

    await bot.stop()
    await bob.react(room, ballot.event_id, "👍")
    for batch in range(12):   # more than a sync's timeline holds: the bot must fetch the gap
        await asyncio.gather(*(alice.send_text(room, f"chatter {batch}.{i}") for i in range(10)))
    carol_block = await carol.send_text(room, "!block #1 Not before the roof is repaired, please.")
    await carol.wait_for_event(carol_block)

    await bot.start()
    deadline = datetime.fromisoformat(content(ballot)["consent_bot"]["deadline"])
    sent = datetime.fromtimestamp((await carol.wait_for_event(carol_block)).server_timestamp / 1000, timezone.utc)
    assert sent < deadline, f"the test's premise: carol blocked {sent - deadline} after the deadline"
    outcome = await alice.wait_for(from_bot(bot.user_id, "outcome"), room=room, timeout=60)
    assert content(outcome)["consent_bot"]["state"] == "postponed"
    assert tally(outcome) == {"agree": 2, "abstain": 0, "disagree": 0, "block": 1, "unargued_block": 0}
    # Restarting again replays nothing: no second ballot, acknowledgement or outcome.
    await bot.stop()
    await bot.start()
    await answer_to(alice, room, bot.user_id, "status", await alice.send_text(room, "!list"))
    assert len(alice.matching(from_bot(bot.user_id, "outcome"), room=room)) == 1
    assert len(alice.matching(from_bot(bot.user_id, "ballot"), room=room)) == 1


async def test_edits_run_only_commands_that_had_not_taken_effect(start_bot, members):
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    await propose(alice, room, bot.user_id)

    typo = await bob.send_text(room, "!agree #7")
    await answer_to(bob, room, bot.user_id, "error", typo)
    fixed = await bob.edit(room, typo, "!agree #1")
    await bob.wait_for(reaction_by(bot.user_id, fixed, "✅"), room=room)
    late_edit = await bob.edit(room, typo, "!block #1 On second thoughts, far too expensive for us.")
    refusal = await answer_to(bob, room, bot.user_id, "error", late_edit)
    assert "already taken effect" in content(refusal)["body"]
    assert await status(alice, room, bot.user_id) == {"agree": 1, "abstain": 0, "disagree": 0, "block": 0,
                                                       "unargued_block": 0}


async def test_facilitators_are_members_with_the_power_level(start_bot, members):
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    await propose(alice, room, bot.user_id)

    refused = await bob.send_text(room, "!extend #1 2h")
    answer = await answer_to(bob, room, bot.user_id, "error", refused)
    assert "Only a facilitator may do this." in content(answer)["body"]
    await alice.set_power_level(room, bob.user_id, 50)
    await bob.wait_for(lambda e: e.source.get("type") == "m.room.power_levels"
                       and e.source["content"]["users"].get(bob.user_id) == 50, room=room)
    accepted = await bob.send_text(room, "!extend #1 2h")
    announcement = await answer_to(bob, room, bot.user_id, "announcement", accepted)
    assert content(announcement)["msgtype"] == "m.text" and "extends the deadline" in content(announcement)["body"]


async def test_a_fresh_install_replays_nothing_from_before_it_started(start_bot, members, tmp_path, bot_account):
    alice, = await members("alice")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id)
    await bot.stop()
    before = await alice.send_text(room, "!propose Sent while no bot was running")
    await alice.wait_for_event(before)
    # A new installation: same account and device (and so the same encryption store), empty database.
    (tmp_path / "fresh").mkdir()
    fresh = RunningBot(bot_config(tmp_path / "fresh", bot_account, [alice.user_id],
                                  {"store_path": str(bot.config.matrix.store_path)}))
    await fresh.start()
    try:
        await alice.send_text(room, "!propose Sent to the new installation")
        ballot = await alice.wait_for(from_bot(bot.user_id, "ballot"), room=room)
        assert "Sent to the new installation" in content(ballot)["body"]
        assert len(alice.matching(from_bot(bot.user_id, "ballot"), room=room)) == 1
    finally:
        await fresh.stop()


async def test_open_ballots_are_recounted_at_start(start_bot, members):
    """A reaction the sync never delivered (a gap) is found through the relations API at start."""
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    ballot = await propose(alice, room, bot.user_id)
    await bot.stop()
    vote = await bob.react(room, ballot.event_id, "👎")
    await alice.wait_for_event(vote)
    await skip_sync_past(bot, alice)  # as a lost gap would
    await bot.start()
    await asyncio.wait_for(bot.bot.reconciled.wait(), timeout=10)
    assert (await status(alice, room, bot.user_id))["disagree"] == 1


async def test_a_ballot_sent_just_before_a_crash_has_its_reactions_recounted_at_start(start_bot, members):
    """The bot died between sending the ballot and recording it as sent: at start it sends it again (the
    homeserver answers with the same event, by its transaction id) before recounting, so a reaction on it that
    fell in a gap still counts."""
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    ballot = await propose(alice, room, bot.user_id)
    await bot.stop()
    with closing(sqlite3.connect(bot.config.storage.path)) as db, db:  # as if it had died before recording it
        db.execute("UPDATE outbox SET sent_at = NULL, platform_id = NULL WHERE kind = 'ballot'")
    vote = await bob.react(room, ballot.event_id, "👎")
    await alice.wait_for_event(vote)
    await skip_sync_past(bot, alice)  # as a lost gap would
    await bot.start()
    await asyncio.wait_for(bot.bot.reconciled.wait(), timeout=20)
    assert (await status(alice, room, bot.user_id))["disagree"] == 1
    assert len(alice.matching(from_bot(bot.user_id, "ballot"), room=room)) == 1  # the same ballot, not a copy


async def test_rate_limited_sends_are_retried_after_the_delay_the_server_asks(start_bot, members, synapse, bot_account):
    """The homeserver answers 429 M_LIMIT_EXCEEDED: the bot waits retry_after_ms and sends again, losing nothing."""
    alice, = await members("alice")
    admin = await synapse.register(synapse.unique_localpart("admin"), admin=True)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{synapse.url}/_synapse/admin/v1/users/{bot_account.user_id}/override_ratelimit",
            json={"messages_per_second": 2, "burst_count": 1},
            headers={"Authorization": f"Bearer {admin.access_token}"},
        ) as response:
            assert response.status == 200, await response.text()
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id)
    ballot = await propose(alice, room, bot.user_id)
    # The ballot and its four seeded reactions are five sends in a row: over the limit, all arrive.
    seeded = await alice.wait_for_count(lambda e: getattr(e, "reacts_to", None) == ballot.event_id
                                        and e.sender == bot.user_id, 4, room=room, timeout=20)
    assert {e.key for e in seeded} == {"👍", "🤷", "👎", "✋"}
    assert bot.rate_limited() > 0


async def test_the_bot_rides_out_a_homeserver_restart(start_bot, members, synapse):
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    ballot = await propose(alice, room, bot.user_id)
    await synapse.arestart()
    await bob.react(room, ballot.event_id, "👎")
    assert (await status(alice, room, bot.user_id))["disagree"] == 1
    bot.check_alive()


async def test_in_a_room_version_12_the_additional_creators_are_facilitators(start_bot, members):
    alice, bob, carol = await members("alice", "bob", "carol")
    bot = await start_bot([alice.user_id])
    # nio's room_create has no creation_content: ask the homeserver directly.
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{alice.account.homeserver}/_matrix/client/v3/createRoom", json={
            "room_version": "12", "invite": [bot.user_id, bob.user_id, carol.user_id],
            "creation_content": {"additional_creators": [bob.user_id]},
        }, headers={"Authorization": f"Bearer {alice.account.access_token}"}) as response:
            assert response.status == 200, await response.text()
            room = (await response.json())["room_id"]
    for member in (bob, carol):
        await member.join(room)
    await alice.wait_for(joined(bot.user_id), room=room, timeout=15)
    await propose(alice, room, bot.user_id)
    # bob has no power level in the power levels event: only his being a creator makes him a facilitator.
    assert bob.user_id not in (await alice.power_levels(room)).get("users", {})
    accepted = await bob.send_text(room, "!extend #1 2h")
    await answer_to(bob, room, bot.user_id, "announcement", accepted)
    refused = await carol.send_text(room, "!extend #1 2h")
    assert "Only a facilitator" in content(await answer_to(carol, room, bot.user_id, "error", refused))["body"]


async def test_a_bot_invited_back_ignores_what_was_said_while_it_was_out(start_bot, members):
    alice, = await members("alice")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id)
    await propose(alice, room, bot.user_id, "!propose Before the kick")
    await alice.client.room_kick(room, bot.user_id)
    await alice.wait_for(lambda e: isinstance(e, RoomMemberEvent) and e.state_key == bot.user_id
                         and e.membership == "leave", room=room)
    await alice.send_text(room, "!propose While the bot was out")
    await alice.invite(room, bot.user_id)
    await alice.wait_for_count(joined(bot.user_id), 2, room=room, timeout=15)   # its second join
    await alice.send_text(room, "!propose After coming back")
    second = await alice.wait_for(lambda e: from_bot(bot.user_id, "ballot")(e)
                                  and content(e)["consent_bot"]["proposal"] == 2, room=room)
    assert "After coming back" in content(second)["body"]
    assert len(alice.matching(from_bot(bot.user_id, "ballot"), room=room)) == 2
