"""The register in a real browser: Debian's Chromium, headless, driven by Playwright (never a downloaded browser;
tests/servers/install-chromium.sh installs it). Each page type is checked by axe-core for WCAG 2 A and AA, and
photographed into test-output/register/ (docs/ holds the README's copies)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from tests.register.conftest import Register, serve
from tests.register.scenario import (HOSTILE_ARGUMENT, HOSTILE_FACT, HOSTILE_SOURCE, HOSTILE_STATEMENT, HOSTILE_TEXT,
                                     HOSTILE_TITLE, MEMBERS, NUMBERS, ROOM)

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parent.parent.parent
SHOTS = ROOT / "test-output" / "register"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}, "resultTypes": ["violations"]}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}
PAGES = {
    "assemblies": "/",
    "assembly": f"/a/{ROOM}",
    "assembly-search": f"/a/{ROOM}?state=adopted&q=e",
    "proposal-adopted-amended": f"/a/{ROOM}/{NUMBERS['adopted']}",
    "proposal-postponed-hostile-text": f"/a/{ROOM}/{NUMBERS['postponed']}",
    "proposal-rejected-versions": f"/a/{ROOM}/{NUMBERS['rejected']}",
    "proposal-withdrawn": f"/a/{ROOM}/{NUMBERS['withdrawn']}",
    "proposal-repealed": f"/a/{ROOM}/{NUMBERS['repealed']}",
    "proposal-challenge": f"/a/{ROOM}/{NUMBERS['amending']}",
    "proposal-open": f"/a/{ROOM}/{NUMBERS['open']}",
    "decision-facts-statements-verdict": f"/a/{ROOM}/{NUMBERS['referral']}",
    "verdict-amended": f"/a/{ROOM}/{NUMBERS['verdict']}",
    "officials": f"/a/{ROOM}/officials",
    "official": f"/a/{ROOM}/officials/martine",
    "topics": f"/a/{ROOM}/topics",
    "topic": f"/a/{ROOM}/topics/transport",
    "topic-search": f"/a/{ROOM}/topics/transport?state=adopted&q=e",
    "topic-hostile-name": f"/a/{ROOM}/topics/commons",
    "topic-unknown": f"/a/{ROOM}/topics/nothing",
    "not-found": f"/a/{ROOM}/99",
}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: run tests/servers/install-chromium.sh (Debian's package)"
    return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium(), headless=True,
                                                    args=["--no-sandbox", "--disable-gpu"])
        yield launched
        await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sites(tmp_path_factory):
    named = await serve(tmp_path_factory.mktemp("named"))
    anonymous = await serve(tmp_path_factory.mktemp("anonymous"), show_names=False)
    yield {"named": named, "anonymous": anonymous}
    for served in (named, anonymous):
        await served.client.close()
        await served.repository.close()


def url(served: Register, path: str) -> str:
    return str(served.client.make_url(path))


async def opened(browser: Browser, served: Register, path: str, viewport: dict | None = None,
                 status: int = 200, **options) -> Page:
    page = await browser.new_page(viewport=viewport or DESKTOP, **options)
    response = await page.goto(url(served, path))
    assert response is not None and response.status == status, (path, response and response.status)
    return page


async def photograph(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("name", PAGES)
async def test_each_page_type_has_no_wcag_a_or_aa_violation_and_fits_a_phone(browser, sites, name):
    status = 404 if name in ("not-found", "topic-unknown") else 200
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        page = await opened(browser, sites["named"], PAGES[name], viewport, status)
        await photograph(page, name + suffix)
        if viewport is DESKTOP:  # the same document on a phone: only its layout changes
            results = await Axe().run(page, options=WCAG)
            assert results.response["violations"] == [], (name, results.generate_report())
        # Readable on a phone: the page itself never scrolls sideways (a wide table scrolls in its own region).
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (name + suffix, width)
        await page.close()


@pytest.mark.parametrize("state", ["open", "adopted", "postponed", "rejected", "withdrawn", "repealed"])
async def test_each_state_of_a_proposal_is_rendered(browser, sites, state):
    page = await opened(browser, sites["named"], f"/a/{ROOM}/{NUMBERS[state]}")
    assert await page.locator(".facts .state").first.inner_text() == state
    assert await page.locator("h1").inner_text() != ""
    rounds = await page.locator("table").first.locator("tbody tr").count()
    assert rounds == (3 if state == "rejected" else 1)
    await page.close()


async def test_member_text_with_html_and_script_is_shown_as_text_and_runs_nothing(browser, sites):
    page = await browser.new_page(viewport=DESKTOP)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(url(sites["named"], f"/a/{ROOM}/{NUMBERS['postponed']}"))
    assert await page.locator("h1").inner_text() == f"Proposal #2: {HOSTILE_TITLE}"
    assert await page.locator("#text ~ .text").inner_text() == HOSTILE_TEXT
    assert HOSTILE_ARGUMENT in await page.locator("main").inner_text()
    assert await page.locator("script").count() == 0 and await page.locator("main img, main b").count() == 0
    assert dialogs == []
    await page.close()


async def test_the_permalink_of_a_challenged_and_amended_decision_links_both_ways(browser, sites):
    page = await opened(browser, sites["named"], f"/a/{ROOM}/{NUMBERS['adopted']}")
    assert "2. Paid by donations." in await page.locator("#text ~ .text").inner_text()
    # Exactly the part #6 replaced: removed and added whole, each on its own line; part 1 unchanged.
    assert await page.locator(".diff del").all_text_contents() == ["[removed: 2. Paid from the common fund.]"]
    assert await page.locator(".diff ins").all_text_contents() == ["[added: 2. Paid by donations.]"]
    removed, added = await page.locator(".diff del").bounding_box(), await page.locator(".diff ins").bounding_box()
    assert removed["y"] + removed["height"] <= added["y"]  # the new part 2 under the old one, not beside it
    assert await page.locator(".amended").inner_text() == "Part 2 replaced by challenge #6."
    await page.get_by_role("definition").filter(has_text="#6").first.get_by_role("link", name="#6").click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/{NUMBERS['amending']}")
    assert await page.locator("h1").inner_text() == "Proposal #6: the fund is for repairs"
    challenges = page.locator(".facts dd").filter(has_text="Buy a kettle")
    assert "on this part: 2" in await challenges.inner_text()
    await challenges.get_by_role("link", name="#1").click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/{NUMBERS['adopted']}")
    permalink = page.locator("footer a").last
    assert await permalink.inner_text() == page.url
    await page.close()


async def test_without_names_the_pages_show_no_member_but_every_argument(browser, sites):
    page = await opened(browser, sites["anonymous"], f"/a/{ROOM}/{NUMBERS['rejected']}")
    text = await page.locator("body").inner_text()
    assert not [m for m in MEMBERS if m in text]
    assert "Still too expensive for us now" in text and "4 of 6 members" in text and "a member: disagree" in text
    await photograph(page, "proposal-without-names")
    await page.close()


async def test_facts_sources_and_statements_with_html_are_shown_as_text_and_run_nothing(browser, sites):
    for path in (f"/a/{ROOM}/{NUMBERS['referral']}", f"/a/{ROOM}/officials/martine"):
        page = await browser.new_page(viewport=DESKTOP)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await page.goto(url(sites["named"], path))
        facts = page.get_by_role("table", name="Facts recorded by members of the assembly on what Martine Dupont did")
        assert HOSTILE_FACT in await facts.locator("tbody tr").first.inner_text()
        source = facts.get_by_role("link", name=HOSTILE_SOURCE)
        assert await source.get_attribute("href") == HOSTILE_SOURCE
        statement = page.locator("figure.statement").filter(has_text="the official's own word, not the assembly's "
                                                                     "record").first
        assert await statement.locator("blockquote").inner_text() == HOSTILE_STATEMENT
        assert await page.locator("script").count() == 0 and await page.locator("main img, main b, main i").count() == 0
        assert dialogs == []
        await page.close()


async def test_an_officials_page_leads_to_their_decisions_and_the_verdicts_on_them(browser, sites):
    page = await opened(browser, sites["named"], f"/a/{ROOM}/officials")
    await page.get_by_role("link", name="Martine Dupont").first.click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/officials/martine")
    assert await page.locator("h1").inner_text() == "Martine Dupont"
    record = page.locator(".facts dd").filter(has_text="Opinions respected")
    assert await record.inner_text() == "Opinions respected 0, partly 1, not respected 0, no verdict yet 1."
    entry = page.locator("section.entry").first
    assert "Referred by them on Friday 11 June 2027, needed by Friday 18 June 2027" in await entry.inner_text()
    await entry.get_by_role("link", name="#9").first.click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/{NUMBERS['verdict']}")
    assert "how Martine Dupont applied decision #8" in await page.locator(".facts").inner_text()
    await page.locator(".facts").get_by_role("link", name="#8").click()
    assert await page.locator("h1").inner_text() == "Proposal #8: Close the street on Sundays"
    await photograph(page, "decision-with-facts")
    await page.close()


async def test_searching_needs_no_javascript(browser, sites):
    page = await opened(browser, sites["named"], f"/a/{ROOM}", java_script_enabled=False)
    await page.get_by_label("Search in titles").fill("van")
    await page.get_by_label("State").select_option("rejected")
    await page.get_by_role("button", name="Show").click()
    assert page.url.endswith(f"/a/{ROOM}?q=van&state=rejected&topic=")
    rows = page.locator("tbody tr")
    assert await rows.count() == 1 and "Rent a van" in await rows.inner_text()
    # A topic chosen: its page, the rest of the search kept.
    await page.get_by_label("Search in titles").fill("")
    await page.get_by_label("Topic").select_option(label="Transport")
    await page.get_by_role("button", name="Show").click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/topics/transport?state=rejected")
    assert await page.locator("h1").inner_text() == "Transport"
    assert await page.locator("tbody tr").count() == 1 and await page.get_by_label("Topic").input_value() == "transport"
    await page.close()


async def test_topics_lead_from_a_decision_to_its_topic_and_the_assemblys_topics(browser, sites):
    page = await opened(browser, sites["named"], f"/a/{ROOM}/{NUMBERS['verdict']}")
    await page.locator(".facts").get_by_role("link", name="Transport").click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/topics/transport")
    numbers = await page.locator("tbody td.number").all_inner_texts()
    assert numbers == ["#9", "#8", "#3"]
    await page.get_by_role("navigation", name="Where you are").get_by_role("link", name="Topics").click()
    table = page.get_by_role("table", name="Topics and their proposals")
    assert await table.locator("tbody th").all_inner_texts() == ["Transport", "<b>Commons</b> & @room", "Budget"]
    await table.get_by_role("link", name="<b>Commons</b> & @room").first.click()
    assert page.url == url(sites["named"], f"/a/{ROOM}/topics/commons")
    assert await page.locator("h1").inner_text() == "<b>Commons</b> & @room"
    assert await page.locator("main b").count() == 0
    await page.close()


async def test_a_decision_says_by_which_delegation_each_member_counted(browser, sites):
    page = await opened(browser, sites["named"], f"/a/{ROOM}/{NUMBERS['verdict']}")
    positions = page.get_by_role("table", name="Positions taken in round 2, in order")
    rows = [await row.locator("td").nth(1).inner_text() for row in await positions.locator("tbody tr").all()]
    assert rows == ["—", "counted by delegation, with the position of alice",
                    "counted by their delegation on the proposals on Transport, with the position of alice",
                    "counted by their delegation on this proposal, with the position of alice"]
    await page.close()
    anonymous = await opened(browser, sites["anonymous"], f"/a/{ROOM}/{NUMBERS['verdict']}")
    text = await anonymous.locator("main").inner_text()
    assert "counted by their delegation on this proposal, with the position of their delegate" in text
    await anonymous.close()


async def test_an_unknown_proposal_is_a_404_page(browser, sites):
    page = await opened(browser, sites["named"], f"/a/{ROOM}/99", status=404)
    assert await page.locator("h1").inner_text() == "Nothing here"
    await page.get_by_role("link", name="Every assembly's decisions").click()
    assert await page.locator("h1").inner_text() == "Register of decisions"
    await page.close()


async def test_the_accessibility_check_does_find_violations(browser):
    """The axe-core run above is no empty ritual: a page without language, title or image text fails it."""
    page = await browser.new_page()
    await page.set_content("<html><body><img src='x.png'><a href='/'></a><p style='color:#ccc'>faint</p></body></html>")
    violations = {v["id"] for v in (await Axe().run(page, options=WCAG)).response["violations"]}
    assert {"html-has-lang", "document-title", "image-alt", "link-name", "color-contrast"} <= violations
    await page.close()
