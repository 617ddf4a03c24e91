"""A vote is sacred: what a member expressed last, before the deadline, counts, whatever the order it is read
in, whoever removes its message, however long the texts around it; and every message the bot owes goes out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import timedelta

from bot.engine.model import Position
from bot.matrix.sender import MAX_CONTENT_BYTES, MAX_ENCRYPTED_CONTENT_BYTES, contents
from bot.messages.outgoing import Kind, Line, Mention, Outgoing
from bot.app.ports import Incoming, ReactionVote, Redaction
from tests.conftest import ROOM, TUESDAY, Assembly, Clock, RecordingSender, make_assembly
from tests.polling import until

MINUTE = timedelta(minutes=1)


async def ballot_of(assembly: Assembly, number: int = 1) -> str:
    return await assembly.repository.ballot_id(ROOM, number)


async def tally(assembly: Assembly) -> dict[str, int]:
    [status] = await assembly.say("zoe", "!status #1")
    return status.payload["tally"]


async def test_reactions_read_out_of_order_after_a_restart_leave_the_last_one_expressed(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_of(assembly)
    t0 = assembly.clock.now
    # bob said !disagree, then reacted 👍, then 🤷; a recount reads the newest reaction first.
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.ABSTAIN, "$shrug", t0 + 2 * MINUTE))
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.AGREE, "$thumb", t0 + MINUTE))
    await assembly.service.handle(Incoming(ROOM, "bob", "!disagree #1 too dear", "$cmd", t0))
    assert (await tally(assembly))["abstain"] == 1
    assert (await tally(assembly))["agree"] == (await tally(assembly))["disagree"] == 0
    # The late command is told why it changed nothing; the late reaction, which cannot be answered, is not.
    refusal = next(m for m in assembly.sender.sent if m.reply_to == "$cmd")
    assert refusal.kind is Kind.ERROR and "after this message (abstain)" in refusal.body
    assert not [m for m in assembly.sender.sent if m.kind is Kind.ERROR and m.reply_to is None]


async def test_a_moderator_removing_votes_leaves_the_positions_standing_and_says_so(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_of(assembly)
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.AGREE, "$bob-thumb", assembly.clock.now))
    await assembly.say("carol", "!block #1 We already have two kettles in the kitchen.", event_id="$carol-block")
    before = len(assembly.sender.sent)
    for removed, event in (("$bob-thumb", "$redact1"), ("$carol-block", "$redact2")):
        await assembly.service.redacted(Redaction(ROOM, removed, "mod", event, assembly.clock.now))
    notices = assembly.sender.sent[before:]
    assert [(n.kind, n.mentions, n.number) for n in notices] == [(Kind.MODERATION, ("bob",), 1),
                                                                 (Kind.MODERATION, ("carol",), 1)]
    assert "mod removed a vote of bob" in notices[0].body and "(agree)" in notices[0].body
    assert (await tally(assembly)) == {"agree": 1, "abstain": 0, "disagree": 0, "block": 1, "unargued_block": 0}
    history = await assembly.repository.history(ROOM, 1)
    assert [(h["action"], h["member"], h["detail"]) for h in history[-2:]] == [
        ("removed_by_moderator", "mod", "bob"), ("removed_by_moderator", "mod", "carol")]
    # Its author removing their own vote withdraws it.
    await assembly.service.redacted(Redaction(ROOM, "$carol-block", "carol", "$redact3", assembly.clock.now))
    assert (await tally(assembly))["block"] == 0


async def test_a_vote_removed_before_the_bot_read_it_never_counts(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    ballot = await ballot_of(assembly)
    await assembly.service.redacted(Redaction(ROOM, "$gone", "bob", "$redaction", assembly.clock.now))
    # A recount still lists the reaction it fetched before the removal.
    await assembly.service.react(ReactionVote(ROOM, "bob", ballot, Position.AGREE, "$gone", assembly.clock.now))
    assert (await tally(assembly))["agree"] == 0


async def test_a_reason_longer_than_the_maximum_gets_a_clear_answer_and_changes_nothing(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    [refusal] = await assembly.say("bob", "!disagree #1 " + "x" * 40_000)
    assert refusal.kind is Kind.ERROR
    assert refusal.body.splitlines()[0].startswith("The reason or argument is too long (40000 characters, at most "
                                                   "1000)")
    assert len(refusal.body) < 400
    [refusal] = await assembly.say("bob", "!challenge #1 " + "y" * 2000)
    assert "at most 200 characters (2000 given)" in refusal.body
    assert (await tally(assembly))["disagree"] == 0


async def test_proposal_numbers_beyond_any_proposal_are_no_such_proposal(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    for reference in ("#9223372036854775808", "#" + "9" * 5001, "#٣"):
        [refusal] = await assembly.say("bob", f"!agree {reference}")
        assert refusal.kind is Kind.ERROR and "no" in refusal.body.splitlines()[0].lower()
        assert len(refusal.body) < 300


async def test_text_no_database_can_store_is_cleaned_not_crashed_on(assembly: Assembly):
    # Lone surrogates (JSON can carry them; a terminal turns invalid UTF-8 into them) and control characters.
    [ballot, _] = await assembly.say("alice", "!propose Kettle \ud800 for\x00 the\x1b hall")
    assert ballot.kind is Kind.BALLOT and "Kettle \ufffd for the hall" in ballot.body
    [ack] = await assembly.say("b\udcffob", "!block #1 Trop cher pour nous \udc80 vraiment.")
    assert ack.kind is Kind.ACK and "b\ufffdob" in ack.body


async def test_an_extension_beyond_the_bound_is_refused_at_once(config, repository):
    from tests.conftest import write_config
    assembly = await make_assembly(write_config(config.storage.path.parent, language="en", facilitators=["fay"]),
                                   Clock(TUESDAY), repository)
    await assembly.say("alice", "!propose Buy a kettle")
    [refusal] = await assembly.say("fay", "!extend #1 3000000d")
    assert refusal.kind is Kind.ERROR and "at most 60 days" in refusal.body
    [refusal] = await assembly.say("fay", "!extend #1 " + "9" * 5001 + "d")
    assert refusal.kind is Kind.ERROR and "is not a duration" in refusal.body and len(refusal.body) < 300


@dataclass
class FlakySender(RecordingSender):
    """Down for its first ``failures`` attempts, then up; tells the test when a message arrived."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message, ballot_id):
        platform_id = await super().send(message, ballot_id)
        self.arrived.set()
        return platform_id


async def test_delivery_retries_on_its_own_timer_without_any_new_event(config, repository):
    sender = FlakySender(failures=2)
    assembly = await make_assembly(config, Clock(TUESDAY), repository, sender=sender)
    worker = assembly.service.delivery.start()
    try:
        await assembly.say("alice", "!propose Buy a kettle")
        # Nothing else happens in the room: the outbox is retried with backoff until the platform is back.
        await asyncio.wait_for(sender.arrived.wait(), timeout=10)
        await until(lambda: len(sender.sent) == 2, what="the ballot and its reactions")
        assert [m.kind for m in sender.sent] == [Kind.BALLOT, Kind.SEED]
        assert assembly.service.delivery.attempts_failed == 2
        assert await repository.pending_messages() == []
    finally:
        worker.cancel()


async def test_reading_never_waits_on_a_platform_that_is_slow_to_take_messages(config, repository):
    class Throttled(RecordingSender):
        released = asyncio.Event()

        async def send(self, message, ballot_id):
            await self.released.wait()  # a homeserver holding every send back (429s)
            return await super().send(message, ballot_id)

    sender = Throttled()
    assembly = await make_assembly(config, Clock(TUESDAY), repository, sender=sender)
    worker = assembly.service.delivery.start()
    try:
        await asyncio.wait_for(assembly.say("alice", "!propose Buy a kettle"), timeout=2)
        for member in ("bob", "carol", "dan"):
            await asyncio.wait_for(assembly.say(member, "!agree #1"), timeout=2)
        assert sender.sent == []
        history = await repository.history(ROOM, 1)
        assert [h["member"] for h in history if h["action"] == "position"] == ["bob", "carol", "dan"]
        sender.released.set()
        await until(lambda: len(sender.sent) == 5, what="the five queued messages")
    finally:
        worker.cancel()


async def test_a_delivery_pass_given_up_midway_keeps_every_message_it_had_not_sent(config, repository):
    """A wait on delivery that gives up (the recount at a Matrix start waits for it 10 s at most) cancels the
    pass in the middle of a send: that message and those after it are sent by the next pass, none lost."""
    class Stuck(RecordingSender):
        stuck = True
        arrived = asyncio.Event()

        async def send(self, message, ballot_id):
            if self.stuck and self.sent:  # the second message hangs (a homeserver that holds it back)
                self.arrived.set()
                await asyncio.Event().wait()
            return await super().send(message, ballot_id)

    sender = Stuck()
    assembly = await make_assembly(config, Clock(TUESDAY), repository, sender=sender)
    passing = assembly.service.delivery.start()  # as on a chat platform: reading never waits on it
    for line in ("!propose Buy a kettle", "!agree #1", "!status #1"):
        await assembly.say("alice", line)
    await sender.arrived.wait()
    passing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await passing
    assert len(sender.sent) == 1
    sender.stuck = False
    assert await assembly.service.deliver()
    assert [m.kind for m in sender.sent] == [Kind.BALLOT, Kind.SEED, Kind.ACK, Kind.STATUS]


# --- Messages that fit the platform --------------------------------------------------------------------------


def _canonical_size(content: dict) -> int:
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def test_a_matrix_message_over_the_event_limit_is_split_between_lines_each_part_within_it():
    # The worst case for size: quotes cost 6 bytes in HTML (&quot;) and 2 in the plain body (\").
    reasons = tuple(Line((Mention(f"@member{i}:example.org"), ": ", '"' * 1000)) for i in range(120))
    message = Outgoing("outcome/x/1/1", ROOM, Kind.OUTCOME, (Line(("Proposal #1 is postponed.",), True),) + reasons,
                       {"kind": "outcome", "proposal": 1}, 1, None, mentions=("@member7:example.org",))
    parts = contents(message, {"m.in_reply_to": {"event_id": "$x"}})
    assert len(parts) > 1
    assert all(_canonical_size(part) <= MAX_CONTENT_BYTES for part in parts)
    assert [p["consent_bot"]["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["consent_bot"]["parts"] for p in parts} == {len(parts)}
    assert "".join(p["body"] for p in parts).count('"') == 120 * 1000
    # Each part notifies only the members it names; the one mentioned on purpose is a pill where named.
    mentioned = [p["m.mentions"]["user_ids"] for p in parts]
    assert sum(mentioned, []) == ["@member7:example.org"]


def test_a_single_line_longer_than_an_event_is_cut_at_a_space():
    text = ("&" * 9 + " ") * 8000
    message = Outgoing("status/x", ROOM, Kind.STATUS, (Line((text,)),), {"kind": "status"})
    parts = contents(message, None)
    assert len(parts) > 1 and all(_canonical_size(p) <= MAX_CONTENT_BYTES for p in parts)
    assert all(p["body"].endswith("&") or p["body"].endswith(" ") or p is parts[-1] for p in parts)
    assert "".join(p["body"] for p in parts).replace(" ", "") == "&" * 9 * 8000


async def test_a_removed_ballot_is_posted_again_and_the_positions_stand(assembly: Assembly):
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("bob", "!agree #1")
    first = await ballot_of(assembly)
    before = len(assembly.sender.sent)
    await assembly.service.redacted(Redaction(ROOM, first, "mod", "$ballot-gone", assembly.clock.now))
    ballot, seed = assembly.sender.sent[before:]
    assert ballot.kind is Kind.BALLOT and "was removed from the room: here it is again" in ballot.body
    assert seed.kind is Kind.SEED and await ballot_of(assembly) != first
    assert (await tally(assembly))["agree"] == 1
    # Reactions on the new ballot are votes.
    await assembly.service.react(ReactionVote(ROOM, "carol", await ballot_of(assembly), Position.AGREE, "$r",
                                              assembly.clock.now))
    assert (await tally(assembly))["agree"] == 2


async def test_a_message_where_no_assembly_meets_gets_a_pointer_to_the_channels(assembly: Assembly):
    await assembly.service.not_an_assembly(Incoming("dm-1", "bob", "!agree #1", "$dm", assembly.clock.now))
    [answer] = assembly.sender.sent
    assert answer.room == "dm-1" and answer.reply_to == "$dm" and "in its channels" in answer.body


def test_in_an_encrypted_room_each_part_stays_within_the_event_limit_once_encrypted():
    from nio.crypto import OutboundGroupSession

    reasons = tuple(Line((Mention(f"@member{i}:example.org"), ": ", '"' * 1000)) for i in range(120))
    message = Outgoing("outcome/x/1/1", ROOM, Kind.OUTCOME, reasons, {"kind": "outcome", "proposal": 1}, 1)
    relation = {"rel_type": "m.thread", "event_id": "$ballot", "m.in_reply_to": {"event_id": "$ballot"}}
    parts = contents(message, relation, MAX_ENCRYPTED_CONTENT_BYTES)
    session = OutboundGroupSession()
    session.shared = True
    for part in parts:
        # As nio encrypts (bot.matrix.crypto.EncryptingClient), the relation copied in the clear.
        plaintext = json.dumps({"content": part, "type": "m.room.message", "room_id": "!" + "r" * 60 + ":example.org"},
                               ensure_ascii=False, separators=(",", ":"))
        encrypted = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "k" * 43,
                     "ciphertext": session.encrypt(plaintext), "session_id": session.id, "device_id": "CONSENTBOT",
                     "m.relates_to": relation}
        assert _canonical_size(encrypted) <= MAX_CONTENT_BYTES
    assert len(parts) > len(contents(message, relation))  # smaller parts than in a room in the clear
