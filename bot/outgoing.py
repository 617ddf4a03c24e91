"""What the bot says: one message, rendered, with its idempotency key and machine-readable state."""

from __future__ import annotations

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
    SEED = "seed"
    """Not a message: the reactions a chat adapter adds to the ballot so members can click them. Queued
    after the ballot like any message, so it is retried until done and never done twice."""


@dataclass(frozen=True)
class Outgoing:
    key: str
    """Deterministic idempotency key: the platform's transaction id, so a retry never posts twice."""
    room: str
    kind: Kind
    body: str
    """Plain text (light Markdown: Mattermost renders it, Matrix clients show it as is)."""
    html: str
    payload: dict[str, Any] | None = None
    """The ``consent_bot`` machine-readable state, the same on every platform."""
    number: int | None = None
    """The proposal the message is about: adapters thread it under the ballot."""
    reply_to: str | None = None
    """The platform event this answers (a command)."""
    mentions: tuple[str, ...] = field(default=())
    """Members the message mentions on purpose (reminders, block requests)."""


class Undeliverable(Exception):
    """The platform refuses this message for good (no longer in the room, target gone): retrying cannot help."""
