"""What a chat adapter hands the application, and what it provides to it.

Adapters translate their platform's events into :class:`Incoming`, :class:`ReactionVote` and
:class:`Redaction`, answer who is in a room (:class:`Directory`) and post what the bot says (:class:`Sender`).
They hold no rule.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.engine.model import Position
from bot.messages.outgoing import Outgoing


@dataclass(frozen=True)
class Reference:
    """A proposal as a bot message is about it: its number where it is kept — the room's own proposals (scope ""),
    or a network's joint decisions ("network:<id>"), whose ballot is posted in each of the network's rooms."""

    number: int
    scope: str = ""


@dataclass(frozen=True)
class Incoming:
    """A member's message, as the adapter saw it."""

    room: str
    sender: str
    text: str
    event_id: str
    at: datetime
    """When the member sent it, as the platform recorded it (never later than when the bot received it)."""
    about: Reference | None = None
    """The proposal the message answers (a reply to or in the thread of its ballot), when the adapter knows."""
    replaces: str | None = None
    """For an edit: the event id of the message it edits."""


@dataclass(frozen=True)
class ReactionVote:
    """A member reacted to a bot message with an emoji that stands for a position."""

    room: str
    sender: str
    message_id: str
    position: Position
    event_id: str
    at: datetime


@dataclass(frozen=True)
class Redaction:
    """A message or reaction was removed from the room (Matrix: redacted; Mattermost: a reaction taken back)."""

    room: str
    removed: str
    """The platform id of the message or reaction removed."""
    by: str
    """Who removed it: its author, or a moderator."""
    event_id: str
    at: datetime


class Directory(Protocol):
    """Who is in a room, as the platform says."""

    async def members(self, room: str) -> set[str]: ...

    async def count(self, room: str) -> int:
        """How many members: ``len(members(room))``, asked for on every vote, so cheaper."""

    async def revision(self, rooms: Sequence[str]) -> Hashable:
        """A value that differs whenever the members of one of ``rooms`` may have changed: asked for a network's
        rooms at every vote on a joint decision, so that their union is made again only then; far cheaper than
        ``members`` of each."""

    async def is_facilitator(self, room: str, member: str) -> bool: ...

    async def resolve(self, room: str, name: str) -> str | None:
        """The member of the room a name written in a command stands for (their id, or as the platform shows
        members: an @username, a display name), or None."""



class Sender(Protocol):
    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        """Post a message (threaded under ``ballot_id`` when given); return the platform's id for it."""
