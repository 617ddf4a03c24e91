"""Parts that are parts, as members meet them: a decision written in numbered parts has the part a challenge names
replaced (or removed) when the challenge is adopted; the ballot quotes the part as it reads today, the outcome as
it reads after; a part that does not exist is answered with the parts there are."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import FRIDAY_DEADLINE, Assembly, facilitated_room, status

RULES = ("Kitchen rules\n1. Each washes their own cup.\n2. The kettle is descaled every month.\n"
         "3. The last out turns off the light.")


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    """alice's kitchen rules, adopted; bob and carol are members, fay facilitates."""
    assembly = await facilitated_room(tmp_path, repository)
    await assembly.say("alice", f"!propose {RULES}")
    await assembly.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))
    return assembly


async def adopt_the_challenge(room: Assembly):
    [outcome] = [m for m in await room.advance_to(room.clock.now + timedelta(days=6)) if m.kind is Kind.OUTCOME]
    assert outcome.payload["state"] == "adopted"
    return outcome


async def test_a_challenged_part_is_replaced_and_the_outcome_quotes_it(room):
    ballot, *_ = await room.say("bob", "!challenge #1 part 2: our water is hard\nThe kettle is descaled every week.")
    assert "Today it reads:\n2. The kettle is descaled every month." in ballot.body
    assert "If it is adopted, that part becomes:\nThe kettle is descaled every week." in ballot.body
    outcome = await adopt_the_challenge(room)
    assert "Decision #1 (Kitchen rules) is amended (text version 2):" in outcome.body
    assert "Part 2 now reads:\n2. The kettle is descaled every week." in outcome.body
    decision = await status(room, 1)
    assert ("1. Each washes their own cup.\n2. The kettle is descaled every week.\n"
            "3. The last out turns off the light.") in decision.body
    assert "every month" not in decision.body and "[#2]" not in decision.body


async def test_several_parts_are_replaced_at_once_in_french_too(room):
    await room.say("carol", "!contester #1 partie 2-3 : plus simple\n2. Descale weekly.\n3. Lights off.")
    outcome = await adopt_the_challenge(room)
    assert "Part 2-3 now reads:\n2. Descale weekly.\n3. Lights off." in outcome.body
    assert "1. Each washes their own cup.\n2. Descale weekly.\n3. Lights off." in (await status(room, 1)).body


async def test_a_part_challenged_without_a_new_text_is_removed(room):
    ballot, *_ = await room.say("bob", "!challenge #1 part 3: we leave the light on")
    assert "If it is adopted, that part is repealed." in ballot.body
    outcome = await adopt_the_challenge(room)
    assert "Part 3 is removed." in outcome.body
    decision = await status(room, 1)
    assert "turns off the light" not in decision.body and "2. The kettle is descaled every month." in decision.body


@pytest.mark.parametrize("command, refusal", [
    ("!challenge #1 part 4: more rules\nNew rule.", "The decision has no part 4: its parts are 1, 2, 3."),
    ("!challenge #1 part 2-3: simpler\nOne line for both.",
     "A new text for parts 2, 3 numbers them, each on its own line"),
    ("!challenge #1 part 2: simpler\n2. Weekly.\n3. Lights off.",
     "The new text numbers a part the challenge does not name: it names 2."),
])
async def test_a_part_that_is_not_there_or_a_new_text_that_does_not_fit_is_answered(room, command, refusal):
    [answer] = await room.say("bob", command)
    assert answer.kind is Kind.ERROR and refusal in answer.body
