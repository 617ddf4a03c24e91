"""What the service tells whoever watches it work (the operator's metrics, :mod:`bot.ops.metrics`).

Each call comes after the decision it reports is committed, never inside a transaction, and carries only bounded
values (a command's name, a position, a message's kind; never a member's id or what they wrote). A watcher keeps
counts in memory and does no I/O: it must never delay a vote. This one watches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.model import Change, Proposal


class Observer:
    def decided(self, command: str, result: str, changes: Sequence[Change]) -> None:
        """A member's event went through ``command`` (a verb, "reaction", "reply" or "unknown") with ``result``
        ("done" or "refused"), recording ``changes``. (A failure is ``event_failed``; a transaction's length is timed
        by the repository itself: ``Repository.on_transaction``.)"""

    def closed(self, proposal: Proposal) -> None:
        """A round closed: ``proposal`` as it left it (its state is the outcome)."""

    def queued(self, kind: str) -> None:
        """A message of this kind was committed to the outbox."""

    def sent(self, kind: str, seconds: float) -> None:
        """A message was delivered, taking ``seconds``."""

    def failed(self, kind: str) -> None:
        """A message could not be sent now: it is retried."""

    def set_aside(self, kind: str) -> None:
        """The platform refused a message for good."""

    def announced(self, channel: str, result: str) -> None:
        """A mail or webhook call (``channel`` "email" or "webhook") was ``result``: "sent", "retried" (refused for
        now, tried again later) or "given_up" (refused for good, or for longer than its channel waits)."""

    def received(self, lag: float) -> None:
        """A member's event reached the bot ``lag`` seconds after the platform recorded it."""

    def event_failed(self) -> None:
        """Handling one platform event failed unexpectedly (logged); the bot went on with the next."""
