"""The register's web application as a browser or a script meets it over HTTP: pages, headers, errors, bounds."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

import yaml

from bot.app.ports import Incoming
from bot.config import load_config
from bot.register.app import make_app
from bot.register.views import TABLES
from tests.register.scenario import (HOSTILE_ARGUMENT, HOSTILE_FACT, HOSTILE_REASON, HOSTILE_SOURCE,
                                     HOSTILE_STATEMENT, HOSTILE_TEXT, HOSTILE_TITLE, HOSTILE_TOPIC, MEMBERS, NUMBERS,
                                     ROOM, config_for)

PAGES = ["/", f"/a/{ROOM}", f"/a/{ROOM}/1", "/api/v1/assemblies", f"/api/v1/a/{ROOM}", f"/api/v1/a/{ROOM}/1",
         f"/api/v1/a/{ROOM}/decisions.csv", f"/api/v1/a/{ROOM}/datapackage.json", f"/a/{ROOM}/feed.atom",
         "/static/register.css", f"/a/{ROOM}/officials", f"/a/{ROOM}/officials/martine",
         f"/a/{ROOM}/officials/martine/feed.atom", f"/api/v1/a/{ROOM}/officials",
         f"/api/v1/a/{ROOM}/officials/martine", f"/api/v1/a/{ROOM}/facts.csv"]


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
@pytest.mark.parametrize("path", ["/", f"/a/{ROOM}/1", f"/api/v1/a/{ROOM}", f"/a/{ROOM}/officials/martine"])
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
    f"/a/{ROOM}/officials/nobody", f"/a/{ROOM}/officials/Martine", f"/a/{ROOM}/officials/martine?page=2",
    f"/a/{ROOM}/officials/nobody/feed.atom", "/a/!nowhere:test/officials", "/a/!nowhere:test/officials/martine",
])
async def test_an_unknown_address_is_a_404_page(register, path):
    body = await register.get(path, status=404)
    assert "<h1>Nothing here</h1>" in body and '<html lang="en">' in body


@pytest.mark.parametrize("path", ["/api/v1/a/!nowhere:test", f"/api/v1/a/{ROOM}/99", "/api/v1/nothing",
                                  "/api/v1/a/!nowhere:test/history.csv", f"/api/v1/a/{ROOM}/votes.csv",
                                  f"/api/v1/a/{ROOM}/officials/nobody", "/api/v1/a/!nowhere:test/officials"])
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
    assert "<h1>Assemblée des communs</h1>" in body and "10 proposals in this assembly." in body
    assert body.count('<tr>\n<td class="number">#') == 10
    assert f'<a href="/a/{ROOM}/officials">The elected officials bound by the pact, and their record</a>' in body
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
    for path in (f"/a/{ROOM}", f"/a/{ROOM}/2", f"/a/{ROOM}/feed.atom", f"/a/{ROOM}/{NUMBERS['referral']}",
                 f"/a/{ROOM}/{NUMBERS['verdict']}", f"/a/{ROOM}/officials/martine",
                 f"/a/{ROOM}/officials/martine/feed.atom"):
        body = await register.get(path)
        assert "<script>" not in body and "<b>" not in body and "<img" not in body and "<i>" not in body, path
    page = await register.get(f"/a/{ROOM}/2")
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Paint the &lt;b&gt;door&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&amp;" in page
    assert "&lt;script&gt;alert(&#34;argument&#34;)&lt;/script&gt;" in page
    data = await register.json(f"/api/v1/a/{ROOM}/2")
    assert (data["title"], data["text"]) == (HOSTILE_TITLE, HOSTILE_TEXT)
    assert data["rounds"][0]["positions"][0]["argument"] == HOSTILE_ARGUMENT


async def test_facts_sources_statements_and_reasons_are_shown_as_text_a_web_source_as_a_link(register):
    for page in (await register.get(f"/a/{ROOM}/{NUMBERS['referral']}"),
                 await register.get(f"/a/{ROOM}/officials/martine")):
        assert "signed the order &lt;b&gt;closing&lt;/b&gt; the street &lt;script&gt;alert(&#39;fact&#39;)" in page
        escaped = "https://lille.fr/arretes/2027-117?a=1&amp;b=&#34;&gt;&lt;script&gt;alert(&#39;source&#39;)&lt;/script&gt;"
        assert f'<a href="{escaped}" rel="nofollow ugc">{escaped}</a>' in page
        assert '<td class="source">photos du forum</td>' in page  # not a web address: no link
        assert "&lt;i&gt;Closed&lt;/i&gt; every Sunday since 20 June &lt;img src=x onerror=alert(&#39;statement&#39;)&gt;" in page
    verdict = await register.get(f"/a/{ROOM}/{NUMBERS['verdict']}")
    assert "&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt; it stayed open one Sunday in three" in verdict
    data = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['referral']}")
    [mayor, _] = data["officials"]
    assert [(f["text"], f["source"]) for f in mayor["facts"]][0] == (HOSTILE_FACT, HOSTILE_SOURCE)
    assert mayor["statements"][0]["text"] == HOSTILE_STATEMENT
    assert (await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['verdict']}"))["versions"][0]["text"] == HOSTILE_REASON


async def test_a_proposal_page_shows_its_versions_with_what_changed(register):
    body = await register.get(f"/a/{ROOM}/3")
    assert "<h3 id=\"version-2\">Version 2</h3>" in body and "Voted on in rounds 2, 3." in body
    assert re.search(r"<del><span class=\"hidden\">\[removed: </span>80<span class=\"hidden\">\]</span></del>"
                     r"<ins><span class=\"hidden\">\[added: </span>60", body)
    assert "no new vote on it before" in body and "1 of 6 members" in body and "4 of 6 members" in body
    assert "block (a vote against)" in body


async def test_an_open_proposal_shows_its_deadline_and_the_answers_so_far(register):
    body = await register.get(f"/a/{ROOM}/{NUMBERS['open']}")
    assert "round 1, by consent, until" in body and "1 answer so far" in body
    assert "&lt;i&gt;yes&lt;/i&gt;" in body


async def test_a_decision_shows_per_official_the_facts_statements_and_verdict_in_force(register):
    street = await register.get(f"/a/{ROOM}/{NUMBERS['referral']}")
    assert "<dt>Referred by</dt>" in street and "needed by <time datetime=\"2027-06-18\">Friday 18 June 2027</time>" in street
    assert (f'<dd><a href="/a/{ROOM}/officials/martine">Martine Dupont</a>, '
            f'<a href="/a/{ROOM}/officials/paul">Paul Martin</a></dd>') in street
    mayor = street[street.index('<h3 id="official-martine">'):street.index('<h3 id="official-paul">')]
    assert '<span class="note">maire</span>' in mayor
    assert re.search(r"The assembly&#39;s verdict: <span class=\"assessment assessment-partly_respected\">partly "
                     rf"respected</span> \(<a href=\"/a/{ROOM}/9\">#9</a>, adopted on <time", mayor)
    assert mayor.index("Sunday 20 June 2027") < mayor.index("date not given") < mayor.index("Statement by")
    assert "</time></td><td>alice</td></tr>" in mayor and "</time></td><td>bob</td></tr>" in mayor
    assert ("Statement by Martine Dupont, on <time datetime=\"2027-06-22T10:20:00+02:00\">Tuesday 22 June 2027</time>: "
            "the official&#39;s own word, not the assembly&#39;s record</figcaption>") in mayor
    assert f'<li><a href="/a/{ROOM}/9">#9</a>: <span class="assessment assessment-partly_respected">' in mayor
    deputy = street[street.index('<h3 id="official-paul">'):street.index('<h2 id="history">')]
    assert "No verdict of the assembly yet." in deputy and "No fact recorded yet." in deputy
    assert f'fay binds <a href="/a/{ROOM}/officials/paul">Paul Martin</a> to apply it' in street


async def test_a_follow_up_given_before_the_pact_is_shown_for_what_it_was_and_the_old_section_is_gone(register):
    kettle = await register.get(f"/a/{ROOM}/{NUMBERS['adopted']}")
    assert 'id="followup"' not in kettle and "Where applying it stands" not in kettle
    assert '<h2 id="followups">Follow-ups given before the pact</h2>' in kettle
    assert "Follow-up given by fay before the pact, on <time" in kettle
    assert "applied: The kettle is in the kitchen." in kettle
    assert "fay follows it up (before the pact): applied, 100 %" in kettle  # its line of history
    mayor = kettle[kettle.index('<h3 id="official-martine">'):kettle.index('<h2 id="followups">')]
    assert "The kettle is &lt;b&gt;ordered&lt;/b&gt;, delivered next week" in mayor and "Statement by" in mayor
    hall = await register.get(f"/a/{ROOM}/{NUMBERS['repealing']}")
    assert "No official is bound to apply this decision yet." in hall
    assert 'id="pact"' not in await register.get(f"/a/{ROOM}/{NUMBERS['open']}")


async def test_a_verdict_says_which_decision_and_official_it_judges_and_each_versions_assessment(register):
    verdict = await register.get(f"/a/{ROOM}/{NUMBERS['verdict']}")
    assert (f'<dd>how <a href="/a/{ROOM}/officials/martine">Martine Dupont</a> applied decision '
            f'<a href="/a/{ROOM}/8">#8</a> (Close the street on Sundays)</dd>') in verdict
    assert '<h2 id="text">Reason</h2>' in verdict and 'id="pact"' not in verdict
    first, second = verdict.index('id="version-1"'), verdict.index('id="version-2"')
    assert "Assessment: <span class=\"assessment assessment-not_respected\">not respected</span>." in \
        verdict[first:second]
    assert "Assessment: <span class=\"assessment assessment-partly_respected\">partly respected</span>." in \
        verdict[second:]


async def test_a_round_shows_who_counted_by_delegation_and_by_which_of_their_delegations(register):
    van = await register.get(f"/a/{ROOM}/{NUMBERS['rejected']}")
    assert (f'<td><div class="text">counted by their delegation on the proposals on <a href="/a/{ROOM}/topics/'
            'transport">Transport</a>, with the position of bob</div></td>') in van
    verdict = await register.get(f"/a/{ROOM}/{NUMBERS['verdict']}")
    second = verdict[verdict.index('<h3 id="round-2">'):verdict.index('<h2 id="history">')]
    rows = re.findall(r'<tr><th scope="row">(\w+)</th><td>(\w+)</td><td>(.*?)</td>', second)
    assert [(member, position, re.sub(r"<[^>]+>", "", said)) for member, position, said in rows] == [
        ("alice", "agree", "—"),
        ("bob", "agree", "counted by delegation, with the position of alice"),  # the room's: said no more
        ("dan", "agree", "counted by their delegation on the proposals on Transport, with the position of alice"),
        ("fay", "agree", "counted by their delegation on this proposal, with the position of alice")]


async def test_an_officials_page_is_their_mandate_pact_figures_and_record_decision_by_decision(register):
    page = await register.get(f"/a/{ROOM}/officials/martine")
    assert "<h1>Martine Dupont</h1>" in page and "<dd>maire</dd>" in page
    assert 'from <time datetime="2026-03-22">Sunday 22 March 2026</time> to <time datetime="2032-03-21">' in page
    assert page.count("Signed on <time datetime=\"2026-04-02\">") == 4
    assert "Opinions respected 0, partly 1, not respected 0, no verdict yet 1." in page
    for line in ("1 question referred to the assembly", "bound to apply 2 proposals", "2 facts recorded by members",
                 "2 statements of their own", "1 verdict proposed"):
        assert f"<li>{line}</li>" in page
    assert page.index('id="decision-8"') < page.index('id="decision-1"')
    assert "Referred by them on <time" in page and "needed by <time datetime=\"2027-06-18\">" in page
    assert f'type="application/atom+xml" title="Martine Dupont" href="/a/{ROOM}/officials/martine/feed.atom"' in page
    deputy = await register.get(f"/a/{ROOM}/officials/paul")
    assert "Not signed: accepts that not respecting the assembly&#39;s opinion is recorded" in deputy
    assert "Signed on <time datetime=\"2026-05-11\">" in deputy and "from <time datetime=\"2026-03-22\">" in deputy
    assert "Opinions respected 0, partly 0, not respected 0, no verdict yet 1." in deputy


async def test_the_officials_of_an_assembly_are_listed_with_their_records_in_figures(register):
    page = await register.get(f"/a/{ROOM}/officials")
    assert "<h1>Elected officials of Assemblée des communs</h1>" in page
    rows = page[page.index("<tbody>"):page.index("</tbody>")]
    assert rows.index("Martine Dupont") < rows.index("Paul Martin")  # in the configuration's order
    assert "Opinions respected 0, partly 1, not respected 0, no verdict yet 1." in rows
    assert f'<a href="/api/v1/a/{ROOM}/officials.csv">' in page


async def test_an_official_no_longer_declared_keeps_their_record(register, tmp_path):
    path = tmp_path / "named" / "config.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["assembly"]["officials"] = document["assembly"]["officials"][:1]  # paul's mandate is over
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "config.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    later = load_config(tmp_path / "later" / "config.yaml", environ={})
    async with TestClient(TestServer(make_app(later, register.repository))) as client:
        page = await (await client.get(f"/a/{ROOM}/officials/paul")).text()
        assert "<h1>paul</h1>" in page and "no longer declared in this assembly&#39;s configuration" in page
        assert 'id="decision-8"' in page
        listed = await (await client.get(f"/a/{ROOM}/officials")).text()
        assert "no longer declared" in listed and "Martine Dupont" in listed


async def test_an_officials_long_record_is_in_pages_newest_first(register):
    for number in range(20):
        await register.assembly.say("fay", f"!refer for paul Street number {number}")
    first = await register.get(f"/a/{ROOM}/officials/paul")
    assert "page 1 of 2" in first and "21 proposals in all" in first
    assert f'href="/a/{ROOM}/officials/paul?page=2" rel="next">Older decisions</a>' in first
    assert first.index("Street number 19") < first.index("Street number 1<")
    second = await register.get(f"/a/{ROOM}/officials/paul?page=2")
    assert "Street number 0<" in first and "Close the street on Sundays" not in first
    assert "Close the street on Sundays" in second and "Street number" not in second
    data = await register.json(f"/api/v1/a/{ROOM}/officials/paul?page=2")
    assert (data["page"], data["pages"], data["total"], data["next"]) == (2, 2, 21, None)
    assert data["previous"].endswith(f"/api/v1/a/{ROOM}/officials/paul")
    assert data["official"]["referrals"] == 20 and data["official"]["bound"] == 21


async def test_an_unargued_block_is_shown_as_not_valid(register):
    body = await register.get(f"/a/{ROOM}/{NUMBERS['repealed']}")
    assert "block without argument (not valid)" in body
    data = await register.json(f"/api/v1/a/{ROOM}/{NUMBERS['repealed']}")
    assert data["rounds"][0]["positions"] == [
        {"member": "dan", "position": "block", "argument": "", "valid": False, "at": "2027-06-08T10:00:00+02:00",
         "delegated_by": None, "scope": None}]


async def test_the_pages_speak_the_assemblys_language_with_its_dates(register, tmp_path):
    (tmp_path / "fr").mkdir()
    french = config_for(tmp_path / "fr", language="fr")
    async with TestClient(TestServer(make_app(french, register.repository))) as client:
        body = await (await client.get(f"/a/{ROOM}/1")).text()
        assert '<html lang="fr">' in body and "Texte en vigueur" in body and "Amendée par" in body
        assert '<time datetime="2027-06-11T10:00:00+02:00">vendredi 11 juin 2027, 10:00 (Europe/Paris)</time>' in body
        missing = await client.get("/a/nowhere")
        assert missing.status == 404 and "Rien ici" in await missing.text()


async def test_without_names_no_member_id_is_published_anywhere_but_officials_are_named(anonymous):
    numbers = [f"/a/{ROOM}/{number}" for number in range(1, 11)]
    for path in [f"/a/{ROOM}", *numbers, *(f"/api/v1{path}" for path in numbers), f"/a/{ROOM}/feed.atom",
                 f"/api/v1/a/{ROOM}", f"/a/{ROOM}/officials", f"/a/{ROOM}/officials/martine",
                 f"/a/{ROOM}/officials/martine/feed.atom", f"/api/v1/a/{ROOM}/officials/martine"] + [
                    f"/api/v1/a/{ROOM}/{table}.csv" for table in TABLES]:
        body = await anonymous.get(path)
        assert not [m for m in MEMBERS if re.search(rf"\b{m}\b", body)], path
    street = await anonymous.get(f"/a/{ROOM}/{NUMBERS['referral']}")
    assert "Martine Dupont" in street and "Paul Martin" in street and "on <time" in street
    kettle = await anonymous.get(f"/a/{ROOM}/{NUMBERS['adopted']}")
    assert "Follow-up given by a member before the pact" in kettle
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


async def test_a_proposal_page_names_its_topics_linked_to_their_pages(register):
    van = await register.get(f"/a/{ROOM}/{NUMBERS['rejected']}")
    assert f'<dt>Topics</dt>\n<dd><a href="/a/{ROOM}/topics/transport">Transport</a></dd>' in van
    street = await register.get(f"/a/{ROOM}/{NUMBERS['referral']}")
    assert f'fay sets its topics: <a href="/a/{ROOM}/topics/transport">Transport</a>' in street  # its history
    assert "<dt>Topics</dt>" not in await register.get(f"/a/{ROOM}/{NUMBERS['open']}")


async def test_a_topic_name_full_of_html_is_shown_as_text_everywhere(register):
    escaped = "&lt;b&gt;Commons&lt;/b&gt; &amp; @room"
    for path in (f"/a/{ROOM}", f"/a/{ROOM}/1", f"/a/{ROOM}/topics", f"/a/{ROOM}/topics/commons",
                 f"/a/{ROOM}/topics/commons/feed.atom", f"/a/{ROOM}/feed.atom"):
        body = await register.get(path)
        assert "<b>" not in body and escaped in body, path
    kettle = await register.get(f"/a/{ROOM}/1")
    assert f'<dd><a href="/a/{ROOM}/topics/commons">{escaped}</a></dd>' in kettle
    data = await register.json(f"/api/v1/a/{ROOM}/1")
    assert [t["name"] for t in data["topics"]] == [HOSTILE_TOPIC]


async def test_the_assembly_lists_proposals_with_their_topics_and_leads_to_its_topics(register):
    body = await register.get(f"/a/{ROOM}")
    assert f'<a href="/a/{ROOM}/topics">The topics of its proposals</a>' in body
    assert (f'Rent a van</a><br><span class="note">on <a href="/a/{ROOM}/topics/transport">Transport</a>'
            '</span></th>') in body
    # The search can narrow the list to a topic the assembly declares.
    assert '<select id="topic" name="topic">' in body and '<option value="budget">Budget</option>' in body


async def test_the_topics_page_counts_each_topics_proposals_by_state(register):
    body = await register.get(f"/a/{ROOM}/topics")
    assert "<h1>Topics of Assemblée des communs</h1>" in body
    rows = re.findall(r'<tr>\n<th scope="row"><a href="([^"]+)">([^<]*)</a>.*?</th>\n'
                      r'<td class="number">(\d+)</td>\n((?:<td class="number">\d+</td>)+)', body, re.S)
    counts = [(href, name, int(total), re.findall(r"\d+", by_state)) for href, name, total, by_state in rows]
    # Declared, in the configuration's order; by state: open, adopted, postponed, rejected, withdrawn, repealed.
    assert counts == [
        (f"/a/{ROOM}/topics/transport", "Transport", 3, ["0", "2", "0", "1", "0", "0"]),
        (f"/a/{ROOM}/topics/commons", "&lt;b&gt;Commons&lt;/b&gt; &amp; @room", 2, ["0", "2", "0", "0", "0", "0"]),
        (f"/a/{ROOM}/topics/budget", "Budget", 0, ["0"] * 6)]
    assert f'<a href="/a/{ROOM}/topics/transport/feed.atom">Atom feed of Transport</a>' in body


async def test_a_topics_page_is_its_proposals_searched_and_paged_like_the_assemblys(register):
    body = await register.get(f"/a/{ROOM}/topics/transport")
    assert "<h1>Transport</h1>" in body and "3 proposals of Assemblée des communs on this topic." in body
    assert re.findall(r'<td class="number">#(\d+)</td>', body) == ["9", "8", "3"]
    assert '<option value="transport" selected>Transport</option>' in body
    assert f'href="/a/{ROOM}/topics/transport/feed.atom"' in body
    adopted = await register.get(f"/a/{ROOM}/topics/transport?state=adopted&q=street")
    assert re.findall(r'<td class="number">#(\d+)</td>', adopted) == ["8"]
    for number in range(20):
        await register.assembly.say("erin", f"!propose topic transport Bus stop {number}")
    first = await register.get(f"/a/{ROOM}/topics/transport?q=bus")
    assert "(page 1 of 1): 20 found" not in first and "the newest first: 20 found" in first
    await register.assembly.say("erin", "!propose topic transport Bus stop 20")
    first = await register.get(f"/a/{ROOM}/topics/transport?q=bus")
    assert f'href="/a/{ROOM}/topics/transport?q=bus&amp;page=2" rel="next"' in first
    second = await register.get(f"/a/{ROOM}/topics/transport?q=bus&page=2")
    assert "Bus stop 0<" in second and f'href="/a/{ROOM}/topics/transport?q=bus" rel="prev"' in second
    await register.get(f"/a/{ROOM}/topics/transport?q=bus&page=3", status=404)


async def test_the_search_forms_topic_leads_to_the_topics_page_keeping_the_search(register):
    response = await register.client.get(f"/a/{ROOM}?q=van&state=rejected&topic=transport", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/a/{ROOM}/topics/transport?q=van&state=rejected"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    everything = await register.get(f"/a/{ROOM}?q=&state=&topic=")
    assert everything.count('<tr>\n<td class="number">#') == 10
    await register.get(f"/a/{ROOM}?topic=nothing", status=404)  # its page does not exist


@pytest.mark.parametrize("path", [f"/a/{ROOM}/topics/nothing", f"/a/{ROOM}/topics/nothing/feed.atom",
                                  f"/a/{ROOM}/topics/nothing?state=adopted"])
async def test_an_unknown_topic_is_a_404_page_that_says_so_and_leads_to_the_topics(register, path):
    body = await register.get(path, status=404)
    assert "<h1>No such topic</h1>" in body
    assert "Assemblée des communs has no topic &#34;nothing&#34;, declared or on record." in body
    assert f'<a href="/a/{ROOM}/topics">The topics of Assemblée des communs</a>' in body


@pytest.mark.parametrize("path", [f"/a/{ROOM}/topics/Transport", f"/a/{ROOM}/topics/transport/", "/a/!nowhere:test/"
                                  "topics", "/a/!nowhere:test/topics/transport", f"/a/{ROOM}/topics/" + "x" * 41])
async def test_a_topic_address_that_is_no_topics_is_a_404(register, path):
    await register.get(path, status=404)


@pytest.mark.parametrize("query", ["topic=Transport", "topic=%3Cb%3E", "topic=" + "x" * 41])
async def test_a_topic_in_a_query_that_is_no_topics_id_is_a_400(register, query):
    await register.get(f"/a/{ROOM}?{query}", status=400)
    assert (await register.client.get(f"/api/v1/a/{ROOM}?{query}")).status == 400


async def test_a_topic_no_longer_declared_keeps_its_proposals_and_is_shown_by_its_id(register, tmp_path):
    path = tmp_path / "named" / "config.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["assembly"]["topics"] = [t for t in document["assembly"]["topics"] if t["id"] != "transport"]
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "config.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    later = load_config(tmp_path / "later" / "config.yaml", environ={})
    async with TestClient(TestServer(make_app(later, register.repository))) as client:
        van = await (await client.get(f"/a/{ROOM}/3")).text()
        assert f'<dd><a href="/a/{ROOM}/topics/transport">transport</a></dd>' in van
        topic = await client.get(f"/a/{ROOM}/topics/transport")
        text = await topic.text()
        assert topic.status == 200 and "<h1>transport</h1>" in text and "no longer declared" in text
        assert re.findall(r'<td class="number">#(\d+)</td>', text) == ["9", "8", "3"]
        listed = await (await client.get(f"/a/{ROOM}/topics")).text()
        assert listed.index("Budget") < listed.index(">transport</a><br><span class=\"note\">no longer declared")
        assert (await client.get(f"/a/{ROOM}/topics/transport/feed.atom")).status == 200
        data = await (await client.get(f"/api/v1/a/{ROOM}/topics/transport")).json()
        assert (data["topic"]["name"], data["topic"]["declared"], data["total"]) == ("transport", False, 3)


async def test_the_pages_name_topics_in_the_assemblys_language(register, tmp_path):
    (tmp_path / "fr").mkdir()
    french = config_for(tmp_path / "fr", language="fr")
    async with TestClient(TestServer(make_app(french, register.repository))) as client:
        van = await (await client.get(f"/a/{ROOM}/3")).text()
        assert f'<a href="/a/{ROOM}/topics/transport">Mobilités</a>' in van
        budget = await (await client.get(f"/a/{ROOM}/topics/budget")).text()
        assert "<h1>budget</h1>" in budget  # no French name: its id
        missing = await client.get(f"/a/{ROOM}/topics/nothing")
        assert missing.status == 404 and '<html lang="fr">' in await missing.text()


async def test_a_version_made_by_a_challenge_says_which_part_it_replaced_and_shows_only_that_part_changed(register):
    kettle = await register.get(f"/a/{ROOM}/{NUMBERS['adopted']}")
    second = kettle[kettle.index('<h3 id="version-2">'):kettle.index('<h2 id="rounds">')]
    assert f'<p class="amended">Part 2 replaced by challenge <a href="/a/{ROOM}/6">#6</a>.' in second
    assert ('<div class="text diff">1. A kettle.\n'
            '<del class="part"><span class="hidden">[removed: </span>2. Paid from the common fund.'
            '<span class="hidden">]</span></del>'
            '<ins class="part"><span class="hidden">[added: </span>2. Paid by donations.'
            '<span class="hidden">]</span></ins></div>') in second
    assert 'class="amended"' not in kettle[:kettle.index('<h3 id="version-2">')]  # version 1 is its proposer's
