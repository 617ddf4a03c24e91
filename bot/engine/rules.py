"""The social code of the assembly, one named rule per function.

Each rule reads like the text it implements; ``transitions.py`` applies them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Set
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from bot.engine import parts
from bot.engine.calendar import working_deadline
from bot.engine.model import (
    Delegated,
    Delegation,
    Expression,
    Outcome,
    Position,
    Proposal,
    Reason,
    Round,
    Rule,
    RuleViolation,
    SocialCode,
    Stance,
    State,
    Tally,
)

MINIMUM_ARGUMENT_LENGTH = 10
"""A block is argued when its argument has at least this many letters or digits."""


def is_argued(argument: str) -> bool:
    """Argued blocks: a block counts only if it is argued — at least ten letters or digits (Unicode
    categories L and N): ten dots, ten emoji or ten invisible characters are no argument."""
    return sum(1 for char in argument if unicodedata.category(char)[0] in "LN") >= MINIMUM_ARGUMENT_LENGTH


def has_words(text: str) -> bool:
    """A title says something: at least one letter or digit."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def is_valid_block(stance: Stance) -> bool:
    return stance.position is Position.BLOCK and is_argued(stance.argument)


def standing_stance(member: str, expressions: tuple[Expression, ...]) -> Stance | None:
    """The latest counts: a member's position is what they last expressed, among what they said that still
    stands (a reaction or a command they took back no longer does).

    Their expressions are replayed in the order they made them (then in the order they were read): each
    position, with its reason, replaces the one before; a withdrawal leaves none; a block without a real
    argument keeps the argument of an argued block before it; saying the same thing again changes nothing. So an older message read late (after a
    restart, in a recount) never undoes a newer one, and taking back one's latest reaction goes back to
    what one said before it — what the room still shows.
    """
    stance: Stance | None = None
    for expression in sorted((e for e in expressions if e.member == member), key=lambda e: e.at):
        stance = next_stance(stance, expression)
    return stance


def next_stance(stance: Stance | None, expression: Expression) -> Stance | None:
    """One step of ``standing_stance``: the stance after a member's next expression, from the one before it."""
    if expression.position is None:
        return None
    argument = expression.argument.strip()
    if (expression.position is Position.BLOCK and stance and stance.position is Position.BLOCK
            and is_argued(stance.argument) and not is_argued(argument)):
        argument = stance.argument  # only a new argument replaces an argument
    if stance and (stance.position, stance.argument) == (expression.position, argument):
        return stance
    return Stance(expression.member, expression.position, expression.at, argument)


def is_latest(expression: Expression, expressions: tuple[Expression, ...]) -> bool:
    """Whether nothing the member said later than this still stands: then it is what counts."""
    return not any(e.member == expression.member and e.at > expression.at for e in expressions)


def is_unargued_block(position: Position, argument: str, rule: Rule) -> bool:
    """A block without argument in a consent round: it does not block (a block counts only if it is argued). In a
    majority round every block is a vote against, argued or not."""
    return rule is Rule.CONSENT and position is Position.BLOCK and not is_argued(argument)


def owes_argument(round_: Round, member: str) -> bool:
    """Whether this member's block still needs an argument (consent rounds only): O(1) in the room."""
    stance = round_.stance_of(member)
    return stance is not None and is_unargued_block(stance.position, stance.argument, round_.rule)


def owing_argument(round_: Round) -> list[str]:
    """Members whose block is not argued yet: the bot asks them for an argument.

    Only in a consent round: an argument gives a block its power of veto; in a majority round a block is a
    vote against, and needs none.
    """
    if round_.rule is Rule.MAJORITY:
        return []
    return [s.member for s in round_.stances if s.position is Position.BLOCK and not is_argued(s.argument)]


def participants(round_: Round, room_members: set[str]) -> set[str]:
    """Participation "n of m": m is the room's members plus anyone who answered and has since left."""
    return room_members | {s.member for s in round_.stances}


def counted_by_room(accounts_by_room: Mapping[str, Set[str]], linked: Mapping[str, str]) -> dict[str, Set[str]]:
    """Each room's members as a joint decision counts them: an account linked to one of the other platform
    (``linked``: account → the member it counts as) as that member."""
    if not linked:
        return dict(accounts_by_room)
    return {room: {linked.get(account, account) for account in accounts} for room, accounts in accounts_by_room.items()}


def network_members(members_by_room: Mapping[str, Set[str]]) -> set[str]:
    """A joint decision's members: those of every room of its network, a member of several rooms once."""
    return set().union(*members_by_room.values())


def participation_by_room(round_: Round, members_by_room: Mapping[str, Set[str]]) -> dict[str, tuple[int, int]]:
    """For each room of a joint decision, how many of its members answered (wherever they did), of how many."""
    answered = {s.member for s in round_.stances}
    return {room: (len(answered & members), len(members)) for room, members in members_by_room.items()}


def tally_by_room(round_: Round, members_by_room: Mapping[str, Set[str]]) -> dict[str, tuple[int, Tally]]:
    """For each room of a joint decision, how many members it has and the positions they took (wherever they took
    them): a member of several rooms is counted in each, where the decision's own tally counts them once."""
    return {room: (len(members), tally(tuple(s for s in round_.stances if s.member in members), round_.rule))
            for room, members in members_by_room.items()}


def not_answered(round_: Round, members: Set[str], linked: Mapping[str, str] | None = None) -> list[str]:
    """The members (a room's accounts) who have not answered: an account linked to one of the other platform
    (``linked``: account → the member it counts as) has answered when that member did, from either account."""
    answered = {s.member for s in round_.stances}
    return sorted(member for member in members if (linked or {}).get(member, member) not in answered)


def counted_as(stance: Stance | None, rule: Rule) -> str | None:
    """Under which count a position falls. In a consent round a block without argument is counted apart (it
    does not block); in a majority round every block is a vote against, argued or not."""
    if stance is None:
        return None
    if is_unargued_block(stance.position, stance.argument, rule):
        return "unargued_block"
    return stance.position.value


def tally(stances: tuple[Stance, ...], rule: Rule = Rule.CONSENT) -> Tally:
    """The counts of each position, recounted from every stance."""
    counted = Tally()
    for stance in stances:
        counted = counted.plus(counted_as(stance, rule), 1)
    return counted


def recount(counts: Tally, before: Stance | None, after: Stance | None, rule: Rule) -> Tally:
    """The running tally once one member's position changed from ``before`` to ``after``: O(1) in the room."""
    return counts.plus(counted_as(before, rule), -1).plus(counted_as(after, rule), 1)


def round_deadline(opened_at: datetime, code: SocialCode, asked: timedelta | None = None) -> datetime:
    """Deadline: members have at least the minimum duration, counted in working time, to answer — or the
    longer time the proposer asked for ("at the end of the time proposed")."""
    return working_deadline(opened_at, max(code.minimum_duration, asked or timedelta(0)), code.calendar)


def amended_text(decision: str, challenge: int, part: str, change: str) -> str:
    """An adopted challenge of numbered parts replaces them in the decision's text (or removes them, with no new
    text); of a part named otherwise, it adds what it changed after the text, and where it comes from; a whole new
    text replaces the text. The former versions are all kept."""
    if not part:
        return change
    replaced = parts.replaced(decision, part, change)
    return replaced if replaced is not None else f"{decision}\n\n[#{challenge}] {part}: {change or '—'}"


def extended_deadline(deadline: datetime, extension: timedelta, code: SocialCode) -> datetime:
    """Extension: a facilitator adds working time after the current deadline; never shortens it."""
    return working_deadline(deadline, extension, code.calendar)


def quorum_reached(answered: int, members: int, code: SocialCode) -> bool:
    """Quorum (optional): the share of members who must answer; 0 means none is needed."""
    if code.quorum == 0:
        return True
    return members > 0 and Fraction(answered, members) >= code.quorum


def consent_outcome(counted: Tally) -> tuple[State, Reason]:
    """Consent: no valid block at the deadline means adopted (silence is consent); a valid block postpones."""
    if counted.block > 0:
        return State.POSTPONED, Reason.VALID_BLOCK
    return State.ADOPTED, Reason.NO_VALID_BLOCK


def majority_outcome(counted: Tally, code: SocialCode) -> tuple[State, Reason]:
    """Majority: adopted if agree >= majority x (agree + disagree + block); abstentions and silence do not count.

    Every block counts against, argued or not (arguments matter to consent only).
    With no vote expressed there is no majority: the proposal is rejected.
    """
    expressed = counted.agree + counted.disagree + counted.block
    if expressed > 0 and counted.agree >= code.majority * expressed:
        return State.ADOPTED, Reason.MAJORITY_REACHED
    return State.REJECTED, Reason.MAJORITY_MISSED


def delegated_positions(round_: Round, delegations: Mapping[str, str], members: Set[str]) -> tuple[Delegated, ...]:
    """Delegation (liquid democracy): at the close, a member of the room who took no position counts with the
    position of their delegate — following the chain when the delegate delegated too and did not answer.

    - Your own position always wins: a member who answered is never counted by delegation.
    - Blocks are never delegated: in a consent round the delegators of a member who blocks count as not
      answered; in a majority round, where a block is a vote against, they count against (disagree).
    - A cycle, a chain that ends in no answer, or a delegate no longer in the room gives nothing.

    ``delegations``: member → delegate, as they stood at the deadline. Linear in the delegations: each member
    is resolved once, however long the chains.
    """
    own = {stance.member: stance.position for stance in round_.stances}
    resolved: dict[str, tuple[Position, str] | None] = {}
    for start in delegations:
        if start in own or start in resolved or start not in members:
            continue
        path, on_path, node = [], set(), start
        while True:
            if node in resolved:
                result = resolved[node]
                break
            if node not in members:
                result = None  # a delegation to someone who left the room lapses, whatever they answered
                break
            if node in own:
                result = _counted_for_delegators(own[node], round_.rule, node)
                break
            if node in on_path or node not in delegations:
                result = None  # a cycle, or a chain that ends in no answer
                break
            path.append(node)
            on_path.add(node)
            node = delegations[node]
        for member in path:
            resolved[member] = result
    return tuple(Delegated(member, *result) for member, result in sorted(resolved.items()) if result is not None)


def delegation_for(delegations: Iterable[Delegation], number: int, topics: Collection[str],
                   at: datetime) -> Delegation | None:
    """Delegation on a subject: of one member's delegations in force at ``at``, the most specific for a proposal
    counts — the one given for it, then one on its topics, then the room's. Topic delegations that name different
    delegates for a proposal on several topics say nothing of it (the member trusted each on a subject, not on
    both): the room's counts then."""
    in_force = [d for d in delegations if d.in_force(at)]
    for_it = [d for d in in_force if d.scope == f"proposal:{number}"]
    on_topics: dict[str, Delegation] = {}  # delegate → the first of its topics, in the proposal's order
    for topic in topics:
        for d in in_force:
            if d.scope == f"topic:{topic}":
                on_topics.setdefault(d.delegate, d)
    room = [d for d in in_force if d.scope == ""]
    if for_it:
        return for_it[0]
    if len(on_topics) == 1:
        return next(iter(on_topics.values()))
    return room[0] if room else None


def effective_delegations(delegations: Iterable[Delegation], number: int, topics: Collection[str],
                          at: datetime) -> dict[str, Delegation]:
    """Member → the delegation that counts for this proposal at its deadline (see delegation_for)."""
    by_member: dict[str, list[Delegation]] = {}
    for delegation in delegations:
        by_member.setdefault(delegation.member, []).append(delegation)
    found = {member: delegation_for(theirs, number, topics, at) for member, theirs in by_member.items()}
    return {member: delegation for member, delegation in found.items() if delegation is not None}


def joint_delegations(by_room: Mapping[str, Iterable[Delegation]], linked: Mapping[str, str],
                      at: datetime) -> list[Delegation]:
    """The delegations that may count on a network's joint decision closing at ``at``: those in force that its
    members gave in its rooms, on the whole room or on a topic — never on one of a room's own proposals, numbered
    apart from the network's — an account linked to one of the other platform as the member it counts as. A member
    of several rooms whose delegations on them name different delegates has none on that level (they trusted each
    in one room, not in the whole network), as with topics: a topic's then counts, if any."""
    given: dict[tuple[str, str], list[Delegation]] = {}
    for delegations in by_room.values():
        for d in delegations:
            if d.scope.startswith("proposal:") or not d.in_force(at):
                continue
            d = replace(d, member=linked.get(d.member, d.member), delegate=linked.get(d.delegate, d.delegate))
            given.setdefault((d.member, d.scope), []).append(d)
    return [d for (_, scope), same in given.items() if scope != "" or len({d.delegate for d in same}) == 1
            for d in same]


def delegated_for(round_: Round, number: int, topics: Collection[str], delegations: Iterable[Delegation],
                  members: Set[str]) -> tuple[Delegated, ...]:
    """The positions counted by delegation at a round's close: each member's delegation that counts for this
    proposal at the deadline, followed as ``delegated_positions`` does; each says which of theirs counted."""
    effective = effective_delegations(delegations, number, topics, round_.deadline)
    counted = delegated_positions(round_, {m: d.delegate for m, d in effective.items()}, members)
    return tuple(replace(entry, scope=effective[entry.member].scope) for entry in counted)


def _counted_for_delegators(position: Position, rule: Rule, member: str) -> tuple[Position, str] | None:
    if position is not Position.BLOCK:
        return position, member
    return (Position.DISAGREE, member) if rule is Rule.MAJORITY else None


def check_delegation_enabled(enabled: bool) -> None:
    """Delegation is the assembly's choice: off unless it turns it on."""
    if not enabled:
        raise RuleViolation("delegation_off")


def check_delegate(member: str, delegate: str | None) -> None:
    """A member entrusts their vote to another member of the room."""
    if delegate is None:
        raise RuleViolation("delegate_not_member")
    if delegate == member:
        raise RuleViolation("delegate_self")


def with_delegated(counted: Tally, delegated: tuple[Delegated, ...]) -> Tally:
    """The tally with the delegated positions added."""
    added = Counter(str(entry.position) for entry in delegated)
    return replace(counted, **{field: getattr(counted, field) + count for field, count in added.items()})


def round_outcome(round_: Round, members: int, closed_at: datetime, code: SocialCode, offline: bool,
                  delegated: tuple[Delegated, ...] = ()) -> Outcome:
    """Outcome at the deadline: quorum first, then the round's rule, on the positions taken before it (no
    position is taken after: the deadline refuses it, so the running tally is the tally at the deadline), the
    delegated ones included."""
    counted = with_delegated(round_.counts, delegated)
    if not quorum_reached(counted.answered, members, code):
        state, reason = State.POSTPONED, Reason.NO_QUORUM
    elif round_.rule is Rule.CONSENT:
        state, reason = consent_outcome(counted)
    else:
        state, reason = majority_outcome(counted, code)
    return Outcome(state, reason, counted, members, closed_at, offline, delegated)


def blocked_rounds(proposal: Proposal) -> int:
    """How many rounds in a row, up to the last one, were postponed by a valid block.

    A round postponed for want of quorum decided nothing: it neither counts as blocked nor breaks the row.
    """
    count = 0
    for round_ in reversed(proposal.rounds):
        if round_.outcome is not None and round_.outcome.reason is Reason.NO_QUORUM:
            continue
        if round_.outcome is None or round_.outcome.reason is not Reason.VALID_BLOCK:
            break
        count += 1
    return count


def next_round_rule(proposal: Proposal, code: SocialCode) -> Rule:
    """Escalation: after N blocked rounds (default 2) the next round may be decided by majority.

    A round that failed its quorum is skipped in that count, so the next round has the rule it would have
    had: a majority round without quorum is run again by majority.
    """
    if blocked_rounds(proposal) >= code.blocked_rounds_before_majority:
        return Rule.MAJORITY
    return Rule.CONSENT


def _local_calendar_add(moment: datetime, span: timedelta | relativedelta, code: SocialCode) -> datetime:
    """Add days or months as people count them, on the local wall clock (a week later is the same hour)."""
    return (moment.astimezone(code.calendar.zone) + span).astimezone(timezone.utc)


def earliest_next_round(proposal: Proposal, code: SocialCode) -> datetime:
    """Rounds a week apart: the next round opens no earlier than N days after the previous one opened."""
    return _local_calendar_add(proposal.current_round.opened_at, code.days_between_rounds, code)


def majority_lock_until(decided_at: datetime, code: SocialCode) -> datetime:
    """Lock: after a majority decision, no new vote on it for 3 calendar months (configurable)."""
    return _local_calendar_add(decided_at, code.majority_lock, code)


def reminder_times(round_: Round, code: SocialCode) -> list[tuple[timedelta, datetime]]:
    """Reminders: at each configured offset before the deadline that falls after the round opened."""
    times = [(offset, round_.deadline - offset) for offset in sorted(code.reminders, reverse=True)]
    return [(offset, at) for offset, at in times if at > round_.opened_at]


def application_reminder_at(proposal: Proposal, code: SocialCode) -> datetime | None:
    """The assembly records what its officials did: an adopted decision on whose application nobody has recorded
    a fact is brought up once, the delay after its adoption (local calendar time). A verdict, or a challenge, is
    no decision to apply."""
    if (proposal.state is not State.ADOPTED or code.followup_reminder is None or proposal.facts
            or proposal.application_reminded or proposal.decided_at is None or proposal.verdict is not None
            or proposal.challenges is not None):
        return None
    return _local_calendar_add(proposal.decided_at, code.followup_reminder, code)
