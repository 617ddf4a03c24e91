"""Health and metrics of a bot running on a real Synapse: /metrics scraped and parsed as Prometheus does, each
counter moving with what it counts; /readyz not ready while Synapse is down and ready again after; `consent-bot
health` saying the same."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.servers.announcements import HttpReceiver

from .bot_harness import RunningBot, bot_config, from_bot, propose, room_with_bot
from .member import content
from .synapse import free_port

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUICK_ROUND = {"minimum_duration": "10s"}
"""Long enough for the test's votes, short enough to see the round close."""


def started(tmp_path, bot_account, allowed: list[str], **assembly) -> tuple[RunningBot, str]:
    """A bot with its operations listener on a free port, quick to call itself not ready; and that listener's URL."""
    port = free_port()
    config = bot_config(tmp_path, bot_account, allowed, sections={
        "ops": {"enabled": True, "port": port, "stale_after": "2s"}}, **assembly)
    return RunningBot(config), f"http://127.0.0.1:{port}"


async def families(url: str) -> list:
    """/metrics, parsed as Prometheus parses it."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        return list(text_string_to_metric_families(await response.text()))


async def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics: (name, sorted labels) → value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in await families(url) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((f"consent_bot_{name}", tuple(sorted(labels.items()))), 0.0)


async def moved(url: str, act: Callable | None, expected: dict[tuple, float], within: float = 15,
                before: dict | None = None) -> dict:
    """Run ``act``, then wait until each (name, labels) of ``expected`` has moved by that much since ``before``
    (default: the samples before ``act``); the samples."""
    before = await scrape(url) if before is None else before
    if act is not None:
        await act()
    deadline = time.monotonic() + within
    while True:
        after = await scrape(url)
        moves = {key: value(after, key[0], **dict(key[1])) - value(before, key[0], **dict(key[1])) for key in expected}
        if moves == expected:
            return after
        assert time.monotonic() < deadline, f"expected moves {expected}, saw {moves}"
        await asyncio.sleep(0.1)


def key(name: str, **labels: str) -> tuple:
    return name, tuple(sorted(labels.items()))


async def readiness(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as response:
        return response.status, await response.json()


async def until_ready(url: str, ready: bool, within: float = 30) -> dict:
    deadline = time.monotonic() + within
    while True:
        status, body = await readiness(url)
        if body["ready"] is ready:
            assert status == (200 if ready else 503)
            return body
        assert time.monotonic() < deadline, f"/readyz still says {body}"
        await asyncio.sleep(0.2)


async def test_each_counter_moves_with_what_it_counts(tmp_path, bot_account, members, voters):
    alice, = await members("alice")
    bob, = await voters(1)
    receiver = await HttpReceiver().start()
    bot, url = started(tmp_path, bot_account, [alice.user_id], **QUICK_ROUND,
                       webhooks=[{"name": "wiki", "url": receiver.url, "secret": "s3cret"}])
    await bot.start()
    try:
        room = await room_with_bot(alice, bot.user_id, bob)
        ballot = None

        async def proposing():
            nonlocal ballot
            ballot = await propose(alice, room, bot.user_id)

        samples = await moved(url, proposing, {key("commands_total", command="propose", result="done"): 1,
                                               key("messages_queued_total", kind="ballot"): 1,
                                               key("messages_sent_total", kind="ballot"): 1,
                                               key("messages_queued_total", kind="seed"): 1,
                                               key("announcements_total", channel="webhook", result="sent"): 1})
        assert value(samples, "open_rounds") == 1
        deadline = datetime.fromisoformat(content(ballot)["consent_bot"]["deadline"])
        assert value(samples, "next_due_timestamp_seconds") == deadline.timestamp()  # no reminders: the deadline

        await moved(url, lambda: bob.send_text(room, "!agree #1"),
                    {key("commands_total", command="agree", result="done"): 1, key("positions_total", position="agree"): 1,
                     key("messages_sent_total", kind="ack"): 1})
        await moved(url, lambda: bob.react(room, ballot.event_id, "✋"),
                    {key("commands_total", command="reaction", result="done"): 1,
                     key("positions_total", position="block"): 1, key("messages_sent_total", kind="block_request"): 1})
        await moved(url, lambda: bob.send_text(room, "!unvote #1"),
                    {key("commands_total", command="unvote", result="done"): 1,
                     key("positions_total", position="withdrawn"): 1})
        await moved(url, lambda: bob.send_text(room, "!extend #1 1h"),  # bob facilitates nothing: refused
                    {key("commands_total", command="extend", result="refused"): 1,
                     key("messages_sent_total", kind="error"): 1})
        await moved(url, lambda: bob.send_text(room, "!frobnicate"),
                    {key("commands_total", command="unknown", result="refused"): 1})

        await alice.wait_for(from_bot(bot.user_id, "outcome"), room=room, timeout=20)
        samples = await moved(url, None, {key("outcomes_total", rule="consent", outcome="adopted"): 1,
                                          key("messages_sent_total", kind="outcome"): 1}, before={})  # from zero
        assert value(samples, "open_rounds") == 0
        assert value(samples, "database_transaction_seconds_count") > 0
        assert value(samples, "sync_lag_seconds_count") >= 5  # every member's event read: 5 commands, 1 reaction
        assert value(samples, "platform_send_seconds_count") == sum(
            v for (name, _), v in samples.items() if name == "consent_bot_messages_sent_total")
        assert value(samples, "messages_waiting") == 0 and value(samples, "platform_reachable") == 1
        assert value(samples, "seconds_since_last_sync") < 35  # a long poll lasts 30 s at most
        assert value(samples, "events_failed_total") == 0 and value(samples, "rate_limit_waits_total") == 0
        assert samples[("process_resident_memory_bytes", ())] > 0
        # Labels are bounded: no member, room or text in any of them.
        values = {value for (_, pairs) in samples for _, value in pairs}
        assert not [value for value in values if room in value or "@" in value or "kettle" in value.lower()]
        # The example dashboard and alerts ask for metrics the bot has.
        exposed = {family.name for family in await families(url)}
        for example in ("grafana-dashboard.json", "alerts.yml"):
            named = set(re.findall(r"\b(?:consent_bot|process)_[a-z_]+", (DOCS / example).read_text()))
            unknown = {name for name in named if re.sub(r"_(total|bucket|count|sum)$", "", name) not in exposed}
            assert not unknown, f"docs/{example} names metrics the bot does not expose: {unknown}"
    finally:
        await bot.stop()
        await receiver.stop()


async def test_the_log_says_once_when_the_bot_is_up_who_it_is_and_where_it_serves(tmp_path, bot_account, members,
                                                                                   caplog):
    caplog.set_level(logging.INFO)
    alice, = await members("alice")
    ops, register = free_port(), free_port()
    config = bot_config(tmp_path, bot_account, [alice.user_id, ":elsewhere.org"], sections={
        "ops": {"enabled": True, "port": ops}, "register": {"enabled": True, "port": register}})
    bot = await RunningBot(config).start()
    try:
        await room_with_bot(alice, bot.user_id)
    finally:
        await bot.stop()
    caplog.clear()
    bot = await RunningBot(config).start()  # a restart, in the room it joined
    try:
        await propose(alice, await room_with_bot(alice, bot.user_id), bot.user_id)  # and on after: said once
    finally:
        await bot.stop()
    ready = [record.getMessage() for record in caplog.records if record.getMessage().startswith("ready on")]
    assert ready == [f"ready on Matrix: account {bot_account.user_id}; device {bot_account.device_id}; 1 rooms joined; "
                     f"invitations accepted from {alice.user_id}, :elsewhere.org; register at "
                     f"http://127.0.0.1:{register}; health and metrics at http://127.0.0.1:{ops}"]
    assert all(record.levelno == logging.INFO for record in caplog.records if record.getMessage() in ready)
    assert bot_account.access_token not in caplog.text


async def test_a_rejected_token_is_the_bots_first_warning_and_matrix_nios_complaint_only_a_debug_line(tmp_path,
                                                                                                   bot_account):
    bot_config(tmp_path, bot_account, [":localhost"], matrix={"access_token": ""})

    async def run(level: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.yaml"), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={
                **os.environ, "CONSENT_BOT_MATRIX_ACCESS_TOKEN": "syt_not_a_token", "CONSENT_BOT_LOG_LEVEL": level})
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 1, stderr
        return stderr.decode()

    said = [line for line in (await run("INFO")).splitlines() if re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) ", line)]
    assert len(said) == 1 and said[0].endswith(
        "ERROR bot: the homeserver rejected the bot's access token (Invalid access token passed.)"), said
    assert re.search(r" DEBUG nio\.responses: Error validating response: 'user_id' is a required property",
                     await run("DEBUG"))


async def test_readyz_is_not_ready_while_synapse_is_down_and_ready_again_after(tmp_path, bot_account, members,
                                                                                synapse, caplog):
    caplog.set_level(logging.INFO)
    alice, = await members("alice")
    bot, url = started(tmp_path, bot_account, [alice.user_id])
    await bot.start()
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as response:
            assert response.status == 200 and await response.json() == {"alive": True}
        body = await until_ready(url, True)
        assert set(body["checks"]) == {"database", "platform", "outbox", "deadlines"}
        assert body["checks"]["platform"]["state"] == "connected"
        health = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", "health", "--config",
                                                          str(tmp_path / "config.yaml")],
                                         capture_output=True, text=True, timeout=30)
        assert health.returncode == 0, health.stdout + health.stderr
        assert '"ready": true' in health.stdout

        await synapse.astop()
        try:
            body = await until_ready(url, False)
            assert body["checks"]["platform"] == {**body["checks"]["platform"], "ok": False, "state": "unreachable"}
            assert body["checks"]["database"]["ok"] is True
            health = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", "health", "--config",
                                                              str(tmp_path / "config.yaml")],
                                             capture_output=True, text=True, timeout=30)
            assert health.returncode == 1 and '"ready": false' in health.stdout
        finally:
            await synapse.astart()
        await until_ready(url, True, within=60)  # the bot's backoff: at most 30 s between tries
        bot.check_alive()
        # The warnings of each failed sync have an end the operator can see.
        again = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "works again" in r.getMessage()]
        assert len(again) == 1 and re.fullmatch(r"the sync works again after \d+ failures? / \d+ s", again[0]), again
    finally:
        await bot.stop()


async def test_run_logs_json_lines_without_secrets_or_bodies_and_stops_at_once_on_sigterm(tmp_path, bot_account,
                                                                                         members):
    alice, = await members("alice")
    bot_config(tmp_path, bot_account, [alice.user_id], matrix={"access_token": ""},
               sections={"log_format": "json"})
    log = tmp_path / "bot.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.yaml"), stdin=subprocess.DEVNULL,
            stdout=output, stderr=output,
            env={**os.environ, "CONSENT_BOT_MATRIX_ACCESS_TOKEN": bot_account.access_token},
            # A script's background job: the shell has it ignore SIGINT, and SIGTERM must still stop it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        room = await room_with_bot(alice, bot_account.user_id)
        await propose(alice, room, bot_account.user_id, "!propose Buy a kettle\nOur secret plan: a teapot too.")
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        assert time.monotonic() - stopping < 5
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line.get("room") == room for line in lines), "no line says which room it is about"
    assert any(line["message"] == "SIGTERM: stopping" for line in lines)
    text = log.read_text(encoding="utf-8")
    assert bot_account.access_token not in text and "secret plan" not in text and "kettle" not in text
