"""The pact on a real Synapse: the mayor refers a question from her Matrix account and is mentioned in the
outcome; members record two facts; the mayor makes a statement; a verdict "not respected" is blocked with an
argument (the mayor, judged by it, may not take part), amended to "partly respected" and adopted."""

from __future__ import annotations

from tests.register.pact_story import the_pact_story_is_on_the_register

from .bot_harness import answer_to, from_bot, room_with_bot
from .member import content


def official(account: str) -> dict:
    return {"id": "martine", "name": "Martine Dupont", "role": "mayor", "mandate_start": "2026-03-22",
            "pact": {"refer": "2026-04-02"}, "accounts": [account]}


def kind(event) -> str:
    return content(event)["consent_bot"]["kind"]


async def test_a_referral_adopted_then_facts_a_statement_and_a_verdict_amended_and_adopted(start_bot, members):
    alice, bob, mayor = await members("alice", "bob", "mayor")
    bot = await start_bot([alice.user_id], minimum_duration="4s", days_between_rounds="1s", facilitators=[],
                          officials=[official(mayor.user_id)])
    room = await room_with_bot(alice, bot.user_id, bob, mayor)

    await mayor.send_text(room, "!refer Close the street on Sundays\nFrom May to September.")
    referral = await alice.wait_for(from_bot(bot.user_id, "ballot", 1), room=room, timeout=20)
    assert content(referral)["consent_bot"]["referral"] == {"official": "martine", "needed_by": None}
    assert "Referred to the assembly by Martine Dupont (mayor): its opinion binds them." in content(referral)["body"]
    assert content(referral)["m.mentions"] == {"user_ids": [mayor.user_id]}
    await alice.send_text(room, "!agree #1")
    adopted = await alice.wait_for(from_bot(bot.user_id, "outcome", 1), room=room, timeout=20)
    assert content(adopted)["consent_bot"]["state"] == "adopted"
    assert content(adopted)["m.mentions"] == {"user_ids": [mayor.user_id]}
    assert "the assembly's answer to the question you referred is: adopted." in content(adopted)["body"]

    first = await alice.send_text(room, "!fact #1 martine signed the closing order source: https://example.org/o/117")
    fact = await answer_to(alice, room, bot.user_id, "fact", first)
    assert 'href="https://example.org/o/117"' not in content(fact)["formatted_body"]  # member text: never a link
    assert "source: https://example.org/o/117" in content(fact)["body"]
    second = await bob.send_text(room, "!fait #1 martine les barrières manquaient un dimanche")
    await answer_to(bob, room, bot.user_id, "fact", second)
    said = await mayor.send_text(room, "!statement #1 Closed every Sunday since May.")
    statement = await answer_to(mayor, room, bot.user_id, "statement", said)
    assert "Statement by Martine Dupont (mayor) on decision #1" in content(statement)["body"]

    await bob.send_text(room, "!verdict #1 martine not respected: it stayed open one Sunday in three")
    verdict = await alice.wait_for(from_bot(bot.user_id, "ballot", 2), room=room, timeout=20)
    assert content(verdict)["consent_bot"]["verdict"] == {"decision": 1, "official": "martine",
                                                          "assessment": "not_respected"}
    judged = await mayor.send_text(room, "!block #2 The barriers were up every Sunday but one.")
    refused = await answer_to(mayor, room, bot.user_id, "error", judged)
    assert "This verdict judges you: the assembly decides it without you." in content(refused)["body"]
    await alice.send_text(room, "!block #2 The barriers were moved by passers-by, not left open.")
    postponed = await alice.wait_for(from_bot(bot.user_id, "outcome", 2), room=room, timeout=20)
    assert content(postponed)["consent_bot"]["state"] == "postponed"
    await bob.send_text(room, "!amend #2 partly respected: closed on most Sundays, open on one")
    await alice.wait_for(lambda e: from_bot(bot.user_id, "announcement", 2)(e), room=room, timeout=20)
    await bob.send_text(room, "!round #2")
    second_round = await alice.wait_for(lambda e: from_bot(bot.user_id, "ballot", 2)(e)
                                        and content(e)["consent_bot"]["round"] == 2, room=room, timeout=20)
    assert content(second_round)["consent_bot"]["verdict"]["assessment"] == "partly_respected"
    adopted = await alice.wait_for(lambda e: from_bot(bot.user_id, "outcome", 2)(e)
                                   and content(e)["consent_bot"]["round"] == 2, room=room, timeout=20)
    assert content(adopted)["consent_bot"]["state"] == "adopted"
    assert "The assembly's verdict enters the record of" in content(adopted)["body"]
    assert mayor.user_id in content(adopted)["m.mentions"]["user_ids"]

    asked = await bob.send_text(room, "!status #1")
    status = content(await answer_to(bob, room, bot.user_id, "status", asked))
    assert status["consent_bot"]["facts"] == 2 and status["consent_bot"]["bound"] == ["martine"]
    assert "the assembly's verdict: partly respected (#2" in status["body"]
    assert "the official's own statement" in status["body"]
    bot.check_alive()
    await the_pact_story_is_on_the_register(bot.config, bot.repository, room)

