"""Delegation on the fake Mattermost: a member entrusts their vote to an @username, the channel is told (the
delegate notified), and at the close the delegator counts with the delegate's reaction."""

from __future__ import annotations

from .bot_harness import payload
from .test_bot import EMPTY, world  # noqa: F401  (the fixture)


async def test_a_member_who_delegated_counts_with_their_delegate_at_the_close(world):  # noqa: F811
    await world.start(delegation=True, minimum_duration="4s")
    command = world.say(world.carol, "!délégations")
    listing = await world.answer_to(command, "status")
    assert "Nobody in this room entrusts their vote to anyone." in listing["message"]

    world.say(world.carol, "!delegate @bob")
    announcement = await world.bot_post("delegation")
    assert payload(announcement) == {"kind": "delegation", "member": world.carol.id, "delegate": world.bob.id,
                                     "scope": "", "until": None}
    # The delegate is notified (@bob); carol is named without a ping (a word joiner after the @).
    assert "@\u2060carol entrusts their vote to @bob" in announcement["message"]

    ballot = await world.propose()
    world.fake.react(world.alice, ballot, "+1")
    world.fake.react(world.bob, ballot, "-1")
    outcome = await world.bot_post("outcome", timeout=15)
    assert payload(outcome)["tally"] == {**EMPTY, "agree": 1, "disagree": 2}
    assert payload(outcome)["delegated"] == {**EMPTY, "disagree": 1}
    world.running[0].check_alive()
