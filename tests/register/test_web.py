"""The register's web application as a browser or a script meets it over HTTP: pages, headers, errors, bounds."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app.ports import Incoming
from bot.register.app import make_app
from tests.register.scenario import HOSTILE_ARGUMENT, HOSTILE_TEXT, HOSTILE_TITLE, NUMBERS, ROOM, config_for

PAGES = ["/", f"/a/{ROOM}", f"/a/{ROOM}/1", "/api/v1/assemblies", f"/api/v1/a/{ROOM}", f"/api/v1/a/{ROOM}/1",
         f"/api/v1/a/{ROOM}/decisions.csv", f"/api/v1/a/{ROOM}/datapackage.json", f"/a/{ROOM}/feed.atom",
         "/static/register.css"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_answer_forbids_scripts_and_sniffing_and_says_how_long_to_cache(register, path):
    response = await register.client.get(path)
    assert response.status == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy and "script-src" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert re.fullmatch(r"public, max-age=\d+", response.headers["Cache-Control"])


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/", f"/a/{ROOM}/1", f"/api/v1/a/{ROOM}"])
async def test_the_register_is_read_only(register, method, path):
    response = await register.client.request(method, path, data="x")
    assert response.status == 405 and "GET" in response.headers["Allow"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"


async def test_head_answers_like_get_without_a_body(register):
    response = await register.client.head(f"/a/{ROOM}/1")
    assert response.status == 200 and response.content_type == "text/html" and await response.read() == b""


@pytest.mark.parametrize("path", [
    "/nowhere", f"/a/{ROOM}/99", f"/a/{ROOM}/0", "/a/!nowhere:test", "/a/!nowhere:test/1", f"/a/{ROOM}/1/",
    f"/a/{ROOM}/1234567890", "/a/" + "x" * 300, f"/a/{ROOM}?page=2", "/a/!nowhere:test/feed.atom",
])
async def test_an_unknown_address_is_a_404_page(register, path):
    body = await register.get(path, status=404)
    assert "<h1>Nothing here</h1>" in body and '<html lang="en">' in body


@pytest.mark.parametrize("path", ["/api/v1/a/!nowhere:test", f"/api/v1/a/{ROOM}/99", "/api/v1/nothing",
                                  "/api/v1/a/!nowhere:test/history.csv", f"/api/v1/a/{ROOM}/votes.csv"])
async def test_an_unknown_address_of_the_api_is_a_404_in_json(register, path):
    response = await register.client.get(path)
    assert response.status == 404 and response.content_type == "application/json"
    assert (await response.json())["error"]["status"] == 404


@pytest.mark.parametrize("query", ["state=approved", "page=0", "page=-1", "page=x", "page=1e3", "page=" + "9" * 30,
                                   "q=" + "x" * 201])
async def test_a_query_the_register_does_not_know_is_a_400(register, query):
    body = await register.get(f"/a/{ROOM}?{query}", status=400)
    assert "This address is not valid" in body
    response = await register.client.get(f"/api/v1/a/{ROOM}?{query}")
    assert response.status == 400


async def test_an_assembly_page_lists_filters_and_searches(register):
    body = await register.get(f"/a/{ROOM}")
    assert "<h1>Assemblée des communs</h1>" in body and "8 proposals in this assembly." in body
    assert body.count('<tr>\n<td class="number">#') == 8
    only = await register.get(f"/a/{ROOM}?state=withdrawn")
    assert "Adopt a cat" in only and "Buy a kettle" not in only and "1 found" in only
    found = await register.get(f"/a/{ROOM}?q=%20kettle%20")
    assert "Buy a kettle" in found and "Rent a van" not in found and 'value="kettle"' in found
    none = await register.get(f"/a/{ROOM}?q=%25")
    assert "No proposal matches this search." in none


async def test_pages_of_a_long_list_link_to_each_other_keeping_the_search(register, tmp_path):
    for number in range(20):
        await register.assembly.say("erin", f"!propose Bench number {number}")
    first = await register.get(f"/a/{ROOM}?q=bench")
    assert "the newest first: 20 found" in first and 'rel="next"' not in first  # 20 fit on one page
    await register.assembly.say("erin", "!propose Bench number 20")
    first = await register.get(f"/a/{ROOM}?q=bench")
    assert "(page 1 of 2): 21 found" in first and f'href="/a/{ROOM}?q=bench&amp;page=2" rel="next"' in first
    second = await register.get(f"/a/{ROOM}?q=bench&page=2")
    assert "Bench number 0<" in second and f'href="/a/{ROOM}?q=bench" rel="prev"' in second
    data = await register.json(f"/api/v1/a/{ROOM}?q=bench&page=2")
    assert (data["page"], data["pages"], data["total"], data["next"]) == (2, 2, 21, None)
    assert data["previous"].endswith(f"/api/v1/a/{ROOM}?q=bench")


async def test_member_text_is_shown_as_text_never_as_markup(register):
    for path in (f"/a/{ROOM}", f"/a/{ROOM}/2", f"/a/{ROOM}/feed.atom"):
        body = await register.get(path)
        assert "<script>" not in body and "<b>" not in body and "<img" not in body, path
    page = await register.get(f"/a/{ROOM}/2")
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Paint the &lt;b&gt;door&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&amp;" in page
    assert "&lt;script&gt;alert(&#34;argument&#34;)&lt;/script&gt;" in page
    data = await register.json(f"/api/v1/a/{ROOM}/2")
    assert (data["title"], data["text"]) == (HOSTILE_TITLE, HOSTILE_TEXT)
    assert data["rounds"][0]["positions"][0]["argument"] == HOSTILE_ARGUMENT


async def test_a_proposal_page_shows_its_versions_with_what_changed(register):
    body = await register.get(f"/a/{ROOM}/3")
    assert "<h3 id=\"version-2\">Version 2</h3>" in body and "Voted on in rounds 2, 3." in body
    assert re.search(r"<del><span class=\"hidden\">\[removed: </span>80<span class=\"hidden\">\]</span></del>"
                     r"<ins><span class=\"hidden\">\[added: </span>60", body)
    assert "no new vote on it before" in body and "1 of 5 members" in body and "4 of 6 members" in body
    assert "block (a vote against)" in body


async def test_an_open_proposal_shows_its_deadline_and_the_answers_so_far(register):
    body = await register.get(f"/a/{ROOM}/{NUMBERS['open']}")
    assert "round 1, by consent, until" in body and "1 answer so far" in body
    assert "&lt;i&gt;yes&lt;/i&gt;" in body


async def test_a_decision_shows_its_follow_up_timeline_and_a_round_who_counted_by_delegation(register):
    kettle = await register.get(f"/a/{ROOM}/{NUMBERS['adopted']}")
    assert '<h2 id="followup">Follow-up</h2>' in kettle and "Where applying it stands: applied." in kettle
    assert kettle.index("in progress, 40 %") < kettle.index("The kettle is in the kitchen.")
    assert "&lt;b&gt;ordered&lt;/b&gt;" in kettle and "<b>ordered" not in kettle
    assert "Nobody has said yet whether it is applied." in await register.get(f"/a/{ROOM}/{NUMBERS['repealing']}")
    assert 'id="followup"' not in await register.get(f"/a/{ROOM}/{NUMBERS['open']}")
    van = await register.get(f"/a/{ROOM}/{NUMBERS['rejected']}")
    assert "counted by delegation, with the position of bob" in van


async def test_an_unargued_block_is_shown_as_not_valid(register):
    body = await register.get(f"/a/{ROOM}/{NUMBERS['repealed']}")
    assert "block without argument (not valid)" in body
    data = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['repealed']}")
    assert data["rounds"][0]["positions"] == [
        {"member": "dan", "position": "block", "argument": "", "valid": False, "at": "2027-06-08T10:00:00+02:00",
         "delegated_by": None}]


async def test_the_pages_speak_the_assemblys_language_with_its_dates(register, tmp_path):
    (tmp_path / "fr").mkdir()
    french = config_for(tmp_path / "fr", language="fr")
    async with TestClient(TestServer(make_app(french, register.repository))) as client:
        body = await (await client.get(f"/a/{ROOM}/1")).text()
        assert '<html lang="fr">' in body and "Texte en vigueur" in body and "Amendée par" in body
        assert '<time datetime="2027-06-11T10:00:00+02:00">vendredi 11 juin 2027, 10:00 (Europe/Paris)</time>' in body
        missing = await client.get("/a/nowhere")
        assert missing.status == 404 and "Rien ici" in await missing.text()


async def test_without_names_no_member_id_is_published_anywhere(anonymous):
    members = ("alice", "bob", "carol", "dan", "fay", "mayor")
    for path in [f"/a/{ROOM}", f"/a/{ROOM}/1", f"/a/{ROOM}/2", f"/a/{ROOM}/3", f"/a/{ROOM}/4", f"/a/{ROOM}/5",
                 f"/a/{ROOM}/feed.atom", f"/api/v1/a/{ROOM}", f"/api/v1/a/{ROOM}/3", f"/api/v1/a/{ROOM}/5"] + [
                    f"/api/v1/a/{ROOM}/{table}.csv" for table in ("decisions", "positions", "history")]:
        body = await anonymous.get(path)
        assert not [m for m in members if re.search(rf"\b{m}\b", body)], path
    page = await anonymous.get(f"/a/{ROOM}/3")
    assert "too expensive" in page and "a member: disagree" in page
    assert "4 of 6 members" in page and "<th scope=\"col\">Member</th>" not in page
    data = await anonymous.json(f"/api/v1/a/{ROOM}/3")
    assert data["proposer"] is None and {p["member"] for r in data["rounds"] for p in r["positions"]} == {None}
    assert data["rounds"][2]["positions"][1]["argument"] == "too expensive"


async def test_links_use_the_public_address_when_there_is_one(anonymous):
    page = await anonymous.get(f"/a/{ROOM}/1")
    assert 'href="https://register.example.org/lille/a/!room:test/6"' in page
    assert 'href="https://register.example.org/lille/static/register.css"' in page
    data = await anonymous.json(f"/api/v1/a/{ROOM}/1")
    assert data["url"] == "https://register.example.org/lille/a/!room:test/1"


async def test_without_a_public_address_links_are_relative_and_data_links_name_the_host_asked(register):
    page = await register.get(f"/a/{ROOM}/1")
    assert 'href="/a/!room:test/6"' in page
    data = await register.json(f"/api/v1/a/{ROOM}/1")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/a/!room:test/1", data["url"])
    forged = await register.client.get(f"/api/v1/a/{ROOM}/1", headers={"Host": 'evil"><script>'})
    assert (await forged.json())["url"] == "http://localhost/a/!room:test/1"


async def test_a_room_id_with_a_slash_is_one_address_segment(register):
    await register.assembly.service.handle(
        Incoming("team/room", "alice", "!propose Slashed", "$slash", register.assembly.clock.now))
    body = await register.get("/a/team%2Froom/1")
    assert "Slashed" in body and 'href="/a/team%2Froom"' in body
