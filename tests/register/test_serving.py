"""Where the register is served: beside the console, on its own (`consent-bot serve`); and the link outcome
messages give to it. (Beside a chat adapter: tests/mattermost/test_bot.py.)"""

from __future__ import annotations

import asyncio
import io
import signal
import socket
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.console import Console, ConsoleRoom, SimulatedClock
from bot.app.handlers import COMMANDS
from bot.app.service import ConsentService
from bot.messages.outgoing import Kind
from bot.register.server import RegisterServer, RegisterUnavailable
from storage.repository import Repository
from tests.conftest import ROOM, TUESDAY, Clock, RecordingSender, make_assembly
from tests.register.scenario import config_for

ROOT = Path(__file__).resolve().parent.parent.parent


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_an_outcome_links_to_the_proposals_page_when_the_register_has_a_public_address(tmp_path, repository):
    config = config_for(tmp_path, public_url="https://register.example.org/lille/")
    room = await make_assembly(config, Clock(TUESDAY), repository)
    await room.say("alice", "!propose Buy a kettle")
    [outcome] = [m for m in await room.advance_to(TUESDAY + timedelta(days=4)) if m.kind is Kind.OUTCOME]
    assert outcome.lines[-1].plain() == "On the public register: https://register.example.org/lille/a/!room:test/1"


async def test_without_a_public_address_an_outcome_has_no_link(tmp_path, repository):
    room = await make_assembly(config_for(tmp_path), Clock(TUESDAY), repository)
    await room.say("alice", "!propose Buy a kettle")
    [outcome] = [m for m in await room.advance_to(TUESDAY + timedelta(days=4)) if m.kind is Kind.OUTCOME]
    assert "register" not in outcome.body and "http" not in outcome.body


async def test_the_console_serves_the_register_of_its_session_and_says_where(tmp_path):
    config = config_for(tmp_path, port=0)
    repository = await Repository.open(":memory:")
    clock = SimulatedClock(TUESDAY)
    room = ConsoleRoom()
    service = ConsentService(repository, config, COMMANDS, room, RecordingSender(), clock)
    err = io.StringIO()
    console = Console(service, room, clock, err)
    await console.handle("!propose Buy a kettle")
    await console.handle("/register")
    await console.handle("/register")  # says it again, serves it once
    url = f"{console.register.url}/a/console"
    assert err.getvalue().count(f"The public register of this session: {url} ") == 2
    status, body = await fetch(f"{url}/1")
    assert status == 200 and "Buy a kettle" in body and "alice" in body
    await console.close()
    await repository.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(f"{url}/1")


async def test_a_register_that_cannot_listen_says_which_setting_to_change(tmp_path, repository):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = config_for(tmp_path, port=taken.getsockname()[1])
        expected = r"cannot listen on 127\.0\.0\.1 port \d+ .*change register\.port"
        with pytest.raises(RegisterUnavailable, match=expected):
            await RegisterServer.start(config, repository)


async def test_consent_bot_serve_serves_the_register_of_the_configured_database_until_interrupted(tmp_path):
    config = config_for(tmp_path, port=0)
    repository = await Repository.open(config.database)
    room = await make_assembly(config, Clock(TUESDAY), repository)
    await room.say("alice", "!propose Buy a kettle")
    await repository.close()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--config", str(tmp_path / "config.yaml"), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        assert line.startswith("The public register is served at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split("/ ", 1)[0]
        status, body = await fetch(f"{url}/a/{ROOM}/1")
        assert status == 200 and "Buy a kettle" in body
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_console_with_register_says_where_before_the_first_prompt(tmp_path):
    from bot.console import run_console

    err, out = io.StringIO(), io.StringIO()
    await run_console(config_for(tmp_path, port=0), TUESDAY, False, ":memory:", source=io.StringIO("/quit\n"),
                      out=out, err=err, register=True)
    said = err.getvalue()
    assert said.index("The public register of this session: http://127.0.0.1:") < said.index("alice>")
