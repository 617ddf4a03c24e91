"""The pact on the Mattermost fake (every request checked against the official API description): the mayor refers
a question from her account and is @-mentioned in the outcome; members record two facts; she makes a statement; a
verdict "not respected" is blocked with an argument, amended to "partly respected" and adopted."""

from __future__ import annotations

import pytest

from tests.register.pact_story import the_pact_story_is_on_the_register

from .bot_harness import payload
from .test_bot import World


@pytest.fixture
async def world(mattermost, tmp_path):
    w = World(mattermost, tmp_path)
    w.mayor = mattermost.create_user("martine")
    mattermost.add_member(w.channel, w.mayor)
    yield w
    await w.stop_all()


async def test_a_referral_adopted_then_facts_a_statement_and_a_verdict_amended_and_adopted(world):
    mayor = {"id": "martine", "name": "Martine Dupont", "role": "mayor", "mandate_start": "2026-03-22",
             "accounts": [world.mayor.id]}
    running = await world.start(minimum_duration="3s", days_between_rounds="1s", officials=[mayor])

    asked = world.say(world.mayor, "!refer Close the street on Sundays\nFrom May to September.")
    referral = await world.bot_post("ballot", 1, after=asked["create_at"])
    assert payload(referral)["referral"] == {"official": "martine", "needed_by": None}
    assert "@martine" in referral["message"]  # mentioned, so the mayor is notified
    world.say(world.alice, "!agree #1")
    adopted = await world.bot_post("outcome", 1, timeout=15)
    assert payload(adopted)["state"] == "adopted" and "@martine" in adopted["message"]

    first = world.say(world.alice, "!fact #1 martine signed the closing order source: https://example.org/o/117")
    fact = await world.bot_post("fact", 1, after=first["create_at"])
    assert "source: https://example.org/o/117" in fact["message"] and fact["root_id"] == ""
    second = world.say(world.bob, "!fait #1 martine les **barrières** manquaient un dimanche")
    fact = await world.bot_post("fact", 1, after=second["create_at"])
    assert "\\*\\*barrières\\*\\*" in fact["message"]  # member text is escaped, never Markdown
    said = world.say(world.mayor, "!statement #1 Closed every Sunday since May.")
    statement = await world.bot_post("statement", 1, after=said["create_at"])
    assert "Statement by Martine Dupont (mayor) on decision #1" in statement["message"]

    proposed = world.say(world.bob, "!verdict #1 martine not respected: it stayed open one Sunday in three")
    verdict = await world.bot_post("ballot", 2, after=proposed["create_at"])
    assert payload(verdict)["verdict"] == {"decision": 1, "official": "martine", "assessment": "not_respected"}
    judged = world.say(world.mayor, "!block #2 The barriers were up every Sunday but one.")
    refused = await world.answer_to(judged, "error")
    assert "This verdict judges you: the assembly decides it without you." in refused["message"]
    world.say(world.carol, "!block #2 The barriers were moved by passers-by, not left open.")
    postponed = await world.bot_post("outcome", 2, timeout=15)
    assert payload(postponed)["state"] == "postponed"
    world.say(world.bob, "!amend #2 partly respected: closed on most Sundays, open on one")
    await world.bot_post("announcement", 2)
    opened = world.say(world.bob, "!round #2")
    second_round = await world.bot_post("ballot", 2, after=opened["create_at"])
    assert payload(second_round)["verdict"]["assessment"] == "partly_respected"
    adopted = await world.bot_post("outcome", 2, where=lambda p: payload(p)["round"] == 2, timeout=15)
    assert payload(adopted)["state"] == "adopted" and "The assembly's verdict enters the record of @martine" in \
        adopted["message"]

    asked = world.say(world.carol, "!status #1")
    status = await world.answer_to(asked, "status")
    assert payload(status)["facts"] == 2 and "the assembly's verdict: partly respected (#2" in status["message"]
    await the_pact_story_is_on_the_register(running.config, running.repository, world.channel.id)
