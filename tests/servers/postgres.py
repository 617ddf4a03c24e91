"""A throwaway PostgreSQL server for the tests and the benchmarks: initdb in a temp dir, a unix socket, no TCP.

    server = PostgresServer.start()         # < 1 s; raises PostgresMissing when no PostgreSQL is installed
    server = PostgresServer.start(port=p)   # on 127.0.0.1:p too, and URLs name it (a network to cut)
    url = await server.create_database()    # a fresh, empty database: postgresql://postgres@/db_3?host=…
    url = await server.create_database(template="db_1")   # a copy of db_1
    server.crash(); server.start_again()    # SIGKILLed with all its processes, then started: it recovers
    server.stop()                           # the server stopped, its folder removed, every database with it

Databases are not dropped one by one: DROP DATABASE forces a checkpoint, which doubled the time of the
tests that run on PostgreSQL; a database costs some 8 MB in the server's folder until the end.

initdb refuses to run as root: as root, the server's folder belongs to the ``postgres`` user and every server
command runs as it (runuser); as anyone else, they run as that user. tests/servers/install-postgres.sh installs
PostgreSQL (what CI runs first).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

FOR_TESTS = {"fsync": "off", "full_page_writes": "off"}
"""Nothing a test writes needs to survive a power cut: the cluster is thrown away."""
INSTALL = "tests/servers/install-postgres.sh"


class PostgresMissing(RuntimeError):
    pass


def database_name(url: str) -> str:
    """The database a URL of this server names."""
    return urlsplit(url).path.lstrip("/")


def _parent(stat: Path) -> int:
    """The parent of the process whose /proc/<pid>/stat this is; 0 once it is gone (or a zombie)."""
    try:
        fields = stat.read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return 0 if fields[0] == "Z" else int(fields[1])


def binaries() -> Path:
    """The folder of initdb and pg_ctl: on the PATH, else where pg_config or Debian's packages put them."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    if shutil.which("pg_config"):
        folder = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    raise PostgresMissing(f"PostgreSQL is not installed (no initdb on the PATH, nor pg_config): run {INSTALL}")


@dataclass
class PostgresServer:
    folder: Path
    as_user: list[str]
    """The command prefix that runs a server command as the folder's owner ([] when not root)."""
    bin: Path
    options: str = ""
    """What pg_ctl passes to the server (its socket, TCP or not, the settings)."""
    port: int | None = None
    """The TCP port it listens on, on 127.0.0.1 (None: the unix socket only)."""
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, settings: dict[str, str] | None = None, port: int | None = None) -> PostgresServer:
        """A new cluster, started; ``settings``: postgres -c options (FOR_TESTS, or none: the defaults); ``port``:
        listen on 127.0.0.1 there too, and name it in URLs (a network to cut)."""
        bin = binaries()
        folder = Path(tempfile.mkdtemp(prefix="consent-pg-", dir="/tmp"))  # pytest's tmp_path: 0700 above it
        as_user = []
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        options = " ".join(f"-c {name}={value}" for name, value in {**(settings or {})}.items())
        listen = f"-c listen_addresses=127.0.0.1 -p {port}" if port else "-c listen_addresses=''"
        server = cls(folder, as_user, bin, f"-k {folder} {listen} {options}", port)
        try:
            server._run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--locale=C.UTF-8")
            server.start_again()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return server

    def start_again(self) -> None:
        """Start the server on its folder (after a crash: it recovers from its WAL first)."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w", "start",
                  "-o", self.options)

    def crash(self) -> None:
        """SIGKILL the server and every process of it, as a crash would (what it wrote, the system keeps), and
        wait for them to be gone."""
        postmaster = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        processes = [postmaster, *(int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat")
                                   if _parent(stat) == postmaster)]
        for pid in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() and _parent(Path(f"/proc/{pid}/stat")) != 0 for pid in processes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL's processes {processes} outlived SIGKILL")
            time.sleep(0.02)
        # The postmaster's parent is whatever adopted it, which may leave it a zombie (a container's first process
        # that reaps nothing): its lock files would then name a process that still "exists", and the server would
        # refuse to start. Nothing of it runs any more: they go, as an administrator would remove them.
        for lock in (self.folder / "data" / "postmaster.pid", *self.folder.glob(".s.PGSQL.*.lock")):
            lock.unlink(missing_ok=True)

    def _run(self, program: str, *arguments: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bin / program), *arguments], capture_output=True, text=True)
        if done.returncode != 0:
            log = self.folder / "log"
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}"
                               + (f"\n{log.read_text()}" if log.exists() else ""))

    def url(self, database: str = "postgres") -> str:
        if self.port:
            return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        return f"postgresql://postgres@/{database}?host={self.folder}"

    async def create_database(self, template: str = "template0") -> str:
        """A new database, as empty as ``template``; its URL."""
        name = f"db_{next(self._names)}"
        connection = await asyncpg.connect(self.url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await connection.close()
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
