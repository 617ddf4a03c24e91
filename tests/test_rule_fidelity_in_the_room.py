"""Issue 8, what the room tests left unproven: a majority round shows the arguments given and its status says
what counts; a challenge's ballot says what it would change; a challenge not adopted leaves the decision as it
was; reasons reach the outcome; a decision adopted by majority may be challenged once its lock has passed;
midnight in French; announcements carry their payload; the history of a decision amended and challenged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import (FRIDAY_DEADLINE, ROOM, TUESDAY, Assembly, Clock, facilitated_room, make_assembly, status,
                            write_config)

BLOCK_ARGUMENT = "We already have two kettles in the kitchen."
TEXT = "1. A kettle. 2. Paid from the common fund."


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    """Alice proposes, bob and carol are members, fay facilitates."""
    return await facilitated_room(tmp_path, repository)



async def blocked_round(room: Assembly, number: int = 1) -> None:
    """The current round of #number gets an argued block from carol and closes postponed."""
    await room.say("carol", f"!block #{number} {BLOCK_ARGUMENT}")
    await room.advance_to(room.clock.now + timedelta(days=5))
    assert (await status(room, number)).payload["state"] == "postponed"


async def to_majority(room: Assembly, number: int, by: str) -> list:
    """#number (just opened) blocked twice, a week apart: its third round is by majority. Returns its ballot."""
    opened = room.clock.now
    await blocked_round(room, number)
    await room.advance_to(opened + timedelta(days=7))
    await room.say(by, f"!round #{number}")
    await blocked_round(room, number)
    await room.advance_to(opened + timedelta(days=14))
    [ballot, _] = await room.say(by, f"!round #{number}")
    assert ballot.kind is Kind.BALLOT and ballot.payload["rule"] == "majority"
    return ballot


async def adopted(room: Assembly) -> None:
    """#1 (Buy a kettle, with its two points) adopted by consent on Friday."""
    await room.say("alice", f"!propose Buy a kettle\n{TEXT}")
    await room.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))
    assert (await status(room)).payload["state"] == "adopted"


def outcome_of(sent: list) -> object:
    [outcome] = [m for m in sent if m.kind is Kind.OUTCOME]
    return outcome


# --- G7, G8: a majority round ------------------------------------------------------------------------------


async def test_in_a_majority_round_an_argument_given_with_a_block_is_still_shown(room):
    await room.say("alice", "!propose Buy a kettle")
    await to_majority(room, 1, "alice")
    await room.say("carol", f"!block #1 {BLOCK_ARGUMENT}")
    await room.say("bob", "!block #1")
    await room.say("alice", "!agree #1")
    shown = await status(room)
    assert "Block: carol, bob." in shown.body or "Block: bob, carol." in shown.body
    assert f"- carol: {BLOCK_ARGUMENT}" in shown.body and "- bob:" not in shown.body
    assert "not valid" not in shown.body
    outcome = outcome_of(await room.advance_to(room.clock.now + timedelta(days=5)))
    assert outcome.payload["state"] == "rejected"  # 1 agree against 2 blocks
    assert f"- carol: {BLOCK_ARGUMENT}" in outcome.body and "not valid" not in outcome.body
    assert outcome.payload["tally"]["block"] == 2 and outcome.payload["tally"]["unargued_block"] == 0


async def test_the_status_of_an_open_majority_round_says_what_counts(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", "!agree #1")
    consent = await status(room)
    assert "This round is decided by consent" not in consent.body and "majority" not in consent.body
    await room.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))  # adopted: round 1 of #2 is the one to follow
    await room.say("alice", "!propose Buy a teapot")
    await to_majority(room, 2, "alice")
    shown = await status(room, 2)
    assert shown.payload["rule"] == "majority" and shown.payload["state"] == "open"
    assert "Round 3, decided by majority, deadline" in shown.body
    assert ("This round is decided by a 2/3 majority of the votes expressed: agree against disagree and block. "
            "Abstentions and silence are not counted.") in shown.body
    assert "With no vote expressed the proposal is rejected, and no new vote on it is possible before" in shown.body


async def test_the_status_of_a_majority_round_gives_the_assemblys_own_threshold(tmp_path, repository):
    config = write_config(tmp_path, language="en", quorum=0, majority="3/4")
    room = await make_assembly(config, Clock(TUESDAY), repository)
    room.room.names.update({"alice", "bob", "carol"})
    await room.say("alice", "!propose Buy a kettle")
    await to_majority(room, 1, "alice")
    shown = await status(room)
    assert "decided by a 3/4 majority of the votes expressed" in shown.body and "2/3" not in shown.body


# --- G9: what a challenge's ballot says it would change ----------------------------------------------------


@pytest.mark.parametrize(("command", "says", "not_said"), [
    ("!challenge #1 We do not need it any more",
     ["It challenges decision #1 (Buy a kettle) as a whole. Meanwhile the decision stays in force.",
      "If it is adopted, the decision is repealed."],
     ["on this part", "becomes:", "that part is repealed"]),
    ("!challenge #1 part 2: the fund is for repairs",
     ["It challenges decision #1 (Buy a kettle), on this part: 2. Meanwhile the decision stays in force.",
      "If it is adopted, that part is repealed."],
     ["as a whole", "becomes:", "the decision is repealed"]),
    ("!challenge #1 An electric kettle is safer\n1. An electric kettle. 2. Paid by donations.",
     ["It challenges decision #1 (Buy a kettle) as a whole. Meanwhile the decision stays in force.",
      "If it is adopted, the decision's text becomes:", "1. An electric kettle. 2. Paid by donations."],
     ["on this part", "is repealed"]),
], ids=["repeal-whole", "repeal-part", "new-whole-text"])
async def test_a_challenges_ballot_says_what_it_would_change(room, command, says, not_said):
    await adopted(room)
    [ballot, _] = await room.say("bob", command)
    assert ballot.kind is Kind.BALLOT and ballot.payload["proposal"] == 2 and ballot.payload["challenges"] == 1
    for expected in says:
        assert expected in ballot.body, expected
    for unexpected in not_said:
        assert unexpected not in ballot.body, unexpected
    assert ("challenged_part" in ballot.payload) is ("part 2" in command)


# --- G10: a challenge not adopted leaves the decision as it was ---------------------------------------------


def assert_unchanged(shown, challenged_by: list[int] | None) -> None:
    assert shown.payload["state"] == "adopted"
    assert shown.payload.get("challenged_by") == challenged_by
    assert "amended_by" not in shown.payload and "repealed_by" not in shown.payload
    assert TEXT in shown.body and "Amended by" not in shown.body and "Repealed by" not in shown.body


async def test_a_postponed_challenge_leaves_the_decision_in_force_and_still_challenged(room):
    await adopted(room)
    await room.say("bob", "!challenge #1 We do not need it any more")
    await blocked_round(room, 2)
    assert_unchanged(await status(room, 1), [2])
    [trace] = await room.say("zoe", "!history #1")
    assert "Version 2:" not in trace.body and "repealed by proposal" not in trace.body


async def test_a_challenge_rejected_by_majority_leaves_the_decision_unchanged(room):
    await adopted(room)
    await room.say("bob", "!challenge #1 We do not need it any more")
    await to_majority(room, 2, "bob")
    await room.say("bob", "!agree #2")
    await room.say("alice", "!disagree #2 we use it every day")
    await room.say("fay", "!disagree #2")
    outcome = outcome_of(await room.advance_to(room.clock.now + timedelta(days=5)))
    assert outcome.payload["proposal"] == 2 and outcome.payload["state"] == "rejected"
    assert "Decision #1" not in outcome.body  # neither repealed nor amended
    assert_unchanged(await status(room, 1), None)
    [trace] = await room.say("zoe", "!history #1")
    assert "Version 2:" not in trace.body and "repealed by proposal" not in trace.body


# --- G11: a reason given with agree or abstain reaches the outcome --------------------------------------------


async def test_a_reason_given_with_agree_or_abstain_is_shown_in_the_outcome(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", "!agree #1 only if the budget stays under 50 €")
    await room.say("carol", "!abstain #1 I never drink tea")
    await room.say("fay", "!agree #1")
    outcome = outcome_of(await room.advance_to(FRIDAY_DEADLINE + timedelta(hours=1)))
    assert outcome.payload["state"] == "adopted"
    assert "- bob: only if the budget stays under 50 €" in outcome.body
    assert "- carol: I never drink tea" in outcome.body
    assert "- fay:" not in outcome.body


# --- G13: a decision adopted by majority may be challenged once its lock has passed ------------------------


async def test_after_the_lock_an_adoption_by_majority_may_be_challenged_and_its_status_says_so(room):
    await room.say("alice", "!propose Buy a kettle")
    await to_majority(room, 1, "alice")
    await room.say("bob", "!agree #1")
    await room.say("carol", "!agree #1")
    outcome = outcome_of(await room.advance_to(room.clock.now + timedelta(days=5)))
    assert outcome.payload["state"] == "adopted" and outcome.payload["rule"] == "majority"
    locked = await status(room)
    assert "no new vote on it before" in locked.body and "!challenge #1" not in locked.body
    [refusal] = await room.say("bob", "!challenge #1 It was rushed")
    assert refusal.kind is Kind.ERROR and "no new vote on it before" in refusal.body
    await room.advance_to(room.clock.now + timedelta(days=100))
    free = await status(room)
    assert "no new vote on it before" not in free.body
    assert "Any member may challenge it at any time, in whole or in part, with !challenge #1 <reason>." in free.body
    [ballot, _] = await room.say("bob", "!challenge #1 It was rushed")
    assert ballot.kind is Kind.BALLOT and ballot.payload["challenges"] == 1 and ballot.payload["rule"] == "consent"
    assert (await status(room)).payload["challenged_by"] == [2]


# --- G14: midnight in French ---------------------------------------------------------------------------------


async def test_a_deadline_at_midnight_is_the_end_of_the_day_before_in_french_too(tmp_path, repository):
    config = write_config(tmp_path, language="fr", working_days_only=False, minimum_duration="14h")
    room = await make_assembly(config, Clock(TUESDAY), repository)
    [ballot, _] = await room.say("alice", "!proposer Acheter une bouilloire")
    assert ballot.payload["deadline"] == "2027-06-09T00:00:00+02:00"
    assert "mardi 8 juin 2027, 24:00 (Europe/Paris)" in ballot.body
    assert "mercredi 9 juin" not in ballot.body and "00:00" not in ballot.body


# --- G15, G16: announcements carry their payload; the history of a decision amended and challenged -----------


async def test_withdrawal_and_amendment_announcements_carry_the_payload(room):
    await room.say("alice", "!propose Buy a kettle")
    await blocked_round(room)
    [amendment] = await room.say("alice", "!amend #1 A second-hand kettle.")
    assert amendment.kind is Kind.ANNOUNCEMENT
    assert {k: amendment.payload[k] for k in ("kind", "proposal", "round", "rule", "state")} == {
        "kind": "announcement", "proposal": 1, "round": 1, "rule": "consent", "state": "postponed"}
    [withdrawal] = await room.say("fay", "!withdraw #1")
    assert withdrawal.kind is Kind.ANNOUNCEMENT and "is withdrawn by fay" in withdrawal.body
    assert {k: withdrawal.payload[k] for k in ("kind", "proposal", "state")} == {
        "kind": "announcement", "proposal": 1, "state": "withdrawn"}
    assert withdrawal.payload["tally"]["block"] == 1


async def test_history_shows_every_version_and_the_challenge_that_amended_the_decision(room):
    await room.say("alice", f"!propose Buy a kettle\n{TEXT}")
    await blocked_round(room)
    await room.say("alice", "!amend #1 1. A second-hand kettle. 2. Paid from the common fund.")
    await room.advance_to(TUESDAY + timedelta(days=7))
    await room.say("alice", "!round #1")
    await room.advance_to(room.clock.now + timedelta(days=5))
    assert (await status(room)).payload["state"] == "adopted"
    await room.say("bob", "!challenge #1 part 2: the fund is for repairs\n2. Paid by donations.")
    await room.advance_to(room.clock.now + timedelta(days=6))
    [trace] = await room.say("carol", "!history #1")
    assert trace.kind is Kind.HISTORY
    body = trace.body
    versions = [body.index(f"Version {n}:") for n in (1, 2, 3)]
    assert versions == sorted(versions) and "Version 4:" not in body
    for expected in (TEXT, "1. A second-hand kettle. 2. Paid from the common fund.",
                     "[#2] 2: 2. Paid by donations.", "Amended by #2 (text version 3).",
                     "alice amends the text", "Round 2 (consent)", "round 2 closes: adopted",
                     "bob challenges it: proposal #2", "amended by proposal #2"):
        assert expected in body, expected
    assert body.index("bob challenges it: proposal #2") < body.index("amended by proposal #2")
    [challenge_trace] = await room.say("carol", "!history #2")
    assert "Challenges decision #1, on this part: 2." in challenge_trace.body
    history = await room.repository.history(ROOM, 1)
    assert [row["action"] for row in history][-2:] == ["challenged", "revised"]
