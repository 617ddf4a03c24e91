"""The pact's story told on a chat platform (a referral adopted, two facts, the official's statement, a verdict
"partly respected" adopted), as the public register shows it: the official's page, JSON, CSV and feed."""

from __future__ import annotations

import csv
import io

from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.register.app import make_app
from bot.register.links import room_path
from storage.repository import Repository


async def the_pact_story_is_on_the_register(config: Config, repository: Repository, room: str) -> None:
    """The official's page, JSON, CSV and feed, served from the bot's database as `consent-bot serve` does."""
    client = TestClient(TestServer(make_app(config, repository)))
    await client.start_server()
    try:
        api = f"/api/v1{room_path(room)}"
        official = (await (await client.get(f"{api}/officials/martine")).json())["official"]
        assert (official["facts"], official["statements"], official["verdicts"]) == (2, 1, 1)
        assert official["record"]["partly_respected"] == 1
        page = await (await client.get(f"{room_path(room)}/officials/martine")).text()
        assert "Martine Dupont" in page and "Closed every Sunday since May." in page
        facts = list(csv.DictReader(io.StringIO(await (await client.get(f"{api}/facts.csv")).text())))
        assert sorted(row["official"] for row in facts) == ["martine", "martine"]
        verdicts = list(csv.DictReader(io.StringIO(await (await client.get(f"{api}/verdicts.csv")).text())))
        assert [(row["official"], row["assessment"]) for row in verdicts] == [("martine", "partly_respected")]
        feed = await (await client.get(f"{room_path(room)}/officials/martine/feed.atom")).text()
        assert "signed the closing order" in feed
    finally:
        await client.close()
