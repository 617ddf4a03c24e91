"""What the bot's sync leaves out: typing notices and read receipts, which every member's client sends around
each command, never wake it (tests/matrix/test_bot.py shows that what it reads still comes); and the filter
it syncs with, uploaded at start, given again if the homeserver forgot it."""

from __future__ import annotations

import asyncio

from bot.matrix.bot import NEXT_BATCH, SYNC_FILTER
from storage.repository import Repository

from .bot_harness import RunningBot, propose, reaction_by, room_with_bot, status


async def _settled(bot: RunningBot, quiet: float = 0.5) -> int:
    """How many syncs the bot handled, once none has been for ``quiet`` seconds (its own echoes included)."""
    handled = bot.bot.syncs_handled
    while True:
        await asyncio.sleep(quiet)
        if bot.bot.syncs_handled == handled:
            return handled
        handled = bot.bot.syncs_handled


async def test_typing_notices_and_read_receipts_do_not_wake_the_bot(start_bot, members):
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    await propose(alice, room, bot.user_id)
    await bob.client.room_typing(room, True)
    asked = await bob.send_text(room, "!agree")
    answer = await bob.wait_for(reaction_by(bot.user_id, asked, "✅"), room=room)
    handled = await _settled(bot)

    await bob.client.room_typing(room, False)
    await alice.client.room_typing(room, True)
    for member in (alice, bob):
        await member.client.room_read_markers(room, answer.event_id, answer.event_id)
    await alice.client.room_typing(room, False)
    await asyncio.sleep(1)
    assert bot.bot.syncs_handled == handled  # no sync came back for any of them

    assert (await status(alice, room, bot.user_id))["agree"] == 1
    bot.check_alive()


async def test_a_sync_filter_the_homeserver_forgot_is_given_again(start_bot, members):
    alice, = await members("alice")
    bot = await start_bot([alice.user_id])
    assert isinstance(bot.bot._sync_filter, str)  # syncs name the filter uploaded at start
    bot.bot._sync_filter = "987654321"  # as if the homeserver had lost it: the next sync is refused
    room = await room_with_bot(alice, bot.user_id)
    await propose(alice, room, bot.user_id)
    assert bot.bot._sync_filter == SYNC_FILTER
    bot.check_alive()


async def test_the_sync_position_is_written_with_the_next_transaction_and_whole_at_stop(start_bot, members):
    """The bot's sync position waits for the next transaction (a decision, the delivery's bookkeeping) instead of
    a commit of its own after every sync; stopping writes the last one, so that a restart reads on from there."""
    alice, bob = await members("alice", "bob")
    bot = await start_bot([alice.user_id])
    room = await room_with_bot(alice, bot.user_id, bob)
    await propose(alice, room, bot.user_id)
    asked = await bob.send_text(room, "!agree")
    await bob.wait_for(reaction_by(bot.user_id, asked, "✅"), room=room)
    assert await bot.repository.state(NEXT_BATCH) is not None
    await _settled(bot)
    last = bot.bot.client.next_batch
    await bot.stop()
    repository = await Repository.open(bot.config.storage.path)
    try:
        assert await repository.state(NEXT_BATCH) == last
    finally:
        await repository.close()
