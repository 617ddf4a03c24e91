"""The pact in the room: an official refers a question, is bound by the opinion and named in its outcome; members
record what the officials did; an official states their own word, never taken for the assembly's; the assembly's
verdict is a proposal like any other; and a decision with no fact recorded is brought up once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import TUESDAY, Assembly, Clock, make_assembly, write_config

ADOPTED_AT = datetime.fromisoformat("2027-06-11T10:00:00+02:00")
"""A round opened on Tuesday closes on Friday, 72 working hours later."""
MAYOR = {"id": "martine", "name": "Martine Dupont", "role": "mayor", "mandate_start": "2026-03-22",
         "pact": {"refer": "2026-04-02", "no_self_assessment": "2026-04-02"}, "accounts": ["martine-chat"]}
DEPUTY = {"id": "paul", "name": "Paul Martin", "mandate_start": "2026-03-22", "mandate_end": "2032-03-21"}


async def officials_room(tmp_path, repository, **assembly) -> Assembly:
    config = write_config(tmp_path, language="en", facilitators=["fay"], officials=[MAYOR, DEPUTY], **assembly)
    room = await make_assembly(config, Clock(TUESDAY), repository)
    room.room.names.update({"alice", "bob", "carol", "dan", "fay", "martine-chat"})
    return room


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    return await officials_room(tmp_path, repository)


@pytest.fixture
async def decided(room) -> Assembly:
    """The mayor referred #1 (Close the street on Sundays); the assembly adopted it."""
    await room.say("martine-chat", "!refer Close the street on Sundays\nFrom May to September.")
    *_, outcome = await room.advance_to(ADOPTED_AT + timedelta(days=1))
    assert outcome.kind is Kind.OUTCOME and outcome.payload["state"] == "adopted"
    return room


async def test_officials_are_listed_with_their_mandate_and_the_points_they_signed(room):
    [answer] = await room.say("bob", "!officials")
    assert "2 elected officials bound by the pact:" in answer.body
    assert "- Martine Dupont (mayor) — martine — mandate from Sunday 22 March 2026" in answer.body
    assert "on the chat: martine-chat" in answer.body
    assert "signed on Thursday 2 April 2026: refers their decisions on a subject to the assembly concerned" in \
        answer.body
    assert "- Paul Martin — paul — mandate from Sunday 22 March 2026 to Sunday 21 March 2032" in answer.body
    assert "has signed no point of the pact" in answer.body


async def test_an_official_refers_a_question_and_the_outcome_is_addressed_to_them(room):
    [ballot, _] = await room.say("martine-chat", "!refer by 2027-06-11 Close the street on Sundays\nFrom May.")
    assert ballot.kind is Kind.BALLOT and "Proposal #1 by martine-chat: Close the street on Sundays" in ballot.body
    assert "Referred to the assembly by Martine Dupont (mayor): its opinion binds them." in ballot.body
    assert "They need the assembly's opinion by Friday 11 June 2027." in ballot.body
    assert ballot.payload["referral"] == {"official": "martine", "needed_by": "2027-06-11"}
    assert ballot.payload["bound"] == ["martine"] and ballot.mentions == ("martine-chat",)
    *_, outcome = await room.advance_to(ADOPTED_AT + timedelta(minutes=1))
    assert "martine-chat: the assembly's answer to the question you referred is: adopted." in outcome.body
    assert outcome.mentions == ("martine-chat",)


async def test_a_facilitator_refers_on_an_official_s_behalf_and_nobody_else_may(room):
    [ballot, _] = await room.say("fay", "!saisir pour paul Rénover le gymnase")
    assert ballot.payload["referral"] == {"official": "paul", "needed_by": None} and ballot.payload["proposal"] == 1
    [refused] = await room.say("bob", "!refer Close the street")
    assert refused.kind is Kind.ERROR and "Only an official refers a question" in refused.body
    [refused] = await room.say("bob", "!refer for paul Close the street")
    assert "Only a facilitator refers a question on an official's behalf." in refused.body
    [refused] = await room.say("fay", "!refer for nobody Close the street")
    assert "'nobody' is no official of this assembly" in refused.body


@pytest.mark.parametrize(("command", "refusal"), [
    ("!refer by 2027-06-10 Close the street", "Members have until Friday 11 June 2027, 10:00 (Europe/Paris) to answer, "
                                              "after Thursday 10 June 2027"),
    ("!refer by tomorrow Close the street", "'tomorrow' is not a date: write e.g. 2027-04-15 or 15/04/2027."),
])
async def test_a_referral_s_date_that_leaves_members_too_little_time_is_refused(room, command, refusal):
    [answer] = await room.say("martine-chat", command)
    assert answer.kind is Kind.ERROR and refusal in answer.body


async def test_facilitators_bind_and_unbind_officials_publicly(decided):
    [announcement] = await decided.say("fay", "!bind #1 paul")
    assert announcement.kind is Kind.ANNOUNCEMENT
    assert "fay binds Paul Martin to apply #1 (Close the street on Sundays)." in announcement.body
    assert "Bound to apply it: Martine Dupont (mayor), Paul Martin." in announcement.body
    [announcement] = await decided.say("fay", "!délier #1 paul")
    assert "fay: Paul Martin is no longer bound to apply #1" in announcement.body
    [refused] = await decided.say("bob", "!bind #1 paul")
    assert "Only a facilitator may do this." in refused.body
    [history] = await decided.say("bob", "!history #1")
    assert "fay binds paul to apply it" in history.body and "fay: paul is no longer bound to apply it" in history.body


async def test_members_record_facts_which_the_room_and_status_show(decided):
    decided.clock.now = ADOPTED_AT + timedelta(days=15)
    [fact] = await decided.say("bob", "!fact #1 martine on 2027-06-20 signed the order closing the street "
                                      "source: https://lille.fr/arretes/2027-117")
    assert fact.kind is Kind.FACT and fact.mentions == ("martine-chat",)
    assert "Fact recorded on decision #1 (Close the street on Sundays) about martine-chat:" in fact.body
    assert "fact (Sunday 20 June 2027), recorded by bob on" in fact.body
    assert "signed the order closing the street" in fact.body
    assert "source: https://lille.fr/arretes/2027-117" in fact.body and fact.payload["facts"] == 1
    await decided.say("carol", "!fait #1 martine les barrières manquaient un dimanche sur trois")
    [status] = await decided.say("dan", "!status #1")
    assert "Martine Dupont (mayor):" in status.body and "les barrières manquaient" in status.body
    assert "no verdict of the assembly yet" in status.body


@pytest.mark.parametrize(("command", "refusal"), [
    ("!fact #1 paul closed it", "paul is not bound to apply it"),
    ("!fact #1 martine", "Say what the official did."),
    ("!fact #1 martine on 2027-07-20 will close it", "Tuesday 20 July 2027 has not come yet"),
    ("!fact #1 nobody closed it", "'nobody' is no official of this assembly"),
    ("!fact #1 martine " + "x" * 1001, "The reason or argument is too long (1001 characters, at most 1000)"),
])
async def test_a_fact_that_cannot_be_recorded_is_refused_with_the_reason(decided, command, refusal):
    decided.clock.now = ADOPTED_AT + timedelta(days=5)
    [answer] = await decided.say("bob", command)
    assert answer.kind is Kind.ERROR and refusal in answer.body


async def test_an_official_s_statement_is_said_to_be_theirs_and_only_they_make_one(decided):
    [said] = await decided.say("martine-chat", "!statement #1 Closed every Sunday since 20 June.")
    assert said.kind is Kind.STATEMENT
    assert "Statement by Martine Dupont (mayor) on decision #1 (Close the street on Sundays), in their own words:" in \
        said.body
    assert "This is the official's word, not the assembly's record" in said.body
    [refused] = await decided.say("bob", "!déclaration #1 It is done.")
    assert "Only an official makes a statement, from their chat account" in refused.body
    [followup] = await decided.say("martine-chat", "!followup #1 applied: done")  # the older verb says the same
    assert followup.kind is Kind.STATEMENT
    [status] = await decided.say("dan", "!status #1")
    assert "the official's own statement" in status.body and "not the assembly's record: applied: done" in status.body
    assert "no fact recorded yet: !fact #1 martine" in status.body


async def test_the_assembly_s_verdict_is_blocked_amended_and_adopted_like_any_proposal(decided):
    await decided.say("bob", "!fact #1 martine the street stayed open on 27 June")
    [ballot, _] = await decided.say("carol", "!verdict #1 martine not respected: it stayed open one Sunday in three")
    assert ballot.kind is Kind.BALLOT and ballot.payload["proposal"] == 2
    assert ballot.payload["verdict"] == {"decision": 1, "official": "martine", "assessment": "not_respected"}
    assert "did Martine Dupont (mayor) apply decision #1 (Close the street on Sundays)" in ballot.body
    assert "Proposed assessment: not respected." in ballot.body and ballot.mentions == ("martine-chat",)
    [refused] = await decided.say("martine-chat", "!block #2 The barriers were up every Sunday but one.")
    assert "This verdict judges you: the assembly decides it without you." in refused.body
    await decided.say("dan", "!block #2 The barriers were moved by vandals, not left open by the mayor.")
    deadline = datetime.fromisoformat(ballot.payload["deadline"])
    *_, outcome = await decided.advance_to(deadline + timedelta(minutes=1))
    assert outcome.payload["state"] == "postponed"
    [amended] = await decided.say("carol", "!amend #2 partly respected: closed on most Sundays, open on one")
    assert "amends the text (version 2)" in amended.body
    decided.clock.now = deadline + timedelta(days=7)
    [ballot, _] = await decided.say("carol", "!round #2")
    assert ballot.payload["verdict"]["assessment"] == "partly_respected"
    deadline = datetime.fromisoformat(ballot.payload["deadline"])
    *_, outcome = await decided.advance_to(deadline + timedelta(minutes=1))
    assert outcome.payload["state"] == "adopted"
    assert "The assembly's verdict enters the record of martine-chat: on decision #1, partly respected." in \
        outcome.body
    [status] = await decided.say("dan", "!status #1")
    assert "the assembly's verdict: partly respected (#2, adopted on" in status.body


async def test_a_verdict_without_an_assessment_or_on_an_official_not_bound_is_refused(decided):
    [answer] = await decided.say("carol", "!verdict #1 martine bad job")
    assert "Give the assessment then the reason: respected, partly respected or not respected" in answer.body
    [answer] = await decided.say("carol", "!verdict #1 paul respected: fine")
    assert "paul is not bound to apply it" in answer.body


async def test_a_decision_with_no_fact_recorded_for_thirty_days_is_brought_up_once_naming_its_officials(decided):
    await decided.say("martine-chat", "!statement #1 Done.")  # the official's word is no fact
    assert await decided.advance_to(ADOPTED_AT + timedelta(days=29)) == []
    [reminder] = await decided.advance_to(ADOPTED_AT + timedelta(days=31))
    assert reminder.kind is Kind.FOLLOWUP_REMINDER and reminder.mentions == ("martine-chat",)
    assert "Decision #1 (Close the street on Sundays), adopted on" in reminder.body
    assert "no fact has been recorded on its application yet" in reminder.body
    assert "!fact #1 martine <what was done>" in reminder.body
    assert await decided.advance_to(ADOPTED_AT + timedelta(days=400)) == []


async def test_a_decision_nobody_is_bound_to_apply_asks_the_facilitators_to_name_someone(room):
    await room.say("alice", "!propose Buy a kettle")
    [reminder] = [m for m in await room.advance_to(ADOPTED_AT + timedelta(days=31))
                  if m.kind is Kind.FOLLOWUP_REMINDER]
    assert "No official is bound to apply it: a facilitator may name one with !bind #1" in reminder.body
    assert reminder.mentions == ("fay",)


async def test_a_fact_recorded_in_time_is_not_brought_up(decided):
    await decided.say("bob", "!fact #1 martine closed it")
    assert [m for m in await decided.advance_to(ADOPTED_AT + timedelta(days=60))
            if m.kind is Kind.FOLLOWUP_REMINDER] == []
