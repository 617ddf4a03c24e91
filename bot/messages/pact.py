"""What the bot says about the pact: the officials, their referrals, who is bound to apply a decision, the facts the
assembly records, the officials' own statements, and the assembly's verdicts. An official is shown by name and
role, and mentioned through their chat account when they have one; a statement is always said to be theirs."""

from __future__ import annotations

from typing import Any

from bot.config import AssemblySettings
from bot.engine import pact
from bot.engine.model import Fact, Proposal, State, Statement
from bot.messages.i18n import N_, Messages
from bot.messages.lines import ASSESSMENT_LABELS, STATE_LABELS, Text
from bot.messages.outgoing import Mention

POINT_LABELS = {
    "refer": N_("refers their decisions on a subject to the assembly concerned"),
    "respect": N_("accepts that not respecting the assembly's opinion is recorded"),
    "record": N_("keeps a permanent record of their actions, public for the whole mandate"),
    "no_self_assessment": N_("publishes no assessment of their own: the assembly records and judges"),
}


def name(official: str, settings: AssemblySettings) -> str:
    """"Martine Dupont (adjointe au numérique)": an official as the room reads them (their id, if no longer
    declared)."""
    declared = settings.official(official)
    if declared is None:
        return official
    return f"{declared.name} ({declared.role})" if declared.role else declared.name


def addressed(official: str, settings: AssemblySettings) -> Mention | str:
    """The official as a mention of their chat account, so that a message reaches them; else their name."""
    declared = settings.official(official)
    return Mention(declared.accounts[0]) if declared is not None and declared.accounts else name(official, settings)


def accounts(officials: tuple[str, ...], settings: AssemblySettings) -> tuple[str, ...]:
    """The chat accounts a message about these officials notifies."""
    return tuple(o.accounts[0] for o in map(settings.official, officials) if o is not None and o.accounts)


def officials(settings: AssemblySettings, m: Messages) -> Text:
    """!officials: who is bound by the pact in this assembly, since when, and to which of its points."""
    if not settings.officials:
        return Text().line(m._("No elected official is declared for this assembly (assembly.officials)."))
    text = Text().line(m.n_("{count} elected official bound by the pact:", "{count} elected officials bound by the "
                            "pact:", len(settings.officials)), strong=True, count=len(settings.officials))
    for official in settings.officials:
        mandate = (m._("mandate from {start} to {end}", start=m.date(official.mandate_start),
                       end=m.date(official.mandate_end)) if official.mandate_end else
                   m._("mandate from {start}", start=m.date(official.mandate_start)))
        text.line(m._("- {name} — {id} — {mandate}"), name=name(official.id, settings), id=official.id, mandate=mandate)
        if official.accounts:
            text.line(m._("  on the chat: {accounts}"), accounts=", ".join(official.accounts))
        for point, day in official.pact.items():
            text.line(m._("  signed on {date}: {point}"), date=m.date(day), point=m._(POINT_LABELS[point]))
        if not official.pact:
            text.line(m._("  has signed no point of the pact"))
    return text.line(m._("Name them in commands by their id, e.g. !fact #N {id} <what was done>."),
                     id=settings.officials[0].id)


def referral_lines(text: Text, proposal: Proposal, settings: AssemblySettings, m: Messages) -> None:
    """A referral's ballot and status say who referred it, and by when they need the opinion."""
    referral = proposal.referral
    if referral is None:
        return
    text.line(m._("Referred to the assembly by {official}: its opinion binds them."),
              official=name(referral.official, settings))
    if referral.needed_by is not None:
        text.line(m._("They need the assembly's opinion by {date}."), date=m.date(referral.needed_by))


def verdict_lines(text: Text, verdict: Proposal, decision: Proposal | None, settings: AssemblySettings,
                  m: Messages) -> None:
    """A verdict's ballot: what the assembly is asked to say, of whom, about which decision."""
    judged = verdict.verdict
    text.line(m._("A verdict of the assembly: did {official} apply decision #{number}{title} as the assembly "
                  "decided?"), official=name(judged.official, settings), number=judged.decision,
              title=f" ({decision.title})" if decision is not None else "")
    text.line(m._("Proposed assessment: {assessment}."), strong=True,
              assessment=m._(ASSESSMENT_LABELS[verdict.assessment]))
    text.line(m._("Reason:")).line("{text}", text=verdict.text)
    text.line(m._("Only an adopted verdict enters the official's record; the facts recorded are on the decision's "
                  "page and in !status #{number}."), number=judged.decision)


def bound_line(text: Text, proposal: Proposal, settings: AssemblySettings, m: Messages) -> None:
    if proposal.bound:
        text.line(m._("Bound to apply it: {officials}."),
                  officials=", ".join(name(official, settings) for official in proposal.bound))


def accountability(text: Text, decision: Proposal, verdicts: list[Proposal], settings: AssemblySettings,
                   m: Messages) -> None:
    """A decision's status: for each official bound, the facts recorded, their statements, the verdict in force."""
    bound_line(text, decision, settings, m)
    for official in dict.fromkeys((*decision.bound, *(f.official for f in decision.facts))):
        facts = [f for f in decision.facts if f.official == official]
        said = [s for s in decision.statements if s.official == official]
        in_force = pact.verdict_in_force(v for v in verdicts if v.verdict.official == official)
        text.line(m._("{official}:"), strong=True, official=name(official, settings))
        for fact in facts[-3:]:
            fact_line(text, fact, m)
        if len(facts) > 3:
            text.line(m._("  … {count} facts in all: !history #{number} shows them all."), count=len(facts),
                      number=decision.number)
        if not facts:
            text.line(m._("  no fact recorded yet: !fact #{number} {official} <what was done> [source: <link>]"),
                      number=decision.number, official=official)
        for statement in said[-1:]:
            statement_line(text, statement, settings, m)
        if in_force is not None:
            text.line(m._("  the assembly's verdict: {assessment} (#{number}, adopted on {date})"),
                      assessment=m._(ASSESSMENT_LABELS[in_force.assessment]), number=in_force.number,
                      date=m.when(in_force.current_round.deadline))
        else:
            text.line(m._("  no verdict of the assembly yet"))
    for statement in (s for s in decision.statements if s.official is None):
        text.line(m._("Follow-up given by {member} before the pact, on {date}: {text}"), member=Mention(statement.member),
                  date=m.day(statement.at), text=statement.text)


def fact_line(text: Text, fact: Fact, m: Messages) -> None:
    happened = m.date(fact.happened_on) if fact.happened_on else m._("date not given")
    text.line(m._("  fact ({happened}), recorded by {member} on {date}: {text}"), happened=happened,
              member=Mention(fact.member), date=m.day(fact.at), text=fact.text)
    if fact.source:
        text.line(m._("    source: {source}"), source=fact.source)


def statement_line(text: Text, statement: Statement, settings: AssemblySettings, m: Messages) -> None:
    text.line(m._("  the official's own statement ({date}), not the assembly's record: {text}"),
              date=m.day(statement.at), text=statement.text)


def bound_changed(proposal: Proposal, official: str, by: str, bound: bool, settings: AssemblySettings,
                  m: Messages) -> Text:
    """A facilitator bound an official to apply a decision, or unbound them: said to the room."""
    line = (m._("{member} binds {official} to apply #{number} ({title}).") if bound else
            m._("{member}: {official} is no longer bound to apply #{number} ({title})."))
    text = Text().line(line, member=Mention(by), official=addressed(official, settings), number=proposal.number,
                       title=proposal.title)
    bound_line(text, proposal, settings, m)
    return text


def fact_recorded(decision: Proposal, settings: AssemblySettings, m: Messages) -> Text:
    """A fact recorded by a member, said to the room: the assembly's record grows in public."""
    fact = decision.facts[-1]
    text = Text().line(m._("Fact recorded on decision #{number} ({title}) about {official}:"), strong=True,
                       number=decision.number, title=decision.title, official=addressed(fact.official, settings))
    fact_line(text, fact, m)
    return text.line(m._("Recorded facts are kept for good; any member may add one with !fact #{number}, and propose "
                         "the assembly's verdict with !verdict #{number} {official} <assessment>: <reason>."),
                     number=decision.number, official=fact.official)


def statement_made(decision: Proposal, settings: AssemblySettings, m: Messages) -> Text:
    statement = decision.statements[-1]
    text = Text().line(m._("Statement by {official} on decision #{number} ({title}), in their own words:"),
                       strong=True, official=name(statement.official, settings), number=decision.number,
                       title=decision.title)
    text.line("{text}", text=statement.text)
    return text.line(m._("This is the official's word, not the assembly's record: facts are recorded with !fact, "
                         "and the assembly judges with !verdict."))


def application_reminder(decision: Proposal, settings: AssemblySettings, m: Messages) -> Text:
    """No fact was recorded on applying a decision: the room is asked, once, naming those bound to apply it."""
    text = Text().line(m._("Decision #{number} ({title}), adopted on {date}: no fact has been recorded on its "
                           "application yet."), strong=True, number=decision.number, title=decision.title,
                       date=m.day(decision.decided_at or decision.created_at))
    if decision.bound:
        for official in decision.bound:
            text.line(m._("Bound to apply it: {official}."), official=addressed(official, settings))
        return text.line(m._("Any member who knows what was done records it: !fact #{number} {official} <what was "
                             "done> [source: <link>]."), number=decision.number, official=decision.bound[0])
    return text.line(m._("No official is bound to apply it: a facilitator may name one with !bind #{number} "
                         "<official> (see !officials)."), number=decision.number)


def referral_answered(proposal: Proposal, settings: AssemblySettings, m: Messages) -> Text:
    """The outcome of a referral is addressed to the official who referred it."""
    referral = proposal.referral
    late = (referral.needed_by is not None and proposal.decided_at is not None
            and proposal.decided_at.astimezone(m.zone).date() > referral.needed_by)
    text = Text().line(m._("{official}: the assembly's answer to the question you referred is: {state}."),
                       official=addressed(referral.official, settings), state=m._(STATE_LABELS[proposal.state]))
    if late:
        text.line(m._("It comes after {date}, the day you needed it by."), date=m.date(referral.needed_by))
    return text


def judged(verdict: Proposal, settings: AssemblySettings, m: Messages) -> Text | None:
    """An adopted verdict enters the official's record: said so, to them."""
    if verdict.verdict is None or verdict.state is not State.ADOPTED:
        return None
    return Text().line(m._("The assembly's verdict enters the record of {official}: on decision #{number}, "
                           "{assessment}."), strong=True, official=addressed(verdict.verdict.official, settings),
                       number=verdict.verdict.decision, assessment=m._(ASSESSMENT_LABELS[verdict.assessment]))


def payload(proposal: Proposal) -> dict[str, Any]:
    """What the pact adds to a proposal's machine-readable state (only what it has)."""
    found: dict[str, Any] = {}
    if proposal.referral is not None:
        found["referral"] = {"official": proposal.referral.official, "needed_by": proposal.referral.needed_by and
                             proposal.referral.needed_by.isoformat()}
    if proposal.bound:
        found["bound"] = list(proposal.bound)
    if proposal.verdict is not None:
        found["verdict"] = {"decision": proposal.verdict.decision, "official": proposal.verdict.official,
                            "assessment": str(proposal.assessment)}
    if proposal.facts:
        found["facts"] = len(proposal.facts)
    return found
