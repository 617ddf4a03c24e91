"""The pact: elected officials refer their questions to the assembly, are bound to apply its decisions, and are
held to account by it, not by themselves. Members record what the officials did; an official may add their own
statement; and the assembly judges, by a verdict that is a proposal like any other (its ballot, its rounds, its
argued blocks and escalation: the same rules, no second process).

Each rule reads like the pact's point it implements; transitions return a Step, as in ``transitions.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from bot.engine import rules, transitions
from bot.engine.model import (
    Action,
    Assessment,
    Change,
    Fact,
    Proposal,
    Referral,
    RuleViolation,
    SocialCode,
    State,
    Statement,
    Step,
    Verdict,
)

PACT_POINTS = ("refer", "respect", "record", "no_self_assessment")
"""The points of the pacte démocratique an official signs, one by one: refer their decisions on a subject to the
assembly concerned; accept that not respecting its opinion is recorded; keep a permanent record of their actions,
public for the whole mandate and debated in the assemblies; publish no assessment of their own."""
BINDABLE = (State.OPEN, State.POSTPONED, State.ADOPTED)
"""A question still to be decided, or a decision in force: officials may be bound to apply it."""
ACCOUNTABLE = (State.ADOPTED, State.REPEALED)
"""A decision that is, or was, in force: what officials did about it is recorded and judged."""


def opinion_in_time(deadline: datetime, needed_by: date, code: SocialCode) -> bool:
    """Referral: an official who needs the opinion by a day gets it only if the time members have to answer ends
    by that day's end, in the assembly's time zone."""
    return deadline <= code.calendar.local_midnight(needed_by + timedelta(days=1))


def refer(number: int, title: str, text: str, official: str, needed_by: date | None, by: str, now: datetime,
          code: SocialCode, duration: timedelta | None = None, topics: tuple[str, ...] = ()) -> Step:
    """When officials have a decision to take on a subject, they refer it to the assembly: a proposal marked as
    their referral (made by them, or by a facilitator on their behalf), whose opinion binds them to apply it. A
    date the minimum time to answer cannot fit before is refused: the assembly's time is not shortened."""
    step = transitions.propose(number, title, text, by, now, code, duration, topics)
    deadline = step.proposal.current_round.deadline
    if needed_by is not None and not opinion_in_time(deadline, needed_by, code):
        raise RuleViolation("needed_too_soon", needed_by=needed_by, deadline=deadline)
    referred = replace(step.proposal, referral=Referral(official, needed_by), bound=(official,))
    return Step(referred, step.changes + (Change(Action.BOUND, by, now, 1, detail=official),))


def bind(proposal: Proposal, official: str, by: str, is_facilitator: bool, now: datetime) -> Step:
    """Facilitators name, publicly, the officials bound to apply a decision (besides the one who referred it)."""
    _check_binding(proposal, is_facilitator)
    if official in proposal.bound:
        raise RuleViolation("already_bound", official=official)
    change = Change(Action.BOUND, by, now, proposal.current_round.number, detail=official)
    return Step(replace(proposal, bound=proposal.bound + (official,)), (change,))


def unbind(proposal: Proposal, official: str, by: str, is_facilitator: bool, now: datetime) -> Step:
    """Facilitators may say, publicly, that an official is not bound to apply a decision after all; what was
    recorded about them stays in the history."""
    _check_binding(proposal, is_facilitator)
    if official not in proposal.bound:
        raise RuleViolation("not_bound", official=official)
    change = Change(Action.UNBOUND, by, now, proposal.current_round.number, detail=official)
    return Step(replace(proposal, bound=tuple(o for o in proposal.bound if o != official)), (change,))


def _check_binding(proposal: Proposal, is_facilitator: bool) -> None:
    if not is_facilitator:
        raise RuleViolation("facilitator_only")
    if proposal.state not in BINDABLE or proposal.verdict is not None:
        raise RuleViolation("not_bindable", state=proposal.state)


def _check_accountable(decision: Proposal, official: str) -> None:
    """What is recorded and judged is an official's application of a decision they are bound to apply."""
    if decision.state not in ACCOUNTABLE or decision.verdict is not None:
        raise RuleViolation("not_a_decision", state=decision.state)
    if official not in decision.bound:
        raise RuleViolation("not_bound", official=official)


def record_fact(decision: Proposal, official: str, member: str, text: str, happened_on: date | None, source: str,
                now: datetime, today: date) -> Step:
    """Any member records, factually, what an official did to apply a decision: dated, attributed to whoever
    recorded it, with where it can be checked, and kept for good (the official's permanent record)."""
    _check_accountable(decision, official)
    if not rules.has_words(text):
        raise RuleViolation("fact_required")
    if happened_on is not None and happened_on > today:
        raise RuleViolation("fact_ahead", day=happened_on)
    fact = Fact(official, member, now, text.strip(), happened_on, source.strip())
    change = Change(Action.FACT_RECORDED, member, now, decision.current_round.number, argument=fact.text,
                    detail=official)
    return Step(replace(decision, facts=decision.facts + (fact,)), (change,))


def make_statement(decision: Proposal, official: str, member: str, text: str, now: datetime) -> Step:
    """Officials publish no assessment of their own: an official may say what they did, shown as their statement,
    never as the assembly's record or its judgment."""
    _check_accountable(decision, official)
    if not rules.has_words(text):
        raise RuleViolation("statement_required")
    statement = Statement(official, member, now, text.strip())
    change = Change(Action.STATEMENT_MADE, member, now, decision.current_round.number, argument=statement.text,
                    detail=official)
    return Step(replace(decision, statements=decision.statements + (statement,)), (change,))


def propose_verdict(decision: Proposal, number: int, official: str, assessment: Assessment, title: str,
                    reason: str, by: str, now: datetime, code: SocialCode) -> tuple[Step, Step]:
    """The assembly says whether an official's actions took its opinion into account — respected, partly
    respected, not respected — by a proposal any member makes, with a reason, decided like any other. Only an
    adopted verdict enters the official's record.

    Returns the verdict's step, and the decision's (which only records that a verdict on it was proposed)."""
    _check_accountable(decision, official)
    if not rules.has_words(reason):
        raise RuleViolation("reason_required")
    step = transitions.propose(number, title, reason.strip(), by, now, code, topics=decision.topics)
    verdict = replace(step.proposal, verdict=Verdict(decision.number, official, (assessment,)))
    noted = Change(Action.VERDICT_PROPOSED, by, now, decision.current_round.number, detail=str(number))
    return Step(verdict, step.changes), Step(decision, (noted,))


def check_not_judged(proposal: Proposal, official: str | None) -> None:
    """Officials publish no assessment of their own: the official a verdict judges takes no position on it (their
    word goes in a statement); the assembly decides it without them."""
    if proposal.verdict is not None and official == proposal.verdict.official:
        raise RuleViolation("judged_official", decision=proposal.verdict.decision)


class Decided(Protocol):
    """What telling the verdict in force needs of a verdict: a Proposal, or the register's lighter rows."""

    @property
    def number(self) -> int: ...

    @property
    def state(self) -> State: ...

    @property
    def decided_at(self) -> datetime | None: ...


DecidedVerdict = TypeVar("DecidedVerdict", bound=Decided)


def verdict_in_force(verdicts: Iterable[DecidedVerdict]) -> DecidedVerdict | None:
    """The assembly's judgment of an official on a decision: its latest adopted verdict (a later one, adopted,
    revises an earlier); a verdict proposed, blocked or rejected is no judgment."""
    adopted = [v for v in verdicts if v.state is State.ADOPTED and v.decided_at is not None]
    return max(adopted, key=lambda v: (v.decided_at, v.number), default=None)


def record_counts(assessments: Iterable[Assessment | None]) -> dict[str, int]:
    """An official's record in figures: their decisions' verdicts in force by assessment, and those with none yet."""
    counted = Counter(str(a) if a is not None else "none" for a in assessments)
    return {key: counted[key] for key in (*map(str, Assessment), "none")}
