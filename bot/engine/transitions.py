"""What members and the clock do to a proposal: each transition checks the rules and returns a Step."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.engine import parts, rules
from bot.engine.model import (
    Action,
    Assessment,
    Change,
    Delegated,
    Expression,
    Position,
    Proposal,
    Round,
    Rule,
    RuleViolation,
    SocialCode,
    State,
    Step,
)


def propose(number: int, title: str, text: str, proposer: str, now: datetime, code: SocialCode,
            duration: timedelta | None = None, topics: tuple[str, ...] = ()) -> Step:
    """Any member may propose: the first round is a consent round from now, on the topics they give.

    The proposer may give members longer than the minimum to answer, never less.
    """
    if duration is not None and duration < code.minimum_duration:
        raise RuleViolation("duration_too_short", minimum=code.minimum_duration)
    first = Round(1, Rule.CONSENT, now, rules.round_deadline(now, code, duration), version=1)
    proposal = Proposal(number, title, proposer, now, (text,), (first,), duration=duration, topics=topics)
    changes = (Change(Action.PROPOSED, proposer, now, 1, detail=title),)
    if topics:
        changes += (Change(Action.TOPICS_SET, proposer, now, 1, detail=",".join(topics)),)
    return Step(proposal, changes)


def set_topics(proposal: Proposal, topics: tuple[str, ...], by: str, is_facilitator: bool, now: datetime) -> Step:
    """Its proposer or a facilitator sets a proposal's topics, publicly (a delegation on a topic counts for the
    rounds that close after)."""
    if by != proposal.proposer and not is_facilitator:
        raise RuleViolation("proposer_or_facilitator")
    if proposal.state is State.WITHDRAWN:
        raise RuleViolation("not_undecided", state=proposal.state)
    change = Change(Action.TOPICS_SET, by, now, proposal.current_round.number, detail=",".join(topics))
    return Step(replace(proposal, topics=topics), (change,))


def _open_round(proposal: Proposal, at: datetime) -> Round:
    if proposal.state is not State.OPEN:
        raise RuleViolation("not_open", state=proposal.state)
    round_ = proposal.current_round
    if at > round_.deadline:
        raise RuleViolation("deadline_passed", deadline=round_.deadline)
    return round_


def _with_round(proposal: Proposal, round_: Round, **changes: object) -> Proposal:
    return replace(proposal, rounds=proposal.rounds[:-1] + (round_,), **changes)


def take_position(
    proposal: Proposal, member: str, position: Position, argument: str, at: datetime, event: str | None = None
) -> Step:
    """One position per member per round; the latest counts (see ``rules.standing_stance``).

    A bare block from a member whose block is already argued keeps the argument
    (a reaction after ``!block <argument>`` must not undo the argument).
    """
    round_ = _open_round(proposal, at)
    return _restand(proposal, round_, member, at, add=Expression(event or _event(round_, member, at), member,
                                                                  position, argument.strip(), at))


def withdraw_position(proposal: Proposal, member: str, at: datetime, event: str | None = None) -> Step:
    """A member may withdraw their position; silence then counts as consent again."""
    round_ = _open_round(proposal, at)
    if round_.stance_of(member) is None:
        raise RuleViolation("no_position")
    return _restand(proposal, round_, member, at,
                    add=Expression(event or _event(round_, member, at), member, None, "", at))


def take_back(proposal: Proposal, member: str, event: str, at: datetime) -> Step:
    """A member took back one of their reactions or commands: their position is again what the rest of what
    they said stands for (the one before, or none)."""
    round_ = _open_round(proposal, at)
    _needs_all_said(round_)
    if not any(e.event == event for e in round_.expressions):
        return Step(proposal, ())
    return _restand(proposal, round_, member, at, remove=event)


def _event(round_: Round, member: str, at: datetime) -> str:
    """An expression's id when no platform event carries it (the engine's own tests): unique in the round."""
    return f"{member}@{at.isoformat()}#{len(round_.expressions_of(member))}"


def _restand(proposal: Proposal, round_: Round, member: str, at: datetime, add: Expression | None = None,
             remove: str | None = None) -> Step:
    """The member's stance after adding or taking back one expression; a change of stance is history."""
    before = round_.stance_of(member)
    if round_.latest_expressions_only:
        # A member's stance is the fold of what they said, in the order they said it (rules.standing_stance): an
        # expression said after all the others is one more step from the stance they left. Anything else (one
        # read late, one taken back) replays them all.
        if add is None or remove is not None or any(e.at > add.at for e in round_.expressions_of(member)):
            _needs_all_said(round_)
        expressions = round_.expressions + (add,)
        after = rules.next_stance(before, add)
    else:
        expressions = tuple(e for e in round_.expressions if e.event != remove) + ((add,) if add else ())
        after = rules.standing_stance(member, expressions)
    stances = tuple(s for s in round_.stances if s.member != member) + ((after,) if after else ())
    counts = rules.recount(round_.counts, before, after, round_.rule)
    changes: tuple[Change, ...] = ()
    if after != before:
        if after is None:
            changes = (Change(Action.POSITION_WITHDRAWN, member, at, round_.number),)
        else:
            changes = (Change(Action.POSITION, member, at, round_.number, after.position, after.argument),)
    updated = _with_round(proposal, replace(round_, stances=stances, expressions=expressions, counts=counts))
    return Step(updated, changes, expressed=(add,) if add else (), retracted=((remove, at),) if remove else ())


def _needs_all_said(round_: Round) -> None:
    """A replay of what a member said needs all of it: a round loaded with their latest word only is a bug."""
    if round_.latest_expressions_only:
        raise ValueError("this change needs everything the member said in the round: load it whole")


def moderator_removal(proposal: Proposal, moderator: str, member: str, at: datetime) -> Step:
    """Only a member changes their own position: a moderator who removes a member's vote from the room is
    recorded in the history, and the position stands until its owner changes it."""
    round_ = proposal.current_round
    return Step(proposal, (Change(Action.REMOVED_BY_MODERATOR, moderator, at, round_.number, detail=member),))


def close_round(
    proposal: Proposal, members: int, now: datetime, code: SocialCode, offline: bool = False,
    delegated: tuple[Delegated, ...] = (),
) -> Step:
    """At the deadline the round's rule decides (with the positions counted by delegation, when the assembly
    delegates: see rules.delegated_positions); a majority decision locks the proposal."""
    round_ = proposal.current_round
    if proposal.state is not State.OPEN:
        raise RuleViolation("not_open", state=proposal.state)
    if now < round_.deadline:
        raise RuleViolation("deadline_ahead", deadline=round_.deadline)
    outcome = rules.round_outcome(round_, members, now, code, offline, delegated)
    locked_until = proposal.locked_until
    if round_.rule is Rule.MAJORITY and outcome.state in (State.ADOPTED, State.REJECTED):
        locked_until = rules.majority_lock_until(round_.deadline, code)
    closed = _with_round(proposal, replace(round_, outcome=outcome), state=outcome.state, locked_until=locked_until)
    change = Change(Action.ROUND_CLOSED, None, now, round_.number, detail=outcome.state)
    return Step(closed, (change,))


def _check_lock(proposal: Proposal, now: datetime) -> None:
    if proposal.locked_until is not None and now < proposal.locked_until:
        raise RuleViolation("locked", until=proposal.locked_until)


def open_next_round(
    proposal: Proposal,
    by: str,
    is_facilitator: bool,
    now: datetime,
    code: SocialCode,
    text: str = "",
    consent_instead: bool = False,
    assessment: Assessment | None = None,
) -> Step:
    """After a postponed round, the proposer or a facilitator opens the next one, a week apart at least (with an
    amended text, or for a verdict an amended assessment, if they give one).

    After enough blocked rounds the next one is by majority; a facilitator may
    choose another consent round instead. A rejected proposal may come back once
    its lock has passed.
    """
    if proposal.state not in (State.POSTPONED, State.REJECTED):
        raise RuleViolation("no_next_round", state=proposal.state)
    if by != proposal.proposer and not is_facilitator:
        raise RuleViolation("proposer_or_facilitator")
    if consent_instead and not is_facilitator:
        raise RuleViolation("facilitator_only")
    _check_lock(proposal, now)
    earliest = rules.earliest_next_round(proposal, code)
    if now < earliest:
        raise RuleViolation("too_early", earliest=earliest)
    rule = Rule.CONSENT if consent_instead else rules.next_round_rule(proposal, code)
    changes = []
    if text.strip() or assessment is not None:
        proposal = _new_version(proposal, text.strip() or proposal.versions[-1], assessment)
        changes.append(Change(Action.AMENDED, by, now, proposal.current_round.number + 1, detail=_amended(proposal)))
    new_round = Round(len(proposal.rounds) + 1, rule, now, rules.round_deadline(now, code, proposal.duration),
                      len(proposal.versions))
    changes.append(Change(Action.ROUND_OPENED, by, now, new_round.number, detail=rule))
    opened = replace(proposal, rounds=proposal.rounds + (new_round,), state=State.OPEN, locked_until=None)
    return Step(opened, tuple(changes))


def amend(proposal: Proposal, by: str, is_facilitator: bool, text: str, now: datetime,
          assessment: Assessment | None = None) -> Step:
    """Between rounds the proposer or a facilitator may amend the text (a verdict's reason, and its assessment);
    every version is kept."""
    if by != proposal.proposer and not is_facilitator:
        raise RuleViolation("proposer_or_facilitator")
    if proposal.state not in (State.POSTPONED, State.REJECTED):
        raise RuleViolation("amend_between_rounds", state=proposal.state)
    if not text.strip():
        raise RuleViolation("empty_text")
    amended = _new_version(proposal, text.strip(), assessment)
    return Step(amended, (Change(Action.AMENDED, by, now, proposal.current_round.number, detail=_amended(amended)),))


def _new_version(proposal: Proposal, text: str, assessment: Assessment | None) -> Proposal:
    """The proposal with one more version of its text; a verdict's has its assessment (the latest, unless said)."""
    verdict = proposal.verdict
    if verdict is not None:
        verdict = replace(verdict, assessments=verdict.assessments + (assessment or verdict.assessments[-1],))
    return replace(proposal, versions=proposal.versions + (text,), verdict=verdict)


def _amended(proposal: Proposal) -> str:
    """What an amendment's line of history says: the new text (a verdict's with its assessment first)."""
    if proposal.verdict is None:
        return proposal.versions[-1]
    return f"{proposal.verdict.assessments[-1]}: {proposal.versions[-1]}"


def challenge(
    decision: Proposal, number: int, member: str, title: str, text: str, part: str, now: datetime, code: SocialCode
) -> tuple[Step, Step]:
    """Any member may call an adopted decision into question, in whole or in part, at any time: the challenge
    is a new proposal (its own number, ballot, rounds, blocks, escalation and lock) to change it — repeal
    it, or give the whole or the part a new text. The decision stays in force while the challenge is not
    decided. A decision taken by majority cannot be challenged during its lock.

    Returns the challenge's step, and the decision's (which only records that it is challenged).
    """
    if decision.state is not State.ADOPTED:
        raise RuleViolation("not_adopted", state=decision.state)
    _check_lock(decision, now)
    if not title.strip():
        raise RuleViolation("reason_required")
    parts.check_parts(decision.text, part, text)
    step = propose(number, title.strip(), text.strip(), member, now, code, topics=decision.topics)
    challenger = replace(step.proposal, challenges=decision.number, part=part.strip())
    noted = Change(Action.CHALLENGED, member, now, decision.current_round.number, detail=str(number))
    challenged = replace(decision, challenged_by=decision.challenged_by + (number,))
    return Step(challenger, step.changes), Step(challenged, (noted,))


def revise(decision: Proposal, challenge: Proposal, now: datetime) -> Step:
    """A challenge adopted changes the decision it named: a challenge of the whole without a new text repeals
    it; otherwise the decision's text gets a new version (the former ones are kept). A decision already
    repealed meanwhile (by another challenge) stays so. A challenge not adopted changes nothing: while it is
    open or postponed it still challenges the decision; rejected or withdrawn, it no longer does."""
    pending = tuple(n for n in decision.challenged_by if n != challenge.number)
    round_number = decision.current_round.number
    if challenge.state in (State.OPEN, State.POSTPONED):
        return Step(decision, ())
    if decision.state is not State.ADOPTED or challenge.state is not State.ADOPTED:
        return Step(replace(decision, challenged_by=pending), ())
    if not challenge.part and not challenge.text:
        repealed = replace(decision, state=State.REPEALED, repealed_by=challenge.number, challenged_by=pending)
        return Step(repealed, (Change(Action.REPEALED, None, now, round_number, detail=str(challenge.number)),))
    text = rules.amended_text(decision.text, challenge.number, challenge.part, challenge.text)
    amended = replace(decision, versions=decision.versions + (text,), challenged_by=pending,
                      amended_by=decision.amended_by + (challenge.number,))
    return Step(amended, (Change(Action.REVISED, None, now, round_number, detail=str(challenge.number)),))


def withdraw_proposal(proposal: Proposal, by: str, is_facilitator: bool, now: datetime) -> Step:
    """The proposer or a facilitator may withdraw a proposal that is not decided."""
    if by != proposal.proposer and not is_facilitator:
        raise RuleViolation("proposer_or_facilitator")
    if proposal.state not in (State.OPEN, State.POSTPONED):
        raise RuleViolation("not_undecided", state=proposal.state)
    withdrawn = replace(proposal, state=State.WITHDRAWN)
    return Step(withdrawn, (Change(Action.WITHDRAWN, by, now, proposal.current_round.number),))


def extend(
    proposal: Proposal, by: str, is_facilitator: bool, extension: timedelta, now: datetime, code: SocialCode
) -> Step:
    """Facilitators may extend a round (in working time); never shorten it."""
    if not is_facilitator:
        raise RuleViolation("facilitator_only")
    round_ = _open_round(proposal, now)
    if extension <= timedelta(0):
        raise RuleViolation("extension_positive")
    deadline = rules.extended_deadline(round_.deadline, extension, code)
    change = Change(Action.EXTENDED, by, now, round_.number, detail=deadline.isoformat())
    return Step(_with_round(proposal, replace(round_, deadline=deadline)), (change,))


def remind_application(proposal: Proposal, now: datetime) -> Step:
    """No fact was recorded on applying the decision in time: the room is reminded once (recorded, never twice)."""
    change = Change(Action.FOLLOWUP_REMINDED, None, now, proposal.current_round.number)
    return Step(replace(proposal, application_reminded=True), (change,))
