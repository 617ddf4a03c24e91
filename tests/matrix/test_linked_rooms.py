"""Linked assemblies on a real Synapse: two rooms of a network, one English and one French, a joint proposal whose
ballot is posted in each, answered in each by reaction and command, an argued block in one room postponing it in
both, and a second round adopted in both — with alice, a member of both rooms, counted once."""

from __future__ import annotations

from pathlib import Path

from .bot_harness import RunningBot, bot_config, from_bot, joined, rooms_of_a_network
from .member import content

BLOCK = "The budget would come out of the youth centre's funds."


async def test_a_joint_decision_of_two_rooms_one_tally_a_block_in_one_postponing_both(tmp_path: Path, bot_account,
                                                                                        members):
    alice, bob, carol = await members("alice", "bob", "carol")
    bot_id = bot_account.user_id
    fives, moulins = await rooms_of_a_network(alice, bot_id, bob, carol)
    network = {"id": "metropole", "rooms": [fives, moulins], "minimum_duration": "8s", "days_between_rounds": "0s"}
    config = bot_config(tmp_path, bot_account, [alice.user_id],
                        sections={"rooms": {moulins: {"language": "fr"}}, "networks": [network]})
    bot = await RunningBot(config).start()
    try:
        for room in (fives, moulins):
            await alice.wait_for(joined(bot_id), room=room, timeout=15)

        await bob.send_text(fives, "!joint Shared budget for street parties")
        ballot_in_fives = await bob.wait_for(from_bot(bot_id, "ballot"), room=fives, timeout=20)
        ballot_in_moulins = await carol.wait_for(from_bot(bot_id, "ballot"), room=moulins, timeout=20)
        assert content(ballot_in_fives)["body"].startswith("**Proposal #metropole-1 by")
        assert content(ballot_in_moulins)["body"].startswith("**Proposition #metropole-1, par")
        assert content(ballot_in_moulins)["consent_bot"]["network"] == "metropole"

        await carol.react(moulins, ballot_in_moulins.event_id, "👍")
        await alice.send_text(moulins, "!daccord #metropole-1")
        await bob.send_text(fives, f"!block #metropole-1 {BLOCK}")
        outcomes = [await alice.wait_for(from_bot(bot_id, "outcome"), room=room, timeout=30) for room in (fives, moulins)]
        for outcome in outcomes:
            state = content(outcome)["consent_bot"]
            assert (state["state"], state["network"]) == ("postponed", "metropole")
            # alice, bob and carol: alice, in both rooms, once (the bot is no member).
            assert state["tally"]["agree"] == 2 and state["tally"]["block"] == 1 and state["members"] == 3
        assert "est reportée" in content(outcomes[1])["body"] and "is postponed" in content(outcomes[0])["body"]

        await bob.send_text(fives, "!round #metropole-1 Taken from the festivities' budget, not the youth centre's.")
        second = await carol.wait_for(lambda e: from_bot(bot_id, "ballot")(e) and
                                      content(e)["consent_bot"]["round"] == 2, room=moulins, timeout=20)
        await carol.react(moulins, second.event_id, "👍")
        adopted = [await alice.wait_for(lambda e: from_bot(bot_id, "outcome")(e) and
                                        content(e)["consent_bot"]["round"] == 2, room=room, timeout=30)
                   for room in (fives, moulins)]
        assert [content(o)["consent_bot"]["state"] for o in adopted] == ["adopted", "adopted"]
        assert [content(o)["consent_bot"]["tally"]["agree"] for o in adopted] == [1, 1]
        bot.check_alive()
    finally:
        await bot.stop()


async def test_the_network_s_members_are_counted_again_when_someone_joins_or_leaves_one_of_its_rooms(
        tmp_path: Path, bot_account, members):
    # The union of a network's rooms is kept between votes (a vote then costs what a room's own does) and made again
    # when a membership event comes: a member who has just joined counts at their first vote, one who left no more.
    alice, bob, carol, dan = await members("alice", "bob", "carol", "dan")
    bot_id = bot_account.user_id
    fives, moulins = await rooms_of_a_network(alice, bot_id, bob, carol)
    network = {"id": "metropole", "rooms": [fives, moulins], "minimum_duration": "1h"}
    bot = await RunningBot(bot_config(tmp_path, bot_account, [alice.user_id], sections={"networks": [network]})).start()
    try:
        for room in (fives, moulins):
            await alice.wait_for(joined(bot_id), room=room, timeout=15)
        await bob.send_text(fives, "!joint Shared budget for street parties")
        await carol.wait_for(from_bot(bot_id, "ballot"), room=moulins, timeout=20)

        async def members_in_the_status(member) -> int:
            statuses = carol.matching(from_bot(bot_id, "status"), room=moulins)
            await member.send_text(moulins, "!status #metropole-1")
            *_, status = await carol.wait_for_count(from_bot(bot_id, "status"), len(statuses) + 1, room=moulins,
                                                    timeout=20)
            return content(status)["consent_bot"]["members"]

        await carol.send_text(moulins, "!agree #metropole-1")
        assert await members_in_the_status(carol) == 3  # alice (in both rooms), bob, carol
        await alice.invite(moulins, dan.user_id)
        await dan.join(moulins)
        assert await members_in_the_status(dan) == 4
        await bob.leave(fives)
        await alice.wait_for(lambda e: getattr(e, "membership", None) == "leave", room=fives, timeout=15)
        assert await members_in_the_status(alice) == 3  # bob has gone, and took no position
        bot.check_alive()
    finally:
        await bot.stop()
