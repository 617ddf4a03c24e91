"""The service end to end over a real database: commands, answers, idempotency, exactly-once messages."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.engine.model import Position
from bot.messages.outgoing import Kind, Undeliverable
from bot.matrix.sender import contents
from bot.app.ports import Incoming, ReactionVote, Redaction
from tests.conftest import FRIDAY_DEADLINE, ROOM, TUESDAY, Assembly, Clock, RecordingSender, make_assembly


async def test_a_proposal_is_announced_with_its_ballot_and_machine_readable_state(assembly: Assembly):
    [ballot, seed] = await assembly.say("alice", "!propose Buy a kettle\nFor the meeting room.")
    # After the ballot, the reactions for chat adapters to seed on it (queued: retried until done).
    assert (seed.kind, seed.number, seed.payload) == (Kind.SEED, 1, None)
    assert ballot.kind is Kind.BALLOT
    assert "Proposal #1 by alice: Buy a kettle" in ballot.body
    assert "For the meeting room." in ballot.body
    assert ballot.payload == {
        "kind": "ballot",
        "proposal": 1,
        "round": 1,
        "rule": "consent",
        "state": "open",
        "deadline": "2027-06-11T10:00:00+02:00",
        "tally": {"agree": 0, "abstain": 0, "disagree": 0, "block": 0, "unargued_block": 0},
        "members": 1,
    }


async def test_the_same_platform_event_twice_changes_nothing_and_says_so_only_at_debug(assembly: Assembly, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    await assembly.say("alice", "!propose Buy a kettle", event_id="$same")
    again = await assembly.say("alice", "!propose Buy a kettle", event_id="$same")
    assert again == []
    await assembly.say("bob", "!agree #1", event_id="$vote")
    await assembly.say("bob", "!agree #1", event_id="$vote")
    history = await assembly.repository.history(ROOM, 1)
    assert [row["action"] for row in history] == ["proposed", "position"]
    assert history[1]["event_id"] == "$vote"
    # A restart reads again what it had handled: routine, not worth a line at INFO each time.
    again = [record for record in caplog.records if "already handled" in record.getMessage()]
    assert len(again) == 2 and all(record.levelno == logging.DEBUG for record in again)


async def test_votes_are_acknowledged_and_counted_latest_first(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    [ack] = await assembly.say("bob", "!accord")
    assert ack.kind is Kind.ACK and ack.reply_to == "$event2"
    await assembly.say("bob", "!Désaccord #1 too early")
    [status] = await assembly.say("carol", "!statut")
    assert status.payload["tally"] == {"agree": 0, "abstain": 0, "disagree": 1, "block": 0, "unargued_block": 0}
    assert "bob: too early" in status.body


async def test_an_unargued_block_gets_a_request_for_an_argument_mentioning_the_member(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    [request] = await assembly.say("bob", "!block")
    assert request.kind is Kind.BLOCK_REQUEST
    assert request.mentions == ("bob",)
    assert request.payload["tally"]["unargued_block"] == 1
    [ack] = await assembly.say("bob", "!block #1 We already have two kettles in the kitchen.")
    assert ack.kind is Kind.ACK
    assert ack.payload["tally"]["block"] == 1 and ack.payload["tally"]["unargued_block"] == 0


async def test_a_reply_to_the_ballot_names_the_proposal(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("alice", "!propose Paint the door")
    [refusal] = await assembly.say("bob", "!agree")
    assert refusal.kind is Kind.ERROR and "Which proposal?" in refusal.body
    [ack] = await assembly.say("bob", "!agree", about=2)
    assert ack.payload["proposal"] == 2


async def test_every_mistake_gets_a_short_answer_with_the_usage_line(assembly: Assembly):
    [unknown] = await assembly.say("alice", "!frobnicate")
    assert unknown.kind is Kind.ERROR and "!help" in unknown.body
    [no_title] = await assembly.say("alice", "!propose")
    assert no_title.kind is Kind.ERROR
    assert no_title.body.splitlines() == ["A proposal needs a title.",
                                          "Usage: !propose [topic <topic>[,<topic>]] [duration <duration>] <title> "
                                          "(further lines: the text)"]
    [missing] = await assembly.say("alice", "!agree #7")
    assert "There is no proposal #7 in this room." in missing.body and "Usage: !agree [#N]" in missing.body
    [bad_duration] = await assembly.say("alice", "!extend #1 soon")
    assert bad_duration.kind is Kind.ERROR


async def test_a_refused_rule_explains_itself_and_writes_nothing(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    [refusal] = await assembly.say("bob", "!withdraw #1")
    assert refusal.body.splitlines()[0] == "Only the proposer or a facilitator may do this."
    assert [row["action"] for row in await assembly.repository.history(ROOM, 1)] == ["proposed"]


async def test_plain_conversation_is_ignored(assembly: Assembly):
    assert await assembly.say("alice", "hello everyone") == []
    assert await assembly.say("alice", "!") == []


async def test_user_text_cannot_ping_the_room_nor_inject_html(assembly: Assembly):
    [ballot, _] = await assembly.say("alice", "!propose <img src=x onerror=alert(1)> @room now\n<b>@channel</b>")
    [content] = contents(ballot, None)
    html = content["formatted_body"]
    assert "<img" not in html and "&lt;img src=x" in html
    assert "@room" not in ballot.body and "@channel" not in ballot.body
    assert "@room" not in html and "@channel" not in html


async def test_the_deadline_closes_the_round_and_the_outcome_is_announced_once(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("bob", "!agree")
    sent = await assembly.advance_to(FRIDAY_DEADLINE + timedelta(hours=1))
    kinds = [m.kind for m in sent]
    assert kinds == [Kind.REMINDER, Kind.REMINDER, Kind.OUTCOME]
    outcome = sent[-1]
    assert "adopted by consent" in outcome.body
    assert "Participation: 1 of 2 members." in outcome.body
    assert outcome.payload["state"] == "adopted"
    # Due work again at a later time finds nothing more to do.
    assert await assembly.advance_to(FRIDAY_DEADLINE + timedelta(days=2)) == []


async def test_reminders_name_the_members_who_have_not_answered(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("bob", "!block")
    assembly.room.names.add("carol")
    [reminder] = await assembly.advance_to(FRIDAY_DEADLINE - timedelta(hours=23))
    assert reminder.kind is Kind.REMINDER
    assert "Not answered yet: alice, carol." in reminder.body
    assert "not valid until argued: bob." in reminder.body
    assert set(reminder.mentions) == {"alice", "carol", "bob"}


async def test_a_message_that_fails_to_send_stays_queued_and_goes_out_once(assembly: Assembly):
    assembly.sender.failures = 1
    assert await assembly.say("alice", "!propose Buy a kettle") == []
    await assembly.service.deliver()
    await assembly.service.deliver()
    assert [m.kind for m in assembly.sender.sent] == [Kind.BALLOT, Kind.SEED]
    assert await assembly.repository.pending_messages() == []


async def test_a_round_that_ended_while_the_bot_was_down_closes_at_start_and_says_so(config, repository):
    before = await make_assembly(config, Clock(TUESDAY), repository)
    await before.say("alice", "!propose Buy a kettle")
    await before.say("bob", "!block #1 We already have two kettles in the kitchen.")
    # The bot is down from Wednesday to the next Monday; it restarts after the deadline.
    after = await make_assembly(config, Clock(FRIDAY_DEADLINE + timedelta(days=3)), repository, before.room)
    assert await after.service.next_due() is not None
    [outcome] = await after.advance_to(after.clock.now)
    assert outcome.kind is Kind.OUTCOME
    assert "postponed" in outcome.body and "while the bot was offline" in outcome.body
    # The reminders whose time passed while the bot was down are not sent late.
    assert after.sender.of_kind(Kind.REMINDER) == []


async def test_only_the_nearest_missed_reminder_is_sent_at_start(config, repository):
    before = await make_assembly(config, Clock(TUESDAY), repository)
    await before.say("alice", "!propose Buy a kettle")
    after = await make_assembly(config, Clock(FRIDAY_DEADLINE - timedelta(minutes=30)), repository, before.room)
    sent = await after.advance_to(after.clock.now)
    assert [m.kind for m in sent] == [Kind.REMINDER]
    assert sent[0].key.endswith("/3600")


async def test_every_change_of_position_is_kept_in_the_history_with_its_event(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    for position in ("!agree", "!disagree", "!block", "!agree"):
        await assembly.say("bob", position)
    history = await assembly.repository.history(ROOM, 1)
    assert [row["position"] for row in history] == [None, "agree", "disagree", "block", "agree"]
    assert [row["event_id"] for row in history] == ["$event1", "$event2", "$event3", "$event4", "$event5"]


async def ballot_id(assembly: Assembly, number: int) -> str:
    return await assembly.repository.ballot_id(ROOM, number)


async def test_a_reaction_on_the_ballot_is_a_position_and_taking_it_back_withdraws_it(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_id(assembly, 1)
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.AGREE, "$r1", assembly.clock.now))
    [status] = await assembly.say("carol", "!status")
    assert status.payload["tally"]["agree"] == 1
    await assembly.service.redacted(Redaction(ROOM, "$r1", "bob", "$redaction1", assembly.clock.now))
    [status] = await assembly.say("carol", "!status")
    assert status.payload["tally"]["agree"] == 0


async def test_taking_back_an_old_reaction_does_not_undo_a_newer_position(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_id(assembly, 1)
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.AGREE, "$r1", assembly.clock.now))
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.DISAGREE, "$r2", assembly.clock.now))
    await assembly.service.redacted(Redaction(ROOM, "$r1", "bob", "$redaction1", assembly.clock.now))
    [status] = await assembly.say("carol", "!status")
    assert status.payload["tally"]["disagree"] == 1 and status.payload["tally"]["agree"] == 0


async def test_reactions_elsewhere_than_the_current_ballot_are_ignored(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    [ack] = await assembly.say("bob", "!agree")
    before = len(assembly.sender.sent)
    await assembly.service.react(ReactionVote(ROOM, "carol", "msg-2", Position.BLOCK, "$r1", assembly.clock.now))
    assert len(assembly.sender.sent) == before
    [status] = await assembly.say("carol", "!status")
    assert status.payload["tally"]["block"] + status.payload["tally"]["unargued_block"] == 0


async def test_a_blocking_reaction_is_asked_for_its_argument_in_the_ballot_thread(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_id(assembly, 1)
    before = len(assembly.sender.sent)
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.BLOCK, "$r1", assembly.clock.now))
    [request] = assembly.sender.sent[before:]
    assert request.kind is Kind.BLOCK_REQUEST and request.number == 1 and request.reply_to is None
    assert request.mentions == ("bob",)
    # bob answers in the ballot's thread with plain text: that is his argument.
    [ack] = await assembly.say("bob", "We already have two kettles in the kitchen.", about=1)
    assert ack.kind is Kind.ACK and ack.payload["tally"]["block"] == 1
    # Other talk in the thread is only talk.
    assert await assembly.say("carol", "I think so too, honestly.", about=1) == []


async def test_a_reaction_after_the_deadline_is_refused_in_the_thread_naming_the_member(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_id(assembly, 1)
    await assembly.advance_to(FRIDAY_DEADLINE + timedelta(minutes=1))
    before = len(assembly.sender.sent)
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.BLOCK, "$late", assembly.clock.now))
    [refusal] = assembly.sender.sent[before:]
    assert refusal.kind is Kind.ERROR and refusal.mentions == ("bob",) and refusal.number == 1
    assert "not open for answers" in refusal.body


async def test_an_edit_of_a_command_that_took_effect_changes_nothing_and_says_so(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("bob", "!agree", event_id="$vote")
    edit = Incoming(ROOM, "bob", "!block #1 it is far too expensive", "$edit", assembly.clock.now, replaces="$vote")
    before = len(assembly.sender.sent)
    await assembly.service.handle(edit)
    [answer] = assembly.sender.sent[before:]
    assert answer.kind is Kind.ERROR and "already taken effect" in answer.body
    [status] = await assembly.say("carol", "!status")
    assert status.payload["tally"]["agree"] == 1 and status.payload["tally"]["block"] == 0


async def test_an_edit_of_a_refused_command_is_carried_out(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    [refusal] = await assembly.say("bob", "!agree #2", event_id="$typo")
    assert refusal.kind is Kind.ERROR
    edit = Incoming(ROOM, "bob", "!agree #1", "$fixed", assembly.clock.now, replaces="$typo")
    before = len(assembly.sender.sent)
    await assembly.service.handle(edit)
    [ack] = assembly.sender.sent[before:]
    assert ack.kind is Kind.ACK and ack.payload["tally"]["agree"] == 1


async def test_once_an_edit_took_effect_further_edits_of_the_same_message_are_refused(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("bob", "!agree #2", event_id="$typo")
    await assembly.service.handle(Incoming(ROOM, "bob", "!agree #1", "$edit1", assembly.clock.now, replaces="$typo"))
    before = len(assembly.sender.sent)
    await assembly.service.handle(Incoming(ROOM, "bob", "!block #1 far too expensive for us", "$edit2",
                                           assembly.clock.now, replaces="$typo"))
    [refusal] = assembly.sender.sent[before:]
    assert refusal.kind is Kind.ERROR and "already taken effect" in refusal.body


async def test_a_proposal_too_long_gets_a_clear_answer(assembly: Assembly):
    [refusal] = await assembly.say("alice", "!propose Kettle\n" + "x" * 9000)
    assert refusal.body.splitlines()[0] == "The text is too long (9000 characters, at most 8000)."


async def test_a_room_whose_message_fails_does_not_hold_up_other_rooms(config, repository):
    class OneRoomDown(RecordingSender):
        async def send(self, message, ballot_id):
            if message.room == "!down:test":
                raise ConnectionError("that room's server is unreachable")
            return await super().send(message, ballot_id)

    sender = OneRoomDown()
    assembly = await make_assembly(config, Clock(TUESDAY), repository, sender=sender)
    await assembly.service.handle(Incoming("!down:test", "alice", "!propose Kettle", "$down", assembly.clock.now))
    await assembly.say("alice", "!propose Paint the door")
    assert [(m.room, m.kind) for m in sender.sent] == [(ROOM, Kind.BALLOT), (ROOM, Kind.SEED)]
    assert [m.room for m in await assembly.repository.pending_messages()] == ["!down:test", "!down:test"]


async def test_a_message_refused_for_good_is_set_aside_and_the_rest_goes_out(config, repository):
    class RefusesSeeds(RecordingSender):
        async def send(self, message, ballot_id):
            if message.kind is Kind.SEED:
                raise Undeliverable("M_FORBIDDEN: not in the room any more")
            return await super().send(message, ballot_id)

    sender = RefusesSeeds()
    assembly = await make_assembly(config, Clock(TUESDAY), repository, sender=sender)
    await assembly.say("alice", "!propose Kettle")
    await assembly.say("bob", "!agree")
    assert [m.kind for m in sender.sent] == [Kind.BALLOT, Kind.ACK]
    assert await assembly.repository.pending_messages() == []
