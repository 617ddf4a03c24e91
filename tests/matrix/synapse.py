"""A real Synapse homeserver for integration tests: one subprocess on loopback, SQLite in a temp dir.

    server = Synapse(tmp_dir)          # picks a free port, writes homeserver.yaml and log.yaml
    server.start()                     # blocks until GET /_matrix/client/versions == 200 (deadline 60 s)
    account = await server.register("alice-1234")   # shared-secret admin API
    server.restart()                   # same dir, same port: users, tokens and rooms survive
    server.stop()

No shell script, no daemonize: `sys.executable -m synapse.app.homeserver -c DIR/homeserver.yaml` is a
child of the test process, its stdout/stderr go to DIR/stdout.log, Synapse's own log (WARNING) to
DIR/homeserver.log.  Every rate limit (`rc_*`) is lifted, bcrypt uses 4 rounds, presence and URL
previews are off, and nothing talks to matrix.org.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

SERVER_NAME = "localhost"
SHARED_SECRET = "consent-bot-tests-shared-secret"
PASSWORD = "correct horse battery staple"

# Every `rc_*` setting that synapse/config/ratelimiting.py (1.163) reads, except rc_federation
# (no federation listener here).  The nested keys are the ones Synapse looks up with a dotted path.
_UNLIMITED = {"per_second": 100000, "burst_count": 100000}
RATE_LIMITS: dict[str, object] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


class SynapseError(RuntimeError):
    """Synapse did not come up (or died); the message carries the tail of its logs."""


@dataclass(frozen=True)
class Account:
    """A registered user: what a client needs to act as it without logging in."""

    user_id: str
    access_token: str
    device_id: str
    password: str
    homeserver: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Synapse:
    """One Synapse process serving the client API (and the admin API) on http://127.0.0.1:PORT."""

    def __init__(self, directory: Path | str, port: int | None = None, start_deadline: float = 60.0,
                 extra_config: dict[str, object] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server_name = SERVER_NAME
        self.shared_secret = SHARED_SECRET
        self.start_deadline = start_deadline
        self.extra_config = dict(extra_config or {})   # merged last into homeserver.yaml
        self.config_path = self.directory / "homeserver.yaml"
        self.log_path = self.directory / "homeserver.log"
        self.stdout_path = self.directory / "stdout.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None         # seconds until /versions answered 200, last start
        self.start_times: list[tuple[str, float]] = []   # ("fresh" | "restart", seconds), every start
        self._write_config()

    # -- configuration -------------------------------------------------------------------------

    def _write_config(self) -> None:
        d = self.directory
        log_config = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "filename": str(self.log_path),
                                  "formatter": "plain", "encoding": "utf8"}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (d / "log.yaml").write_text(yaml.safe_dump(log_config), encoding="utf-8")
        config = {
            "server_name": self.server_name,
            "public_baseurl": f"{self.url}/",
            "pid_file": str(d / "homeserver.pid"),
            "listeners": [{
                "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                "x_forwarded": False,
                # The admin API (/_synapse/admin) is served by the "client" resource too.
                "resources": [{"names": ["client"], "compress": False}],
            }],
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "media_store_path": str(d / "media_store"),
            "signing_key_path": str(d / "localhost.signing.key"),  # generated on first start
            "log_config": str(d / "log.yaml"),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "enable_registration": False,
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": self.shared_secret + "-macaroon",
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            **RATE_LIMITS,
            **self.extra_config,
        }
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    # -- process -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _versions_status(self, timeout: float = 0.5) -> int | None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", "/_matrix/client/versions")
            return connection.getresponse().status
        except OSError:
            return None
        finally:
            connection.close()

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.stdout_path, self.log_path):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} (last {len(text)} lines) ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no log written)"

    def start(self) -> float:
        """Start Synapse and block until it answers; returns (and records) the start time in seconds."""
        if self.running:
            raise SynapseError(f"Synapse already running (pid {self.process.pid})")
        if self._versions_status(timeout=0.3) is not None:
            # Otherwise the readiness probe would be fooled by whatever listens there.
            raise SynapseError(f"something already answers on port {self.port}")
        kind = "restart" if (self.directory / "homeserver.db").exists() else "fresh"
        began = time.monotonic()
        with open(self.stdout_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.directory,       # never a directory holding a module named `synapse`
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = began + self.start_deadline
        while True:
            code = self.process.poll()
            if code is not None:
                self.process = None
                raise SynapseError(f"Synapse exited with code {code} while starting\n{self.log_tail()}")
            if self._versions_status() == 200:
                break
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise SynapseError(f"Synapse did not answer within {self.start_deadline:.0f} s on "
                                   f"{self.url}\n{self.log_tail()}")
            time.sleep(0.02)
        self.started_in = time.monotonic() - began
        self.start_times.append((kind, self.started_in))
        return self.started_in

    def stop(self, timeout: float = 10.0, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL at once with kill=True, like a crash), wait, SIGKILL if still alive."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def restart(self, kill: bool = False) -> float:
        """Stop and start again on the same directory and port; returns the new start time."""
        self.stop(kill=kill)
        return self.start()

    # Non-blocking variants for use inside a running event loop (clients keep syncing meanwhile).
    async def astart(self) -> float:
        return await asyncio.to_thread(self.start)

    async def astop(self, kill: bool = False) -> None:
        await asyncio.to_thread(self.stop, 10.0, kill)

    async def arestart(self, kill: bool = False) -> float:
        return await asyncio.to_thread(self.restart, kill)

    # -- accounts ------------------------------------------------------------------------------

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    async def register(self, localpart: str, admin: bool = False, password: str = PASSWORD,
                       displayname: str | None = None) -> Account:
        """Register through the shared-secret admin API (GET nonce, POST HMAC-SHA1)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as session:
            async with session.get(endpoint) as response:
                response.raise_for_status()
                nonce = (await response.json())["nonce"]
            message = b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                    b"admin" if admin else b"notadmin"])
            mac = hmac.new(self.shared_secret.encode(), message, hashlib.sha1).hexdigest()
            body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                    "mac": mac, "displayname": displayname or localpart}
            async with session.post(endpoint, json=body) as response:
                data = await response.json()
                if response.status != 200:
                    raise SynapseError(f"registering {localpart!r} failed: {response.status} {data}")
        return Account(data["user_id"], data["access_token"], data["device_id"], password, self.url)

    async def login(self, account: Account, device_id: str) -> Account:
        """Another device of the same account, with a token of its own (a second bot process, a standby)."""
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": account.user_id},
                "password": account.password, "device_id": device_id}
        async with aiohttp.ClientSession() as session, \
                session.post(f"{self.url}/_matrix/client/v3/login", json=body) as response:
            data = await response.json()
            if response.status != 200:
                raise SynapseError(f"logging {account.user_id} in failed: {response.status} {data}")
        return Account(account.user_id, data["access_token"], data["device_id"], account.password, self.url)

    @staticmethod
    def unique_localpart(prefix: str = "user") -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    def __repr__(self) -> str:
        state = f"pid {self.process.pid}" if self.running else "stopped"
        return f"<Synapse {self.url} {state} dir={self.directory}>"


if __name__ == "__main__":  # manual check: python tests/matrix/synapse.py
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        server = Synapse(tmp)
        print(f"fresh start: {server.start():.2f}s  {server}")
        account = asyncio.run(server.register(Synapse.unique_localpart()))
        print(account)
        print(f"restart: {server.restart():.2f}s")
        server.stop()
        print(os.listdir(tmp))
