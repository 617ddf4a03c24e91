"""Engine state → messages: lines in the assembly's language, with the consent_bot payload.

Members' text (titles, proposal texts, arguments) is defused so it can never ping a whole room; each
platform escapes it as it renders. Members are :class:`Mention` segments, never text, so a platform
shows them its own way and notifies only those a message is meant for.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_timedelta

from bot.config import AssemblySettings
from bot.config.networks import network_label
from bot.engine import pact as pact_rules, parts, rules
from bot.engine.model import Action, Position, Proposal, Reason, Round, Rule, RuleViolation, SocialCode, State, Summary, Tally
from bot.messages.i18n import N_, Messages
from bot.messages.lines import (ASSESSMENT_LABELS, POSITION_LABELS, RULE_LABELS, STATE_LABELS, WORD_JOINER, Text,
                                defuse, people)
from bot.messages import delegation, pact, topics
from bot.messages.outgoing import Kind, Mention

def payload(kind: Kind, proposal: Proposal, members: int, messages: Messages) -> dict[str, Any]:
    """The machine-readable state every message about a proposal carries under ``consent_bot``."""
    round_ = proposal.current_round
    delegated = round_.outcome.delegated if round_.outcome is not None else ()
    return {
        "kind": str(kind),
        "proposal": proposal.number,
        "round": round_.number,
        "rule": str(round_.rule),
        "state": str(proposal.state),
        "deadline": round_.deadline.astimezone(messages.zone).isoformat(),
        "tally": counted(round_).as_dict(),
        **({"delegated": rules.with_delegated(Tally(), delegated).as_dict()} if delegated else {}),
        # A closed round's participation as counted at its close, as its text says, not the room as it is today.
        "members": round_.outcome.members if round_.outcome is not None else members,
        **({"network": messages.network} if messages.network else {}),
        **({"topics": list(proposal.topics)} if proposal.topics else {}),
        **_links(proposal),
        **pact.payload(proposal),
    }


def _links(proposal: Proposal) -> dict[str, Any]:
    """How a proposal and the decisions it challenges, or that challenge it, are linked (only those present)."""
    links: dict[str, Any] = {}
    if proposal.challenges is not None:
        links["challenges"] = proposal.challenges
        if proposal.part:
            links["challenged_part"] = proposal.part
    if proposal.challenged_by:
        links["challenged_by"] = list(proposal.challenged_by)
    if proposal.repealed_by is not None:
        links["repealed_by"] = proposal.repealed_by
    if proposal.amended_by:
        links["amended_by"] = list(proposal.amended_by)
    return links


def _how_to_answer(text: Text, m: Messages, proposal: Proposal) -> None:
    number = proposal.number
    if proposal.current_round.rule is Rule.MAJORITY:
        text.line(m._("Answer with !agree #{number}, !abstain #{number}, !disagree #{number} [reason] "
                      "or !block #{number} [argument]."), number=number)
        text.line(m._("Silence does not count in this round: only the votes expressed decide. A block is a vote "
                      "against and needs no argument."))
        return
    text.line(m._("Answer with !agree #{number}, !abstain #{number}, !disagree #{number} [reason] "
                  "or !block #{number} <argument>."), number=number)
    text.line(m._("Silence counts as consent. A block counts only if it is argued."))


def _what_a_challenge_changes(text: Text, m: Messages, challenge: Proposal, decision: Proposal) -> None:
    """A challenge's ballot says which decision it would revise and how, if adopted."""
    if challenge.part:
        text.line(m._("It challenges decision #{number} ({title}), on this part: {part}. Meanwhile the decision "
                      "stays in force."), number=decision.number, title=decision.title, part=challenge.part)
    else:
        text.line(m._("It challenges decision #{number} ({title}) as a whole. Meanwhile the decision stays in "
                      "force."), number=decision.number, title=decision.title)
    today = parts.quoted(decision.text, challenge.part) if challenge.part else None
    if today is not None:
        text.line(m._("Today it reads:")).line("{text}", text=today)
    if challenge.text and challenge.part:
        text.line(m._("If it is adopted, that part becomes:")).line("{text}", text=challenge.text)
    elif challenge.text:
        text.line(m._("If it is adopted, the decision's text becomes:")).line("{text}", text=challenge.text)
    elif challenge.part:
        text.line(m._("If it is adopted, that part is repealed."))
    else:
        text.line(m._("If it is adopted, the decision is repealed."))


def _decision_links(text: Text, m: Messages, proposal: Proposal) -> None:
    """What challenges a decision, or changed it; and what a challenge challenges."""
    if proposal.challenges is not None:
        text.line(m._("Challenges decision #{number}{part}."), number=proposal.challenges,
                  part=m._(", on this part: {part}", part=proposal.part) if proposal.part else "")
    if proposal.repealed_by is not None:
        text.line(m._("Repealed by #{number}."), number=proposal.repealed_by)
    if proposal.amended_by:
        text.line(m._("Amended by {numbers} (text version {version})."),
                  numbers=", ".join(f"#{n}" for n in proposal.amended_by), version=len(proposal.versions))
    if proposal.challenged_by:
        text.line(m._("Challenged by {numbers}: it stays in force while they are not decided."),
                  numbers=", ".join(f"#{n}" for n in proposal.challenged_by))


def _rule_line(text: Text, m: Messages, proposal: Proposal, code: SocialCode) -> None:
    """What decides this round, said the same way on the ballot and in the status."""
    round_ = proposal.current_round
    if round_.rule is Rule.CONSENT:
        text.line(m._("This round is decided by consent."))
        return
    text.line(m._("This round is decided by a {majority} majority of the votes expressed: agree against disagree "
                  "and block. Abstentions and silence are not counted. With no vote expressed the proposal is "
                  "rejected, and no new vote on it is possible before {date}."),
              majority=majority_share(code), date=m.day(rules.majority_lock_until(round_.deadline, code)))


def ballot(proposal: Proposal, m: Messages, settings: AssemblySettings, reposted: bool = False,
           decision: Proposal | None = None) -> Text:
    """A round's ballot; ``decision``: for a challenge or a verdict, the decision it is about."""
    code, round_ = settings.code, proposal.current_round
    text = Text()
    if reposted:
        text.line(m._("The ballot of proposal #{number} was removed from the room: here it is again. Positions "
                      "already taken stand."), number=proposal.number)
    if round_.number == 1:
        text.line(m._("Proposal #{number} by {proposer}: {title}"), strong=True,
                  number=proposal.number, proposer=Mention(proposal.proposer), title=proposal.title)
    else:
        text.line(m._("Proposal #{number}, round {round}: {title}"), strong=True,
                  number=proposal.number, round=round_.number, title=proposal.title)
    topics.line(text, proposal, settings, m)
    pact.referral_lines(text, proposal, settings, m)
    if proposal.verdict is not None:
        pact.verdict_lines(text, proposal, decision, settings, m)
    elif decision is not None:
        _what_a_challenge_changes(text, m, proposal, decision)
    elif proposal.text:
        text.line().line("{text}", text=proposal.text)
    text.line()
    _rule_line(text, m, proposal, code)
    if proposal.duration is not None and proposal.duration > code.minimum_duration:
        text.line(m._("Time to answer: {duration} of working time, as its proposer asked (at least {minimum})."),
                  duration=_span(proposal.duration, m), minimum=_span(code.minimum_duration, m))
    text.line(m._("Deadline: {deadline}."), deadline=m.when(round_.deadline))
    _how_to_answer(text, m, proposal)
    return text


def _span(duration: timedelta, m: Messages) -> str:
    return format_timedelta(duration, locale=m.language, threshold=2)


def position_label(position: Position, m: Messages) -> str:
    return m._(POSITION_LABELS[position])


def ack(proposal: Proposal, member: str, m: Messages) -> Text:
    stance = proposal.current_round.stance_of(member)
    text = Text()
    if stance is None:
        return text.line(m._("{member}: your position on #{number} is withdrawn."), member=Mention(member),
                         number=proposal.number)
    if stance.position is Position.BLOCK and proposal.current_round.rule is Rule.MAJORITY:
        return text.line(m._("{member}: block (a vote against) on #{number} recorded."), member=Mention(member),
                         number=proposal.number)
    if stance.position is Position.BLOCK and not rules.is_argued(stance.argument):
        return text.line(m._("{member}: block without argument on #{number} recorded (not valid)."),
                         member=Mention(member), number=proposal.number)
    return text.line(m._("{member}: {position} on #{number} recorded."), member=Mention(member),
                     position=position_label(stance.position, m), number=proposal.number)


def amended(proposal: Proposal, member: str, m: Messages) -> Text:
    text = Text().line(m._("Proposal #{number} ({title}): {member} amends the text (version {version}); the next "
                           "round will vote on it:"), number=proposal.number, title=proposal.title,
                       member=Mention(member), version=len(proposal.versions))
    return text.line("{text}", text=proposal.versions[-1])


def argument_kept(proposal: Proposal, member: str, argument: str, m: Messages) -> Text:
    return Text().line(
        m._("{member}, your block on #{number} keeps the argument you gave before: “{argument}”. A new argument "
            "needs at least {length} letters or digits."),
        member=Mention(member), number=proposal.number, argument=argument, length=rules.MINIMUM_ARGUMENT_LENGTH)


def moderation(proposal: Proposal, moderator: str, member: str, m: Messages) -> Text:
    stance = proposal.current_round.stance_of(member)
    position = position_label(stance.position, m) if stance else m._("no position")
    return Text().line(
        m._("{moderator} removed a vote of {member} on proposal #{number} from the room. Only members change "
            "their own position: {member} keeps theirs ({position}) until they change it."),
        moderator=Mention(moderator), member=Mention(member), number=proposal.number, position=position,
    )


def unreadable(member: str, m: Messages) -> Text:
    """A member's message the bot could not decrypt: its key never reached the bot."""
    return Text().line(
        m._("{member}, consent-bot could not read your message: its encryption key never reached the bot, so "
            "nothing it said was taken into account. Please send it again."),
        member=Mention(member),
    )


def block_request(proposal: Proposal, member: str, m: Messages) -> Text:
    return Text().line(
        m._("{member}, your block on #{number} is not valid until it is argued: answer with "
            "!block #{number} followed by your argument (at least {length} letters or digits) before {deadline}."),
        member=Mention(member), number=proposal.number, length=rules.MINIMUM_ARGUMENT_LENGTH,
        deadline=m.when(proposal.current_round.deadline),
    )


def reminder(proposal: Proposal, waiting: list[str], now: datetime, m: Messages) -> Text:
    """``waiting``: the members who have not answered yet, named as the room knows them."""
    round_ = proposal.current_round
    text = Text()
    text.line(m._("Reminder: proposal #{number} ({title}) closes in {remaining}, on {deadline}."), strong=True,
              number=proposal.number, title=proposal.title,
              remaining=_remaining(round_.deadline, now, m),
              deadline=m.when(round_.deadline))
    if waiting and round_.rule is Rule.MAJORITY:
        text.line(m._("Not voted yet: {members}. Silence does not count in this round."), members=people(waiting))
    elif waiting:
        text.line(m._("Not answered yet: {members}."), members=people(waiting))
    owing = rules.owing_argument(round_)
    if owing:
        text.line(m._("Block without argument, not valid until argued: {members}."), members=people(owing))
    _how_to_answer(text, m, proposal)
    return text


def majority_share(code: SocialCode) -> str:
    return f"{code.majority.numerator}/{code.majority.denominator}"


def _positions(text: Text, round_: Round, m: Messages, among: Set[str] | None = None) -> None:
    """Who took which position, with the reasons and arguments they gave: the process is public. ``among``: the
    members of one room of a joint decision, whose positions alone are listed there — but every valid block, which
    decides for all — and the others counted (the register lists them all)."""
    elsewhere = 0
    for position in Position:
        stances = [s for s in round_.stances if s.position is position and s.at <= round_.deadline]
        unargued: list = []
        if position is Position.BLOCK and round_.rule is Rule.CONSENT:
            unargued = [s for s in stances if not rules.is_argued(s.argument)]
            stances = [s for s in stances if rules.is_argued(s.argument)]
        if among is not None and not (position is Position.BLOCK and round_.rule is Rule.CONSENT):
            here = [s for s in stances if s.member in among]
            elsewhere += len(stances) - len(here)
            stances = here
        if among is not None and unargued:
            here = [s for s in unargued if s.member in among]
            elsewhere += len(unargued) - len(here)
            unargued = here
        if stances:
            text.line(m._("{position}: {members}."), position=position_label(position, m).capitalize(),
                      members=people(s.member for s in stances))
            for s in stances:
                if s.argument:
                    text.line(m._("- {member}: {argument}"), member=Mention(s.member), argument=s.argument)
        if unargued:
            text.line(m._("Block without argument (not valid): {members}."), members=people(s.member for s in unargued))
    if elsewhere:
        text.line(m.n_("And {count} position taken in the network's other rooms (listed on the register).",
                       "And {count} positions taken in the network's other rooms (listed on the register).", elsewhere),
                  count=elsewhere)


def counted(round_: Round) -> Tally:
    """What a round counts: its outcome's tally once closed (delegated positions included), else the running one."""
    return round_.outcome.tally if round_.outcome is not None else round_.counts


def _tally_line(text: Text, round_: Round, members: int, m: Messages, settings: AssemblySettings) -> None:
    counted_ = counted(round_)
    text.line(m._("Tally: {agree} agree, {abstain} abstain, {disagree} disagree, {block} block, "
                  "{unargued} block without argument."),
              agree=counted_.agree, abstain=counted_.abstain, disagree=counted_.disagree,
              block=counted_.block, unargued=counted_.unargued_block)
    text.line(m.n_("Participation: {answered} of {count} member.", "Participation: {answered} of {count} members.",
                   members), answered=counted_.answered, count=members)
    delegated = round_.outcome.delegated if round_.outcome is not None else ()
    if delegated:
        by = rules.with_delegated(Tally(), delegated)
        text.line(m._("Of which by delegation: {agree} agree, {abstain} abstain, {disagree} disagree."),
                  agree=by.agree, abstain=by.abstain, disagree=by.disagree)
        delegation.counted(text, delegated, settings, m)


OUTCOME_HEADLINES = {
    Reason.NO_VALID_BLOCK: N_("Proposal #{number} ({title}) is adopted by consent."),
    Reason.VALID_BLOCK: N_("Proposal #{number} ({title}) is postponed: it was blocked."),
    Reason.NO_QUORUM: N_("Proposal #{number} ({title}) is postponed: the quorum was not reached."),
    Reason.MAJORITY_REACHED: N_("Proposal #{number} ({title}) is adopted by a {majority} majority."),
    Reason.MAJORITY_MISSED: N_("Proposal #{number} ({title}) is rejected: the {majority} majority was not reached."),
}


def outcome(proposal: Proposal, m: Messages, settings: AssemblySettings, revised: Proposal | None = None,
            link: str | None = None, among: Set[str] | None = None, by_room: Text | None = None) -> Text:
    """Said in a room of a joint decision: ``among``, the room's members (see _positions), and ``by_room``, how each
    room of the network took part."""
    code, round_ = settings.code, proposal.current_round
    result = round_.outcome
    text = Text()
    text.line(m._(OUTCOME_HEADLINES[result.reason]), strong=True, number=proposal.number, title=proposal.title,
              majority=majority_share(code))
    text.line(m._("Round {round}, decided by {rule}, closed on {closed}."), round=round_.number,
              rule=m._(RULE_LABELS[round_.rule]), closed=m.when(round_.deadline))
    if result.offline:
        text.line(m._("The deadline passed while the bot was offline: this result counts only the positions "
                      "taken before the deadline."))
    _tally_line(text, round_, result.members, m, settings)
    if by_room is not None:
        text.lines += by_room.lines
    _positions(text, round_, m, among)
    if revised is not None and revised.repealed_by == proposal.number:
        text.line().line(m._("Decision #{number} ({title}) is repealed."), strong=True, number=revised.number,
                         title=revised.title)
    elif revised is not None and proposal.number in revised.amended_by:
        _amendment(text, proposal, revised, m)
    for said in (pact.referral_answered(proposal, settings, m) if proposal.referral else None,
                 pact.judged(proposal, settings, m)):
        if said is not None:
            text.line()
            text.lines += said.lines
    text.line()
    _next_step(text, proposal, m, code, proposal.current_round.deadline)
    if link:
        text.line(m._("On the public register: {link}"), link=link)
    return text


def _amendment(text: Text, challenge: Proposal, revised: Proposal, m: Messages) -> None:
    """What an adopted challenge changed in the decision: its numbered parts as they now read (or that they are
    gone); otherwise the whole text in force."""
    if challenge.part and parts.replaced(revised.versions[-2], challenge.part, challenge.text) is not None:
        text.line().line(m._("Decision #{number} ({title}) is amended (text version {version}):"), strong=True,
                         number=revised.number, title=revised.title, version=len(revised.versions))
        now_reads = parts.quoted(revised.text, challenge.part)
        if now_reads is not None:
            text.line(m._("Part {part} now reads:"), part=challenge.part).line("{text}", text=now_reads)
        else:
            text.line(m._("Part {part} is removed."), part=challenge.part)
        text.line(m._("Its whole text: !status #{number}."), number=revised.number)
        return
    text.line().line(m._("Decision #{number} ({title}) is amended: its text in force (version {version}):"),
                     strong=True, number=revised.number, title=revised.title, version=len(revised.versions))
    text.line("{text}", text=revised.text)


def _next_step(text: Text, proposal: Proposal, m: Messages, code: SocialCode, now: datetime) -> None:
    locked = proposal.locked_until is not None and now < proposal.locked_until
    if proposal.state is State.ADOPTED and proposal.challenges is not None and not locked:
        text.line(m._("Next step: decision #{number} applies as this challenge changed it; it may be called into "
                      "question again with !challenge #{number} <reason>."), number=proposal.challenges)
    elif proposal.state is State.ADOPTED and not locked:
        text.line(m._("Next step: the decision applies. Any member may challenge it at any time, in whole or in "
                      "part, with !challenge #{number} <reason>."), number=proposal.number)
    elif proposal.state is State.REJECTED and proposal.locked_until is not None and not locked:
        text.line(m._("Next step: its lock has passed ({date}): the proposer or a facilitator may bring it back "
                      "with !round #{number}."), date=m.day(proposal.locked_until), number=proposal.number)
    elif locked:
        text.line(m._("Next step: decided by majority, so no new vote on it before {date}."),
                  date=m.day(proposal.locked_until))
    elif proposal.state is State.POSTPONED:
        earliest = rules.earliest_next_round(proposal, code)
        if rules.next_round_rule(proposal, code) is Rule.MAJORITY:
            line = N_("Next step: the proposer or a facilitator may open round {round} from {date} with "
                      "!round #{number} [amended text]; it may be decided by a {majority} majority.")
        else:
            line = N_("Next step: the proposer or a facilitator may open round {round} from {date} with "
                      "!round #{number} [amended text]; it will be decided by consent.")
        text.line(m._(line), round=proposal.current_round.number + 1, date=m.when(earliest),
                  number=proposal.number, majority=majority_share(code))


def status(proposal: Proposal, members: int, m: Messages, settings: AssemblySettings, now: datetime,
           verdicts: list[Proposal] | None = None) -> Text:
    """A proposal's state; for a decision, what its officials did (``verdicts``: those proposed on it)."""
    code, round_ = settings.code, proposal.current_round
    text = Text()
    text.line(m._("Proposal #{number}: {title} ({state})"), strong=True, number=proposal.number,
              title=proposal.title, state=m._(STATE_LABELS[proposal.state]))
    text.line(m._("Proposed by {proposer} on {date}."), proposer=Mention(proposal.proposer), date=m.when(proposal.created_at))
    _decision_links(text, m, proposal)
    topics.line(text, proposal, settings, m)
    pact.referral_lines(text, proposal, settings, m)
    if proposal.verdict is not None:
        text.line(m._("Verdict on {official} for decision #{number}: {assessment}."),
                  official=pact.name(proposal.verdict.official, settings), number=proposal.verdict.decision,
                  assessment=m._(ASSESSMENT_LABELS[proposal.assessment]))
    if proposal.state is State.OPEN:
        text.line(m._("Round {round}, decided by {rule}, deadline {deadline}."), round=round_.number,
                  rule=m._(RULE_LABELS[round_.rule]), deadline=m.when(round_.deadline))
        if round_.rule is Rule.MAJORITY:
            _rule_line(text, m, proposal, code)
    if proposal.text:
        text.line().line("{text}", text=proposal.text).line()
    # A closed round shows the participation counted at its close, not the room as it is today.
    _tally_line(text, round_, round_.outcome.members if round_.outcome else members, m, settings)
    _positions(text, round_, m)
    if proposal.state in pact_rules.ACCOUNTABLE and proposal.verdict is None and (
            proposal.bound or proposal.facts or proposal.statements):
        text.line()
        pact.accountability(text, proposal, verdicts or [], settings, m)
    elif proposal.bound:
        pact.bound_line(text, proposal, settings, m)
    if proposal.state not in (State.OPEN, State.WITHDRAWN, State.REPEALED):
        text.line()
        _next_step(text, proposal, m, code, now)
    return text


HISTORY_LINES = {
    Action.PROPOSED: N_("{member} proposes it: {detail}"),
    Action.POSITION: N_("{member}: {position}"),
    Action.POSITION_WITHDRAWN: N_("{member} withdraws their position"),
    Action.ROUND_OPENED: N_("{member} opens round {round} ({detail})"),
    Action.ROUND_CLOSED: N_("round {round} closes: {detail}"),
    Action.EXTENDED: N_("{member} extends round {round} until {detail}"),
    Action.AMENDED: N_("{member} amends the text"),
    Action.CHALLENGED: N_("{member} challenges it: proposal #{detail}"),
    Action.REPEALED: N_("repealed by proposal #{detail}"),
    Action.REVISED: N_("amended by proposal #{detail}"),
    Action.WITHDRAWN: N_("{member} withdraws the proposal"),
    Action.REMOVED_BY_MODERATOR: N_("{member} (moderator) removes a vote of {detail} from the room; the position "
                                    "stands"),
    Action.FOLLOWED_UP: N_("{member} follows it up (before the pact): {detail}"),
    Action.FOLLOWUP_REMINDED: N_("no fact recorded on its application: the room is asked"),
    Action.BOUND: N_("{member} binds {detail} to apply it"),
    Action.UNBOUND: N_("{member}: {detail} is no longer bound to apply it"),
    Action.FACT_RECORDED: N_("{member} records a fact about {detail}"),
    Action.STATEMENT_MADE: N_("{member} makes a statement, as {detail}"),
    Action.VERDICT_PROPOSED: N_("{member} proposes a verdict on its application: proposal #{detail}"),
    Action.TOPICS_SET: N_("{member} sets its topics: {detail}"),
}


def history_detail(action: Action, detail: str, m: Messages) -> str:
    """A history line's detail as people read it: a date, a rule or an outcome in the assembly's words."""
    if action is Action.EXTENDED and detail:
        return m.when(datetime.fromisoformat(detail))
    if action is Action.ROUND_OPENED and detail in set(Rule):
        return m._(RULE_LABELS[Rule(detail)])
    if action is Action.ROUND_CLOSED and detail in set(State):
        return m._(STATE_LABELS[State(detail)])
    if action is Action.TOPICS_SET:
        return detail.replace(",", ", ") or "—"
    if action is Action.FOLLOWED_UP and detail:
        status, _, progress = detail.partition(" ")
        return status.replace("_", " ") + (f", {progress} %" if progress else "")
    return detail


def history(proposal: Proposal, rows: list[dict], m: Messages) -> Text:
    """A proposal's whole trace: every version, every round, every line of its history, dated."""
    text = Text().line(m._("History of proposal #{number}: {title}"), strong=True, number=proposal.number,
                       title=proposal.title)
    _decision_links(text, m, proposal)
    for version, body in enumerate(proposal.versions, start=1):
        text.line(m._("Version {version}:"), version=version).line("{text}", text=body or "—")
    for round_ in proposal.rounds:
        if round_.outcome is None:
            text.line(m._("Round {round} ({rule}): opened {opened}, deadline {deadline}, open."), round=round_.number,
                      rule=m._(RULE_LABELS[round_.rule]), opened=m.when(round_.opened_at),
                      deadline=m.when(round_.deadline))
            continue
        tally = round_.outcome.tally
        text.line(m._("Round {round} ({rule}): opened {opened}, deadline {deadline}, {state}; {agree} agree, "
                      "{abstain} abstain, {disagree} disagree, {block} block; {answered} of {members} members "
                      "answered."), round=round_.number, rule=m._(RULE_LABELS[round_.rule]),
                  opened=m.when(round_.opened_at), deadline=m.when(round_.deadline),
                  state=m._(STATE_LABELS[round_.outcome.state]), agree=tally.agree, abstain=tally.abstain,
                  disagree=tally.disagree, block=tally.block + tally.unargued_block,
                  answered=tally.answered, members=round_.outcome.members)
    text.line(m._("Trace:"), strong=True)
    for row in rows:
        action = Action(row["action"])
        detail = history_detail(action, row["detail"], m)
        position = position_label(Position(row["position"]), m) if row["position"] else ""
        text.line("{when} — " + m._(HISTORY_LINES[action]), when=m.when(datetime.fromisoformat(row["at"])),
                  member=Mention(row["member"]) if row["member"] else "—", round=row["round"], position=position,
                  detail=Mention(detail) if action is Action.REMOVED_BY_MODERATOR else detail)
        if row["argument"]:
            text.line(m._("  “{argument}”"), argument=row["argument"])
        if action is Action.AMENDED and row["detail"]:
            text.line("{text}", text=row["detail"])
    return text


def not_an_assembly(m: Messages) -> Text:
    return Text().line(m._("I run the assembly's decisions in its channels, where everyone can see them: write "
                           "there (send !help in the channel for the commands)."))


def listing(total: int, page: int, pages: int, summaries: list[Summary], m: Messages, topic: str | None = None,
            named: str | None = None) -> Text:
    """A page of the room's proposals; ``topic`` (its id) and ``named`` (its name): those on a topic only."""
    text = Text()
    if not total and topic is not None:
        return text.line(m._("No proposal on {topic} in this room yet."), topic=named)
    if not total:
        return text.line(m._("No proposal in this room yet. Propose one with !propose <title>."))
    if topic is not None:
        text.line(m._("Proposals on {topic}, the newest first (page {page} of {pages}):"), strong=True, topic=named,
                  page=page, pages=pages)
    elif pages == 1:
        text.line(m._("Proposals in this room, the newest first:"), strong=True)
    else:
        text.line(m._("Proposals in this room, the newest first (page {page} of {pages}):"), strong=True, page=page,
                  pages=pages)
    for p in summaries:
        # A joint decision the room takes part in reads as its reference says it: #metropole-3.
        said = replace(m, network=network_label(p.scope)) if p.scope else m
        if p.state is State.OPEN:
            text.line(said._("#{number} {title}: open, round {round}, deadline {deadline}"), number=p.number,
                      title=p.title, round=p.round, deadline=m.when(p.deadline))
        else:
            text.line(said._("#{number} {title}: {state}"), number=p.number, title=p.title,
                      state=m._(STATE_LABELS[p.state]))
    if page < pages:
        text.line(m._("More with !list {next}."), next=f"topic {topic} {page + 1}" if topic else page + 1)
    return text


def _remaining(deadline: datetime, now: datetime, m: Messages) -> str:
    return format_timedelta(max(deadline - now, timedelta(0)), locale=m.language, threshold=1.5)


VIOLATIONS = {
    "not_open": N_("This proposal is not open for answers: it is {state}."),
    "deadline_passed": N_("The deadline has passed ({deadline})."),
    "deadline_ahead": N_("The round is open until {deadline}."),
    "no_position": N_("You have no position to withdraw on this proposal."),
    "no_next_round": N_("A next round follows a postponed or rejected round; this proposal is {state}."),
    "proposer_or_facilitator": N_("Only the proposer or a facilitator may do this."),
    "facilitator_only": N_("Only a facilitator may do this."),
    "too_early": N_("Too early: the next round may open from {earliest}."),
    "locked": N_("This proposal was decided by majority: no new vote on it before {until}."),
    "amend_between_rounds": N_("The text can be amended only between rounds; this proposal is {state}."),
    "empty_text": N_("The text is empty."),
    "not_adopted": N_("Only an adopted decision can be challenged; this proposal is {state}."),
    "duration_too_short": N_("Members have at least {minimum} to answer: propose that long or longer."),
    "reason_required": N_("A challenge needs a reason."),
    "not_undecided": N_("Only an open or postponed proposal can be withdrawn; this one is {state}. An adopted "
                        "decision is changed or repealed by a challenge: !challenge #N <reason>."),
    "extension_positive": N_("The extension must be a positive duration, e.g. 24h."),
    "superseded": N_("You changed your position on this proposal after this message ({position}): this older "
                     "message changes nothing."),
    "delegation_off": N_("Delegation is not in use in this assembly (assembly.delegation)."),
    "delegate_not_member": N_("Name a member of this room to entrust your vote to, e.g. !delegate @bob."),
    "delegate_self": N_("You cannot entrust your vote to yourself."),
    "needed_too_soon": N_("Members have until {deadline} to answer, after {needed_by}: the assembly's time to "
                          "answer is not shortened. Give a later date, or none."),
    "already_bound": N_("{official} is already bound to apply it."),
    "not_bound": N_("{official} is not bound to apply it (a facilitator binds an official with !bind #N <official>)."),
    "not_bindable": N_("Officials are bound to apply a question still open or postponed, or a decision in force; this "
                       "proposal is {state}."),
    "not_a_decision": N_("Facts, statements and verdicts are about a decision that is or was in force; this proposal "
                         "is {state}."),
    "fact_required": N_("Say what the official did."),
    "fact_ahead": N_("{day} has not come yet: record what was done, once it is."),
    "statement_required": N_("A statement says something."),
    "no_such_part": N_("The decision has no part {part}: its parts are {parts}."),
    "new_part_not_named": N_("The new text numbers a part the challenge does not name: it names {parts}."),
    "number_the_new_parts": N_("A new text for parts {parts} numbers them, each on its own line (\"2. …\", "
                               "\"3. …\"), or name one part at a time."),
    "judged_official": N_("This verdict judges you: the assembly decides it without you. Say what you did with "
                          "!statement #{decision}."),
}


def violation(failure: RuleViolation, m: Messages) -> str:
    """What a rule the action broke says, in the member's language."""
    params = {}
    for key, value in failure.params.items():
        if isinstance(value, datetime):
            params[key] = m.when(value)
        elif isinstance(value, State):
            params[key] = m._(STATE_LABELS[value])
        elif isinstance(value, Position):
            params[key] = position_label(value, m)
        elif isinstance(value, timedelta):
            params[key] = _span(value, m)
        elif value is None:
            params[key] = m._("no position")
        elif isinstance(value, date):
            params[key] = m.date(value)
        else:
            params[key] = value
    return m._(VIOLATIONS[failure.code], **params)


def refusal(message: str, m: Messages, usage: str | None) -> Text:
    """A one-line answer to a mistake or a refused action, with the command's usage line."""
    text = Text().line("{message}", message=message)
    return text.line(m._("Usage: {usage}"), usage=m._(usage)) if usage else text
