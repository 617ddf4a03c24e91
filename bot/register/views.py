"""What the register publishes, as JSON with stable keys: the API, the CSV files and the exports are made here.

The keys are the ``consent_bot`` payload's where they mean the same (``proposal``, ``round``, ``rule``,
``state``, ``deadline``, ``tally``, ``members``, ``challenges``, ``challenged_part``, ``challenged_by``,
``repealed_by``, ``amended_by``, ``referral``, ``bound``, ``verdict``); unlike the payload, every key is always
present (null, or an empty list, when it does not apply). Instants are ISO-8601 with the assembly's UTC offset,
calendar days (a mandate, the day a fact happened) ISO-8601 dates. With ``show_names: false`` every member id is
null; elected officials are named all the same (they hold a public mandate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.app.context import messages_for
from bot.app.scopes import network_of, networks_of_room
from bot.config import AssemblySettings, Config
from bot.config.networks import SCOPE_PREFIX, network_label
from bot.config.settings import NetworkSettings, OfficialSettings, TopicSettings
from bot.engine import rules
from bot.engine.model import Action, Fact, Referral, State, Statement, Verdict
from bot.engine.pact import PACT_POINTS
from bot.messages.i18n import Messages
from bot.register.diff import Revision, changes, revision
from bot.register.links import (api, feed_path, official_feed_path, official_path, officials_path, proposal_path,
                                room_path, topic_feed_path, topic_path, topics_path)
from storage.register import (EXPORTED, Accountability, Assembly, Header, HistoryRecord, Line, OfficialFigures,
                              PositionRecord, Record, RoomTally, RoundRecord, TopicFigures)

TABLES = EXPORTED
"""The CSV files of an assembly's open data."""
UNDECIDED = (State.OPEN, State.POSTPONED)


@dataclass(frozen=True)
class Site:
    """The register as one request (or one export) sees it: its settings, where its links point, when."""

    config: Config
    base: str
    """What page links start with: the public address, or "" for links relative to the server's root."""
    origin: str
    """What the links in JSON, CSV and feeds start with: the public address, or the address the request came to
    (empty in an export made without a public address: the links are then paths)."""
    generated_at: datetime
    _zones: dict[str | None, ZoneInfo] = field(default_factory=dict, compare=False, repr=False)
    """Each room's time zone, looked up once: an export converts every instant of the register."""
    _networks: dict[str, AssemblySettings] = field(default_factory=dict, compare=False, repr=False)
    """Each network's settings for its joint decisions, made once (the assembly's, with the network's rules)."""

    @property
    def show_names(self) -> bool:
        return self.config.register.show_names

    @property
    def licence(self) -> str:
        return self.config.register.licence

    def settings(self, room: str | None) -> AssemblySettings:
        """A room's settings; for a network's scope (``network:<id>``), those of its joint decisions, in the
        assembly's language."""
        if room is None:
            return self.config.assembly
        if not room.startswith(SCOPE_PREFIX):
            return self.config.for_room(room)
        settings = self._networks.get(room)
        if settings is None:
            network = network_of(self.config, room)
            assembly = self.config.assembly
            settings = self._networks[room] = network.rules_over(assembly, assembly) if network else assembly
        return settings

    def network(self, scope: str) -> NetworkSettings | None:
        """The network a scope is of, as configured (None: a room, or a network no longer declared)."""
        return network_of(self.config, scope)

    def rooms(self, scope: str) -> tuple[str, ...]:
        """The rooms of the network a scope is of, as configured (none: a room, or a network no longer declared)."""
        network = self.network(scope)
        return tuple(network.rooms) if network is not None else ()

    def joint(self, room: str) -> tuple[str, ...]:
        """The scopes of the joint decisions a room takes part in: its networks'."""
        return tuple(network.scope for network in networks_of_room(self.config, room))

    def messages(self, room: str | None) -> Messages:
        return messages_for(self.settings(room))

    def name(self, room: str) -> str:
        """An assembly's name (or its room's id); a network's (``networks[].name``, or its id)."""
        if room.startswith(SCOPE_PREFIX):
            network = self.network(room)
            given = network is not None and "name" in network.model_fields_set and network.name
            return network.name if given else network_label(room)
        return self.settings(room).name or room

    def member(self, member: str | None) -> str | None:
        """A member's id as published: None with ``show_names: false``."""
        return member if self.show_names else None

    def declared(self, room: str, official: str) -> OfficialSettings | None:
        """The official of this id as the room's configuration declares them (None: no longer declared)."""
        return next((o for o in self.settings(room).officials if o.id == official), None)

    def official_name(self, room: str, official: str) -> str:
        """An official as the register names them: their name, or their id once no longer declared."""
        declared = self.declared(room, official)
        return declared.name if declared is not None else official

    def topic(self, room: str, topic: str) -> TopicSettings | None:
        """The topic of this id as the room's configuration declares it (None: no longer declared)."""
        return next((t for t in self.settings(room).topics if t.id == topic), None)

    def topic_name(self, room: str, topic: str) -> str:
        """A topic as the register names it: its name in the assembly's language, or its id (no name in that
        language, or no longer declared)."""
        declared = self.topic(room, topic)
        return declared.name(self.settings(room).language) if declared is not None else topic

    def iso(self, room: str | None, moment: datetime | None) -> str | None:
        """An instant in ISO-8601 with the assembly's UTC offset (None stays None)."""
        return moment.astimezone(self._zone(room)).isoformat() if moment is not None else None

    def _zone(self, room: str | None) -> ZoneInfo:
        zone = self._zones.get(room)
        if zone is None:
            zone = self._zones[room] = self.settings(room).code.calendar.zone
        return zone

    def url(self, path: str) -> str:
        return self.origin + path


def envelope(site: Site) -> dict[str, Any]:
    """What every document starts with: the licence of the data and when it was generated."""
    return {"licence": site.licence, "generated_at": site.iso(None, site.generated_at)}


def index(site: Site, scopes: list[Assembly]) -> tuple[list[Assembly], list[Assembly]]:
    """The assemblies and the networks, from where the register keeps proposals (rooms, and networks' scopes): each
    room of a network whose joint decisions are on record is an assembly, its counts with those joint decisions."""
    by_scope = {a.room: a for a in scopes}
    networks = [a for a in scopes if a.room.startswith(SCOPE_PREFIX)]
    rooms = {a.room for a in scopes if not a.room.startswith(SCOPE_PREFIX)}
    for network in networks:
        declared = site.network(network.room)
        rooms.update(declared.rooms if declared is not None else ())
    assemblies = []
    for room in sorted(rooms):
        parts = [by_scope[scope] for scope in (room, *site.joint(room)) if scope in by_scope]
        counts: dict[State, int] = {}
        for part in parts:
            for state, count in part.counts.items():
                counts[state] = counts.get(state, 0) + count
        assemblies.append(Assembly(room, counts, max(part.latest for part in parts)))
    return assemblies, networks


def assembly_json(site: Site, assembly: Assembly) -> dict[str, Any]:
    room = assembly.room
    settings = site.settings(room)
    path = room_path(room)
    return {
        "room": room,
        "name": site.name(room),
        "language": settings.language,
        "timezone": settings.code.calendar.zone.key,
        "proposals": assembly.total,
        "counts": {str(state): assembly.counts.get(state, 0) for state in State},
        "latest_proposal_at": site.iso(room, assembly.latest),
        "url": site.url(path),
        "api_url": site.url(api(path)),
        "feed_url": site.url(feed_path(room)),
        "officials_url": site.url(officials_path(room)),
        "topics_url": site.url(topics_path(room)),
        "data": {**{table: site.url(f"{api(path)}/{table}.csv") for table in TABLES},
                 "datapackage": site.url(f"{api(path)}/datapackage.json")},
        "network": network_link_json(site, room),
        "networks": [network_link_json(site, scope) for scope in site.joint(room)],
        "rooms": [room_link_json(site, member) for member in site.rooms(room)],
    }


def room_link_json(site: Site, room: str) -> dict[str, Any]:
    """A room of a network: its id, its assembly's name and addresses."""
    path = room_path(room)
    return {"room": room, "name": site.name(room), "url": site.url(path), "api_url": site.url(api(path))}


def line_json(site: Site, line: Line) -> dict[str, Any]:
    """A proposal as a list shows it: what it is and where its latest round stands."""
    h, r = line.header, line.latest
    path = proposal_path(h.room, h.number)
    return {
        "proposal": h.number,
        "title": h.title,
        "state": str(h.state),
        "proposer": site.member(h.proposer),
        "proposed_at": site.iso(h.room, h.created_at),
        "round": r.number,
        "rule": str(r.rule),
        "deadline": site.iso(h.room, r.deadline),
        "outcome": str(r.outcome) if r.outcome else None,
        "decided_at": site.iso(h.room, r.closed_at),
        "tally": r.tally.as_dict(),
        "answered": r.tally.answered,
        "members": r.members,
        "locked_until": site.iso(h.room, h.locked_until),
        "challenges": h.challenges,
        "challenged_part": h.part or None,
        "repealed_by": h.repealed_by,
        "amended_by": list(h.amended_by),
        "referral": referral_json(h.referral),
        "verdict": verdict_json(line),
        "topics": [topic_link_json(site, h.room, topic) for topic in h.topics],
        "network": network_link_json(site, h.room),
        "url": site.url(path),
        "api_url": site.url(api(path)),
    }


def network_link_json(site: Site, scope: str) -> dict[str, Any] | None:
    """The network whose joint decision a proposal is: its id, name and addresses (null: a room's own proposal)."""
    network = network_label(scope)
    if not network:
        return None
    path = room_path(scope)
    return {"network": network, "name": site.name(scope), "url": site.url(path),
            "api_url": site.url(api(path))}


def topic_link_json(site: Site, room: str, topic: str) -> dict[str, Any]:
    """A topic as a proposal names it: its id, its name in the assembly's language, its page's addresses."""
    path = topic_path(room, topic)
    return {"topic": topic, "name": site.topic_name(room, topic), "url": site.url(path),
            "api_url": site.url(api(path))}


def topics_of(site: Site, room: str, figures: dict[str, TopicFigures]) -> list[TopicFigures]:
    """The room's topics with their counts: those it declares, in its order, then those no longer declared with
    proposals on them, by id."""
    declared = [t.id for t in site.settings(room).topics]
    return [figures.get(topic, TopicFigures(topic)) for topic in [*declared, *sorted(set(figures) - set(declared))]]


def topic_json(site: Site, room: str, figures: TopicFigures) -> dict[str, Any]:
    """A topic of the assembly: its names in each language (as declared), its proposals by state, its feed."""
    declared = site.topic(room, figures.topic)
    return {
        **topic_link_json(site, room, figures.topic),
        "names": dict(declared.names) if declared is not None else {},
        "declared": declared is not None,
        "proposals": figures.total,
        "counts": {str(state): figures.counts.get(state, 0) for state in State},
        "feed_url": site.url(topic_feed_path(room, figures.topic)),
    }


def referral_json(referral: Referral | None) -> dict[str, Any] | None:
    """Who referred the question to the assembly, and the day they need its opinion by (as in the payload)."""
    if referral is None:
        return None
    return {"official": referral.official, "needed_by": day_json(referral.needed_by)}


def verdict_json(line: Line) -> dict[str, Any] | None:
    """What a verdict judges (as in the payload), and the assessment of each version of its reason."""
    verdict: Verdict | None = line.header.verdict
    if verdict is None:
        return None
    return {"decision": verdict.decision, "official": verdict.official, "assessment": str(line.assessment),
            "assessments": [str(a) for a in verdict.assessments]}


def day_json(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def record_json(site: Site, record: Record) -> dict[str, Any]:
    """A proposal whole, as its page shows it."""
    h = record.header
    return {
        **line_json(site, record.line),
        "text": record.text,
        "challenged_by": [c.number for c in record.challenged_by if c.state in UNDECIDED],
        "challenged_by_all": [link_json(site, c) for c in record.challenged_by],
        "challenge_of": link_json(site, record.challenged) if record.challenged else None,
        "versions": versions_json(site, record),
        "rounds": [round_json(site, h.room, r) for r in record.rounds],
        "history": [history_json(site, h.room, entry) for entry in record.history],
        "verdict_of": link_json(site, record.judged) if record.judged else None,
        "bound": list(record.bound),
        "officials": [accountability_json(site, h.room, a) for a in record.accountability],
        "followups_before_the_pact": [statement_json(site, h.room, s) for s in record.followups],
    }


def official_link_json(site: Site, room: str, official: str) -> dict[str, Any]:
    """An official as a decision names them: id, name, role, and their record's addresses."""
    declared = site.declared(room, official)
    path = official_path(room, official)
    return {"official": official, "name": site.official_name(room, official),
            "role": declared.role if declared is not None else "", "url": site.url(path),
            "api_url": site.url(api(path))}


def accountability_json(site: Site, room: str, a: Accountability) -> dict[str, Any]:
    """What is on record about one official's application of a decision; ``statements`` are the official's own
    word, never the assembly's record; ``verdict_in_force`` is the assembly's judgment (null: none yet)."""
    in_force = a.in_force
    return {
        **official_link_json(site, room, a.official),
        "bound": a.bound,
        "facts": [fact_json(site, room, f) for f in a.facts],
        "statements": [statement_json(site, room, s) for s in a.statements],
        "verdict_in_force": verdict_line_json(site, in_force) if in_force is not None else None,
        "verdicts": [verdict_line_json(site, v) for v in a.verdicts],
    }


def fact_json(site: Site, room: str, f: Fact) -> dict[str, Any]:
    """A fact a member recorded: when it was recorded (``at``), by whom, when it happened, what, and its source."""
    return {"member": site.member(f.member), "at": site.iso(room, f.at), "happened_on": day_json(f.happened_on),
            "text": f.text, "source": f.source}


def statement_json(site: Site, room: str, s: Statement) -> dict[str, Any]:
    return {"member": site.member(s.member), "at": site.iso(room, s.at), "text": s.text}


def verdict_line_json(site: Site, line: Line) -> dict[str, Any]:
    """A verdict proposed on an official's application of a decision, whatever became of it."""
    path = proposal_path(line.header.room, line.number)
    return {"proposal": line.number, "title": line.header.title, "state": str(line.state),
            "assessment": str(line.assessment), "decided_at": site.iso(line.header.room, line.decided_at),
            "url": site.url(path), "api_url": site.url(api(path))}


def officials_of(site: Site, room: str, figures: dict[str, OfficialFigures]) -> list[OfficialFigures]:
    """The room's officials with their figures: those it declares, in its order, then those no longer declared about
    whom something is on record, by id."""
    declared = [o.id for o in site.settings(room).officials]
    return [figures.get(official, OfficialFigures(official))
            for official in [*declared, *sorted(set(figures) - set(declared))]]


def official_json(site: Site, room: str, figures: OfficialFigures) -> dict[str, Any]:
    """An elected official and their record in figures (``record``: the verdicts in force on the decisions they
    are bound to apply, by assessment, ``none`` counting those with none yet)."""
    declared = site.declared(room, figures.official)
    signed = declared.pact if declared is not None else {}
    return {
        **official_link_json(site, room, figures.official),
        "declared": declared is not None,
        "mandate_start": day_json(declared.mandate_start) if declared is not None else None,
        "mandate_end": day_json(declared.mandate_end) if declared is not None else None,
        "pact": {point: day_json(signed.get(point)) for point in PACT_POINTS},
        "referrals": figures.referrals,
        "bound": figures.bound,
        "facts": figures.facts,
        "statements": figures.statements,
        "verdicts": figures.verdicts,
        "record": dict(figures.record),
        "feed_url": site.url(official_feed_path(room, figures.official)),
    }


def link_json(site: Site, header: Header) -> dict[str, Any]:
    """Another proposal a proposal is linked to (a challenge, the decision it challenges)."""
    path = proposal_path(header.room, header.number)
    return {"proposal": header.number, "title": header.title, "state": str(header.state),
            "challenged_part": header.part or None, "url": site.url(path), "api_url": site.url(api(path))}


@dataclass(frozen=True)
class Amendment:
    """A version of a decision's text made by a challenge adopted, and what it did to the parts it named."""

    challenge: Header
    revision: Revision | None
    """The numbered parts it replaced and removed; None when it replaced the whole text (``challenge.part`` empty) or
    added its change after the text (a part named otherwise)."""


def amendment(record: Record, version: int) -> Amendment | None:
    """What made version ``version`` (from 2) of a decision's text, when a challenge did."""
    challenge = record.amended_by(version)
    if challenge is None:
        return None
    return Amendment(challenge, revision(record.versions[version - 2], record.versions[version - 1], challenge.part))


def versions_json(site: Site, record: Record) -> list[dict[str, Any]]:
    """Every version of the text, with the rounds that voted on it, the challenge that made it (if one did: which
    numbered parts it replaced and removed) and what changed from the one before."""
    found = []
    for index, text in enumerate(record.versions):
        amended = amendment(record, index + 1) if index else None
        found.append({
            "version": index + 1,
            "text": text,
            "rounds": [r.number for r in record.rounds if r.version == index + 1],
            "amended_by": None if amended is None else {
                **link_json(site, amended.challenge),
                "replaced_parts": list(amended.revision.replaced) if amended.revision else [],
                "removed_parts": list(amended.revision.removed) if amended.revision else []},
            "changes": None if index == 0 else [
                {"op": str(c.op), "text": c.text, "part": c.part} for c in changes(record.versions[index - 1], text)],
        })
    return found


def round_json(site: Site, room: str, r: RoundRecord) -> dict[str, Any]:
    return {
        "round": r.number,
        "rule": str(r.rule),
        "version": r.version,
        "opened_at": site.iso(room, r.opened_at),
        "deadline": site.iso(room, r.deadline),
        "outcome": str(r.outcome) if r.outcome else None,
        "reason": str(r.reason) if r.reason else None,
        "closed_at": site.iso(room, r.closed_at),
        "closed_offline": r.offline,
        "tally": r.tally.as_dict(),
        "answered": r.tally.answered,
        "members": r.members,
        "positions": [position_json(site, room, r, p) for p in r.positions],
        "rooms": [room_tally_json(site, t) for t in r.rooms],
    }


def room_tally_json(site: Site, t: RoomTally) -> dict[str, Any]:
    """A joint decision's closed round in one room of its network: its members then and the positions they took (a
    member of several rooms counted in each)."""
    path = room_path(t.room)
    return {"room": t.room, "name": site.name(t.room), "members": t.members, "answered": t.tally.answered,
            "tally": t.tally.as_dict(), "url": site.url(path), "api_url": site.url(api(path))}


def valid(r: RoundRecord, p: PositionRecord) -> bool:
    """Whether a position counts as what it says: in a consent round a block counts only if it is argued."""
    return not rules.is_unargued_block(p.position, p.argument, r.rule)


def position_json(site: Site, room: str, r: RoundRecord, p: PositionRecord) -> dict[str, Any]:
    """A position; ``scope``: for a member counted by delegation, which of their delegations counted ("room",
    "topic:<id>", "proposal:<number>"), null for a position taken."""
    return {"member": site.member(p.member), "position": p.position.value, "argument": p.argument,
            "valid": valid(r, p), "at": site.iso(room, p.at), "delegated_by": site.member(p.delegated_by),
            "scope": p.scope}


def history_json(site: Site, room: str, entry: HistoryRecord) -> dict[str, Any]:
    detail: str | None = entry.detail
    if entry.action is Action.REMOVED_BY_MODERATOR:
        detail = site.member(entry.detail)  # the member whose vote was removed
    return {"at": site.iso(room, entry.at), "round": entry.round, "action": entry.action.value,
            "member": site.member(entry.member), "position": entry.position.value if entry.position else None,
            "argument": entry.argument, "detail": detail}
