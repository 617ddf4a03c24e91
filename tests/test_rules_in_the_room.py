"""The social code as members meet it in the room: majority rounds, challenges that revise a decision,
what members say kept, the social code's own words, a proposal's duration, answers that say what is true,
and everything done said in the room and traced."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.messages.outgoing import Kind
from tests.conftest import (FRIDAY_DEADLINE, ROOM, TUESDAY, Assembly, Clock, facilitated_room, make_assembly, status,
                            write_config)

BLOCK = "!block #1 We already have two kettles in the kitchen."


@pytest.fixture
async def room(tmp_path, repository) -> Assembly:
    """Alice proposes, bob and carol are members, fay facilitates."""
    return await facilitated_room(tmp_path, repository)


async def blocked_round(room: Assembly, number: int = 1) -> None:
    """bob blocks the current round of #number with an argument; the round closes postponed."""
    await room.say("bob", f"!block #{number} We already have two kettles in the kitchen.")
    await room.advance_to(room.clock.now + timedelta(days=5))


async def majority_round(room: Assembly) -> list:
    """Proposal #1 blocked twice, a week apart: its third round is by majority. Returns its ballot."""
    await room.say("alice", "!propose Buy a kettle")
    await blocked_round(room)
    await room.advance_to(TUESDAY + timedelta(days=7))
    await room.say("alice", "!round #1")
    await blocked_round(room)
    await room.advance_to(TUESDAY + timedelta(days=14))
    [ballot, _] = await room.say("alice", "!round #1")
    return ballot



# --- 1. Majority rounds say and do one thing --------------------------------------------------------------


async def test_a_majority_ballot_says_silence_does_not_count_and_what_an_empty_round_leads_to(room):
    ballot = await majority_round(room)
    assert ballot.payload["rule"] == "majority"
    assert "Silence counts as consent" not in ballot.body and "only if it is argued" not in ballot.body
    assert "decided by a 2/3 majority of the votes expressed: agree against disagree and block" in ballot.body
    assert "Abstentions and silence are not counted" in ballot.body
    assert "With no vote expressed the proposal is rejected, and no new vote on it is possible before" in ballot.body
    assert "Silence does not count in this round" in ballot.body


async def test_in_a_majority_round_a_bare_block_is_a_vote_against_never_called_not_valid(room):
    await majority_round(room)
    [ack] = await room.say("carol", "!block #1")
    assert ack.kind is Kind.ACK and "block (a vote against)" in ack.body and "not valid" not in ack.body
    assert ack.payload["tally"]["block"] == 1 and ack.payload["tally"]["unargued_block"] == 0
    reminders = await room.advance_to(room.clock.now + timedelta(days=2, hours=23, minutes=30))
    reminder = reminders[0]
    assert "Not voted yet: alice, bob, fay. Silence does not count in this round." in reminder.body
    assert "not valid" not in reminder.body and "carol" not in reminder.mentions


# --- 2. A challenge is a proposal to revise a decision ----------------------------------------------------


async def adopted(room: Assembly) -> None:
    await room.say("alice", "!propose Buy a kettle\n1. A kettle. 2. Paid from the common fund.")
    await room.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))


async def test_a_challenge_of_a_part_is_a_new_proposal_and_the_decision_stays_in_force(room):
    await adopted(room)
    [ballot, _] = await room.say("bob", "!challenge #1 part 2: the fund is for repairs\n2. Paid by donations.")
    assert ballot.kind is Kind.BALLOT and ballot.payload["proposal"] == 2
    assert ballot.payload["challenges"] == 1 and ballot.payload["challenged_part"] == "2"
    assert "It challenges decision #1 (Buy a kettle), on this part: 2." in ballot.body
    assert "If it is adopted, that part becomes:" in ballot.body and "2. Paid by donations." in ballot.body
    first = await status(room, 1)
    assert first.payload["state"] == "adopted" and first.payload["challenged_by"] == [2]
    assert "Challenged by #2: it stays in force while they are not decided." in first.body
    # The decision cannot be withdrawn; the challenge can, by its author.
    [refusal] = await room.say("alice", "!withdraw #1")
    assert refusal.kind is Kind.ERROR and "changed or repealed by a challenge" in refusal.body
    # Challenged on Friday: 72 working hours end on Wednesday.
    [outcome] = [m for m in await room.advance_to(room.clock.now + timedelta(days=6)) if m.kind is Kind.OUTCOME]
    assert outcome.payload["state"] == "adopted"
    assert "Decision #1 (Buy a kettle) is amended: its text in force (version 2):" in outcome.body
    amended = await status(room, 1)
    assert amended.payload["amended_by"] == [2] and "challenged_by" not in amended.payload
    assert "[#2] 2: 2. Paid by donations." in amended.body and "Amended by #2 (text version 2)." in amended.body


async def test_a_challenge_of_the_whole_without_new_text_repeals_the_decision_once_adopted(room):
    await adopted(room)
    await room.say("carol", "!challenge #1 We do not need it any more")
    await room.advance_to(room.clock.now + timedelta(days=6))
    repealed = await status(room, 1)
    assert repealed.payload["state"] == "repealed" and repealed.payload["repealed_by"] == 2
    assert "Repealed by #2." in repealed.body


async def test_a_blocked_challenge_leaves_the_decision_unchanged_and_its_author_may_withdraw_it(room):
    await adopted(room)
    await room.say("carol", "!challenge #1 We do not need it any more")
    await blocked_round(room, 2)
    assert (await status(room, 1)).payload["state"] == "adopted"
    [announcement] = await room.say("carol", "!withdraw #2")
    assert announcement.kind is Kind.ANNOUNCEMENT and "is withdrawn by carol" in announcement.body
    first = await status(room, 1)
    assert first.payload["state"] == "adopted" and "challenged_by" not in first.payload


# --- 4. What members say is kept -------------------------------------------------------------------------


async def test_a_reason_given_with_agree_is_kept_and_shown(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", "!agree #1 only if the budget stays under 50 €")
    shown = await status(room)
    assert "- bob: only if the budget stays under 50 €" in shown.body
    history = await room.repository.history(ROOM, 1)
    assert history[-1]["argument"] == "only if the budget stays under 50 €"


async def test_a_too_short_new_argument_keeps_the_earlier_one_and_the_bot_says_so(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", BLOCK)
    [answer] = await room.say("bob", "!block #1 no!")
    assert answer.kind is Kind.ERROR
    assert "keeps the argument you gave before: “We already have two kettles in the kitchen.”" in answer.body
    assert (await status(room)).payload["tally"]["block"] == 1


@pytest.mark.parametrize("argument", ["." * 12, "🙂" * 12, "\u200b" * 20 + "no"])
async def test_dots_emoji_or_invisible_characters_are_no_argument(room, argument):
    await room.say("alice", "!propose Buy a kettle")
    [request] = await room.say("bob", f"!block #1 {argument}")
    assert request.kind is Kind.BLOCK_REQUEST and "at least 10 letters or digits" in request.body


async def test_a_title_needs_a_letter_or_a_digit(room):
    [refusal] = await room.say("alice", "!propose \u200b\u200b\u200b")
    assert refusal.kind is Kind.ERROR and "needs a title" in refusal.body


async def test_the_consent_keyword_never_eats_the_amended_text(room):
    await room.say("alice", "!propose Photos at the assembly")
    await blocked_round(room)
    await room.advance_to(TUESDAY + timedelta(days=7))
    [ballot, _] = await room.say("alice", "!tour #1 Consentement éclairé requis pour toute photo.")
    assert "Consentement éclairé requis pour toute photo." in ballot.body
    await blocked_round(room)
    await room.advance_to(TUESDAY + timedelta(days=14))
    [ballot, _] = await room.say("fay", "!round #1 consent\nOnly with everyone's consent.")
    assert ballot.payload["rule"] == "consent" and "Only with everyone's consent." in ballot.body


async def test_propose_takes_no_proposal_number(room):
    await room.say("alice", "!propose Buy a kettle")
    [ballot, _] = await room.say("bob", "!propose #1 Revise decision #1")
    assert ballot.payload["proposal"] == 2 and "Revise decision #1" in ballot.body.splitlines()[0]
    assert "#1 Revise decision #1" in ballot.body


# --- 5. The social code's own words ----------------------------------------------------------------------


@pytest.mark.parametrize(("words", "position"), [
    ("!pasdaccord", "disagree"), ("!pas d'accord", "disagree"), ("!Pas D’accord", "disagree"),
    ("!blocage", "block"), ("!sabstient", "abstain"), ("!s'abstient", "abstain"),
])
async def test_the_social_codes_words_for_positions_are_commands(room, words, position):
    await room.say("alice", "!propose Buy a kettle")
    [answer] = await room.say("bob", f"{words} #1 Trop cher pour notre budget.")
    assert answer.payload["tally"][position] == 1


async def test_help_lists_the_social_codes_words(room):
    [help_] = await room.say("bob", "!help disagree")
    assert help_.kind is Kind.HELP and help_.payload == {"kind": "help"}
    assert "!pasdaccord" in help_.body
    [help_] = await room.say("bob", "!help abstain")
    assert "!sabstient" in help_.body and "!abstain [#N] [reason]" in help_.body  # a reason is kept and shown
    [help_] = await room.say("bob", "!help agree")
    assert "!agree [#N] [reason]" in help_.body


# --- 6. A proposal's duration ----------------------------------------------------------------------------


async def test_a_proposer_may_give_longer_than_the_minimum_and_the_ballot_says_so(room):
    [ballot, _] = await room.say("alice", "!propose duration 10d Buy a kettle")
    assert "Time to answer: 10 days of working time, as its proposer asked (at least 3 days)." in ballot.body
    assert ballot.payload["deadline"] == "2027-06-22T10:00:00+02:00"
    assert "Buy a kettle" in ballot.body.splitlines()[0]


async def test_an_extension_of_nothing_is_refused_and_the_deadline_stays(room):
    # Counting no working time from a deadline that ends the day before a holiday would start after the holiday.
    await room.say("alice", "!propose Buy a kettle")
    deadline = (await status(room)).payload["deadline"]
    for nothing in ("0h", "0d", "30s"):
        [refused] = await room.say("fay", f"!extend #1 {nothing}")
        assert refused.kind is Kind.ERROR
        assert refused.body.splitlines()[0] == ("An extension adds at least a minute of working time: write e.g. 24h "
                                                "or 2d.")
    assert (await status(room)).payload["deadline"] == deadline


async def test_a_facilitator_extends_a_longer_round_from_the_deadline_its_proposer_set(room):
    """A facilitator may still extend a round its proposer made longer: from that round's deadline, in working
    time; the proposal's next round lasts what its proposer asked for again, the extension not included."""
    await room.say("alice", "!propose duration 10d Buy a kettle")
    [announcement] = await room.say("fay", "!extend #1 2d")
    assert "fay extends the deadline to Thursday 24 June 2027, 10:00" in announcement.body
    assert (await status(room)).payload["deadline"] == "2027-06-24T10:00:00+02:00"
    await room.say("bob", BLOCK)
    sent = await room.advance_to(datetime.fromisoformat("2027-06-28T10:00:00+02:00"))  # a Monday
    [outcome] = [message for message in sent if message.kind is Kind.OUTCOME]
    assert outcome.payload["state"] == "postponed" and outcome.payload["deadline"] == "2027-06-24T10:00:00+02:00"
    [ballot, _] = await room.say("alice", "!round #1")
    assert "Time to answer: 10 days of working time, as its proposer asked (at least 3 days)." in ballot.body
    assert ballot.payload["deadline"] == "2027-07-12T10:00:00+02:00"


@pytest.mark.parametrize(("asked", "problem"), [("2j", "at least 3 days"), ("61d", "at most 60 days")])
async def test_a_duration_shorter_than_the_minimum_or_over_the_bound_is_refused(room, asked, problem):
    [refusal] = await room.say("alice", f"!proposer durée {asked} Acheter une bouilloire")
    assert refusal.kind is Kind.ERROR and problem in refusal.body


# --- 7. Answers that say what is true ---------------------------------------------------------------------


async def test_a_vote_when_no_proposal_is_open_says_so(room):
    [answer] = await room.say("bob", "!agree")
    assert "No proposal is open in this room" in answer.body
    await room.say("alice", "!propose Buy a kettle")
    await blocked_round(room)
    [answer] = await room.say("bob", "!agree")
    assert "No proposal is open in this room; postponed: #1" in answer.body


async def test_after_the_lock_the_status_says_the_decision_may_be_brought_back(room):
    await majority_round(room)
    await room.advance_to(room.clock.now + timedelta(days=5))  # nobody voted: rejected, locked
    assert "no new vote on it before" in (await status(room)).body
    await room.advance_to(room.clock.now + timedelta(days=100))
    assert "its lock has passed" in (await status(room)).body and "!round #1" in (await status(room)).body


async def test_a_closed_round_shows_the_participation_counted_at_its_close(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", "!agree")
    await room.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))
    room.room.names.update({f"newcomer{i}" for i in range(6)})
    assert "Participation: 1 of 4 members." in (await status(room)).body


async def test_a_deadline_at_midnight_is_the_end_of_the_day_before(tmp_path, repository):
    config = write_config(tmp_path, language="en", working_days_only=False, minimum_duration="14h")
    room = await make_assembly(config, Clock(TUESDAY), repository)
    [ballot, _] = await room.say("alice", "!propose Buy a kettle")
    assert "Deadline: Tuesday 8 June 2027, 24:00 (Europe/Paris)." in ballot.body


# --- 8. Everything done is said and traced ----------------------------------------------------------------


async def test_an_extension_is_announced_and_the_reminders_come_again_before_the_new_deadline(room):
    await room.say("alice", "!propose Buy a kettle")
    sent = await room.advance_to(FRIDAY_DEADLINE - timedelta(hours=20))
    assert [m.kind for m in sent] == [Kind.REMINDER]
    [announcement] = await room.say("fay", "!extend #1 2d")
    assert announcement.kind is Kind.ANNOUNCEMENT and "fay extends the deadline to Tuesday 15 June 2027" in \
        announcement.body
    sent = await room.advance_to(datetime.fromisoformat("2027-06-15T11:00:00+02:00"))
    assert [m.kind for m in sent] == [Kind.REMINDER, Kind.REMINDER, Kind.OUTCOME]


async def test_an_amendment_is_announced_with_its_new_text(room):
    await room.say("alice", "!propose Buy a kettle")
    await blocked_round(room)
    [announcement] = await room.say("alice", "!amend #1 A second-hand kettle.")
    assert announcement.kind is Kind.ANNOUNCEMENT and "version 2" in announcement.body
    assert "A second-hand kettle." in announcement.body


async def test_history_gives_the_whole_trace(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.say("bob", "!disagree #1 too dear")
    await room.say("bob", BLOCK)
    await room.say("fay", "!extend #1 1d")
    await room.advance_to(room.clock.now + timedelta(days=6))
    [trace] = await room.say("carol", "!historique #1")
    assert trace.kind is Kind.HISTORY
    body = trace.body
    for expected in ("History of proposal #1: Buy a kettle", "Version 1:", "Round 1 (consent)", "postponed",
                     "alice proposes it: Buy a kettle", "bob: disagree", "“too dear”", "bob: block",
                     "fay extends round 1 until", "round 1 closes: postponed"):
        assert expected in body, expected


async def test_the_list_is_paginated_the_newest_first(room):
    for number in range(1, 46):
        await room.say("alice", f"!propose Item {number}")
    [first] = await room.say("bob", "!list")
    lines = first.body.splitlines()
    assert "page 1 of 3" in lines[0] and lines[1].startswith("#45 Item 45: open, round 1")
    assert len([line for line in lines if line.startswith("#")]) == 20 and lines[-1] == "More with !list 2."
    [last] = await room.say("bob", "!liste 3")
    assert [line.split()[0] for line in last.body.splitlines()[1:]] == [f"#{n}" for n in range(5, 0, -1)]
    [refusal] = await room.say("bob", "!list 4")
    assert "The last page is 3." in refusal.body
    [refusal] = await room.say("bob", "!list two")
    assert "'two' is not a page number." in refusal.body


async def test_a_closed_round_s_status_says_its_participation_at_the_close_in_text_and_payload(room):
    await room.say("alice", "!propose Buy a kettle")
    await room.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))
    room.room.names.update({"dan", "erin"})  # two members join after the close
    closed = await status(room)
    assert "Participation: 0 of 4 members." in closed.body and closed.payload["members"] == 4


async def test_help_lists_only_the_commands_the_assembly_uses(room, tmp_path, repository):
    [without] = await room.say("bob", "!aide")
    verbs = {line.split()[0] for line in without.body.splitlines()[1:]}
    assert "!propose" in verbs and not verbs & {"!delegate", "!undelegate", "!delegations", "!topics"}
    config = write_config(tmp_path, language="en", delegation=True, topics=[{"id": "transport"}])
    using = await make_assembly(config, Clock(TUESDAY), repository)
    [listed] = await using.say("bob", "!help", event_id="$help-where-delegation-is-on")
    assert "!delegate [@member" in listed.body and "!topics [#N" in listed.body
    [refused] = await room.say("bob", "!delegate @carol")  # not in use, and said so
    assert "Delegation is not in use in this assembly" in refused.body
