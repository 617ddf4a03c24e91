"""Small helpers shared by the engine tests: a proposal, a vote, a closed round.

Every test of the social code starts from the same ordinary week in Paris: a
proposal posted on Monday 2 March 2026 at 09:00 (no holiday, no DST change
nearby). With the default 72 working hours its round ends on Thursday 5 March
at 09:00 (Monday 15h + Tuesday 24h + Wednesday 24h + Thursday 9h = 72h).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.engine import transitions
from bot.engine.model import Position, Proposal, RuleViolation, SocialCode

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock instant in the assembly's time zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


CODE = SocialCode()
MONDAY_MORNING = paris(2026, 3, 2, 9)  # Monday 2 March 2026, 09:00 CET
THURSDAY_DEADLINE = paris(2026, 3, 5, 9)  # 72 working hours later
PROPOSER = "alice"


def proposed(
    at: datetime = MONDAY_MORNING,
    code: SocialCode = CODE,
    proposer: str = PROPOSER,
    text: str = "We repaint the hall green.",
    number: int = 1,
) -> Proposal:
    return transitions.propose(number, "Paint the hall", text, proposer, at, code).proposal


def vote(
    proposal: Proposal, member: str, position: Position, argument: str = "", at: datetime | None = None
) -> Proposal:
    """A member takes a position, by default one hour after the round opened."""
    when = at if at is not None else proposal.current_round.opened_at + timedelta(hours=1)
    return transitions.take_position(proposal, member, position, argument, when).proposal


def closed(proposal: Proposal, members: int = 5, code: SocialCode = CODE, at: datetime | None = None) -> Proposal:
    """The clock closes the current round, by default exactly at its deadline."""
    when = at if at is not None else proposal.current_round.deadline
    return transitions.close_round(proposal, members, when, code).proposal


ARGUMENT = "The green paint is toxic for the children who use the hall."


def blocked(proposal: Proposal, members: int = 5, code: SocialCode = CODE) -> Proposal:
    """The current round receives one argued block and closes postponed."""
    return closed(vote(proposal, "bob", Position.BLOCK, ARGUMENT), members, code)


def next_round(
    proposal: Proposal,
    by: str = PROPOSER,
    is_facilitator: bool = False,
    code: SocialCode = CODE,
    text: str = "",
    consent_instead: bool = False,
    at: datetime | None = None,
) -> Proposal:
    """Open the next round as early as the social code allows (days_between_rounds after the last opening)."""
    when = at if at is not None else proposal.current_round.opened_at + code.days_between_rounds
    return transitions.open_next_round(
        proposal, by, is_facilitator, when, code, text=text, consent_instead=consent_instead
    ).proposal


def majority_round(code: SocialCode = CODE) -> Proposal:
    """A proposal blocked twice, now in its third round, decided by majority."""
    proposal = blocked(proposal=proposed(code=code), code=code)
    proposal = blocked(next_round(proposal, code=code), code=code)
    return next_round(proposal, code=code)


def refusal(call, *args, **kwargs) -> RuleViolation:
    """The RuleViolation a transition raises (fails the test if it does not refuse)."""
    try:
        call(*args, **kwargs)
    except RuleViolation as violation:
        return violation
    raise AssertionError(f"{call.__name__} was expected to refuse, but it accepted")
