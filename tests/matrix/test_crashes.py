"""The fault suite: the bot killed with SIGKILL three times during a burst of 300 commands, reactions and
redactions from 30 members, restarted each time. Every member's final position is what they last expressed,
and the round has exactly one outcome, whose tally is those positions."""

from __future__ import annotations

from collections import Counter

from tests.polling import query

from .bot_harness import answer_to, bot_config, from_bot, propose, room_with_bot
from .crashes import BotProcess, burst
from .member import content

MEMBERS, ACTIONS_EACH, KILLS_AFTER = 30, 10, [60, 150, 240]


async def test_killed_three_times_during_a_burst_the_bot_counts_every_last_word(members, voters, bot_account,
                                                                                 tmp_path):
    alice, = await members("alice")
    crowd = await voters(MEMBERS)
    config = bot_config(tmp_path, bot_account, [alice.user_id], minimum_duration="30s")
    bot = BotProcess(tmp_path / "config.yaml", tmp_path / "bot.log")
    bot.start()
    try:
        room = await room_with_bot(alice, bot_account.user_id, *crowd)
        ballot = await propose(alice, room, bot_account.user_id)

        expected = await burst(crowd, room, ballot.event_id, ACTIONS_EACH, bot, KILLS_AFTER, seed=7)

        # Once the bot answers a question asked after the burst, it has read everything before it.
        asked = await alice.send_text(room, "!status #1")
        await answer_to(alice, room, bot_account.user_id, "status", asked, timeout=60)
        recorded = {row["member"]: row["position"] for row in query(
            config.storage_path, "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
        wrong = {member: (recorded.get(member), e.position) for member, e in expected.items()
                 if recorded.get(member) != e.position}
        assert wrong == {}, f"{len(wrong)} of {MEMBERS} positions wrong (recorded, expected): {wrong}\n" + "\n".join(
            f"{member}: {expected[member].done}\n  history: " + str([tuple(row) for row in query(
                config.storage_path, "SELECT action, position, event_id, at FROM history WHERE member = ?", member)])
            for member in wrong)

        outcome = await alice.wait_for(from_bot(bot_account.user_id, "outcome"), room=room, timeout=90)
        counts = Counter(e.position for e in expected.values() if e.position is not None)
        tally = content(outcome)["consent_bot"]["tally"]
        assert (tally["agree"], tally["abstain"], tally["disagree"]) == (
            counts["agree"], counts["abstain"], counts["disagree"])
        assert tally["block"] + tally["unargued_block"] == counts["block"]
        await answer_to(alice, room, bot_account.user_id, "status", await alice.send_text(room, "!list"))
        assert len(alice.matching(from_bot(bot_account.user_id, "outcome"), room=room)) == 1
        assert len(alice.matching(from_bot(bot_account.user_id, "ballot"), room=room)) == 1
        assert bot.kills == len(KILLS_AFTER)
    finally:
        bot.stop()
