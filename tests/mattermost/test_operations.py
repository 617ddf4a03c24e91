"""Health on Mattermost: /readyz is ready once the websocket is greeted and the first resync done, stays ready
while the websocket is quiet, and turns not ready when the server is gone; its metrics count what the bot does."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.matrix.synapse import free_port

from .bot_harness import RunningBot, bot_config


async def readiness(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as response:
        body = await response.json()
        assert response.status == (200 if body["ready"] else 503)
        return body


async def until_ready(url: str, ready: bool, within: float = 15) -> dict:
    deadline = time.monotonic() + within
    while (body := await readiness(url))["ready"] is not ready:
        assert time.monotonic() < deadline, f"/readyz still says {body}"
        await asyncio.sleep(0.2)
    return body


async def test_readyz_follows_the_websocket_and_the_metrics_count_commands(mattermost, tmp_path):
    team = mattermost.create_team("assembly")
    bot_user, alice = mattermost.create_bot("consentbot"), mattermost.create_user("alice")
    channel = mattermost.create_channel(team, "town-square", creator=alice)
    mattermost.add_member(channel, bot_user)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = bot_config(tmp_path, mattermost.url, bot_user.token,
                        sections={"ops": {"enabled": True, "port": port, "stale_after": "1s"}})
    bot = RunningBot(config)
    await bot.start()
    try:
        body = await until_ready(url, True)
        assert body["checks"]["platform"]["state"] == "connected"
        await asyncio.sleep(1.5)  # longer than stale_after, and nothing happens: a quiet websocket is no outage
        assert (await readiness(url))["ready"] is True
        mattermost.post(alice, channel, "!propose Buy a kettle")
        await mattermost.wait_for_post(lambda p: p["user_id"] == bot_user.id, channel=channel, timeout=10)
        async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
            text = await response.text()
        assert 'consent_bot_commands_total{command="propose",result="done"} 1.0' in text
        assert 'consent_bot_info{platform="mattermost",version=' in text

        await mattermost.stop()  # the server is gone: the websocket closes, reconnections fail
        body = await until_ready(url, False)
        assert body["checks"]["platform"]["state"] == "unreachable"
    finally:
        await bot.stop()
