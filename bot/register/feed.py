"""Atom feeds: an assembly's — its new proposals (challenges among them), the outcome of every round, and what is
recorded of its elected officials (facts, statements, verdicts adopted) —, each topic's (the assembly's, about the
proposals on it) and each official's — the questions they referred and the assembly's answers, the facts recorded on
them, their statements, the verdicts on them adopted. Every entry links to its proposal's page, so that a mailing list,
a wiki or a feed reader publishes every proposal, and names its proposal's topics as Atom categories."""

from __future__ import annotations

from feedgen.feed import FeedGenerator

from bot import __version__
from bot.app.context import messages_for
from bot.engine.model import State
from bot.messages import render
from bot.messages.i18n import Messages
from bot.messages.lines import ASSESSMENT_LABELS, RULE_LABELS
from bot.register.links import (feed_path, official_feed_path, official_path, proposal_path, room_path,
                                topic_feed_path, topic_path, topics_path)
from bot.register.views import Site
from storage.register import Assembly, FeedEvent


def atom(site: Site, assembly: Assembly, events: list[FeedEvent], official: str | None = None,
         topic: str | None = None) -> bytes:
    """The feed's XML (UTF-8); ``events`` the newest first; ``official``: an official's feed; ``topic``: a topic's."""
    room = assembly.room
    m = site.messages(room)
    name = site.name(room)
    feed = FeedGenerator()
    if topic is not None:
        home, path = topic_path(room, topic), topic_feed_path(room, topic)
        feed.title(f"{site.topic_name(room, topic)} · {name}")
        feed.subtitle(m._("Proposals and decisions of {name} on {topic}", name=name,
                          topic=site.topic_name(room, topic)))
    elif official is None:
        home, path = room_path(room), feed_path(room)
        feed.title(name)
        feed.subtitle(m._("Proposals and decisions of {name}", name=name))
    else:
        home, path = official_path(room, official), official_feed_path(room, official)
        feed.title(m._("{official}, elected official: their record with {name}",
                       official=site.official_name(room, official), name=name))
        feed.subtitle(m._("The questions they referred, the facts recorded on what they did, their statements and "
                          "the assembly's verdicts"))
    feed.id(site.url(home))
    feed.link(href=site.url(home), rel="alternate", type="text/html")
    feed.link(href=site.url(path), rel="self", type="application/atom+xml")
    feed.language(m.language)
    feed.author({"name": name})
    feed.rights(site.licence)
    feed.generator("consent-bot", __version__)
    feed.updated(events[0].at if events else assembly.latest)
    said: dict[str, Messages] = {}
    for event in events:
        h = event.header
        # A joint decision of the room's networks is named as the rooms name it (#metropole-3), in the feed's language.
        m = said.get(h.room) or said.setdefault(h.room, messages_for(site.settings(room), h.room))
        permalink = site.url(proposal_path(h.room, h.number))
        entry = feed.add_entry(order="append")
        entry.link(href=permalink, rel="alternate", type="text/html")
        entry.published(event.at)
        entry.updated(event.at)
        for on in h.topics:
            entry.category(term=on, label=site.topic_name(h.room, on), scheme=site.url(topics_path(h.room)))
        if h.room != room:  # a joint decision of one of the room's networks, marked as such
            entry.category(term=h.room, label=m._("joint decision of {network}", network=site.name(h.room)),
                           scheme=site.url(room_path(h.room)))
        if event.fact is not None:
            f = event.fact
            if site.show_names:
                entry.author({"name": f.member})
            entry.id(f"{permalink}#fact-{event.seq}")
            entry.title(m._("Fact recorded on decision #{number} ({title}) about {official}", number=h.number,
                            title=h.title, official=site.official_name(room, f.official)))
            happened = m.date(f.happened_on) if f.happened_on else m._("date not given")
            source = m._("Source: {source}", source=f.source) if f.source else ""
            entry.content("\n\n".join(part for part in (f"{happened}: {f.text}", source) if part), type="text")
            continue
        if event.statement is not None:
            s = event.statement
            if site.show_names:
                entry.author({"name": s.member})
            entry.id(f"{permalink}#statement-{event.seq}")
            if s.official is None:
                entry.title(m._("Follow-up of decision #{number} ({title}), given before the pact", number=h.number,
                                title=h.title))
            else:
                entry.title(m._("Statement by {official} on decision #{number} ({title}): their own word, not the "
                                "assembly's record", official=site.official_name(room, s.official), number=h.number,
                                title=h.title))
            entry.content(s.text, type="text")
            continue
        if site.show_names:
            entry.author({"name": h.proposer})
        if event.round is None:
            entry.id(f"{permalink}#proposed")
            if h.challenges is not None:
                entry.title(m._("Challenge #{number} of decision #{decision}: {title}", number=h.number,
                                decision=h.challenges, title=h.title))
            elif h.referral is not None:
                entry.title(m._("Question #{number} referred by {official}: {title}", number=h.number,
                                official=site.official_name(room, h.referral.official), title=h.title))
            else:
                entry.title(m._("New proposal #{number}: {title}", number=h.number, title=h.title))
            deadline = m._("Deadline: {deadline}.", deadline=m.when(event.deadline)) if event.deadline else ""
            entry.content("\n\n".join(part for part in (event.text, deadline) if part) or h.title, type="text")
            continue
        r = event.round
        entry.id(f"{permalink}#round-{r.number}")
        if h.verdict is not None and r.outcome is State.ADOPTED:
            assessment = h.verdict.assessments[r.version - 1]
            entry.title(m._("The assembly's verdict (#{number}): {official} on decision #{decision}, {assessment}",
                            number=h.number, official=site.official_name(room, h.verdict.official),
                            decision=h.verdict.decision, assessment=m._(ASSESSMENT_LABELS[assessment])))
        else:
            code = site.settings(h.room).code
            entry.title(m._(render.OUTCOME_HEADLINES[r.reason], number=h.number, title=h.title,
                            majority=render.majority_share(code)))
        tally = m._("Tally: {agree} agree, {abstain} abstain, {disagree} disagree, {block} block, "
                    "{unargued} block without argument.", agree=r.tally.agree, abstain=r.tally.abstain,
                    disagree=r.tally.disagree, block=r.tally.block, unargued=r.tally.unargued_block)
        members = r.members or 0
        participation = m.n_("Participation: {answered} of {count} member.",
                             "Participation: {answered} of {count} members.", members).format(
            answered=r.tally.answered, count=members)
        closed = m._("Round {round}, decided by {rule}, closed on {closed}.", round=r.number,
                     rule=m._(RULE_LABELS[r.rule]), closed=m.when(r.deadline))
        entry.content(f"{closed}\n{tally}\n{participation}", type="text")
    return feed.atom_str(pretty=False)
