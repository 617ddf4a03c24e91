"""What the service's stateful fuzz (tests/service_machine.py) expects, worked out apart from the bot: plain
dictionaries and loops a reader checks by eye against the rules as the README states them, never the engine's
functions.

- Delegations: the log of every change the room was told of (given, ended, lapsed, expired), from which a
  member's delegations as they stood at any instant are read back;
- what a closed round must count by delegation: for each member of the room who took no position, the
  delegation in force at the deadline that is the most specific for the proposal (its own, then its topics' when
  they name one delegate, then the room's), followed along the delegates' own such delegations;
- a decision's text once a challenge naming its numbered parts is adopted, for texts written as the machine
  writes them ("1. <body>" lines, bodies from ``BODIES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.engine.model import Position, Rule

BODIES = ("Each washes their own cup.", "The kettle is descaled every month.", "The last out turns off the light.",
          "Tea is free for everyone.", "Quiet hours start at nine.", "The fridge is emptied on Fridays.")
"""What a part says, in the texts the machine writes: no digit, nothing a part's heading could be taken for."""


# --- delegations -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One change of a member's delegation on one scope, as the room was told it: ``delegate`` None, it ended."""

    at: datetime
    member: str
    scope: str
    delegate: str | None
    until: datetime | None


class DelegationLog:
    """Every change of delegation the bot announced, in the order it announced them."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def told(self, at: datetime, payload: dict) -> None:
        """A DELEGATION message's details (member, delegate, scope, until), said at ``at``."""
        until = datetime.fromisoformat(payload["until"]) if payload["until"] else None
        self.changes.append(Change(at, payload["member"], payload["scope"], payload["delegate"], until))

    def standing(self, at: datetime | None = None) -> dict[tuple[str, str], Change]:
        """(member, scope) → the delegation as it stood at ``at`` (now: None), lapsed or not yet."""
        state: dict[tuple[str, str], Change] = {}
        for change in self.changes:
            if at is not None and change.at > at:
                continue
            if change.delegate is None:
                state.pop((change.member, change.scope), None)
            else:
                state[(change.member, change.scope)] = change
        return state


def counted_by_delegation(standing: dict[tuple[str, str], Change], deadline: datetime, number: int,
                          topics: tuple[str, ...], own: dict[str, Position], rule: Rule,
                          members: set[str]) -> set[tuple[str, Position, str, str]]:
    """(member, position, whose position, scope of the member's delegation that counted) for each member counted by
    delegation when proposal ``number``, on ``topics`` (in its order), closes its round at ``deadline``."""

    def counting(member: str) -> Change | None:
        mine = {scope: change for (who, scope), change in standing.items()
                if who == member and (change.until is None or deadline < change.until)}
        if f"proposal:{number}" in mine:
            return mine[f"proposal:{number}"]
        on_topics = [mine[f"topic:{topic}"] for topic in topics if f"topic:{topic}" in mine]
        if on_topics and len({change.delegate for change in on_topics}) == 1:
            return on_topics[0]
        return mine.get("")

    counted = set()
    for member in sorted(members - set(own)):
        first = counting(member)
        seen, delegation = {member}, first
        while delegation is not None and delegation.delegate in members and delegation.delegate not in seen:
            delegate = delegation.delegate
            if delegate in own:
                position = own[delegate]
                if position is Position.BLOCK:  # never delegated; against, in a majority round
                    position = Position.DISAGREE if rule is Rule.MAJORITY else None
                if position is not None:
                    counted.add((member, position, delegate, first.scope))
                break
            seen.add(delegate)
            delegation = counting(delegate)
    return counted


# --- numbered parts --------------------------------------------------------------------------------------------

def written(parts: dict[int, str]) -> str:
    return "\n".join(f"{number}. {body}" for number, body in sorted(parts.items()))


def read(text: str) -> dict[int, str] | None:
    """The parts of a text as the machine writes them (numbers growing, bodies from BODIES); None for another."""
    parts: dict[int, str] = {}
    for line in text.split("\n"):
        number, _, body = line.partition(". ")
        if not _digits(number) or body not in BODIES or (parts and int(number) <= max(parts)):
            return None
        parts[int(number)] = body
    return parts


def named(part: str) -> list[int] | None:
    """The parts "2", "2-3" or "2,4" name; None for a part written otherwise."""
    numbers: list[int] = []
    for piece in part.split(","):
        first, dash, last = piece.partition("-")
        if not _digits(first) or (dash and not _digits(last)) or int(last or first) < int(first):
            return None
        numbers += [n for n in range(int(first), int(last or first) + 1) if n not in numbers]
    return numbers


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def new_parts(change: str) -> dict[int, str] | str | None:
    """A challenge's new text: its numbered parts, or the one body for a single part ("" for none), or None when
    the machine did not write it."""
    if not change or change in BODIES:
        return change
    return read(change)


def in_parts(parts: dict[int, str]) -> bool:
    """A text is in parts from two parts on (one paragraph starting "1." is no text in parts)."""
    return len(parts) >= 2


def refused(parts: dict[int, str], part: str, change: str) -> bool:
    """Whether a challenge of a decision in these parts is refused: it names a part the decision lacks, or its new
    text numbers a part it does not name, or gives several parts one unnumbered text."""
    numbers, new = named(part), new_parts(change)
    if not in_parts(parts):
        return False
    return (any(n not in parts for n in numbers) or (isinstance(new, dict) and any(n not in numbers for n in new))
            or (isinstance(new, str) and new != "" and len(numbers) > 1))


def revised(text: str, challenge: int, part: str, change: str) -> str | None:
    """The decision's text once challenge ``challenge`` of ``part`` with the new text ``change`` is adopted: the
    named parts replaced by the new ones, or removed; the change added after the text when the text has not those
    parts; a whole new text for the whole. None when the model cannot tell (texts written otherwise)."""
    if not part:
        return change
    appended = f"{text}\n\n[#{challenge}] {part}: {change or '—'}"
    parts, numbers, new = read(text), named(part), new_parts(change)
    if numbers is None:
        return appended if not any(char.isdigit() for char in part) else None  # a part named in words
    if parts is None or new is None:
        return None
    if not in_parts(parts) or any(n not in parts for n in numbers):
        return appended
    if isinstance(new, str) and new and len(numbers) > 1:
        return None  # refused when challenged; the model does not say what it would do
    for n in numbers:
        if isinstance(new, str) and new:
            parts[n] = new
        elif isinstance(new, dict) and n in new:
            parts[n] = new[n]
        else:
            del parts[n]
    return written(parts)
