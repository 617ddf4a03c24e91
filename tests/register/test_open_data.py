"""The register's open data: CSV tables and JSON that say the same thing, a data package that describes them,
an Atom feed whose every entry leads to its proposal's page, and the same exports from the command line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import datetime
from urllib.parse import urlsplit

import feedparser
import pytest

from bot.cli import main
from bot.register.exports import COLUMNS
from storage.repository import to_text
from tests.register.scenario import (FOLLOWUP_BEFORE_THE_PACT, HOSTILE_FACT, HOSTILE_SOURCE, HOSTILE_STATEMENT,
                                     HOSTILE_TITLE, HOSTILE_TOPIC, NUMBERS, ROOM)

TABLES = tuple(COLUMNS)


def parse_csv(text: str) -> list[dict[str, str]]:
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def cell(value: object, kind: str = "string") -> str:
    """A JSON value as the CSV writes it (an instant: in UTC, as the register stores it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "datetime":
        return to_text(datetime.fromisoformat(value))
    return str(value)


def as_csv(table: str, item: dict) -> dict[str, str]:
    return {name: cell(item[name], kind) for name, kind in COLUMNS[table]}


async def table(served, name: str) -> tuple[list[str], list[dict[str, str]]]:
    response = await served.client.get(f"/api/v1/a/{ROOM}/{name}.csv")
    assert response.status == 200 and response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Link"].endswith('/datapackage.json>; rel="describedby"; type="application/json"')
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
                        response.headers["Last-Modified"])  # an HTTP date (RFC 9110), in GMT
    text = await response.text()
    return text.split("\r\n", 1)[0].split(","), parse_csv(text)


async def atom_feed(served, path: str) -> feedparser.FeedParserDict:
    """A feed of the register, checked to be valid Atom."""
    response = await served.client.get(path)
    assert response.status == 200 and response.content_type == "application/atom+xml"
    feed = feedparser.parse(await response.read())
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


async def proposals(served) -> list[dict]:
    return [await served.json(f"/api/v1/a/{ROOM}/{number}") for number in range(1, 11)]


async def test_the_decisions_table_is_the_json_list_row_for_row(register):
    header, rows = await table(register, "decisions")
    assert header == [name for name, _ in COLUMNS["decisions"]]
    listed = (await register.json(f"/api/v1/a/{ROOM}"))["decisions"]
    assert [row["proposal"] for row in rows] == [str(n) for n in range(1, 11)]
    for row in rows:
        [item] = [d for d in listed if str(d["proposal"]) == row["proposal"]]
        referral, verdict = item["referral"] or {}, item["verdict"] or {}
        expected = {**item, **item["tally"], "room": ROOM, "amended_by": " ".join(map(str, item["amended_by"])),
                    "referred_by": referral.get("official"), "needed_by": referral.get("needed_by"),
                    "verdict_of": verdict.get("decision"), "topics": " ".join(t["topic"] for t in item["topics"])}
        assert row == as_csv("decisions", expected)
    assert rows[1]["title"] == HOSTILE_TITLE and rows[0]["amended_by"] == "6"
    assert [row["topics"] for row in rows] == ["commons", "", "transport", "", "", "commons", "", "transport",
                                               "transport", ""]
    assert (rows[7]["referred_by"], rows[7]["needed_by"], rows[8]["verdict_of"]) == ("martine", "2027-06-18", "8")
    assert rows[2]["locked_until"].startswith("2027-09-25T")
    assert rows[2]["deadline"] == "2027-06-25T08:00:00.000000+00:00"  # in UTC, as stored


async def test_the_positions_and_history_tables_are_every_proposals_json(register):
    documents = await proposals(register)
    _, positions = await table(register, "positions")
    expected = [{"room": ROOM, "proposal": d["proposal"], "round": r["round"], "rule": r["rule"], **p}
                for d in documents for r in d["rounds"] for p in r["positions"]]
    # The table is by proposal, round and member; a page and its JSON, in the order positions were taken.
    expected.sort(key=lambda item: (item["proposal"], item["round"], item["member"]))
    assert positions == [as_csv("positions", item) for item in expected]
    [unargued] = [p for p in positions if p["proposal"] == "5"]
    assert (unargued["member"], unargued["position"], unargued["valid"]) == ("dan", "block", "false")
    _, history = await table(register, "history")
    expected = [{"room": ROOM, "proposal": d["proposal"], **entry} for d in documents for entry in d["history"]]
    assert history == [as_csv("history", item) for item in expected]
    assert len(history) > len(positions) > 10


async def test_the_data_package_gives_the_licence_the_date_and_each_tables_columns(register):
    package = await register.json(f"/api/v1/a/{ROOM}/datapackage.json")
    assert package["licenses"] == [{"name": "ODbL-1.0"}] and package["title"] == "Assemblée des communs"
    assert package["created"].endswith("+01:00") or package["created"].endswith("+02:00")
    for resource in package["resources"]:
        header, _ = await table(register, resource["name"])
        assert [field["name"] for field in resource["schema"]["fields"]] == header
        assert resource["path"].endswith(f"/api/v1/a/{ROOM}/{resource['name']}.csv")
    assert {r["name"] for r in package["resources"]} == set(TABLES)


async def test_a_proposals_json_mirrors_its_page(register):
    data = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['adopted']}")
    assert (data["proposal"], data["state"], data["amended_by"], data["challenged_by"]) == (1, "adopted", [6], [])
    assert [c["proposal"] for c in data["challenged_by_all"]] == [6]
    assert [v["version"] for v in data["versions"]] == [1, 2]
    # Version 2 is #6's: part 2 replaced, removed and added whole, part 1 unchanged.
    assert data["versions"][1]["changes"] == [
        {"op": "equal", "text": "1. A kettle.\n", "part": None},
        {"op": "delete", "text": "2. Paid from the common fund.", "part": 2},
        {"op": "insert", "text": "2. Paid by donations.", "part": 2}]
    amended = data["versions"][1]["amended_by"]
    assert (amended["proposal"], amended["challenged_part"], amended["replaced_parts"], amended["removed_parts"]) == (
        6, "2", [2], [])
    assert amended["url"].endswith(f"/a/{ROOM}/6") and data["versions"][0]["amended_by"] is None
    assert data["rounds"][0]["tally"] == {"agree": 1, "abstain": 1, "disagree": 0, "block": 0, "unargued_block": 0}
    assert (data["rounds"][0]["answered"], data["rounds"][0]["members"]) == (2, 6)
    challenge = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['amending']}")
    assert challenge["challenges"] == 1 and challenge["challenged_part"] == "2"
    assert challenge["challenge_of"]["url"] == data["url"]
    listing = await register.json("/api/v1/assemblies")
    [assembly] = listing["assemblies"]
    assert assembly["counts"] == {"open": 1, "adopted": 5, "postponed": 1, "rejected": 1, "withdrawn": 1,
                                  "repealed": 1} and listing["licence"] == "ODbL-1.0"
    assert assembly["officials_url"].endswith(f"/a/{ROOM}/officials")
    assert set(assembly["data"]) == {*TABLES, "datapackage"}


async def test_the_feed_is_valid_atom_and_every_entry_links_to_its_proposals_page(register):
    feed = await atom_feed(register, f"/a/{ROOM}/feed.atom")
    assert feed.version == "atom10" and feed.feed.title == "Assemblée des communs"
    assert feed.feed.rights == "ODbL-1.0" and feed.feed.language == "en"
    assert len(feed.entries) == 26 and len({entry.id for entry in feed.entries}) == 26
    for entry in feed.entries:
        number = int(entry.link.rsplit("/", 1)[1])
        assert entry.link == (await register.json(f"/api/v1/a/{ROOM}/{number}"))["url"]
        page = await register.client.get(urlsplit(entry.link).path)
        assert page.status == 200 and f"#{number}" in await page.text()
    titles = [entry.title for entry in feed.entries]
    assert titles[:2] == ["The assembly's verdict (#9): Martine Dupont on decision #8, partly respected",
                          "New proposal #10: Plant trees"]
    assert "Challenge #6 of decision #1: the fund is for repairs" in titles
    assert "Proposal #3 (Rent a van) is rejected: the 2/3 majority was not reached." in titles
    assert f"New proposal #2: {HOSTILE_TITLE}" in titles
    assert "Question #8 referred by Martine Dupont: Close the street on Sundays" in titles
    [made] = [e for e in feed.entries if e.id.endswith("/10#proposed")]
    assert made.content[0].value.startswith("Three apple trees in the yard.") and made.author == "alice"
    facts = [e for e in feed.entries if "#fact-" in e.id]
    assert [e.title for e in facts] == ["Fact recorded on decision #8 (Close the street on Sundays) about Martine "
                                        "Dupont"] * 2
    assert [e.author for e in facts] == ["bob", "alice"]
    assert facts[1].content[0].value == f"Sunday 20 June 2027: {HOSTILE_FACT}\n\nSource: {HOSTILE_SOURCE}"
    said = [e for e in feed.entries if "#statement-" in e.id]
    assert [e.title for e in said] == [
        "Statement by Martine Dupont on decision #8 (Close the street on Sundays): their own word, not the "
        "assembly's record",
        "Statement by Martine Dupont on decision #1 (Buy a kettle): their own word, not the assembly's record",
        "Follow-up of decision #1 (Buy a kettle), given before the pact"]
    assert said[0].content[0].value == HOSTILE_STATEMENT  # text, as the official wrote it
    assert said[2].content[0].value == FOLLOWUP_BEFORE_THE_PACT and said[2].author == "fay"


async def test_an_officials_feed_is_their_record_as_it_grows(register):
    feed = await atom_feed(register, f"/a/{ROOM}/officials/martine/feed.atom")
    assert feed.feed.title == "Martine Dupont, elected official: their record with Assemblée des communs"
    assert feed.feed.link.endswith(f"/a/{ROOM}/officials/martine")
    assert [e.id.rsplit("/", 1)[1] for e in feed.entries] == ["9#round-2", "8#statement-1", "8#fact-2", "8#fact-1",
                                                              "8#round-1", "8#proposed", "1#statement-2"]
    assert (await atom_feed(register, f"/a/{ROOM}/officials/paul/feed.atom")).entries == []


async def test_a_decisions_json_holds_what_each_official_did_said_and_how_the_assembly_judged_it(register):
    street = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['referral']}")
    assert street["referral"] == {"official": "martine", "needed_by": "2027-06-18"}
    assert street["bound"] == ["martine", "paul"] and street["verdict"] is None and street["verdict_of"] is None
    mayor, deputy = street["officials"]
    assert {k: mayor[k] for k in ("official", "name", "role", "bound")} == {
        "official": "martine", "name": "Martine Dupont", "role": "maire", "bound": True}
    assert mayor["url"].endswith(f"/a/{ROOM}/officials/martine")
    assert [(f["member"], f["happened_on"], f["source"]) for f in mayor["facts"]] == [
        ("alice", "2027-06-20", HOSTILE_SOURCE), ("bob", None, "photos du forum")]
    assert mayor["facts"][0]["at"] == "2027-06-22T10:00:00+02:00"
    assert mayor["statements"] == [{"member": "mayor", "at": "2027-06-22T10:20:00+02:00", "text": HOSTILE_STATEMENT}]
    verdict = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['verdict']}")
    in_force = {k: verdict[k] for k in ("proposal", "title", "state", "url", "api_url", "decided_at")}
    assert mayor["verdict_in_force"] == {**in_force, "assessment": "partly_respected"}
    assert mayor["verdicts"] == [mayor["verdict_in_force"]]
    assert (deputy["verdict_in_force"], deputy["facts"], deputy["statements"]) == (None, [], [])
    assert verdict["verdict"] == {"decision": 8, "official": "martine", "assessment": "partly_respected",
                                  "assessments": ["not_respected", "partly_respected"]}
    assert verdict["verdict_of"]["proposal"] == 8 and verdict["verdict_of"]["url"] == street["url"]
    kettle = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['adopted']}")
    assert kettle["followups_before_the_pact"] == [
        {"member": "fay", "at": "2027-06-11T11:00:00+02:00", "text": FOLLOWUP_BEFORE_THE_PACT}]
    assert "followup" not in kettle and "followups" not in kettle


async def test_the_votes_counted_by_delegation_are_in_a_proposals_json(register):
    van = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['rejected']}")
    [delegated] = [p for p in van["rounds"][2]["positions"] if p["delegated_by"]]
    assert (delegated["member"], delegated["position"], delegated["delegated_by"], delegated["valid"]) == (
        "dan", "disagree", "bob", True)
    assert delegated["at"] == van["rounds"][2]["closed_at"]
    assert van["rounds"][2]["tally"]["disagree"] == 2


async def test_the_officials_json_and_table_give_each_officials_record_in_figures(register):
    listed = await register.json(f"/api/v1/a/{ROOM}/officials")
    mayor, deputy = listed["officials"]
    assert mayor == (await register.json(f"/api/v1/a/{ROOM}/officials/martine"))["official"]
    assert (mayor["referrals"], mayor["bound"], mayor["facts"], mayor["statements"], mayor["verdicts"]) == (
        1, 2, 2, 2, 1)
    assert mayor["record"] == {"respected": 0, "partly_respected": 1, "not_respected": 0, "none": 1}
    assert deputy["pact"] == {"refer": "2026-05-11", "respect": None, "record": None, "no_self_assessment": None}
    assert (deputy["mandate_end"], deputy["declared"]) == (None, True)
    _, rows = await table(register, "officials")
    assert rows == [as_csv("officials", {**o, **{f"pact_{k}": v for k, v in o["pact"].items()}, **o["record"],
                                         "room": ROOM}) for o in listed["officials"]]


async def test_the_pact_tables_are_the_decisions_json_row_for_row(register):
    documents = await proposals(register)
    _, facts = await table(register, "facts")
    expected = [{"room": ROOM, "proposal": d["proposal"], "official": a["official"], **f}
                for d in documents for a in d["officials"] for f in a["facts"]]
    assert facts == [as_csv("facts", item) for item in expected] and len(facts) == 2
    assert facts[0]["text"] == HOSTILE_FACT and facts[0]["happened_on"] == "2027-06-20"
    _, statements = await table(register, "statements")
    # Follow-ups given before the pact are statements of no official; each decision's in the order made.
    expected = sorted([{"room": ROOM, "proposal": d["proposal"], "official": None, **s}
                       for d in documents for s in d["followups_before_the_pact"]] +
                      [{"room": ROOM, "proposal": d["proposal"], "official": a["official"], **s}
                       for d in documents for a in d["officials"] for s in a["statements"]],
                      key=lambda item: (item["proposal"], item["at"]))
    assert statements == [as_csv("statements", item) for item in expected] and len(statements) == 3
    _, verdicts = await table(register, "verdicts")
    [verdict] = [d for d in documents if d["verdict"]]
    assert verdicts == [as_csv("verdicts", {
        **verdict, "room": ROOM, "decision": 8, "official": "martine", "assessment": "partly_respected",
        "assessments": "not_respected partly_respected", "in_force": True})]
async def test_the_feed_names_nobody_without_names(anonymous):
    feed = await atom_feed(anonymous, f"/a/{ROOM}/feed.atom")
    assert all(entry.link.startswith("https://register.example.org/lille/a/!room:test/") for entry in feed.entries)
    assert {entry.get("author") for entry in feed.entries} == {None} and feed.feed.author == "Assemblée des communs"


# --- The command line ---------------------------------------------------------------------------


async def export(served, *arguments: str) -> None:
    """``consent-bot export`` over the served database, as it would run beside the bot (its own connection)."""
    config = str(served.config.storage.path.parent / "config.yaml")
    await asyncio.to_thread(main, ["export", "--config", config, *arguments])


async def test_export_csv_writes_the_web_tables_and_their_data_package(published, tmp_path):
    await export(published, "--format", "csv", "--output", str(tmp_path / "out"))
    for name in TABLES:
        written = (tmp_path / "out" / f"{name}.csv").read_bytes().decode("utf-8")
        assert parse_csv(written) == (await table(published, name))[1]
    package = json.loads((tmp_path / "out" / "datapackage.json").read_text(encoding="utf-8"))
    web = await published.json(f"/api/v1/a/{ROOM}/datapackage.json")
    assert [r["path"] for r in package["resources"]] == [f"{name}.csv" for name in TABLES]
    assert package["licenses"] == web["licenses"] and package["name"] == web["name"] == "room-test"
    assert [r["schema"] for r in package["resources"]] == [r["schema"] for r in web["resources"]]


async def test_export_json_is_every_proposal_as_the_api_gives_it(published, capsys):
    await export(published, "--format", "json", "--room", ROOM)
    exported = json.loads(capsys.readouterr().out)
    [assembly] = exported["assemblies"]
    assert assembly["room"] == ROOM and exported["licence"] == "ODbL-1.0"
    assert assembly == {**(await published.json("/api/v1/assemblies"))["assemblies"][0],
                        "officials": (await published.json(f"/api/v1/a/{ROOM}/officials"))["officials"],
                        "topics": (await published.json(f"/api/v1/a/{ROOM}/topics"))["topics"],
                        "decisions": assembly["decisions"]}
    strip = {"licence", "generated_at", "assembly"}
    assert assembly["decisions"] == [{k: v for k, v in d.items() if k not in strip} for d in await proposals(published)]


async def test_export_markdown_is_a_document_with_member_text_escaped(register, tmp_path):
    await export(register, "--format", "md", "--output", str(tmp_path / "r.md"))
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert text.startswith("# Assemblée des communs\n")
    assert "## Proposal #1: Buy a kettle (adopted)" in text
    assert "\\<script\\>alert('title')\\</script\\> Paint the \\<b\\>door\\</b\\>" in text
    assert "<script>" not in text and "> 1\\. A kettle." in text
    assert "  - dan: block without argument (not valid)" in text and "  - carol: block (a vote against)" in text
    assert "  - dan: disagree — counted by their delegation on the proposals on Transport, with the position of " \
           "bob" in text
    verdict = text[text.index("## Proposal #9"):text.index("## Proposal #10")]
    assert "  - bob: agree — counted by delegation, with the position of alice" in verdict
    assert "  - fay: agree — counted by their delegation on this proposal, with the position of alice" in verdict
    assert "Topics: Transport. Verdict on how Martine Dupont" in verdict
    kettle = text[text.index("## Proposal #1:"):text.index("## Proposal #2")]
    assert "Topics: \\<b\\>Commons\\</b\\> & @room. Officials bound" in kettle
    assert "## Elected officials\n\n- Martine Dupont (maire, from Sunday 22 March 2026 to Sunday 21 March 2032): " \
           "Opinions respected 0, partly 1, not respected 0, no verdict yet 1.\n" in text
    street = text[text.index("## Proposal #8"):text.index("## Proposal #9")]
    assert "Referred by Martine Dupont, whom the assembly's opinion binds; needed by Friday 18 June 2027." in street
    assert "### Its application by the elected officials" in street and "- **Paul Martin**" in street
    assert "  - The assembly's verdict: partly respected (#9, adopted on Friday 2 July 2027)." in street
    assert ("  - Sunday 20 June 2027: signed the order \\<b\\>closing\\</b\\> the street \\<script\\>"
            "alert('fact')\\</script\\> — Source: https://lille.fr/arretes/2027-117?a=1&b=\"\\>\\<script\\>") in street
    assert ("  - Statement by Martine Dupont, on Tuesday 22 June 2027: the official's own word, not the assembly's "
            "record: \\<i\\>Closed\\</i\\>") in street
    assert "  - Verdicts proposed: #9 partly respected (adopted)" in street
    verdict = text[text.index("## Proposal #9"):text.index("## Proposal #10")]
    assert "Verdict on how Martine Dupont applied decision #8: partly respected." in verdict
    kettle = text[text.index("## Proposal #1:"):text.index("## Proposal #2")]
    assert "### Follow-ups given before the pact\n\n- Follow-up given by fay before the pact, on Friday 11 June " \
           "2027: applied: The kettle is in the kitchen." in kettle


@pytest.mark.parametrize(("arguments", "error"), [
    (["--format", "csv"], "--format csv writes 8 files: give --output FOLDER"),
    (["--format", "json", "--room", "!nowhere:test"], "the register has no proposal in the room '!nowhere:test'"),
])
def test_an_export_that_cannot_be_made_says_why(tmp_path, capsys, arguments, error):
    (tmp_path / "config.yaml").write_text("storage: {path: consent.db}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["export", "--config", str(tmp_path / "config.yaml"), *arguments])
    assert exited.value.code == 2 and error in capsys.readouterr().err


async def test_without_names_the_positions_table_is_not_in_the_order_of_members_ids(anonymous, register):
    _, named = await table(register, "positions")
    _, hidden = await table(anonymous, "positions")
    assert {row["member"] for row in hidden} == {""} and len(hidden) == len(named)
    by_time = sorted(hidden, key=lambda row: (int(row["proposal"]), int(row["round"]), row["at"], row["position"]))
    assert hidden == by_time
    # Round 3 of #3: alice agreed, bob disagreed, carol blocked, all at once; by time, then position; then dan,
    # counted by delegation at the close (whose position, not said either).
    assert [row["position"] for row in hidden if (row["proposal"], row["round"]) == ("3", "3")] == [
        "agree", "block", "disagree", "disagree"]
    assert {row["delegated_by"] for row in hidden} == {""}
    delegated = [(row["proposal"], row["round"], row["member"], row["delegated_by"], row["scope"])
                 for row in named if row["delegated_by"]]
    assert delegated == [("3", "3", "dan", "bob", "topic:transport"), ("9", "2", "bob", "alice", "room"),
                         ("9", "2", "dan", "alice", "topic:transport"), ("9", "2", "fay", "alice", "proposal:9")]
    # Which delegation counted names nobody: it stays without names, and says which rows were counted by delegation.
    assert sorted(row["scope"] for row in hidden if row["scope"]) == sorted(row[4] for row in delegated)


async def test_a_proposals_json_names_its_topics_and_a_list_narrows_to_a_topic(register):
    van = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['rejected']}")
    [transport] = van["topics"]
    assert (transport["topic"], transport["name"]) == ("transport", "Transport")
    assert transport["url"].endswith(f"/a/{ROOM}/topics/transport")
    assert transport["api_url"].endswith(f"/api/v1/a/{ROOM}/topics/transport")
    assert (await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['open']}"))["topics"] == []
    listed = await register.json(f"/api/v1/a/{ROOM}?topic=transport&state=adopted")
    assert [d["proposal"] for d in listed["decisions"]] == [9, 8] and listed["total"] == 2
    assert listed["filter"] == {"state": ["adopted"], "q": "", "topic": "transport"}
    assert (await register.json(f"/api/v1/a/{ROOM}"))["filter"]["topic"] is None
    assert listed["assembly"]["topics_url"].endswith(f"/a/{ROOM}/topics")
    response = await register.client.get(f"/api/v1/a/{ROOM}?topic=nothing")
    assert response.status == 404 and (await response.json())["error"] == {
        "status": 404, "title": "No such topic",
        "message": "Assemblée des communs has no topic \"nothing\", declared or on record."}


async def test_the_topics_json_gives_each_topic_its_names_counts_and_feed(register):
    topics = (await register.json(f"/api/v1/a/{ROOM}/topics"))["topics"]
    assert [(t["topic"], t["name"], t["declared"], t["proposals"]) for t in topics] == [
        ("transport", "Transport", True, 3), ("commons", HOSTILE_TOPIC, True, 2), ("budget", "Budget", True, 0)]
    assert topics[0]["names"] == {"en": "Transport", "fr": "Mobilités"}
    assert topics[0]["counts"] == {"open": 0, "adopted": 2, "postponed": 0, "rejected": 1, "withdrawn": 0,
                                   "repealed": 0}
    assert topics[0]["feed_url"].endswith(f"/a/{ROOM}/topics/transport/feed.atom")
    topic = await register.json(f"/api/v1/a/{ROOM}/topics/transport?state=adopted")
    assert topic["topic"] == topics[0] and [d["proposal"] for d in topic["decisions"]] == [9, 8]
    assert topic["decisions"] == (await register.json(f"/api/v1/a/{ROOM}?topic=transport&state=adopted"))["decisions"]
    assert (topic["filter"], topic["total"], topic["next"]) == ({"state": ["adopted"], "q": "", "topic": "transport"},
                                                                2, None)
    assert (await register.client.get(f"/api/v1/a/{ROOM}/topics/nothing")).status == 404


async def test_a_proposals_json_says_by_which_delegation_each_member_counted(register):
    verdict = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['verdict']}")
    assert [(p["member"], p["delegated_by"], p["scope"]) for p in verdict["rounds"][1]["positions"]] == [
        ("alice", None, None), ("bob", "alice", "room"), ("dan", "alice", "topic:transport"),
        ("fay", "alice", "proposal:9")]
    assert verdict["rounds"][1]["tally"]["agree"] == 4


async def test_a_topics_feed_is_valid_atom_of_the_proposals_on_it_with_their_topics_as_categories(register):
    feed = await atom_feed(register, f"/a/{ROOM}/topics/transport/feed.atom")
    assert feed.feed.title == "Transport · Assemblée des communs"
    assert feed.feed.subtitle == "Proposals and decisions of Assemblée des communs on Transport"
    assert feed.feed.link.endswith(f"/a/{ROOM}/topics/transport")
    assert {int(e.link.rsplit("/", 1)[1]) for e in feed.entries} == {3, 8, 9}
    assert all([(t.term, t.label) for t in e.tags] == [("transport", "Transport")] for e in feed.entries)
    assert all(e.tags[0].scheme.endswith(f"/a/{ROOM}/topics") for e in feed.entries)
    everything = await atom_feed(register, f"/a/{ROOM}/feed.atom")
    kettle = [e for e in everything.entries if e.id.endswith("/1#proposed")][0]
    assert [(t.term, t.label) for t in kettle.tags] == [("commons", HOSTILE_TOPIC)]  # as text, in escaped XML
    assert not [e for e in everything.entries if e.id.endswith("/10#proposed")][0].get("tags")
    assert (await atom_feed(register, f"/a/{ROOM}/topics/budget/feed.atom")).entries == []
