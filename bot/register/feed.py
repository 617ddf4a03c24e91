"""An assembly's Atom feed: its new proposals (challenges among them), the outcome of every round and the follow-ups
of its decisions, each entry
linking to the proposal's page, so that a mailing list, a wiki or a feed reader publishes every proposal."""

from __future__ import annotations

from feedgen.feed import FeedGenerator

from bot import __version__
from bot.messages import render
from bot.register.links import feed_path, proposal_path, room_path
from bot.register.views import Site
from storage.register import Assembly, FeedEvent


def atom(site: Site, assembly: Assembly, events: list[FeedEvent]) -> bytes:
    """The feed's XML (UTF-8); ``events`` the newest first."""
    room = assembly.room
    m = site.messages(room)
    name = site.name(room)
    feed = FeedGenerator()
    feed.id(site.url(room_path(room)))
    feed.title(name)
    feed.subtitle(m._("Proposals and decisions of {name}", name=name))
    feed.link(href=site.url(room_path(room)), rel="alternate", type="text/html")
    feed.link(href=site.url(feed_path(room)), rel="self", type="application/atom+xml")
    feed.language(m.language)
    feed.author({"name": name})
    feed.rights(site.licence)
    feed.generator("consent-bot", __version__)
    feed.updated(events[0].at if events else assembly.latest)
    for event in events:
        h = event.header
        permalink = site.url(proposal_path(room, h.number))
        entry = feed.add_entry(order="append")
        entry.link(href=permalink, rel="alternate", type="text/html")
        entry.published(event.at)
        entry.updated(event.at)
        if event.followup is not None:
            f = event.followup
            if site.show_names:
                entry.author({"name": f.member})
            entry.id(f"{permalink}#followup-{f.at.isoformat()}")
            entry.title(m._("Follow-up of decision #{number} ({title}): {status}", number=h.number, title=h.title,
                            status=render.followup_label(f.status, f.progress, m)))
            entry.content(f.note, type="text")
            continue
        if site.show_names:
            entry.author({"name": h.proposer})
        if event.round is None:
            entry.id(f"{permalink}#proposed")
            if h.challenges is not None:
                entry.title(m._("Challenge #{number} of decision #{decision}: {title}", number=h.number,
                                decision=h.challenges, title=h.title))
            else:
                entry.title(m._("New proposal #{number}: {title}", number=h.number, title=h.title))
            deadline = m._("Deadline: {deadline}.", deadline=m.when(event.deadline)) if event.deadline else ""
            entry.content("\n\n".join(part for part in (event.text, deadline) if part) or h.title, type="text")
            continue
        r = event.round
        entry.id(f"{permalink}#round-{r.number}")
        code = site.settings(room).code
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
                     rule=m._(render.RULE_LABELS[r.rule]), closed=m.when(r.deadline))
        entry.content(f"{closed}\n{tally}\n{participation}", type="text")
    return feed.atom_str(pretty=False)
