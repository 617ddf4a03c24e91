"""What each command does: parse its arguments, ask the engine, say the result.

Declared with ``@COMMANDS.command``: verb, French aliases, usage line, one-line summary.
"""

from __future__ import annotations

import operator
import re
from datetime import date, datetime, timedelta

from bot.messages import render
from bot.app.commands import REFERENCE, Registry, normalize
from bot.durations import MAX_ROUND, parse_duration
from bot.config.settings import OfficialSettings
from bot.engine import pact, rules, transitions
from bot.engine.model import Assessment, Delegation, Position, Proposal, RuleViolation, State, Step
from bot.messages import delegation as delegation_text, joint as joint_text, pact as pact_text, topics as topics_text
from bot.messages.i18n import N_
from bot.messages.outgoing import Kind, Mention, Outgoing
from bot.messages.lines import Text
from bot.messages.sanitize import excerpt
from bot.app import linking
from bot.app.context import Context

COMMANDS = Registry()

MAX_TITLE = 200
MAX_TEXT = 8000
FACILITATOR = frozenset({"facilitator"})
MEMBERS = frozenset({"members"})
NAMED = frozenset({"named"})
NETWORKS = frozenset({"networks"})
PAGE = 20
"""Proposals a !list page shows."""
MAX_ARGUMENT = 1000
"""A reason, an argument or a challenge: long enough for a paragraph; a longer text belongs in a document."""
CONSENT_WORDS = {"consent", "consentement"}
DURATION_WORDS = {"duration", "duree"}
TOPIC_WORDS = {"topic", "topics", "sujet", "sujets"}
UNTIL_WORDS = {"until", "jusquau", "jusqua", "jusque"}
NONE_WORDS = {"none", "aucun", "aucune", "aucuns"}
PART_WORDS = {"part", "partie"}
MAX_DELEGATION = timedelta(days=6 * 366)
DELEGATING = operator.attrgetter("delegation")
"""The delegation commands are in use where the assembly turned delegation on."""
WITH_TOPICS = operator.attrgetter("topics")
"""!topics is in use where the assembly lists topics."""
"""How far ahead a delegation's last day may be."""
FOR_WORDS = {"for", "pour"}
BY_WORDS = {"by", "avant"}
ON_WORDS = {"on", "le"}
SOURCE = re.compile(r"\bsources?\s*:", re.IGNORECASE)
ASSESSMENT_WORDS = {
    **dict.fromkeys(("respected", "respecte", "respectee"), Assessment.RESPECTED),
    **dict.fromkeys(("partlyrespected", "partiallyrespected", "partiellementrespecte", "partiellementrespectee",
                     "enpartierespecte", "enpartierespectee"), Assessment.PARTLY_RESPECTED),
    **dict.fromkeys(("notrespected", "nonrespecte", "nonrespectee", "pasrespecte", "pasrespectee"),
                    Assessment.NOT_RESPECTED),
}
"""The assessments as members write them, English or French ("partly respected", "non respecté", "Pas-Respectée":
case, accents, apostrophes, hyphens and underscores are ignored)."""


@COMMANDS.command("propose", "proposer", usage=N_("!propose [topic <topic>[,<topic>]] [duration <duration>] <title> "
                                                  "(further lines: the text)"),
                  summary=N_("make a proposal; the bot opens a consent round (for longer than the minimum if you "
                             "give a duration, e.g. duration 10d), on the assembly's topics you name (see !topics)"),
                  takes_reference=False)
async def propose(ctx: Context) -> None:
    title, _, text = ctx.arguments.partition("\n")
    duration, topics, title = _options(ctx, title.strip())
    title, text = _title_and_text(ctx, title, text)
    number = await ctx.tx.next_number(ctx.kept_under)
    step = transitions.propose(number, title, text, ctx.sender, ctx.now, ctx.settings.code, duration, topics)
    await _announce(ctx, await ctx.save(step))


@COMMANDS.command("joint", "commun", "réseau", "reseau",
                  usage=N_("!joint [<network>] [topic <topic>[,<topic>]] [duration <duration>] <title> (further lines: "
                           "the text)"),
                  summary=N_("propose to the whole network of rooms this room is in (name the network if there are "
                             "several): its ballot is posted in each room, answered in any, decided with one tally"),
                  takes_reference=False, names_network=True)
async def joint(ctx: Context) -> None:
    await propose(ctx)


def _options(ctx: Context, line: str) -> tuple[timedelta | None, tuple[str, ...], str]:
    """The options a proposal's line starts with, in any order — a duration the proposer asks for ("duration 10d",
    "durée 10j") and its topics ("topic transport,culture", "sujet mobilités") — and the rest of the line."""
    duration, topics = None, ()
    while len(words := line.split(maxsplit=2)) >= 2:
        if normalize(words[0]) in DURATION_WORDS and duration is None:
            try:
                duration = parse_duration(words[1], maximum=MAX_ROUND)
            except ValueError as error:
                raise ctx.fail("'{value}' is not a duration a round may have: write e.g. 10d, at most {limit} days "
                               "({problem}).", value=excerpt(words[1], 20), limit=MAX_ROUND.days,
                               problem=excerpt(str(error), 80)) from None
        elif normalize(words[0]) in TOPIC_WORDS and not topics:
            topics = _topics(ctx, words[1])
        else:
            break
        line = words[2] if len(words) > 2 else ""
    return duration, topics, line


def _topics(ctx: Context, written: str) -> tuple[str, ...]:
    """The assembly's topics a command names by id or name, comma-separated ("transport,culture")."""
    found = []
    for name in filter(None, (name.strip() for name in written.split(","))):
        topic = ctx.settings.topic(name)
        if topic is None:
            known = ", ".join(t.id for t in ctx.settings.topics) or ctx.m._("none (assembly.topics)")
            raise ctx.fail("'{value}' is not one of this assembly's topics: {topics}.", value=excerpt(name, 40),
                           topics=known)
        found.append(topic.id)
    return tuple(sorted(set(found)))


def _check_text(ctx: Context, text: str) -> None:
    if len(text) > MAX_TEXT:
        raise ctx.fail("The text is too long ({length} characters, at most {limit}).", length=len(text),
                       limit=MAX_TEXT)


async def _announce(ctx: Context, proposal: Proposal, mentions: tuple[str, ...] = ()) -> None:
    """A new round's ballot, then the reactions to seed on it (once the ballot has its platform id)."""
    about = proposal.challenges or (proposal.verdict.decision if proposal.verdict else None)
    decision = await ctx.tx.load(ctx.kept_under, about) if about else None
    await ctx.say_everywhere(Kind.BALLOT, lambda m, settings: render.ballot(proposal, m, settings, decision=decision),
                             proposal, mentions=mentions)
    for room in [room for room, _ in ctx.places] or [ctx.room]:
        ctx.outbox.append(Outgoing(ctx.next_key(), room, Kind.SEED, number=proposal.number, scope=ctx.scope))


def _check_argument(ctx: Context, text: str) -> None:
    if len(text) > MAX_ARGUMENT:
        raise ctx.fail("The reason or argument is too long ({length} characters, at most {limit}): shorten it, or "
                       "write it in a document and give its link.", length=len(text), limit=MAX_ARGUMENT)


async def _take(ctx: Context, position: Position, acknowledge: bool = True) -> None:
    """Record the sender's position; a block still owing its argument gets a request for it instead of a ✅."""
    _check_argument(ctx, ctx.arguments)
    proposal = await ctx.proposal(member=ctx.sender)
    if proposal.verdict is not None:
        pact.check_not_judged(proposal, getattr(ctx.settings.official(ctx.sender), "id", None))
    step = transitions.take_position(proposal, ctx.sender, position, ctx.arguments, ctx.now, ctx.event_id)
    proposal = await ctx.save(step)
    if not await _counts(ctx, step, acknowledge):
        return
    stance = proposal.current_round.stance_of(ctx.sender)
    if position is Position.BLOCK and ctx.arguments and stance.argument != ctx.arguments.strip():
        # Too short to be an argument: the argument given before stands, and the member is told so.
        await ctx.say(Kind.ERROR, render.argument_kept(proposal, ctx.sender, stance.argument, ctx.m), proposal)
        return
    if rules.owes_argument(proposal.current_round, ctx.sender):
        text = render.block_request(proposal, ctx.sender, ctx.m)
        await ctx.say(Kind.BLOCK_REQUEST, text, proposal, mentions=(ctx.sender,))
    elif acknowledge:
        await ctx.say(Kind.ACK, render.ack(proposal, ctx.sender, ctx.m), proposal)


async def _counts(ctx: Context, step: Step, answer: bool) -> bool:
    """Whether what the member just said is their latest word; if they said something later (an older
    message read late, after a restart), it changes nothing, and a command is told so."""
    round_ = step.proposal.current_round
    if rules.is_latest(step.expressed[0], round_.expressions):
        return True
    if answer:
        stance = round_.stance_of(ctx.sender)
        superseded = RuleViolation("superseded", position=stance and stance.position)
        await ctx.say(Kind.ERROR, render.refusal(render.violation(superseded, ctx.m), ctx.m, None), step.proposal)
    return False


@COMMANDS.on_reaction
async def vote_by_reaction(ctx: Context, position: Position) -> None:
    """A reaction on the ballot: no acknowledgement (a reaction cannot be answered), but a bare block is
    still asked for its argument."""
    await _take(ctx, position, acknowledge=False)


@COMMANDS.on_reply
async def argument_by_reply(ctx: Context) -> None:
    """Plain text in the ballot's thread from a member who owes a block argument: it is the argument."""
    proposal = await ctx.proposal(member=ctx.sender)
    if proposal.state is not State.OPEN or not rules.owes_argument(proposal.current_round, ctx.sender):
        return
    await _take(ctx, Position.BLOCK)


@COMMANDS.command("agree", "accord", "daccord", usage=N_("!agree [#N] [reason]"), summary=N_("agree with a proposal"))
async def agree(ctx: Context) -> None:
    await _take(ctx, Position.AGREE)


@COMMANDS.command("abstain", "abstention", "abstenir", "sabstient", usage=N_("!abstain [#N] [reason]"),
                  summary=N_("abstain: neither for nor against"))
async def abstain(ctx: Context) -> None:
    await _take(ctx, Position.ABSTAIN)


@COMMANDS.command("disagree", "desaccord", "pasdaccord", usage=N_("!disagree [#N] [reason]"),
                  summary=N_("disagree without blocking, with a reason if you wish"))
async def disagree(ctx: Context) -> None:
    await _take(ctx, Position.DISAGREE)


@COMMANDS.command("block", "bloquer", "blocage", "objection", usage=N_("!block [#N] <argument>"),
                  summary=N_("block (object); a block counts only if it is argued"))
async def block(ctx: Context) -> None:
    await _take(ctx, Position.BLOCK)


@COMMANDS.command("unvote", "effacer", usage=N_("!unvote [#N]"), summary=N_("withdraw your position"))
async def unvote(ctx: Context) -> None:
    step = transitions.withdraw_position(await ctx.proposal(member=ctx.sender), ctx.sender, ctx.now, ctx.event_id)
    proposal = await ctx.save(step)
    if await _counts(ctx, step, answer=True):
        await ctx.say(Kind.ACK, render.ack(proposal, ctx.sender, ctx.m), proposal)


@COMMANDS.command("status", "statut", usage=N_("!status [#N]"), summary=N_("show a proposal, its tally and positions"),
                  needs=MEMBERS)
async def status(ctx: Context) -> None:
    if ctx.reference is None and len(await ctx.tx.numbers(ctx.room, (State.OPEN,))) != 1:
        await _list(ctx)
        return
    proposal = await ctx.proposal(shown_only=True)
    verdicts = await ctx.tx.verdicts_on(ctx.kept_under, proposal.number) if proposal.state in pact.ACCOUNTABLE else []
    text = render.status(proposal, ctx.participation(proposal), ctx.m, ctx.settings, ctx.now, verdicts)
    if ctx.facts.members_by_room is not None:
        joint_text.participation_by_room(text, proposal.current_round, ctx.facts.members_by_room, ctx.places, ctx.m)
    await ctx.say(Kind.STATUS, text, proposal)


@COMMANDS.command("list", "liste", usage=N_("!list [topic <topic>] [page]"), needs=NETWORKS,
                  summary=N_("list the proposals of this room and the joint decisions it takes part in, the newest "
                             "first, 20 a page (those on a topic only, with topic)"))
async def list_(ctx: Context) -> None:
    topic, rest = _keyword(ctx.arguments, TOPIC_WORDS)
    topic = _topics(ctx, topic)[0] if topic is not None else None
    page = rest.split()[0] if rest.split() else "1"
    if not page.isdecimal() or len(page) > 6 or int(page) < 1:
        raise ctx.fail("'{value}' is not a page number.", value=excerpt(page, 20))
    await _list(ctx, int(page), topic)


async def _list(ctx: Context, page: int = 1, topic: str | None = None) -> None:
    total, summaries = await ctx.tx.summaries((ctx.room, *ctx.facts.joint_scopes), (page - 1) * PAGE, PAGE, topic)
    pages = max(1, -(-total // PAGE))
    if page > pages:
        raise ctx.fail("The last page is {pages}.", pages=pages)
    named = ctx.settings.topic(topic).name(ctx.settings.language) if topic else None
    await ctx.say(Kind.STATUS, render.listing(total, page, pages, summaries, ctx.m, topic, named))


@COMMANDS.command("topics", "sujets", usage=N_("!topics [#N [<topic>[,<topic>] | none]]"), needs=FACILITATOR,
                  summary=N_("the assembly's topics; with #N, a proposal's; with topics after it, set them (its "
                             "proposer or a facilitator)"), in_use=WITH_TOPICS)
async def topics(ctx: Context) -> None:
    if ctx.reference is None:
        await ctx.say(Kind.STATUS, topics_text.assembly(ctx.settings, ctx.m))
        return
    proposal = await ctx.proposal()
    if ctx.arguments:
        chosen = () if normalize(ctx.arguments) in NONE_WORDS else _topics(ctx, ctx.arguments)
        proposal = await ctx.save(transitions.set_topics(proposal, chosen, ctx.sender, ctx.facilitator, ctx.now))
    if not ctx.arguments:
        await ctx.say(Kind.STATUS, topics_text.of_proposal(proposal, None, ctx.settings, ctx.m), proposal)
        return
    await ctx.say_everywhere(Kind.ANNOUNCEMENT, lambda m, settings: topics_text.of_proposal(proposal, ctx.sender,
                                                                                             settings, m), proposal)


@COMMANDS.command("round", "tour", usage=N_("!round [#N] [amended text] — or !round [#N] consent, the amended text "
                                            "on the next lines"),
                  summary=N_("open the next round after a postponement, or after a rejection once its lock has "
                             "passed (proposer or facilitator); 'consent' alone on the line keeps a consent round "
                             "where a majority round is due (facilitator)"),
                  needs=FACILITATOR)
async def round_(ctx: Context) -> None:
    proposal = await ctx.proposal(State.POSTPONED, State.REJECTED)
    # The keyword is alone on the command's line; an amended text follows on the next lines, so that a text
    # that starts with the word ("Consentement éclairé requis…") is never taken for it.
    first_line, _, rest = ctx.arguments.partition("\n")
    consent_instead = normalize(first_line.strip()) in CONSENT_WORDS
    text = rest if consent_instead else ctx.arguments
    assessment, text = _assessment(ctx, text) if proposal.verdict is not None and text.strip() else (None, text)
    _check_text(ctx, text)
    step = transitions.open_next_round(
        proposal, ctx.sender, ctx.facilitator, ctx.now, ctx.settings.code, text, consent_instead, assessment
    )
    proposal = await ctx.save(step)
    await _announce(ctx, proposal)


@COMMANDS.command("amend", "amender", usage=N_("!amend [#N] <new text> — for a verdict: <assessment>: <reason>"),
                  summary=N_("amend the text between rounds (proposer or facilitator)"), needs=FACILITATOR)
async def amend(ctx: Context) -> None:
    proposal = await ctx.proposal(State.POSTPONED, State.REJECTED)
    assessment, text = _assessment(ctx, ctx.arguments) if proposal.verdict is not None else (None, ctx.arguments)
    _check_text(ctx, text)
    step = transitions.amend(proposal, ctx.sender, ctx.facilitator, text, ctx.now, assessment)
    proposal = await ctx.save(step)
    await ctx.say_everywhere(Kind.ANNOUNCEMENT, lambda m, _: render.amended(proposal, ctx.sender, m), proposal)


@COMMANDS.command("withdraw", "retirer", usage=N_("!withdraw [#N]"),
                  summary=N_("withdraw a proposal that is not decided (proposer or facilitator)"), needs=FACILITATOR)
async def withdraw(ctx: Context) -> None:
    proposal = await ctx.proposal(State.OPEN, State.POSTPONED)
    step = transitions.withdraw_proposal(proposal, ctx.sender, ctx.facilitator, ctx.now)
    proposal = await ctx.save(step)
    await ctx.say_everywhere(Kind.ANNOUNCEMENT, lambda m, _: Text().line(
        m._("Proposal #{number} ({title}) is withdrawn by {member}."), number=proposal.number, title=proposal.title,
        member=Mention(ctx.sender)), proposal)


@COMMANDS.command("challenge", "contester", usage=N_("!challenge #N [part <which part>:] <reason> (further lines: the "
                                                     "new text; none to repeal)"),
                  summary=N_("call an adopted decision into question, in whole or in part: a new proposal to repeal "
                             "it or change its text, decided like any other; the decision stays in force meanwhile"))
async def challenge(ctx: Context) -> None:
    if ctx.reference is None:
        raise ctx.fail("Name the decision to challenge with #N.")
    decision = await ctx.proposal()
    reason, _, text = ctx.arguments.partition("\n")
    part = ""
    first, _, rest = reason.partition(" ")
    if normalize(first) in PART_WORDS and ":" in rest:
        part, _, reason = rest.partition(":")
    part, reason, text = part.strip(), reason.strip(), text.strip()
    if not rules.has_words(reason):
        raise ctx.fail("A challenge needs a reason.")
    if len(reason) > MAX_TITLE:
        raise ctx.fail("The reason is the challenge's title: at most {limit} characters ({length} given); put "
                       "the rest on the next lines.", length=len(reason), limit=MAX_TITLE)
    if len(part) > MAX_TITLE:
        raise ctx.fail("The part is too long ({length} characters, at most {limit}).", length=len(part),
                       limit=MAX_TITLE)
    _check_text(ctx, text)
    number = await ctx.tx.next_number(ctx.kept_under)
    made, noted = transitions.challenge(decision, number, ctx.sender, reason, text, part, ctx.now,
                                        ctx.settings.code)
    await ctx.save(noted)
    await _announce(ctx, await ctx.save(made))


@COMMANDS.command("extend", "prolonger", usage=N_("!extend #N <duration, e.g. 24h or 2d>"),
                  summary=N_("extend a round's deadline, in working time (facilitator)"), needs=FACILITATOR)
async def extend(ctx: Context) -> None:
    proposal = await ctx.proposal()
    try:
        extension = parse_duration(ctx.arguments)
    except ValueError:
        raise ctx.fail("'{value}' is not a duration: write e.g. 24h or 2d.", value=excerpt(ctx.arguments)) from None
    if extension > MAX_ROUND:
        raise ctx.fail("An extension is at most {limit} days at a time.", limit=MAX_ROUND.days)
    if extension < timedelta(minutes=1):
        # Zero working time counted from a deadline that ends the day before a holiday would start counting after
        # the holiday: "extending" by nothing would move the deadline by a day.
        raise ctx.fail("An extension adds at least a minute of working time: write e.g. 24h or 2d.")
    step = transitions.extend(proposal, ctx.sender, ctx.facilitator, extension, ctx.now, ctx.settings.code)
    proposal = await ctx.save(step)
    await ctx.say_everywhere(Kind.ANNOUNCEMENT, lambda m, _: Text().line(
        m._("Proposal #{number} ({title}): {member} extends the deadline to {deadline}. Reminders will go out again "
            "before it."), number=proposal.number, title=proposal.title, member=Mention(ctx.sender),
        deadline=m.when(proposal.current_round.deadline)), proposal)


@COMMANDS.command("officials", "élus", "elus", usage=N_("!officials"), takes_reference=False,
                  summary=N_("the elected officials bound by the pact: their role, mandate, chat accounts and the "
                             "points of the pact they signed"))
async def officials(ctx: Context) -> None:
    await ctx.say(Kind.STATUS, pact_text.officials(ctx.settings, ctx.m))


@COMMANDS.command("refer", "saisir", takes_reference=False, needs=FACILITATOR,
                  usage=N_("!refer [for <official>] [by <date>] [duration <duration>] <title> (further lines: the "
                           "question)"),
                  summary=N_("an official refers a question to the assembly, whose opinion binds them (a facilitator "
                             "may on an official's behalf with 'for'); 'by' gives the day they need it by, e.g. by "
                             "2027-04-15"))
async def refer(ctx: Context) -> None:
    first, _, text = ctx.arguments.partition("\n")
    named, first = _keyword(first, FOR_WORDS)
    day, first = _keyword(first, BY_WORDS)
    sender = ctx.settings.official(ctx.sender)
    if named is None and sender is None:
        raise ctx.fail("Only an official refers a question, from their chat account, or a facilitator on their "
                       "behalf: !refer for <official> <title> (see !officials).")
    official = sender if named is None else _official(ctx, named)
    if official is not sender and not ctx.facilitator:
        raise ctx.fail("Only a facilitator refers a question on an official's behalf.")
    needed_by = _day(ctx, day) if day is not None else None
    duration, topics, title = _options(ctx, first.strip())
    title, text = _title_and_text(ctx, title, text)
    number = await ctx.tx.next_number(ctx.kept_under)
    step = pact.refer(number, title, text, official.id, needed_by, ctx.sender, ctx.now, ctx.settings.code, duration,
                      topics)
    await _announce(ctx, await ctx.save(step), mentions=pact_text.accounts((official.id,), ctx.settings))


@COMMANDS.command("bind", "lier", usage=N_("!bind #N <official>"), needs=FACILITATOR,
                  summary=N_("bind an official to apply a question or a decision, besides the one who referred it "
                             "(facilitator)"))
async def bind(ctx: Context) -> None:
    await _binding(ctx, bound=True)


@COMMANDS.command("unbind", "délier", "delier", usage=N_("!unbind #N <official>"), needs=FACILITATOR,
                  summary=N_("say that an official is no longer bound to apply it (facilitator); what was recorded "
                             "about them stays"))
async def unbind(ctx: Context) -> None:
    await _binding(ctx, bound=False)


async def _binding(ctx: Context, bound: bool) -> None:
    proposal = await ctx.proposal(State.OPEN, State.POSTPONED, State.ADOPTED)
    official = _official(ctx, ctx.arguments.split()[0] if ctx.arguments.split() else "")
    change = pact.bind if bound else pact.unbind
    proposal = await ctx.save(change(proposal, official.id, ctx.sender, ctx.facilitator, ctx.now))
    await ctx.say(Kind.ANNOUNCEMENT, pact_text.bound_changed(proposal, official.id, ctx.sender, bound, ctx.settings,
                                                             ctx.m), proposal,
                  mentions=pact_text.accounts((official.id,), ctx.settings))


@COMMANDS.command("fact", "fait", usage=N_("!fact #N <official> [on <date>] <what was done> [source: <link or "
                                           "reference>]"),
                  summary=N_("record what an official did to apply a decision: dated, with its source, kept for good "
                             "(any member)"))
async def fact(ctx: Context) -> None:
    decision = await ctx.proposal(State.ADOPTED)
    official, rest = _official_and_rest(ctx)
    day, rest = _keyword(rest, ON_WORDS)
    happened_on = _day(ctx, day) if day is not None else None
    what, source = _source(rest)
    _check_argument(ctx, what)
    _check_argument(ctx, source)
    today = ctx.now.astimezone(ctx.settings.code.calendar.zone).date()
    step = pact.record_fact(decision, official.id, ctx.sender, what, happened_on, source, ctx.now, today)
    decision = await ctx.save(step)
    await ctx.say(Kind.FACT, pact_text.fact_recorded(decision, ctx.settings, ctx.m), decision,
                  mentions=pact_text.accounts((official.id,), ctx.settings))


@COMMANDS.command("statement", "déclaration", "declaration", "followup", "suivi",
                  usage=N_("!statement #N <what you did, in your own words>"),
                  summary=N_("an official says what they did to apply a decision: shown as their statement, never as "
                             "the assembly's record or verdict (replaces !followup)"))
async def statement(ctx: Context) -> None:
    decision = await ctx.proposal(State.ADOPTED)
    official = ctx.settings.official(ctx.sender)
    if official is None:
        raise ctx.fail("Only an official makes a statement, from their chat account (see !officials). What an "
                       "official did is recorded with !fact #{number} <official> <what was done>.",
                       number=decision.number)
    _check_argument(ctx, ctx.arguments)
    decision = await ctx.save(pact.make_statement(decision, official.id, ctx.sender, ctx.arguments, ctx.now))
    await ctx.say(Kind.STATEMENT, pact_text.statement_made(decision, ctx.settings, ctx.m), decision)


@COMMANDS.command("verdict", "jugement", usage=N_("!verdict #N <official> <respected | partly respected | not "
                                                  "respected>: <reason> (further lines: more of it)"),
                  summary=N_("propose the assembly's verdict on how an official applied a decision: a proposal decided "
                             "like any other; only an adopted verdict enters the official's record"))
async def verdict(ctx: Context) -> None:
    if ctx.reference is None:
        raise ctx.fail("Name the decision with #N.")
    decision = await ctx.proposal()
    official, rest = _official_and_rest(ctx)
    assessment, reason = _assessment(ctx, rest)
    _check_text(ctx, reason)
    title = ctx.m._("Verdict on {official}: decision #{number}", official=official.name, number=decision.number)
    number = await ctx.tx.next_number(ctx.kept_under)
    made, noted = pact.propose_verdict(decision, number, official.id, assessment, title[:MAX_TITLE], reason,
                                       ctx.sender, ctx.now, ctx.settings.code)
    await ctx.save(noted)
    await _announce(ctx, await ctx.save(made), mentions=pact_text.accounts((official.id,), ctx.settings))


def _official(ctx: Context, named: str) -> OfficialSettings:
    """The official a command names by id or chat account (a clear answer if none is)."""
    official = ctx.settings.official(named.strip().rstrip(":,"))
    if official is None:
        raise ctx.fail("'{named}' is no official of this assembly: name one by their id (see !officials).",
                       named=excerpt(named, 40))
    return official


def _official_and_rest(ctx: Context) -> tuple[OfficialSettings, str]:
    words = ctx.arguments.split(maxsplit=1)
    if not words:
        raise ctx.fail("Name the official (see !officials).")
    return _official(ctx, words[0]), words[1] if len(words) > 1 else ""


def _keyword(line: str, words: set[str]) -> tuple[str | None, str]:
    """The value after a leading keyword ("by 2027-04-15 …", "pour dupont …"), and the rest of the line."""
    parts = line.split(maxsplit=2)
    if len(parts) >= 2 and normalize(parts[0]) in words:
        return parts[1], parts[2] if len(parts) > 2 else ""
    return None, line


def _day(ctx: Context, written: str) -> date:
    """A day as members write it: 2027-04-15, or 15/04/2027."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(written, pattern).date()
        except ValueError:
            pass
    raise ctx.fail("'{value}' is not a date: write e.g. 2027-04-15 or 15/04/2027.", value=excerpt(written, 20))


def _source(text: str) -> tuple[str, str]:
    """What was done, and its source after "source:" (the last one, on any line)."""
    match = SOURCE.search(text)
    if match is None:
        return text.strip(), ""
    return (text[:match.start()].strip(), text[match.end():].strip())


def _assessment(ctx: Context, text: str) -> tuple[Assessment, str]:
    """The assessment the text starts with (up to three words, before a colon or not), and the reason after it."""
    head, colon, tail = text.partition(":")
    words = text.split()
    candidates = ([(head, tail)] if colon else []) + [(" ".join(words[:n]), " ".join(words[n:])) for n in (3, 2, 1)]
    for said, reason in candidates:
        assessment = ASSESSMENT_WORDS.get("".join(normalize(word) for word in said.split()))
        if assessment is not None:
            return assessment, reason.strip()
    raise ctx.fail("Give the assessment then the reason: respected, partly respected or not respected, e.g. !verdict "
                   "#{number} <official> partly respected: the street opened again in August.",
                   number=ctx.reference or "N")


def _title_and_text(ctx: Context, title: str, text: str) -> tuple[str, str]:
    title, text = title.strip(), text.strip()
    if not rules.has_words(title):
        raise ctx.fail("A proposal needs a title.")
    if len(title) > MAX_TITLE:
        raise ctx.fail("The title is too long ({length} characters, at most {limit}).", length=len(title),
                       limit=MAX_TITLE)
    _check_text(ctx, text)
    return title, text


@COMMANDS.command("delegate", "déléguer", usage=N_("!delegate [@member [topic <topic> | #N] [until <date>]]"),
                  summary=N_("entrust your vote to another member, for every round where you take no position — on "
                             "the whole room, on a topic, or on one proposal, until a date if you give one (your own "
                             "position always wins; blocks are never delegated); alone: your delegations and who "
                             "delegates to you"), takes_reference=False, needs=NAMED, in_use=DELEGATING)
async def delegate(ctx: Context) -> None:
    rules.check_delegation_enabled(ctx.settings.delegation)
    if not ctx.arguments:
        in_force = [d for d in await ctx.tx.delegations(ctx.room) if d.in_force(ctx.now)]
        await ctx.say(Kind.STATUS, delegation_text.own(ctx.sender, in_force, ctx.settings, ctx.m))
        return
    trusted = ctx.facts.named
    rules.check_delegate(ctx.sender, trusted)
    scope, rest = await _scope(ctx, ctx.arguments.split(maxsplit=1)[1] if len(ctx.arguments.split()) > 1 else "")
    day, rest = _keyword(rest, UNTIL_WORDS)
    until = _delegation_end(ctx, _day(ctx, day)) if day is not None else None
    if rest.strip():
        raise ctx.fail("'{value}' means nothing here: !delegate @member [topic <topic> | #N] [until <date>].",
                       value=excerpt(rest.strip(), 40))
    given = Delegation(ctx.sender, trusted, scope, until)
    if await ctx.tx.delegation_of(ctx.room, ctx.sender, scope) != given:
        await ctx.tx.record_delegation(ctx.room, ctx.sender, trusted, ctx.now, ctx.event_id, "given", scope, until)
        if until is not None:
            ctx.wakes.append(until)
    cycle = await _comes_back(ctx, trusted, scope)
    text = delegation_text.delegated(given, cycle, ctx.settings, ctx.m)
    await ctx.say(Kind.DELEGATION, text, mentions=(trusted,), details=delegation_text.details(given))


def _delegation_end(ctx: Context, last_day: date) -> datetime:
    """When a delegation "until <day>" lapses: at the end of that day, in the assembly's zone; a day to come, within
    a municipal mandate (six years)."""
    today = ctx.now.astimezone(ctx.m.zone).date()
    if last_day < today:
        raise ctx.fail("{day} has passed: a delegation lasts until a day to come.", day=ctx.m.date(last_day))
    if last_day > today + MAX_DELEGATION:
        raise ctx.fail("A delegation lasts at most six years (a mandate): give a day before {day}.",
                       day=ctx.m.date(today + MAX_DELEGATION))
    return ctx.settings.code.calendar.local_midnight(last_day + timedelta(days=1))


async def _scope(ctx: Context, text: str) -> tuple[str, str]:
    """What a delegation covers, as the command's words say after the member: "topic <topic>" a topic, "#N" one
    proposal of this room, nothing the whole room; and the rest of the words."""
    topic, rest = _keyword(text, TOPIC_WORDS)
    if topic is not None:
        return f"topic:{_topics(ctx, topic)[0]}", rest
    words = text.split(maxsplit=1)
    if words and REFERENCE.fullmatch(words[0]):
        number = int(words[0][1:]) if len(words[0]) < 11 else 0
        if number not in await ctx.tx.numbers(ctx.room):
            raise ctx.fail("There is no proposal #{number} in this room.", number=excerpt(words[0][1:], 12))
        return f"proposal:{number}", words[1] if len(words) > 1 else ""
    return "", text


async def _comes_back(ctx: Context, delegate: str, scope: str) -> bool:
    """Whether the chain of delegations on this scope from ``delegate`` leads back to the sender (a cycle: nobody on
    it counts by delegation there). One lookup per link, so it costs the chain's length, not the room's size."""
    seen = {ctx.sender}
    node: str | None = delegate
    while node is not None and node not in seen:
        seen.add(node)
        found = await ctx.tx.delegation_of(ctx.room, node, scope)
        node = found.delegate if found is not None else None
    return node == ctx.sender


@COMMANDS.command("undelegate", "révoquer", usage=N_("!undelegate [topic <topic> | #N]"), takes_reference=False,
                  summary=N_("end your delegation (on the whole room, a topic or one proposal): from then on your own "
                             "positions, or your other delegations, count"), in_use=DELEGATING)
async def undelegate(ctx: Context) -> None:
    rules.check_delegation_enabled(ctx.settings.delegation)
    scope, _ = await _scope(ctx, ctx.arguments)
    ended = await ctx.tx.delegation_of(ctx.room, ctx.sender, scope)
    if ended is None:
        raise ctx.fail("You have no such delegation to end (!delegate shows yours).")
    await ctx.tx.record_delegation(ctx.room, ctx.sender, None, ctx.now, ctx.event_id, "ended", scope)
    await ctx.say(Kind.DELEGATION, delegation_text.undelegated(ended, ctx.settings, ctx.m),
                  details={**delegation_text.details(ended), "delegate": None})


@COMMANDS.command("delegations", "délégations", usage=N_("!delegations"), takes_reference=False, in_use=DELEGATING,
                  summary=N_("every delegation in force in this room, by delegate, with what it covers and until when"))
async def delegations(ctx: Context) -> None:
    rules.check_delegation_enabled(ctx.settings.delegation)
    in_force = [d for d in await ctx.tx.delegations(ctx.room) if d.in_force(ctx.now)]
    await ctx.say(Kind.STATUS, delegation_text.room(in_force, ctx.settings, ctx.m))


@COMMANDS.command("link", "associer", usage=N_("!link [code]"), takes_reference=False, needs=NETWORKS,
                  summary=N_("count once in joint decisions with your account on the other platform: a code from one "
                             "account, said from the other, confirmed from the first"))
async def link_accounts(ctx: Context) -> None:
    await linking.link(ctx)


@COMMANDS.command("unlink", "dissocier", usage=N_("!unlink"), takes_reference=False,
                  summary=N_("undo the link between your accounts of the two platforms"))
async def unlink_accounts(ctx: Context) -> None:
    await linking.unlink(ctx)


@COMMANDS.command("history", "historique", usage=N_("!history #N"),
                  summary=N_("the whole trace of a proposal: its versions, rounds, positions and what was done"))
async def history(ctx: Context) -> None:
    if ctx.reference is None:
        raise ctx.fail("Name the proposal with #N (see !list).")
    proposal = await ctx.proposal()
    lines = await ctx.tx.history(ctx.kept_under, proposal.number)
    await ctx.say(Kind.HISTORY, render.history(proposal, lines, ctx.m), proposal)


@COMMANDS.command("help", "aide", usage=N_("!help [command]"), summary=N_("list the commands, or explain one"))
async def help_(ctx: Context) -> None:
    text = Text()
    if ctx.arguments:
        command = COMMANDS.find(ctx.arguments.split()[0])
        if command is None:
            raise ctx.fail("Unknown command !{verb}. Send !help for the list of commands.",
                           verb=excerpt(ctx.arguments.split()[0].removeprefix("!"), 30))
        text.line("{usage}", usage=ctx.m._(command.usage))
        text.line("{summary}", summary=ctx.m._(command.summary))
        if command.aliases:
            names = ", ".join("!" + name for name in (command.verb, *command.aliases))
            text.line(ctx.m._("Names: {names}"), names=names)
        await ctx.say(Kind.HELP, text)
        return
    text.line(ctx.m._("Commands (a proposal is named #N; leave it out when answering its ballot or when only "
                      "one proposal is open):"), strong=True)
    for command in filter(lambda command: command.in_use(ctx.settings), COMMANDS.commands):
        text.line(ctx.m._("{usage}: {summary}"), usage=ctx.m._(command.usage), summary=ctx.m._(command.summary))
    await ctx.say(Kind.HELP, text)
