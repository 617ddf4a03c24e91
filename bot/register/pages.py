"""The register's HTML pages: Jinja2 templates (autoescape: every byte of member text is escaped) and what they
need to speak the assembly's language — translations, dates as the chat writes them, labels, links."""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from bot.config.networks import network_label
from bot.engine.model import Action, Assessment, Position, Reason, Rule, State
from bot.engine.pact import PACT_POINTS
from bot.messages import render
from bot.messages.i18n import N_, translations
from bot.messages.lines import ASSESSMENT_LABELS, RULE_LABELS, STATE_LABELS
from bot.messages.pact import POINT_LABELS
from bot.register.diff import changes
from bot.register.links import (api, feed_path, official_feed_path, official_path, officials_path, proposal_path,
                                room_path, topic_feed_path, topic_path, topics_path)
from bot.register.views import Amendment, Site, amendment, valid
from storage.register import Header, HistoryRecord, PositionRecord, Record, RoundRecord

REASON_LABELS = {
    Reason.NO_VALID_BLOCK: N_("no valid block"),
    Reason.VALID_BLOCK: N_("blocked"),
    Reason.NO_QUORUM: N_("the quorum was not reached"),
    Reason.MAJORITY_REACHED: N_("the majority was reached"),
    Reason.MAJORITY_MISSED: N_("the majority was not reached"),
}
DELEGATED = {
    ("", True): N_("counted by delegation, with the position of {delegate}"),
    ("", False): N_("counted by delegation, with the position of their delegate"),
    ("topic", True): N_("counted by their delegation on the proposals on {topic}, with the position of {delegate}"),
    ("topic", False): N_("counted by their delegation on the proposals on {topic}, with the position of their "
                         "delegate"),
    ("proposal", True): N_("counted by their delegation on this proposal, with the position of {delegate}"),
    ("proposal", False): N_("counted by their delegation on this proposal, with the position of their delegate"),
}
"""Why a member who took no position counted with one, by the scope of their delegation that counted (the room's
says no more), with names or without."""
LINKED = {Action.CHALLENGED, Action.REPEALED, Action.REVISED, Action.VERDICT_PROPOSED}
"""History lines whose detail is another proposal's number: linked to its page."""
ABOUT_AN_OFFICIAL = {Action.BOUND, Action.UNBOUND, Action.FACT_RECORDED, Action.STATEMENT_MADE}
"""History lines whose detail is an official's id: named, and linked to their record."""
WEB_ADDRESS = re.compile(r"https?://\S+", re.IGNORECASE)
"""A source that is a web address: shown as a link (escaped like any text, it cannot leave its attribute); any
other source, as text."""


@functools.cache
def environment() -> Environment:
    return Environment(loader=PackageLoader("bot.register", "templates"), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, auto_reload=False)


class Page:
    """A page in one assembly's language and time zone (the default assembly's for pages about no room)."""

    def __init__(self, site: Site, room: str | None) -> None:
        self.site = site
        self.room = room
        self.m = site.messages(room)
        self.language = self.m.language
        self._days: dict[date, str] = {}
        """Each local day written once: an official's page dates hundreds of facts, most on a few days."""

    def _(self, message: str, **params: Any) -> Markup:
        """A translated template with its parameters escaped (unless they are markup this page made)."""
        return escape(translations(self.language).gettext(message)).format(**params)

    def n_(self, singular: str, plural: str, n: int, **params: Any) -> Markup:
        """The template for ``n`` (singular or plural, in the page's language) with ``params`` escaped."""
        return escape(self.m.n_(singular, plural, n)).format(**params)

    def when(self, moment: Any) -> Markup:
        """A date as the chat writes it, in a <time> element that machines read."""
        return Markup('<time datetime="{}">{}</time>').format(self.site.iso(self.room, moment), self.m.when(moment))

    def day(self, moment: Any) -> Markup:
        local = self.site.iso(self.room, moment)
        return Markup('<time datetime="{}">{}</time>').format(local, self._day(date.fromisoformat(local[:10])))

    def date(self, day: date) -> Markup:
        """A calendar day (a mandate, the day a fact happened): no time, no zone."""
        return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), self._day(day))

    def _day(self, day: date) -> str:
        written = self._days.get(day)
        if written is None:
            written = self._days[day] = self.m.date(day)
        return written

    def href(self, path: str) -> str:
        return self.site.base + path

    def room_href(self, room: str) -> str:
        return self.href(room_path(room))

    def proposal_href(self, number: int) -> str:
        return self.href(proposal_path(self.room or "", number))

    def api_href(self, path: str) -> str:
        return self.href(api(path))

    def feed_href(self, room: str) -> str:
        return self.href(feed_path(room))

    def officials_href(self, room: str) -> str:
        return self.href(officials_path(room))

    def official_href(self, official: str) -> str:
        return self.href(official_path(self.room or "", official))

    def official_feed_href(self, official: str) -> str:
        return self.href(official_feed_path(self.room or "", official))

    def topics_href(self, room: str) -> str:
        return self.href(topics_path(room))

    def topic_href(self, topic: str) -> str:
        return self.href(topic_path(self.room or "", topic))

    def topic_feed_href(self, topic: str) -> str:
        return self.href(topic_feed_path(self.room or "", topic))

    def topic(self, topic: str) -> Markup:
        """A topic named in the assembly's language and linked to its proposals."""
        return Markup('<a href="{}">{}</a>').format(self.topic_href(topic), self.topic_name(topic))

    def topic_name(self, topic: str) -> str:
        return self.site.topic_name(self.room or "", topic)

    def topics(self, topics: tuple[str, ...] | list[str]) -> Markup:
        """Topics named and linked, comma-separated."""
        return Markup(", ").join(self.topic(topic) for topic in topics)

    def line_href(self, header: Header) -> str:
        """A proposal's page from a list: the room's own, or a joint decision of one of its networks."""
        return self.href(proposal_path(header.room, header.number))

    def reference(self, header: Header) -> str:
        """How the chat names a proposal: #3, or #metropole-3 for a joint decision."""
        network = network_label(header.room)
        return f"#{network}-{header.number}" if network else f"#{header.number}"

    def joint(self, scope: str) -> Markup:
        """A joint decision marked as such: "joint decision of <network>", linked to the network's page."""
        return self._("joint decision of {network}", network=self.joint_network(scope))

    def joint_network(self, scope: str) -> Markup:
        """A network named and linked to its page."""
        return Markup('<a href="{}">{}</a>').format(self.room_href(scope), self.site.name(scope))

    def link(self, number: int) -> Markup:
        return Markup('<a href="{}">#{}</a>').format(self.proposal_href(number), number)

    def official(self, official: str) -> Markup:
        """An official named and linked to their record."""
        return Markup('<a href="{}">{}</a>').format(self.official_href(official),
                                                   self.site.official_name(self.room or "", official))

    def role(self, official: str) -> str:
        declared = self.site.declared(self.room or "", official)
        return declared.role if declared is not None else ""

    def source(self, source: str) -> Markup:
        """Where a fact can be checked: a link when it is a web address, else the text as written."""
        if WEB_ADDRESS.fullmatch(source):
            return Markup('<a href="{}" rel="nofollow ugc">{}</a>').format(source, source)
        return escape(source)

    def assessment(self, assessment: Assessment | None) -> str:
        return self.m._(ASSESSMENT_LABELS[assessment]) if assessment is not None else ""

    def point(self, point: str) -> str:
        """A point of the pact, as an official signs it."""
        return self.m._(POINT_LABELS[point])

    @property
    def points(self) -> tuple[str, ...]:
        return PACT_POINTS

    def name(self, room: str) -> str:
        return self.site.name(room)

    def state(self, state: State) -> str:
        return self.m._(STATE_LABELS[state])

    def rule(self, rule: Rule) -> str:
        return self.m._(RULE_LABELS[rule])

    def reason(self, reason: Reason) -> str:
        return self.m._(REASON_LABELS[reason])

    def position(self, r: RoundRecord, p: PositionRecord) -> str:
        if not valid(r, p):
            return self.m._("block without argument (not valid)")
        if p.position is Position.BLOCK and r.rule is Rule.MAJORITY:
            return self.m._("block (a vote against)")
        return render.position_label(p.position, self.m)

    def delegation(self, p: PositionRecord) -> Markup:
        """Why a member who took no position counted with one: their delegate's, at the close, by their delegation
        on the whole room (said no more), on a topic of the proposal (named, linked), or on this proposal."""
        kind, _, value = (p.scope or "").partition(":")
        kind = kind if kind in ("topic", "proposal") else ""
        return self._(DELEGATED[kind, self.site.show_names], delegate=p.delegated_by,
                      topic=self.topic(value) if kind == "topic" else "")

    def member(self, member: str | None) -> str:
        shown = self.site.member(member)
        return shown if shown is not None else self.m._("a member")

    def history(self, entry: HistoryRecord) -> Markup:
        """One line of a proposal's history, as !history writes it, another proposal named linked to its page."""
        detail: Any = render.history_detail(entry.action, entry.detail, self.m)
        if entry.action in LINKED and detail.isdigit():
            detail = Markup('<a href="{}">{}</a>').format(self.proposal_href(int(detail)), detail)
        elif entry.action is Action.REMOVED_BY_MODERATOR:
            detail = self.member(entry.detail)
        elif entry.action in ABOUT_AN_OFFICIAL:
            detail = self.official(entry.detail)
        elif entry.action is Action.TOPICS_SET and entry.detail:
            detail = self.topics(entry.detail.split(","))
        position = render.position_label(entry.position, self.m) if entry.position else ""
        return self._(render.HISTORY_LINES[entry.action], member=self.member(entry.member) if entry.member else "—",
                      round=entry.round, position=position, detail=detail)

    def changes(self, record: Record, version: int) -> Any:
        """What changed in version ``version`` (from 2) since the one before."""
        return changes(record.versions[version - 2], record.versions[version - 1])

    def amendment(self, record: Record, version: int) -> Amendment | None:
        """The challenge that made version ``version`` (from 2), if one did, and what it did to the parts it named."""
        return amendment(record, version)

    def render(self, template: str, **context: Any) -> str:
        return environment().get_template(template).render(page=self, _=self._, n_=self.n_, site=self.site,
                                                           **context)
