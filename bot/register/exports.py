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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from bot.config import MAX_ID_LENGTH, Config
from bot.engine import rules

from bot.messages.markdown import escape_markdown
from bot.register.links import api, proposal_path, room_path
from bot.register.pages import Page
from bot.register.views import TABLES, Site, assembly_json, envelope, record_json
from storage.register import Assembly, Export, Record, RegisterReader
from storage.repository import Repository

_TALLY = tuple((name, "integer") for name in ("agree", "abstain", "disagree", "block", "unargued_block"))
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "decisions": (
        ("room", "string"), ("proposal", "integer"), ("title", "string"), ("state", "string"),
        ("proposer", "string"), ("proposed_at", "datetime"), ("round", "integer"), ("rule", "string"),
        ("deadline", "datetime"), ("outcome", "string"), ("decided_at", "datetime"), *_TALLY,
        ("answered", "integer"), ("members", "integer"), ("locked_until", "datetime"), ("challenges", "integer"),
        ("challenged_part", "string"), ("repealed_by", "integer"), ("amended_by", "string"), ("url", "string"),
    ),
    "positions": (
        ("room", "string"), ("proposal", "integer"), ("round", "integer"), ("rule", "string"), ("member", "string"),
        ("position", "string"), ("argument", "string"), ("valid", "boolean"), ("at", "datetime"),
        ("delegated_by", "string"),
    ),
    "history": (
        ("room", "string"), ("proposal", "integer"), ("round", "integer"), ("at", "datetime"), ("action", "string"),
        ("member", "string"), ("position", "string"), ("argument", "string"), ("detail", "string"),
    ),
}
DESCRIPTIONS = {
    "decisions": "Every proposal, one row each, with its latest round (amended_by: numbers separated by spaces). "
                 "Instants in every table are UTC.",
    "positions": "Every member's position in every round, as it stood when the round closed (or stands now), by "
                 "proposal, round and member, then the members counted by delegation at the close (delegated_by: "
                 "whose position they counted with; at: the close); the proposal's address is in decisions.csv.",
    "history": "Every line of every proposal's history, by proposal, in order: who did what, when.",
}


def rows(site: Site, export: Export, table: str) -> Iterator[list[Any]]:
    """One table's rows, in the order of COLUMNS[table], with the values the JSON API gives (tests/register check
    that they agree) but instants in UTC as stored: written from the stored rows, since an assembly has a row per
    vote."""
    room = export.room
    names = site.show_names
    if table == "decisions":
        fields = operator.itemgetter(
            "number", "title", "state", "proposer", "created_at", "round", "rule", "deadline", "outcome", "closed_at",
            "agree", "abstain", "disagree", "block", "unargued_block", "members", "locked_until", "challenges", "part",
            "repealed_by", "amended_by")
        for (number, title, state, proposer, created_at, round_, rule, deadline, outcome, closed_at, agree, abstain,
             disagree, block, unargued, members, locked_until, challenges, part, repealed_by, amended_by
             ) in map(fields, export.decisions):
            counts = (agree or 0, abstain or 0, disagree or 0, block or 0, unargued or 0)
            yield [room, number, title, state, proposer if names else None, created_at, round_, rule, deadline,
                   outcome, closed_at, *counts, sum(counts), members, locked_until, challenges, part or None,
                   repealed_by,
                   " ".join(map(str, json.loads(amended_by))), site.url(proposal_path(room, number))]
    elif table == "positions":
        fields = operator.itemgetter("room", "number", "round", "rule", "member", "position", "argument", "valid", "at",
                                     "delegated_by")
        yield from (row if row[7] else _judged(row) for row in map(fields, export.positions))
    elif table == "history":
        yield from map(operator.itemgetter(*(name for name, _ in COLUMNS[table])), export.history)
    else:
        raise ValueError(f"no table {table!r}: {', '.join(TABLES)}")


def _judged(row: tuple) -> tuple:
    """A block in a consent round: valid only if it is argued."""
    return (*row[:7], "true" if rules.is_argued(row[6]) else "false", *row[8:])


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


def json_document(site: Site, assemblies: list[tuple[Assembly, list[Record]]]) -> dict[str, Any]:
    """Every assembly with every proposal whole: what the JSON API gives page by page, in one document."""
    return {**envelope(site),
            "assemblies": [{**assembly_json(site, assembly), "decisions": [record_json(site, r) for r in records]}
                           for assembly, records in assemblies]}


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def markdown(site: Site, assemblies: list[tuple[Assembly, list[Record]]]) -> str:
    """A document for people: each assembly, each proposal with its text, rounds, positions and history, in the
    assembly's language (the pages' words)."""
    out: list[str] = []
    for assembly, records in assemblies:
        page = Page(site, assembly.room)
        m = page.m
        out += [f"# {escape_markdown(site.name(assembly.room))}", "",
                m._("The data of this register is published under the licence {licence}.", licence=site.licence)
                + " " + m._("Generated on {date}.", date=page.m.when(site.generated_at)), ""]
        for record in records:
            h = record.header
            title = m._("Proposal #{number}: {title}", number=h.number, title=escape_markdown(h.title))
            out += [f"## {title} ({page.state(h.state)})", ""]
            link = site.url(proposal_path(h.room, h.number))
            out += [f"<{link}>" if link.startswith("http") else f"`{link}`", ""]
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
                    said = page.delegation(p) if p.delegated_by else p.argument
                    argument = f" — {escape_markdown(' '.join(said.split()))}" if said else ""
                    out.append(f"  - {member}: {page.position(r, p)}{argument}")
            if record.followups:
                out += ["", f"### {m._('Follow-up')}", ""]
                for f in record.followups:
                    note = escape_markdown(" ".join(f.note.split()))
                    out.append(f"- {page.m.when(f.at)} — {escape_markdown(page.member(f.member))}: "
                               f"{page.followup(f)} — {note}")
            out += ["", f"### {m._('History')}", ""]
            for entry in record.history:
                out.append(f"- {page.m.when(entry.at)} — {escape_markdown(page.history(entry).striptags())}")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


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
        assemblies = await reader.assemblies()
        if room is not None:
            assemblies = [a for a in assemblies if a.room == room]
            if not assemblies:
                raise ExportError(f"the register has no proposal in the room {room[:MAX_ID_LENGTH]!r}")
        public = config.register.public_url
        site = Site(config, base=public, origin=public, generated_at=datetime.now(timezone.utc))
        if kind == "csv":
            if output is None:
                raise ExportError("--format csv writes four files: give --output FOLDER")
            output.mkdir(parents=True, exist_ok=True)
            done = [await reader.export(a.room, site.show_names) for a in assemblies]
            for table in TABLES:
                with open(output / f"{table}.csv", "w", newline="", encoding="utf-8") as file:
                    write_csv(file, table, (row for export in done for row in rows(site, export, table)))
            package = datapackage(site, assemblies, {table: f"{table}.csv" for table in TABLES})
            (output / "datapackage.json").write_text(json_text(package), encoding="utf-8")
            return
        documents = [(a, await reader.records(a.room)) for a in assemblies]
        text = json_text(json_document(site, documents)) if kind == "json" else markdown(site, documents)
        if output is None:
            (out or sys.stdout).write(text)
        else:
            output.write_text(text, encoding="utf-8")
    finally:
        await repository.close()
