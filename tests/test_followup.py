"""Follow-up in the room: those bound to apply an adopted decision say whether it is applied — dated,
announced, shown by !status and !history, carried in the payload — and a decision nobody follows up is
brought up once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import TUESDAY, Assembly, Clock, make_assembly, write_config

ADOPTED_AT = datetime.fromisoformat("2027-06-11T10:00:00+02:00")
"""The round opened on Tuesday closes on Friday, 72 working hours later."""


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    """fay facilitates; the mayor follows decisions up; proposal #1 (Buy a kettle) is adopted."""
    config = write_config(tmp_path, language="en", facilitators=["fay"], followup=["mayor"])
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob", "fay", "mayor"})
    await assembly.say("alice", "!propose Buy a kettle")
    *_, outcome = await assembly.advance_to(ADOPTED_AT + timedelta(days=1))
    assert outcome.kind is Kind.OUTCOME and outcome.payload["state"] == "adopted"
    return assembly


async def test_the_mayor_says_where_applying_a_decision_stands_and_the_room_is_told(room):
    [announcement] = await room.say("mayor", "!followup #1 in progress 40% ordered, delivered next week")
    assert announcement.kind is Kind.FOLLOWUP
    assert "Follow-up of decision #1 (Buy a kettle) by mayor: in progress, 40 %." in announcement.body
    assert "ordered, delivered next week" in announcement.body
    assert announcement.payload["followup"] == {"status": "in_progress", "progress": 40,
                                                "at": room.clock.now.isoformat(), "updates": 1}
    assert announcement.payload["state"] == "adopted"


async def test_status_and_history_show_the_latest_follow_up_and_every_one(room):
    await room.say("mayor", "!suivi #1 en cours 40 % commandée")
    await room.say("fay", "!followup #1 applied The kettle is in the kitchen.")
    [status] = await room.say("bob", "!status #1")
    assert "Follow-up: applied, on" in status.body and "by fay: The kettle is in the kitchen." in status.body
    assert "2 follow-up updates: !history #1 shows them all." in status.body
    [history] = await room.say("bob", "!history #1")
    assert "mayor follows it up: in progress, 40 %" in history.body and "“commandée”" in history.body
    assert "fay follows it up: applied" in history.body


@pytest.mark.parametrize("command, refusal", [
    ("!followup #1 finished it is done", "Say where applying the decision stands: not started, in progress"),
    ("!followup #1 applied", "A follow-up needs a note"),
    ("!followup #1 applied 40% mostly", "That status means 100 %, not 40 %"),
    ("!followup #1 in progress 140% way ahead", "A progress is a percentage from 0 to 100, not 140."),
    ("!followup #1 in progress " + "x" * 1001, "The reason or argument is too long (1001 characters, at most 1000)"),
])
async def test_a_follow_up_that_says_nothing_clear_is_refused_with_the_reason(room, command, refusal):
    [answer] = await room.say("mayor", command)
    assert answer.kind is Kind.ERROR and refusal in answer.body
    [status] = await room.say("bob", "!status #1")
    assert "Follow-up" not in status.body


async def test_only_facilitators_and_those_in_charge_may_follow_up_and_only_a_decision(room):
    [answer] = await room.say("bob", "!followup #1 applied it is done")
    assert "Only facilitators and the members in charge of follow-up" in answer.body
    await room.say("alice", "!propose Buy a toaster")
    [answer] = await room.say("mayor", "!followup #2 applied it is done")
    assert "Only an adopted decision is followed up; this proposal is open." in answer.body


async def test_a_decision_nobody_follows_up_for_thirty_days_is_brought_up_once(room):
    assert await room.advance_to(ADOPTED_AT + timedelta(days=29)) == []
    [reminder] = await room.advance_to(ADOPTED_AT + timedelta(days=31))
    assert reminder.kind is Kind.FOLLOWUP_REMINDER
    assert "Decision #1 (Buy a kettle), adopted on" in reminder.body and "has no follow-up yet" in reminder.body
    assert set(reminder.mentions) == {"fay", "mayor"}
    assert await room.advance_to(ADOPTED_AT + timedelta(days=400)) == []
    [history] = await room.say("bob", "!history #1")
    assert "nobody has followed it up: the room is asked" in history.body


async def test_a_decision_followed_up_in_time_is_not_brought_up(room):
    await room.say("mayor", "!followup #1 not started waiting for the budget vote")
    assert await room.advance_to(ADOPTED_AT + timedelta(days=60)) == []
