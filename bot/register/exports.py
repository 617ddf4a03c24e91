"""The register's open data: CSV tables with a Frictionless data package, a JSON document, a Markdown document.

CSV files are plain RFC 4180 (a header row, then one row per item; ISO-8601 instants in UTC as the register
stores them, ``2027-06-08T08:00:00.000000+00:00``, sortable as text — the JSON gives the same instants with
the assembly's offset; booleans ``true``/``false``; an empty cell for nothing): spreadsheets and data tools
read them as they are. What describes them — the licence, the export date, each column's type — is in the
data package beside them (``datapackage.json``, the Frictionless Data standard that open-data portals read),
and on the web in HTTP headers (``Link: <datapackage.json>; rel="describedby"``, ``Last-Modified``), never in
the rows.
"""

from __future__ import annotations

import csv
import io
import json
import operator
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from bot.config import MAX_ID_LENGTH, Config
from bot.config.networks import SCOPE_PREFIX
from bot.engine import pact, rules
from bot.engine.pact import PACT_POINTS
from bot.messages.markdown import escape_markdown
from bot.register.links import api, proposal_path, room_path
from bot.register.pages import Page
from bot.register.views import (TABLES, Site, assembly_json, envelope, network_link_json, official_json,
                                officials_of, record_json, topic_json, topics_of, verdict_line_json)
from storage.register import Assembly, Export, Line, OfficialFigures, Record, RegisterReader, TopicFigures
from storage.repository import Repository, to_text

_TALLY = tuple((name, "integer") for name in ("agree", "abstain", "disagree", "block", "unargued_block"))
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "decisions": (
        ("room", "string"), ("proposal", "integer"), ("title", "string"), ("state", "string"),
        ("proposer", "string"), ("proposed_at", "datetime"), ("round", "integer"), ("rule", "string"),
        ("deadline", "datetime"), ("outcome", "string"), ("decided_at", "datetime"), *_TALLY,
        ("answered", "integer"), ("members", "integer"), ("locked_until", "datetime"), ("challenges", "integer"),
        ("challenged_part", "string"), ("repealed_by", "integer"), ("amended_by", "string"),
        ("referred_by", "string"), ("needed_by", "date"), ("verdict_of", "integer"), ("topics", "string"),
        ("network", "string"), ("url", "string"),
    ),
    "positions": (
        ("room", "string"), ("proposal", "integer"), ("round", "integer"), ("rule", "string"), ("member", "string"),
        ("position", "string"), ("argument", "string"), ("valid", "boolean"), ("at", "datetime"),
        ("delegated_by", "string"), ("scope", "string"),
    ),
    "history": (
        ("room", "string"), ("proposal", "integer"), ("round", "integer"), ("at", "datetime"), ("action", "string"),
        ("member", "string"), ("position", "string"), ("argument", "string"), ("detail", "string"),
    ),
    "officials": (
        ("room", "string"), ("official", "string"), ("name", "string"), ("role", "string"), ("declared", "boolean"),
        ("mandate_start", "date"), ("mandate_end", "date"), *((f"pact_{point}", "date") for point in PACT_POINTS),
        ("referrals", "integer"), ("bound", "integer"), ("facts", "integer"), ("statements", "integer"),
        ("verdicts", "integer"), *((key, "integer") for key in pact.record_counts(())), ("url", "string"),
    ),
    "verdicts": (
        ("room", "string"), ("proposal", "integer"), ("decision", "integer"), ("official", "string"),
        ("assessment", "string"), ("assessments", "string"), ("state", "string"), ("proposed_at", "datetime"),
        ("decided_at", "datetime"), ("in_force", "boolean"), ("url", "string"),
    ),
    "facts": (
        ("room", "string"), ("proposal", "integer"), ("official", "string"), ("member", "string"),
        ("at", "datetime"), ("happened_on", "date"), ("text", "string"), ("source", "string"),
    ),
    "statements": (
        ("room", "string"), ("proposal", "integer"), ("official", "string"), ("member", "string"),
        ("at", "datetime"), ("text", "string"),
    ),
}
DESCRIPTIONS = {
    "decisions": "Every proposal, one row each, with its latest round (amended_by: numbers separated by spaces; "
                 "topics: the ids of the assembly's topics it is on, separated by spaces; network: for a joint "
                 "decision of a network of rooms, the network's id, its rows in every table under room "
                 "network:<id>). Instants in every table are UTC.",
    "positions": "Every member's position in every round, as it stood when the round closed (or stands now), by "
                 "proposal, round and member, then the members counted by delegation at the close (delegated_by: "
                 "whose position they counted with; scope: which of their delegations counted, room for the "
                 "room's, topic:<id> for one on a topic of the proposal, proposal:<number> for one on this "
                 "proposal; at: the close); the proposal's address is in decisions.csv.",
    "history": "Every line of every proposal's history, by proposal, in order: who did what, when.",
    "officials": "Every elected official declared by the assembly, then those no longer declared with something on "
                 "record: their mandate, the day they signed each point of the pact (empty: not signed), and their "
                 "record in figures. respected, partly_respected, not_respected: the decisions they are bound to "
                 "apply (or were, with a verdict on them in force) by the assessment of the assembly's verdict in "
                 "force; none: those with no verdict yet.",
    "verdicts": "Every verdict proposed: the assembly's judgment, decided like any proposal, of how an official "
                "applied a decision. assessment: of the text voted on last (assessments: of each version, separated "
                "by spaces); in_force: the latest verdict adopted on that decision and official, the one their "
                "record counts.",
    "facts": "Every fact a member recorded on what an official did to apply a decision, by proposal, in the order "
             "recorded (at: when it was recorded; happened_on: when the official did it, if known; source: where it "
             "can be checked).",
    "statements": "Every statement an official made on their own application of a decision, by proposal, in "
                  "order: the official's word, not the assembly's record. An empty official: a follow-up given by a "
                  "member before the pact.",
}


def rows(site: Site, export: Export, table: str) -> Iterator[list[Any]]:
    """One table's rows, in the order of COLUMNS[table], with the values the JSON API gives (tests/register check
    that they agree) but instants in UTC as stored: written from the stored rows, since an assembly has a row per
    vote."""
    room = export.room
    names = site.show_names
    if table == "decisions":
        fields = operator.itemgetter(
            "room", "number", "title", "state", "proposer", "created_at", "round", "rule", "deadline", "outcome",
            "closed_at", "agree", "abstain", "disagree", "block", "unargued_block", "members", "locked_until",
            "challenges", "part", "repealed_by", "amended_by", "referred_by", "needed_by", "verdict_of")
        for (scope, number, title, state, proposer, created_at, round_, rule, deadline, outcome, closed_at, agree,
             abstain, disagree, block, unargued, members, locked_until, challenges, part, repealed_by, amended_by,
             referred_by, needed_by, verdict_of) in map(fields, export.decisions):
            counts = (agree or 0, abstain or 0, disagree or 0, block or 0, unargued or 0)
            network = network_link_json(site, scope)
            yield [scope, number, title, state, proposer if names else None, created_at, round_, rule, deadline,
                   outcome, closed_at, *counts, sum(counts), members, locked_until, challenges, part or None,
                   repealed_by, " ".join(map(str, json.loads(amended_by))), referred_by, needed_by, verdict_of,
                   " ".join(export.topics.get(scope, {}).get(number, ())), network and network["network"],
                   site.url(proposal_path(scope, number))]
    elif table == "positions":
        fields = operator.itemgetter("room", "number", "round", "rule", "member", "position", "argument", "valid", "at",
                                     "delegated_by", "scope")
        yield from (row if row[7] else _judged(row) for row in map(fields, export.positions))
    elif table == "history":
        yield from map(operator.itemgetter(*(name for name, _ in COLUMNS[table])), export.history)
    elif table in ("facts", "statements"):
        yield from map(operator.itemgetter(*(name for name, _ in COLUMNS[table])), getattr(export, table))
    elif table == "officials":
        for figures in officials_of(site, room, export.figures):
            yield _official_row(site, room, figures)
    elif table == "verdicts":
        yield from _verdict_rows(site, export.verdicts)
    else:
        raise ValueError(f"no table {table!r}: {', '.join(TABLES)}")


def _official_row(site: Site, room: str, figures: OfficialFigures) -> list[Any]:
    """An official's row: their JSON document, flattened (the days of the pact signed, then the record's counts)."""
    data = official_json(site, room, figures)
    return [room, data["official"], data["name"], data["role"], _boolean(data["declared"]), data["mandate_start"],
            data["mandate_end"], *data["pact"].values(), data["referrals"], data["bound"], data["facts"],
            data["statements"], data["verdicts"], *data["record"].values(), data["url"]]


def _verdict_rows(site: Site, verdicts: list[Line]) -> Iterator[list[Any]]:
    """Each verdict, and whether it is the one in force on its decision and official (the engine's rule)."""
    judged: dict[tuple[str, int], list[Line]] = {}
    for line in verdicts:
        judged.setdefault((line.header.verdict.official, line.header.verdict.decision), []).append(line)
    in_force = {pact.verdict_in_force(lines) for lines in judged.values()}
    for line in verdicts:
        h = line.header
        data = verdict_line_json(site, line)
        yield [h.room, h.number, h.verdict.decision, h.verdict.official, data["assessment"],
               " ".join(map(str, h.verdict.assessments)), data["state"], to_text(h.created_at),
               to_text(line.decided_at) if line.decided_at else None, _boolean(line in in_force), data["url"]]


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _judged(row: tuple) -> tuple:
    """A block in a consent round: valid only if it is argued."""
    return (*row[:7], _boolean(rules.is_argued(row[6])), *row[8:])


def write_csv(out: TextIO, table: str, items: Iterable[list[Any]], header: bool = True) -> None:
    """RFC 4180: a header row, then the rows (None is an empty cell)."""
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow([name for name, _ in COLUMNS[table]])
    writer.writerows(items)


def csv_text(site: Site, export: Export, table: str) -> str:
    out = io.StringIO()
    write_csv(out, table, rows(site, export, table))
    return out.getvalue()


def datapackage(site: Site, assemblies: list[Assembly], paths: dict[str, str]) -> dict[str, Any]:
    """The data package describing the CSV files at ``paths`` (table → path or URL): licence, date, columns."""
    one = assemblies[0].room if len(assemblies) == 1 else None
    licence = site.licence
    return {
        "profile": "tabular-data-package",
        "name": _package_name(one or "consent-bot-register"),
        "title": site.name(one) if one else "consent-bot register",
        "licenses": [{"path": licence} if re.match(r"https?://", licence) else {"name": licence}],
        "created": site.iso(None, site.generated_at),
        "homepage": site.url(room_path(one) if one else "/"),
        "resources": [
            {
                "name": table,
                "path": paths[table],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": DESCRIPTIONS[table],
                "schema": {"fields": [{"name": name, "type": kind, **({"format": "any"} if kind == "datetime" else {})}
                                      for name, kind in COLUMNS[table]]},
            }
            for table in TABLES
        ],
    }


def _package_name(room: str) -> str:
    """A data package's name: lower-case letters, digits and - . _ only."""
    return re.sub(r"[^a-z0-9._-]+", "-", room.lower()).strip("-") or "register"


def web_datapackage(site: Site, assembly: Assembly) -> dict[str, Any]:
    base = api(room_path(assembly.room))
    return datapackage(site, [assembly], {table: site.url(f"{base}/{table}.csv") for table in TABLES})


@dataclass(frozen=True)
class Exported:
    """One assembly as an export gives it: every proposal whole, its officials' records in figures, its topics."""

    assembly: Assembly
    records: list[Record]
    officials: list[OfficialFigures]
    topics: list[TopicFigures]


def json_document(site: Site, assemblies: list[Exported]) -> dict[str, Any]:
    """Every assembly with its officials, its topics and every proposal whole, then every network with its joint
    decisions alike: what the JSON API gives page by page, in one document."""
    documents = [{**assembly_json(site, e.assembly),
                  "officials": [official_json(site, e.assembly.room, f) for f in e.officials],
                  "topics": [topic_json(site, e.assembly.room, t) for t in e.topics],
                  "decisions": [record_json(site, r) for r in e.records]}
                 for e in assemblies]
    return {**envelope(site),
            "assemblies": [d for d in documents if d["network"] is None],
            "networks": [d for d in documents if d["network"] is not None]}


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def markdown(site: Site, assemblies: list[Exported]) -> str:
    """A document for people: each assembly, its officials' records, each proposal with its text, rounds, positions,
    what its officials did and the assembly judged, and its history, in the assembly's language (the pages' words)."""
    out: list[str] = []
    for exported in assemblies:
        assembly, records = exported.assembly, exported.records
        page = Page(site, assembly.room)
        m = page.m
        out += [f"# {escape_markdown(site.name(assembly.room))}", "",
                m._("The data of this register is published under the licence {licence}.", licence=site.licence)
                + " " + m._("Generated on {date}.", date=page.m.when(site.generated_at)), ""]
        out += _officials_markdown(page, exported.officials)
        for record in records:
            h = record.header
            title = m._("Proposal #{number}: {title}", number=h.number, title=escape_markdown(h.title))
            out += [f"## {title} ({page.state(h.state)})", ""]
            link = site.url(proposal_path(h.room, h.number))
            out += [f"<{link}>" if link.startswith("http") else f"`{link}`", ""]
            out += _about_markdown(page, record)
            out += [_quoted(record.text or "—"), ""]
            for r in record.rounds:
                state = page.state(r.outcome) if r.outcome else m._("open")
                tally = m._("{agree} agree, {abstain} abstain, {disagree} disagree, {block} block", agree=r.tally.agree,
                            abstain=r.tally.abstain, disagree=r.tally.disagree,
                            block=r.tally.block + r.tally.unargued_block)
                out.append("- " + m._("Round {round}, by {rule}, until {deadline}: {state}", round=r.number,
                                      rule=page.rule(r.rule), deadline=page.m.when(r.deadline), state=state)
                           + f" ({tally})")
                for p in r.positions:
                    member = escape_markdown(page.member(p.member))
                    said = page.delegation(p).striptags() if p.delegated_by else p.argument
                    argument = f" — {escape_markdown(' '.join(said.split()))}" if said else ""
                    out.append(f"  - {member}: {page.position(r, p)}{argument}")
            out += _application_markdown(page, record)
            out += ["", f"### {m._('History')}", ""]
            for entry in record.history:
                out.append(f"- {page.m.when(entry.at)} — {escape_markdown(page.history(entry).striptags())}")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _inline(text: str) -> str:
    """Member text on one line of a list, shown as written."""
    return escape_markdown(" ".join(text.split()))


def _officials_markdown(page: Page, officials: list[OfficialFigures]) -> list[str]:
    """The assembly's elected officials and their records in figures."""
    if not officials:
        return []
    m, room = page.m, page.room or ""
    out = [f"## {m._('Elected officials')}", ""]
    for figures in officials:
        declared = page.site.declared(room, figures.official)
        name = escape_markdown(page.site.official_name(room, figures.official))
        if declared is None:
            about = m._("no longer declared")
        else:
            mandate = (m._("from {start} to {end}", start=m.date(declared.mandate_start), end=m.date(declared.mandate_end))
                       if declared.mandate_end else m._("from {start}", start=m.date(declared.mandate_start)))
            about = ", ".join(part for part in (escape_markdown(declared.role), mandate) if part)
        record = m._("Opinions respected {respected}, partly {partly}, not respected {not_respected}, no verdict yet "
                     "{none}.", respected=figures.record["respected"], partly=figures.record["partly_respected"],
                     not_respected=figures.record["not_respected"], none=figures.record["none"])
        out.append(f"- {name} ({about}): {record}")
    return out + [""]


def _about_markdown(page: Page, record: Record) -> list[str]:
    """Its topics; who referred the question and who is bound to apply it; what a verdict judges."""
    m, h, room = page.m, record.header, page.room or ""
    out = []
    if h.topics:
        out.append(m._("Topics") + ": " + ", ".join(escape_markdown(page.topic_name(t)) for t in h.topics) + ".")
    if h.referral is not None:
        out.append(m._("Referred by {official}, whom the assembly's opinion binds",
                       official=escape_markdown(page.site.official_name(room, h.referral.official)))
                   + (f"; {m._('needed by {date}', date=m.date(h.referral.needed_by))}" if h.referral.needed_by else "")
                   + ".")
    if record.bound:
        out.append(m._("Officials bound to apply it") + ": " + ", ".join(
            escape_markdown(page.site.official_name(room, o)) for o in record.bound) + ".")
    if h.verdict is not None:
        out.append(m._("Verdict on") + " " + m._("how {official} applied decision {link}",
                                                   official=escape_markdown(page.site.official_name(room, h.verdict.official)),
                                                   link=f"#{h.verdict.decision}")
                   + ": " + page.assessment(record.line.assessment) + ".")
    return [" ".join(out), ""] if out else []


def _application_markdown(page: Page, record: Record) -> list[str]:
    """For each official, what members recorded they did, their own statements and the assembly's verdicts; then the
    follow-ups given before the pact, for what they were."""
    m, room = page.m, page.room or ""
    out = []
    if record.accountability:
        out += ["", f"### {m._('Its application by the elected officials')}", ""]
    for a in record.accountability:
        name = escape_markdown(page.site.official_name(room, a.official))
        out.append(f"- **{name}**" + ("" if a.bound else " " + m._("(no longer bound to apply it)")))
        in_force = a.in_force
        out.append("  - " + (m._("The assembly's verdict: {assessment} ({link}, adopted on {date}).",
                                 assessment=page.assessment(in_force.assessment), link=f"#{in_force.number}",
                                 date=m.day(in_force.decided_at)) if in_force else m._("No verdict of the assembly yet.")))
        for f in a.facts:
            happened = m.date(f.happened_on) if f.happened_on else m._("date not given")
            recorded = (m._("recorded on {date} by {member}", date=m.day(f.at), member=escape_markdown(f.member))
                        if page.site.show_names else m._("recorded on {date}", date=m.day(f.at)))
            source = f" — {m._('Source')}: {_inline(f.source)}" if f.source else ""
            out.append(f"  - {happened}: {_inline(f.text)}{source} ({recorded})")
        for s in a.statements:
            said = m._("Statement by {official}, on {date}: the official's own word, not the assembly's record",
                       official=name, date=m.day(s.at))
            out.append(f"  - {said}: {_inline(s.text)}")
        if a.verdicts:
            out.append("  - " + m._("Verdicts proposed:") + " " + ", ".join(
                f"#{v.number} {page.assessment(v.assessment)} ({page.state(v.state)})" for v in a.verdicts))
    if record.followups:
        out += ["", f"### {m._('Follow-ups given before the pact')}", ""]
        for s in record.followups:
            said = m._("Follow-up given by {member} before the pact, on {date}",
                       member=escape_markdown(page.member(s.member)), date=m.day(s.at))
            out.append(f"- {said}: {_inline(s.text)}")
    return out


def _quoted(text: str) -> str:
    return "\n".join("> " + escape_markdown(line) if line else ">" for line in text.split("\n"))


class ExportError(Exception):
    """The export cannot be made as asked (an unknown room, CSV files without a folder to write them in)."""


async def export_register(config: Config, kind: str, room: str | None, output: Path | None,
                          out: TextIO | None = None) -> None:
    """``consent-bot export``: the register's open data, as the web gives it, from the configured database."""
    repository = await Repository.open(config.database)
    try:
        reader = RegisterReader(repository.reading)
        public = config.register.public_url
        site = Site(config, base=public, origin=public, generated_at=datetime.now(timezone.utc))
        # Each assembly's own proposals, then each network's joint decisions: each decision once.
        assemblies = sorted(await reader.assemblies(), key=lambda a: (a.room.startswith(SCOPE_PREFIX), a.room))
        if room is not None:  # the room's, and the joint decisions of its networks
            assemblies = [a for a in assemblies if a.room in (room, *site.joint(room))]
            if not assemblies:
                raise ExportError(f"the register has no proposal in the room {room[:MAX_ID_LENGTH]!r}")
        if kind == "csv":
            if output is None:
                raise ExportError(f"--format csv writes {len(TABLES) + 1} files: give --output FOLDER")
            output.mkdir(parents=True, exist_ok=True)
            done = [await reader.export(a.room, site.show_names) for a in assemblies]
            for table in TABLES:
                with open(output / f"{table}.csv", "w", newline="", encoding="utf-8") as file:
                    write_csv(file, table, (row for export in done for row in rows(site, export, table)))
            package = datapackage(site, assemblies, {table: f"{table}.csv" for table in TABLES})
            (output / "datapackage.json").write_text(json_text(package), encoding="utf-8")
            return
        documents = [Exported(a, await reader.records(a.room), officials_of(site, a.room, await reader.figures(a.room)),
                              topics_of(site, a.room, await reader.topics(a.room))) for a in assemblies]
        text = json_text(json_document(site, documents)) if kind == "json" else markdown(site, documents)
        if output is None:
            (out or sys.stdout).write(text)
        else:
            output.write_text(text, encoding="utf-8")
    finally:
        await repository.close()
