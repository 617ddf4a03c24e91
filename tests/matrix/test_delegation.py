"""Delegation on a real Synapse: a member entrusts their vote by naming another's Matrix id, the room is told
(the delegate notified), and at the close the delegator counts with the delegate's reaction."""

from __future__ import annotations

from .bot_harness import from_bot, propose, room_with_bot
from .member import content


async def test_a_member_who_delegated_counts_with_their_delegate_at_the_close(start_bot, members):
    alice, bob, carol = await members("alice", "bob", "carol")
    bot = await start_bot([alice.user_id], delegation=True, minimum_duration="12s")  # reactions in time under load
    room = await room_with_bot(alice, bot.user_id, bob, carol)

    await carol.send_text(room, f"!delegate {bob.user_id}")
    announcement = await carol.wait_for(from_bot(bot.user_id, "delegation"), room=room)
    body = content(announcement)
    assert body["consent_bot"] == {"kind": "delegation", "member": carol.user_id, "delegate": bob.user_id,
                                   "scope": "", "until": None}
    assert body["m.mentions"] == {"user_ids": [bob.user_id]} and body["msgtype"] == "m.text"

    ballot = await propose(alice, room, bot.user_id)
    await alice.react(room, ballot.event_id, "👍")
    await bob.react(room, ballot.event_id, "👎")
    outcome = await alice.wait_for(from_bot(bot.user_id, "outcome"), room=room, timeout=30)
    state = content(outcome)["consent_bot"]
    assert state["tally"]["agree"] == 1 and state["tally"]["disagree"] == 2
    assert state["delegated"] == {"agree": 0, "abstain": 0, "disagree": 1, "block": 0, "unargued_block": 0}
    assert f"- with {bob.user_id} (disagree): {carol.user_id}" in content(outcome)["body"]
    bot.check_alive()
