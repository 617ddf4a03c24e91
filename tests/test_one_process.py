"""One process acts on a SQLite database: a second `consent-bot run` (or console) on the same file refuses to
start and names the one that holds it, while `export` and `serve` read beside it; a holder killed with
SIGKILL leaves no stale lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import yaml

from tests.polling import until

ROOT = Path(__file__).parent.parent


def console_config(folder: Path, port: int = 8080) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({"platform": "console", "storage": {"path": "data/consent.db"},
                                    "assembly": {"language": "en"}, "register": {"port": port}}))
    return path


def start(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", *arguments], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_second_bot_on_the_same_sqlite_file_refuses_to_start_and_says_which_process_holds_it(tmp_path):
    port = free_port()
    config = console_config(tmp_path, port)
    first = start("run", "--config", str(config))
    try:
        first.stdin.write("!propose Buy a kettle\n")
        first.stdin.flush()
        database = tmp_path / "data" / "consent.db"
        await until(lambda: database.exists() and f"process {first.pid} " in (tmp_path / "data" / "consent.db.lock")
                    .read_text(), what="the first bot holding its database")

        for command in (["run", "--config", str(config)], ["console", "--config", str(config)]):
            second = subprocess.run([sys.executable, "-m", "bot", *command], input="!list\n", capture_output=True,
                                    text=True, cwd=ROOT, timeout=60)
            assert second.returncode == 1, second
            assert f"another consent-bot acts on {database}: process {first.pid} on {socket.gethostname()}" \
                in second.stderr
            assert "Traceback" not in second.stderr

        # Readers are welcome beside it: the export and the register show the proposal the first bot recorded.
        await until(lambda: "Buy a kettle" in subprocess.run(
            [sys.executable, "-m", "bot", "export", "--config", str(config), "--format", "json"], capture_output=True,
            text=True, cwd=ROOT, timeout=60).stdout, what="the export to read the first bot's proposal")
        serving = start("serve", "--config", str(config))
        try:
            async def page() -> str:
                try:
                    async with aiohttp.ClientSession() as session, \
                            session.get(f"http://127.0.0.1:{port}/api/v1/a/console/1") as response:
                        return json.loads(await response.text())["title"] if response.status == 200 else ""
                except aiohttp.ClientConnectionError:
                    return ""
            assert await until(page, timeout=30, what="the register served beside the bot") == "Buy a kettle"
        finally:
            serving.send_signal(signal.SIGINT)
            serving.communicate(timeout=30)
    finally:
        first.kill()
        first.communicate()

    # Killed with SIGKILL, the first bot held nothing any more: the next one starts on the same database.
    again = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)], input="!list\n",
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "Buy a kettle" in again.stdout
