"""A network of rooms in the register: its page, list, feed, JSON and CSV like an assembly's; a joint decision's page
with the tally of each room and the network's; each member room's list showing the joint decisions it took part in,
marked as such; no `network:<id>` pseudo-assembly anywhere. Made through the real service, served by the real app."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import async_playwright

from bot.config import load_config
from bot.register.app import make_app
from bot.register.exports import export_register
from storage.repository import Repository
from tests.conftest import ROOM, TUESDAY, Clock, make_assembly
from tests.register.conftest import Register
from tests.register.test_browser import DESKTOP, WCAG, chromium, photograph

FIVES = "!fives:test"
ALONE = "!alone:test"
HOSTILE_NETWORK = "<b>Métropole</b> & @room"
HOSTILE_JOINT = "<script>alert('joint')</script> Shared budget"
SCOPE = "network:metropole"


async def served_network(folder: Path, repository: Repository) -> Register:
    """ROOM (alice, bob) and FIVES (bob, carol, dan) in the network metropole, named with HTML; ALONE in none. A
    joint decision blocked in FIVES and postponed, then adopted in a second round; a proposal of ROOM's own."""
    document = {"storage": {"path": "consent.db"},
                "assembly": {"language": "en", "name": "Assemblée des communs"},
                "rooms": {FIVES: {"name": "Fives"}, ALONE: {"name": "Alone"}},
                "networks": [{"id": "metropole", "name": HOSTILE_NETWORK, "rooms": [ROOM, FIVES],
                              "minimum_duration": "48h"}]}
    (folder / "config.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    config = load_config(folder / "config.yaml", environ={})
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    assembly.room.names.update({"alice", "bob"})
    assembly.room.other_rooms[FIVES] = {"bob", "carol", "dan"}
    await assembly.say("alice", "!propose Buy a kettle")
    await assembly.say("carol", f"!joint {HOSTILE_JOINT}\n10 000 € a year.", room=FIVES)
    await assembly.say("alice", "!agree #metropole-1")
    await assembly.say("dan", "!block #metropole-1 It would come out of the youth centre's funds.", room=FIVES)
    await assembly.advance_to(TUESDAY + timedelta(days=7))  # a week after the first round opened: the second
    await assembly.say("carol", "!round #metropole-1", room=FIVES)
    await assembly.say("alice", "!agree #metropole-1")
    await assembly.say("bob", "!agree #metropole-1", room=FIVES)
    await assembly.say("dan", "!abstain #metropole-1", room=FIVES)
    await assembly.advance_to(TUESDAY + timedelta(days=10))
    await assembly.say("alice", "!propose Repaint the hall", room=ALONE)
    client = TestClient(TestServer(make_app(config, repository)))
    await client.start_server()
    return Register(config, repository, assembly, client)


@pytest.fixture
async def network(tmp_path: Path, repository: Repository):
    """The network's register on SQLite and on PostgreSQL."""
    served = await served_network(tmp_path, repository)
    yield served
    await served.client.close()


@pytest.fixture
async def on_sqlite(tmp_path: Path):
    """The network's register on SQLite: what the browser reads (the pages are the same on PostgreSQL)."""
    served = await served_network(tmp_path, await Repository.open(tmp_path / "consent.db"))
    yield served
    await served.client.close()
    await served.repository.close()


async def test_the_network_is_no_assembly_of_its_own_but_has_its_pages(network: Register):
    index = await network.get("/")
    assert "network:" not in index and "/n/metropole" in index
    assert "&lt;b&gt;Métropole&lt;/b&gt; &amp; @room" in index and "<b>Métropole" not in index
    data = await network.json("/api/v1/assemblies")
    # Each room of the network is an assembly with its joint decision counted; the network is listed apart.
    assert [(a["room"], a["proposals"]) for a in data["assemblies"]] == [(FIVES, 1), (ROOM, 2), (ALONE, 1)] or \
        sorted((a["room"], a["proposals"]) for a in data["assemblies"]) == sorted([(FIVES, 1), (ROOM, 2), (ALONE, 1)])
    assert [(n["room"], n["name"], n["proposals"]) for n in data["networks"]] == [(SCOPE, HOSTILE_NETWORK, 1)]
    assert [r["room"] for r in data["networks"][0]["rooms"]] == [ROOM, FIVES]
    await network.get("/a/network:metropole", status=404)
    await network.get("/a/network%3Ametropole/1", status=404)
    await network.get("/n/elsewhere", status=404)


async def test_a_networks_page_names_it_links_its_rooms_and_lists_its_joint_decisions(network: Register):
    page = await network.get("/n/metropole")
    assert "<h1>&lt;b&gt;Métropole&lt;/b&gt; &amp; @room</h1>" in page
    assert f'href="/a/{ROOM}">Assemblée des communs</a>' in page and f'href="/a/{FIVES}">Fives</a>' in page
    assert '<a href="/n/metropole/1">&lt;script&gt;alert(&#39;joint&#39;)&lt;/script&gt; Shared budget</a>' in page
    assert "#metropole-1" in page and "<script>" not in page
    listing = await network.json("/api/v1/n/metropole")
    assert listing["assembly"]["room"] == SCOPE and listing["assembly"]["network"]["network"] == "metropole"
    [line] = listing["decisions"]
    assert (line["proposal"], line["title"], line["state"]) == (1, HOSTILE_JOINT, "adopted")
    assert line["url"].endswith("/n/metropole/1") and line["network"]["name"] == HOSTILE_NETWORK
    feed = await network.get("/n/metropole/feed.atom")
    assert "/n/metropole/1" in feed and "New proposal #metropole-1: &lt;script&gt;" in feed
    rows = list(csv.DictReader(io.StringIO(await network.get("/api/v1/n/metropole/decisions.csv"))))
    assert [(r["room"], r["proposal"], r["network"], r["state"]) for r in rows] == [(SCOPE, "1", "metropole",
                                                                                     "adopted")]


async def test_a_joint_decisions_page_shows_the_tally_of_each_room_and_of_the_network(network: Register):
    data = await network.json("/api/v1/n/metropole/1")
    first, second = data["rounds"]
    # Round 1: alice agreed (ROOM), dan blocked (FIVES); bob, in both rooms, counted once in the network's members.
    assert (first["outcome"], first["members"], first["tally"]["block"]) == ("postponed", 4, 1)
    assert [(r["room"], r["name"], r["members"], r["answered"], r["tally"]["agree"], r["tally"]["block"])
            for r in first["rooms"]] == [(FIVES, "Fives", 3, 1, 0, 1), (ROOM, "Assemblée des communs", 2, 1, 1, 0)]
    # Round 2: alice, bob and dan answered; bob counts under both his rooms, once in the tally.
    assert (second["outcome"], second["answered"], second["members"]) == ("adopted", 3, 4)
    assert {r["room"]: (r["answered"], r["members"], r["tally"]["agree"], r["tally"]["abstain"])
            for r in second["rooms"]} == {ROOM: (2, 2, 2, 0), FIVES: (2, 3, 1, 1)}
    assert second["rooms"][0]["url"] == f"{data['url'].split('/n/')[0]}/a/{FIVES}"
    page = await network.get("/n/metropole/1")
    assert "#metropole-1" in page and '<a href="/n/metropole">&lt;b&gt;Métropole&lt;/b&gt; &amp; @room</a>' in page
    assert f'<th scope="row"><a href="/a/{FIVES}">Fives</a></th><td>1 agree, 1 abstain, 0 disagree, 0 block</td>' \
           "<td>2 of 3 members</td>" in page
    assert "<td>2 agree, 1 abstain, 0 disagree, 0 block</td><td>3 of 4 members</td>" in page


async def test_each_member_room_lists_the_joint_decisions_it_took_part_in_marked_as_such(network: Register):
    page = await network.get(f"/a/{FIVES}")
    assert ('<a href="/n/metropole/1">' in page
            and 'joint decision of <a href="/n/metropole">&lt;b&gt;Métropole&lt;/b&gt; &amp; @room</a>' in page)
    own = await network.get(f"/a/{ROOM}")
    assert f'href="/a/{ROOM}/1">Buy a kettle' in own and 'href="/n/metropole/1"' in own
    alone = await network.get(f"/a/{ALONE}")
    assert "/n/metropole" not in alone
    listing = await network.json(f"/api/v1/a/{ROOM}")
    assert [(d["proposal"], d["network"] and d["network"]["network"]) for d in listing["decisions"]] == [
        (1, "metropole"), (1, None)] or [(d["proposal"], d["network"] and d["network"]["network"])
                                         for d in listing["decisions"]] == [(1, None), (1, "metropole")]
    assert [n["network"] for n in listing["assembly"]["networks"]] == ["metropole"]
    rows = list(csv.DictReader(io.StringIO(await network.get(f"/api/v1/a/{ROOM}/decisions.csv"))))
    assert [(r["room"], r["proposal"], r["network"]) for r in rows] == [(ROOM, "1", ""), (SCOPE, "1", "metropole")]
    positions = list(csv.DictReader(io.StringIO(await network.get(f"/api/v1/a/{FIVES}/positions.csv"))))
    assert {(r["room"], r["round"], r["member"], r["position"]) for r in positions} >= {
        (SCOPE, "1", "dan", "block"), (SCOPE, "2", "bob", "agree")}
    feed = await network.get(f"/a/{FIVES}/feed.atom")
    assert 'term="network:metropole"' in feed and "joint decision of &lt;b&gt;Métropole" in feed
    assert "New proposal #metropole-1: &lt;script&gt;" in feed


async def test_the_export_gives_each_decision_once_the_networks_apart(on_sqlite: Register, tmp_path: Path):
    network = on_sqlite  # the export reads the configured database
    out = tmp_path / "export.json"
    await export_register(network.config, "json", None, out)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(a["room"] for a in document["assemblies"]) == sorted([ROOM, ALONE])
    [joint] = document["networks"]
    assert (joint["room"], joint["name"], [d["title"] for d in joint["decisions"]]) == (
        SCOPE, HOSTILE_NETWORK, [HOSTILE_JOINT])
    assert [r["room"] for r in joint["decisions"][0]["rounds"][1]["rooms"]] == [FIVES, ROOM]
    folder = tmp_path / "csv"
    await export_register(network.config, "csv", None, folder)
    rows = list(csv.DictReader(io.StringIO((folder / "decisions.csv").read_text(encoding="utf-8"))))
    assert sorted((r["room"], r["network"]) for r in rows) == sorted([(ROOM, ""), (ALONE, ""), (SCOPE, "metropole")])
    one = tmp_path / "one.json"
    await export_register(network.config, "json", FIVES, one)
    document = json.loads(one.read_text(encoding="utf-8"))
    assert document["assemblies"] == [] and [n["room"] for n in document["networks"]] == [SCOPE]


NETWORK_PAGES = {"network": "/n/metropole", "joint-decision": "/n/metropole/1", "member-room": f"/a/{FIVES}",
                 "assemblies-and-networks": "/"}


@pytest.mark.parametrize("name", NETWORK_PAGES)
async def test_the_network_views_have_no_wcag_a_or_aa_violation_in_chromium(on_sqlite: Register, name: str):
    """Each new view in a real headless Chromium, checked by axe-core; the hostile names run nothing."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), headless=True,
                                                   args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page(viewport=DESKTOP)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        response = await page.goto(str(on_sqlite.client.make_url(NETWORK_PAGES[name])))
        assert response is not None and response.status == 200
        await photograph(page, name)
        results = await Axe().run(page, options=WCAG)
        assert results.response["violations"] == [], (name, results.generate_report())
        assert HOSTILE_NETWORK in await page.locator("main").inner_text() and dialogs == []
        assert await page.locator("main b, script").count() == 0
        await browser.close()
