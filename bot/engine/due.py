"""What the clock owes a proposal: closing its round at the deadline, reminders before it; for an adopted
decision on whose application no fact was recorded, one reminder in the room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.engine.model import Proposal, SocialCode, State
from bot.engine.rules import application_reminder_at, reminder_times


@dataclass(frozen=True)
class CloseRound:
    number: int


@dataclass(frozen=True)
class SendReminder:
    number: int
    offset: timedelta
    skipped: tuple[timedelta, ...] = ()
    """Earlier reminders whose time passed unsent (the bot was down): recorded, never sent late."""


@dataclass(frozen=True)
class RemindApplication:
    number: int


def due_work(
    proposal: Proposal, now: datetime, code: SocialCode, sent: frozenset[timedelta]
) -> CloseRound | SendReminder | RemindApplication | None:
    """The one thing due now, if any: a passed deadline closes; else the latest passed reminder is sent.

    A reminder whose time passed is sent only while the deadline is still ahead,
    and only the nearest one: members get one reminder, not a burst.
    """
    if proposal.state is State.ADOPTED:
        at = application_reminder_at(proposal, code)
        return RemindApplication(proposal.number) if at is not None and now >= at else None
    if proposal.state is not State.OPEN:
        return None
    round_ = proposal.current_round
    if now >= round_.deadline:
        return CloseRound(proposal.number)
    passed = [offset for offset, at in reminder_times(round_, code) if at <= now and offset not in sent]
    if not passed:
        return None
    nearest = min(passed)
    return SendReminder(proposal.number, nearest, tuple(o for o in passed if o != nearest))


def next_due_at(proposal: Proposal, code: SocialCode, sent: frozenset[timedelta]) -> datetime | None:
    """When something will next be due for this proposal (None when nothing will)."""
    if proposal.state is State.ADOPTED:
        return application_reminder_at(proposal, code)
    if proposal.state is not State.OPEN:
        return None
    round_ = proposal.current_round
    times = [at for offset, at in reminder_times(round_, code) if offset not in sent]
    return min(times + [round_.deadline])
