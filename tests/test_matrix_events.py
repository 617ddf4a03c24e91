"""Matrix event translation, on events as the homeserver sends them (parsed by nio from their JSON)."""

from __future__ import annotations

from nio import Event

from bot.engine.model import Position
from bot.matrix import events
from bot.reactions import MATRIX_DEFAULTS, normalize_emoji, position_of


def message(content: dict, sender: str = "@alice:test") -> Event:
    return Event.parse_event({"type": "m.room.message", "event_id": "$m", "sender": sender,
                              "origin_server_ts": 1_800_000_000_000, "content": content})


def test_a_reply_fallback_is_removed_before_parsing_the_command():
    event = message({"msgtype": "m.text", "body": "> <@consent:test> Proposal #1\n> more\n\n!block too expensive",
                     "m.relates_to": {"m.in_reply_to": {"event_id": "$ballot"}}})
    assert events.message_text(event) == "!block too expensive"
    assert events.relations(event) == events.Relations(reply_to="$ballot")


def test_a_thread_message_names_its_root_and_only_a_real_reply_its_target():
    fallback = message({"msgtype": "m.text", "body": "!agree", "m.relates_to": {
        "rel_type": "m.thread", "event_id": "$ballot", "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$other"}}})
    assert events.relations(fallback) == events.Relations(thread_root="$ballot")
    real = message({"msgtype": "m.text", "body": "!agree", "m.relates_to": {
        "rel_type": "m.thread", "event_id": "$ballot", "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$other"}}})
    assert events.relations(real) == events.Relations(reply_to="$other", thread_root="$ballot")


def test_an_edit_gives_its_new_content_and_the_edited_event():
    event = message({"msgtype": "m.text", "body": "* !agree #2", "m.new_content": {"msgtype": "m.text",
                     "body": "!agree #2"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}})
    assert events.message_text(event) == "!agree #2"
    assert events.relations(event).replaces == "$orig"


def test_a_redaction_names_the_redacted_event_in_every_room_version():
    top_level = Event.parse_event({"type": "m.room.redaction", "event_id": "$x", "sender": "@a:test",
                                   "origin_server_ts": 1, "redacts": "$reaction", "content": {}})
    assert events.redacted_id(top_level) == "$reaction"


def test_reaction_keys_ignore_variation_selectors_skin_tones_and_gender():
    assert normalize_emoji("👍\ufe0f") == "👍"
    assert normalize_emoji("👍🏾") == "👍"
    assert normalize_emoji("🤷🏻\u200d♀\ufe0f") == "🤷"
    assert position_of("✋🏼", MATRIX_DEFAULTS) is Position.BLOCK
    assert position_of("⛔️", MATRIX_DEFAULTS) is Position.BLOCK
    assert position_of("🎉", MATRIX_DEFAULTS) is None
