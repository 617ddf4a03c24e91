"""Matrix events → what the service understands. Pure functions over nio events and their JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from nio import Event

REPLY_FALLBACK_PREFIX = "> "


@dataclass(frozen=True)
class Relations:
    """What a message says about the messages it relates to."""

    reply_to: str | None = None
    thread_root: str | None = None
    replaces: str | None = None


def timestamp(event: Event) -> datetime:
    return datetime.fromtimestamp(event.server_timestamp / 1000, tz=timezone.utc)


def content(event: Event) -> dict[str, Any]:
    return event.source.get("content", {}) if isinstance(event.source, dict) else {}


def relations(event: Event) -> Relations:
    relates = content(event).get("m.relates_to") or {}
    if not isinstance(relates, dict):
        return Relations()
    reply = (relates.get("m.in_reply_to") or {}).get("event_id")
    rel_type, target = relates.get("rel_type"), relates.get("event_id")
    if rel_type == "m.thread":
        # A thread message's in_reply_to is only a fallback for old clients, unless is_falling_back is false.
        return Relations(None if relates.get("is_falling_back", True) else reply, target)
    if rel_type == "m.replace":
        return Relations(replaces=target)
    return Relations(reply_to=reply)


def message_text(event: Event) -> str:
    """The command a member wrote: the new content of an edit, without any reply fallback."""
    body = content(event)
    if relations(event).replaces:
        body = body.get("m.new_content") or body
    text = body.get("body", "")
    return strip_reply_fallback(text if isinstance(text, str) else "")


def strip_reply_fallback(body: str) -> str:
    """Old clients quote the replied-to message as leading "> " lines then a blank line: drop them."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith(REPLY_FALLBACK_PREFIX):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])


def relation_type(event: Event) -> str | None:
    relates = content(event).get("m.relates_to")
    return relates.get("rel_type") if isinstance(relates, dict) else None


SENT_AS = "consent_bot_message"
"""The key, in the content of each message the bot posts, of the transaction id it was sent with: the homeserver
gives that id back to the sending device only, and a standby or a restored bot must recognise what another of
its devices (or itself, before the backup) already posted."""


def transaction_id(event: Event) -> str | None:
    """The transaction id the bot sent its own event with: the homeserver returns it to the sending device, and
    the content carries it for every device (SENT_AS)."""
    unsigned = event.source.get("unsigned") if isinstance(event.source, dict) else None
    value = unsigned.get("transaction_id") if isinstance(unsigned, dict) else None
    if not isinstance(value, str):
        value = content(event).get(SENT_AS)
    return value if isinstance(value, str) else None


def redacted_id(event: Event) -> str | None:
    """The event a redaction removes: top-level ``redacts`` (rooms v1-10) or in the content (v11+)."""
    return getattr(event, "redacts", None) or content(event).get("redacts")
