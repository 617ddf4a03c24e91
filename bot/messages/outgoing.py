"""What the bot says: one message as platform-neutral lines, with its idempotency key and machine-readable state.

A message is a tuple of :class:`Line`; a line is text segments and :class:`Mention` segments (a member
named in it). Each platform renders lines its own way — HTML with pills on Matrix, Markdown with
@usernames on Mattermost, plain text on the console — so no adapter ever re-parses what another
renderer produced, and each can split a message that is too long for it between two lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    BALLOT = "ballot"
    REMINDER = "reminder"
    OUTCOME = "outcome"
    BLOCK_REQUEST = "block_request"
    STATUS = "status"
    ERROR = "error"
    ACK = "ack"
    MODERATION = "moderation"
    """A moderator removed a member's vote from view: said in the room, the position stands."""
    ANNOUNCEMENT = "announcement"
    """What a facilitator or a proposer did to a proposal (withdrawn, extended, amended), said to the room."""
    HISTORY = "history"
    """A proposal's whole trace, asked for with !history."""
    HELP = "help"
    """The commands in use, or one command's usage and names (!help)."""
    FOLLOWUP = "followup"
    """Before the pact: an update on whether an adopted decision is applied (messages queued then keep it)."""
    FOLLOWUP_REMINDER = "followup_reminder"
    """No fact was recorded on applying an adopted decision: the room is asked, once, naming the officials."""
    FACT = "fact"
    """A member recorded what an official did to apply a decision (!fact), said to the room."""
    STATEMENT = "statement"
    """An official's own statement on applying a decision (!statement), said to the room."""
    DELEGATION = "delegation"
    """A member entrusted their vote to another, ended it, or it lapsed: said to the room (it is public)."""
    LINK = "link"
    """A step of linking a member's accounts of two platforms (!link), the link made or undone (!unlink): said to the
    member, the link in both accounts' rooms."""
    UNREADABLE = "unreadable"
    """A member's message the bot could not read (on Matrix, its encryption key never came): they are told, once."""
    SEED = "seed"
    """Not a message: the reactions a chat adapter adds to the ballot so members can click them. Queued
    after the ballot like any message, so it is retried until done and never done twice."""


@dataclass(frozen=True)
class Mention:
    """A member named in a message: a pill on Matrix, an @username on Mattermost, their id on the console.

    It notifies the member only if they are in the message's ``mentions``.
    """

    member: str


Segment = str | Mention


@dataclass(frozen=True)
class Line:
    """One line of a message. Text segments may hold newlines (a proposal's text): renderers keep them."""

    segments: tuple[Segment, ...] = ()
    strong: bool = False

    def plain(self) -> str:
        return "".join(s.member if isinstance(s, Mention) else s for s in self.segments)

    def mentioned(self) -> Iterator[str]:
        return (s.member for s in self.segments if isinstance(s, Mention))


def plain_text(lines: Iterable[Line]) -> str:
    """The message as plain text (light Markdown: strong lines in **…**), as the console shows it."""
    shown = []
    for line in lines:
        text = line.plain()
        shown.append(f"**{text}**" if line.strong and text else text)
    return "\n".join(shown).strip()


def message_id(key: str) -> str:
    """26 hex characters from an outbox key: a message's platform idempotency id (Mattermost's pending_post_id
    length), found again on the platform when the bot sees its own message come back."""
    return hashlib.sha256(key.encode()).hexdigest()[:26]


def part_key(key: str, index: int) -> str:
    """The key of one part of a message split for its platform: the first part keeps the message's key."""
    return key if index == 0 else f"{key}#{index + 1}"


@dataclass(frozen=True)
class Outgoing:
    key: str
    """Deterministic idempotency key: the platform's transaction id, so a retry never posts twice."""
    room: str
    kind: Kind
    lines: tuple[Line, ...] = ()
    payload: dict[str, Any] | None = None
    """The ``consent_bot`` machine-readable state, the same on every platform."""
    number: int | None = None
    """The proposal the message is about: adapters thread it under the ballot."""
    reply_to: str | None = None
    """The platform event this answers (a command)."""
    mentions: tuple[str, ...] = field(default=())
    """Members the message mentions on purpose (reminders, block requests): they are notified."""
    channel: str = "chat"
    """Where it goes: the chat, or an announcement's "email" or "webhook:<name>" (its content in ``payload``)."""
    scope: str = ""
    """The joint decision ``number`` is in ("network:<id>"), posted in each room of its network; "" for the room's
    own proposals."""

    @property
    def body(self) -> str:
        return plain_text(self.lines)


def lines_to_json(lines: Iterable[Line]) -> str:
    """Lines as stored in the outbox: [[strong, [text | {"m": member id}, …]], …]."""
    return json.dumps(
        [[line.strong, [{"m": s.member} if isinstance(s, Mention) else s for s in line.segments]] for line in lines],
        ensure_ascii=False,
    )


def lines_from_json(text: str) -> tuple[Line, ...]:
    return tuple(
        Line(tuple(Mention(s["m"]) if isinstance(s, dict) else s for s in segments), bool(strong))
        for strong, segments in json.loads(text)
    )


class Undeliverable(Exception):
    """The platform refuses this message for good (no longer in the room, target gone): retrying cannot help."""
