"""Encrypted rooms, on a real Synapse with members whose clients encrypt (nio with its own crypto store, as
Element does): the bot reads them, answers encrypted, loses nothing across restarts, and waits for late keys."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from nio import AsyncClient, AsyncClientConfig, MegolmEvent, RoomMessage, RoomMessageText
from nio.api import Api
from nio.crypto import TrustState

from bot.matrix.bot import MatrixLoginFailed

from tests.polling import query, until

from .bot_harness import (RunningBot, answer_to, bot_config, from_bot, propose, reaction_by, room_with_bot, status,
                          tally)
from .crashes import BotProcess
from .member import ENCRYPTION, content, relates_to

NO_VOTE = {"agree": 0, "abstain": 0, "disagree": 0, "block": 0, "unargued_block": 0}


def decrypted(event) -> bool:
    """A message that reached the member encrypted and that its client decrypted."""
    return isinstance(event, RoomMessage) and getattr(event, "decrypted", False)


async def test_members_of_an_encrypted_room_propose_vote_argue_and_read_the_bot(start_bot, encrypted_members, members):
    alice, bob = await encrypted_members("alice", "bob")
    observer, = await members("observer")  # a client without encryption sees what the homeserver holds
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob, observer)

    ballot = await propose(alice, room, bot.user_id, "!propose Buy a kettle\nFor the meeting room.")
    assert decrypted(ballot) and "For the meeting room." in content(ballot)["body"]
    assert decrypted(await bob.wait_for_event(ballot.event_id))
    seeded = await bob.wait_for_count(lambda e: getattr(e, "reacts_to", None) == ballot.event_id
                                      and e.sender == bot.user_id, 4, room=room)
    assert {e.key for e in seeded} == {"👍", "🤷", "👎", "✋"}

    await bob.react(room, ballot.event_id, "✋")  # reactions stay in the clear, as Matrix has them
    request = await bob.wait_for(from_bot(bot.user_id, "block_request"), room=room)
    assert decrypted(request) and content(request)["m.mentions"] == {"user_ids": [bob.user_id]}
    assert relates_to(request)["rel_type"] == "m.thread" and relates_to(request)["event_id"] == ballot.event_id
    argument = await bob.send_text(room, "We already have two kettles in the kitchen.", thread_root=ballot.event_id)
    await bob.wait_for(reaction_by(bot.user_id, argument, "✅"), room=room)
    agree = await alice.send_text(room, "!agree", reply_to=ballot.event_id)
    await alice.wait_for(reaction_by(bot.user_id, agree, "✅"), room=room)
    assert await status(alice, room, bot.user_id) == {**NO_VOTE, "agree": 1, "block": 1}

    # The homeserver holds only ciphertext of what the bot said; its reactions are in the clear.
    said = await observer.wait_for_count(lambda e: e.sender == bot.user_id and "state_key" not in e.source
                                         and e.source["type"] != "m.reaction", 3, room=room)
    # (the ballot, the block request and the status answer)
    assert all(isinstance(e, MegolmEvent) and e.source["type"] == "m.room.encrypted" for e in said)
    # Relations stay in the clear, as the spec asks: the homeserver shows the block request in the thread.
    assert relates_to(said[1])["rel_type"] == "m.thread" and relates_to(said[1])["event_id"] == ballot.event_id
    assert relates_to(said[2])["m.in_reply_to"]["event_id"]  # the status answers alice's question
    assert not observer.matching(lambda e: e.sender == bot.user_id and isinstance(e, RoomMessageText), room=room)


async def test_an_unencrypted_room_beside_and_a_room_switched_to_encryption_mid_round(start_bot, encrypted_members):
    alice, bob = await encrypted_members("alice", "bob")
    bot = await start_bot([alice.user_id])
    encrypted = await room_with_bot(alice, bot.user_id, bob)
    plain = await room_with_bot(alice, bot.user_id, bob, encrypted=False)

    in_plain = await propose(alice, plain, bot.user_id, "!propose Paint the door")
    in_encrypted = await propose(alice, encrypted, bot.user_id, "!propose Buy a kettle")
    assert not decrypted(in_plain) and in_plain.source["type"] == "m.room.message"
    assert decrypted(in_encrypted)
    await alice.react(plain, in_plain.event_id, "👍")

    # The room is switched to encryption while its proposal is open: nothing changes for it.
    switched = await alice.send_state(plain, ENCRYPTION)
    await bob.wait_for_event(switched)
    vote = await bob.send_text(plain, "!disagree #1 Too bright for the hall.")
    assert isinstance(await alice.wait_for_event(vote), RoomMessageText)  # sent encrypted, read back by alice
    await bob.wait_for(reaction_by(bot.user_id, vote, "✅"), room=plain)
    asked = await alice.send_text(plain, "!status #1")
    answer = await answer_to(alice, plain, bot.user_id, "status", asked)
    assert decrypted(answer) and tally(answer) == {**NO_VOTE, "agree": 1, "disagree": 1}
    assert await status(alice, encrypted, bot.user_id) == NO_VOTE


async def test_a_late_room_key_counts_at_the_message_s_own_instant_and_a_key_that_never_comes_is_told(
        start_bot, encrypted_members):
    alice, bob, carol = await encrypted_members("alice", "bob", "carol")
    bot = await start_bot([alice.user_id], {"room_key_wait": "6s"}, minimum_duration="4s")
    room = await room_with_bot(alice, bot.user_id, bob, carol)
    ballot = await propose(alice, room, bot.user_id)
    deadline = datetime.fromisoformat(content(ballot)["consent_bot"]["deadline"])

    # Both vote before the deadline, but the bot gets no key for either message: bob's comes after the
    # deadline, carol's never.
    bob_vote, release = await bob.send_withheld(room, "!agree #1", withheld_from=bot.user_id)
    carol_vote, _ = await carol.send_withheld(room, "!block #1 Not before the roof is repaired, please.",
                                              withheld_from=bot.user_id)
    database = bot.config.storage.path
    await until(lambda: len(query(database, "SELECT * FROM pending_encrypted")) == 2, what="both kept undecrypted")
    await until(lambda: datetime.now(timezone.utc) > deadline + timedelta(seconds=0.5), what="the deadline")
    assert not alice.matching(from_bot(bot.user_id, "outcome"), room=room)  # the round waits for their keys
    await release()

    await bob.wait_for(reaction_by(bot.user_id, bob_vote, "✅"), room=room)
    told = await carol.wait_for(from_bot(bot.user_id, "unreadable"), room=room, timeout=15)
    assert decrypted(told) and content(told)["msgtype"] == "m.text"
    assert content(told)["m.mentions"] == {"user_ids": [carol.user_id]}
    assert relates_to(told)["m.in_reply_to"]["event_id"] == carol_vote
    outcome = await alice.wait_for(from_bot(bot.user_id, "outcome"), room=room, timeout=15)
    assert decrypted(outcome) and tally(outcome) == {**NO_VOTE, "agree": 1}
    assert content(outcome)["consent_bot"]["state"] == "adopted"
    # Bob's vote counts at the instant he sent it, before the deadline, not when its key came.
    sent = datetime.fromtimestamp((await alice.wait_for_event(bob_vote)).server_timestamp / 1000, timezone.utc)
    recorded = query(database, "SELECT at FROM history WHERE event_id = ?", bob_vote)
    assert [datetime.fromisoformat(row["at"]) for row in recorded] == [sent] and sent < deadline
    # The outcome waited until carol's wait was over, and she is told once only.
    order = [e.event_id for e in alice.events]
    assert order.index(outcome.event_id) > order.index(told.event_id)
    assert len(carol.matching(from_bot(bot.user_id, "unreadable"), room=room)) == 1


async def test_stopped_then_killed_mid_round_the_bot_keeps_its_device_and_sessions_and_counts_votes_cast_meanwhile(
        encrypted_members, bot_account, tmp_path):
    alice, bob, carol = await encrypted_members("alice", "bob", "carol")
    bot_config(tmp_path, bot_account, [alice.user_id], minimum_duration="1h")
    bot = BotProcess(tmp_path / "config.yaml", tmp_path / "bot.log")
    bot.start()
    try:
        room = await room_with_bot(alice, bot_account.user_id, bob, carol)
        ballot = await propose(alice, room, bot_account.user_id)
        abstain = await bob.send_text(room, "!abstain #1")
        await bob.wait_for(reaction_by(bot_account.user_id, abstain, "✅"), room=room)

        bot.stop()  # SIGTERM, as an operator stops it
        changed = await bob.send_text(room, "!agree #1")  # the same room key as before: the bot's store kept it
        bot.start()
        await bob.wait_for(reaction_by(bot_account.user_id, changed, "✅"), room=room, timeout=30)

        bot.kill()  # SIGKILL
        await carol.react(room, ballot.event_id, "👎")
        argued = await carol.send_text(room, "!disagree #1 Too dear for what it is.")
        bot.start()
        await carol.wait_for(reaction_by(bot_account.user_id, argued, "✅"), room=room, timeout=30)
        asked = await alice.send_text(room, "!status #1")
        answer = await answer_to(alice, room, bot_account.user_id, "status", asked, timeout=20)
        assert decrypted(answer) and tally(answer) == {**NO_VOTE, "agree": 1, "disagree": 1}
        # One device all along, so members never had to trust a new one.
        assert [d.id for d in alice.client.device_store.active_user_devices(bot_account.user_id)] == [
            bot_account.device_id]
        assert len(alice.matching(from_bot(bot_account.user_id, "ballot"), room=room)) == 1
    finally:
        bot.stop()


async def test_a_bot_whose_store_is_not_the_one_its_device_was_made_with_refuses_to_start(
        start_bot, members, bot_account, tmp_path):
    alice, = await members("alice")
    bot = await start_bot([alice.user_id])
    await bot.stop()
    # The register kept, the store lost (a volume restored without it): the same device, new keys.
    other = bot_config(tmp_path, bot_account, [alice.user_id], {"store_path": str(tmp_path / "empty-store")})
    with pytest.raises(MatrixLoginFailed) as refused:
        await RunningBot(other).start()
    assert f"the homeserver knows other encryption keys for device {bot_account.device_id}" in str(refused.value)
    assert "Restore the store from a backup of the volume, or give the bot a new device" in str(refused.value)


@pytest.mark.parametrize(("trust", "shares"), [("tofu", False), ("all", True)])
async def test_a_device_that_shows_new_keys_under_its_old_id_is_trusted_only_if_the_policy_says_so(
        start_bot, encrypted_members, tmp_path, trust, shares):
    alice, bob = await encrypted_members("alice", "bob")
    bot = await start_bot([alice.user_id], {"trust": trust})
    await room_with_bot(alice, bot.user_id, bob)
    olm = bot.bot.client.olm
    first_keys = (await until(lambda: olm.device_store[bob.user_id].get(bob.account.device_id),
                              what="the bot to know bob's device")).ed25519
    # bob's device id comes back with other keys (a client that lost its store, or an impostor).
    impostor = AsyncClient(bob.account.homeserver, bob.user_id, bob.account.device_id,
                           store_path=str(tmp_path / "impostor"), config=AsyncClientConfig(encryption_enabled=True))
    (tmp_path / "impostor").mkdir()
    impostor.restore_login(bob.user_id, bob.account.device_id, bob.account.access_token)
    try:
        method, path, data = Api.keys_upload(bob.account.access_token,
                                             {"device_keys": impostor.olm.share_keys()["device_keys"]})
        response = await impostor.send(method, path, data, headers={"Content-Type": "application/json"})
        assert response.status == 200, await response.text()
        device = await until(lambda: (d := olm.device_store[bob.user_id].get(bob.account.device_id))
                             and (d.ed25519 != first_keys or d.trust_state is TrustState.blacklisted) and d,
                             what="the bot to see bob's new keys", timeout=30)  # a sync, then a key query
        assert (device.ed25519 != first_keys) is shares
        assert (device.trust_state is TrustState.blacklisted) is not shares
    finally:
        await impostor.close()
