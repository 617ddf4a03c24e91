"""A Docker daemon of the tests' own, and a Debian base image made locally (Docker Hub is out of reach): see
../shared/research/docker.md for what works on these machines.

    base = base_image_tarball()                # made once by mmdebstrap, cached by its recipe (~35 s, ~190 MB)
    daemon = DockerDaemon.start(folder)        # dockerd with its own data, exec root and socket (~1 s)
    daemon.load_base(base)                     # docker import, as local/python:3.11-bookworm
    daemon.docker("build", ...)                # the docker command line, on this daemon
    daemon.stop()                              # stopped by its PID; its containers and images go with its folder

The daemon changes nothing on the host's network: no default bridge, no iptables rules (the tests run containers
with --network host, reaching the servers the tests start on 127.0.0.1). tests/servers/install-docker.sh
installs it (what CI runs first).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL = "tests/servers/install-docker.sh"
RELEASE = "bookworm"
"""Debian's release whose Python (3.11) the base image has, like python:3.11-slim."""
BASE_IMAGE = f"local/python:3.11-{RELEASE}"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
POSTGRES_BASE_IMAGE = f"local/postgresql:{RELEASE}"
POSTGRES_PACKAGES = ("postgresql",)
"""A base for the stand-in of the official postgres image (tests/servers/postgres-image)."""
CERTIFICATES = Path("/usr/local/share/ca-certificates")
"""The machine's own certificate authorities (an HTTPS proxy's): the image trusts them too, or pip cannot reach
PyPI from inside a build."""
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "consent-bot-tests"


class DockerMissing(RuntimeError):
    pass


def _mirror() -> str:
    """The Debian mirror this machine's apt uses."""
    for sources in sorted(Path("/etc/apt").glob("sources.list*")) + sorted(Path("/etc/apt/sources.list.d").glob("*")):
        if sources.is_file():
            found = re.search(r"(?:^URIs:\s*|^deb\s+(?:\[[^]]*\]\s+)?)(https?://\S+/debian)\s", sources.read_text(),
                              re.MULTILINE)
            if found:
                return found.group(1)
    return "http://deb.debian.org/debian"


def base_image_tarball(name: str = "python-3.11", packages: tuple[str, ...] = PACKAGES) -> Path:
    """A base image's root file system with ``packages``, made by mmdebstrap once and kept in the user's cache, named
    after what went into it (the release, the packages, the machine's certificates): another recipe is another
    file."""
    certificates = sorted(CERTIFICATES.glob("*.crt")) if CERTIFICATES.is_dir() else []
    recipe = hashlib.sha256(repr((RELEASE, packages, [c.read_bytes() for c in certificates])).encode()).hexdigest()
    tarball = CACHE / f"{name}-{RELEASE}-{recipe[:12]}.tar"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "base-image.lock").open("w") as lock:  # one maker at a time: the test workers share the cache
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.exists():
            return tarball
        if shutil.which("mmdebstrap") is None:
            raise DockerMissing(f"mmdebstrap is not installed: run {INSTALL}")
        hooks = []
        if certificates and "ca-certificates" in packages:
            hooks = ["--customize-hook=" + " && ".join(
                [f'cp {c} "$1{CERTIFICATES}/"' for c in certificates] + ['chroot "$1" update-ca-certificates'])]
        partial = tarball.with_suffix(".partial")
        subprocess.run(["mmdebstrap", "--quiet", "--format=tar", "--variant=minbase", f"--include={','.join(packages)}", *hooks,
                        RELEASE, str(partial), _mirror()], check=True, capture_output=True, timeout=600)
        partial.rename(tarball)
        for old in CACHE.glob(f"{name}-{RELEASE}-*.tar"):
            if old != tarball:
                old.unlink()
    return tarball


@dataclass
class DockerDaemon:
    folder: Path
    process: subprocess.Popen

    @property
    def host(self) -> str:
        return f"unix://{self.folder / 'docker.sock'}"

    @classmethod
    def start(cls, folder: Path, within: float = 60) -> DockerDaemon:
        if shutil.which("dockerd") is None or shutil.which("docker") is None:
            raise DockerMissing(f"Docker is not installed: run {INSTALL}")
        folder.mkdir(parents=True, exist_ok=True)
        log = (folder / "dockerd.log").open("wb")
        # Niced, and so are its builds and containers: the tests running beside them with deadlines of seconds
        # come first on the machine's two cores.
        process = subprocess.Popen(
            ["nice", "-n", "15", "dockerd", "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"),
             "--pidfile", str(folder / "docker.pid"), "-H", f"unix://{folder / 'docker.sock'}",
             "--bridge=none", "--iptables=false", "--ip-masq=false"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        daemon = cls(folder, process)
        deadline = time.monotonic() + within
        while daemon.docker("info", check=False, timeout=10).returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                daemon.stop()
                raise RuntimeError(f"dockerd did not start:\n{daemon.log_tail()}")
            time.sleep(0.2)
        return daemon

    def environment(self) -> dict[str, str]:
        """The environment of a docker command for this daemon: the classic builder (bookworm has no buildx)."""
        return {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "0",
                "DOCKER_CONFIG": str(self.folder / "client")}

    def docker(self, *arguments: str, check: bool = True, timeout: float = 120,
               input: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(["docker", *arguments], env=self.environment(), capture_output=True, text=True,
                                timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise RuntimeError(f"docker {' '.join(arguments)} failed ({result.returncode}):\n{result.stdout}\n"
                               f"{result.stderr}")
        return result

    def load_base(self, tarball: Path, tag: str = BASE_IMAGE) -> str:
        """Import a base image; it trusts the machine's certificates for pip as Debian's Python does for the rest."""
        bundle = "/etc/ssl/certs/ca-certificates.crt"
        self.docker("import", "--change", f"ENV PIP_CERT={bundle}", str(tarball), tag, timeout=300)
        return tag

    def log_tail(self, lines: int = 30) -> str:
        path = self.folder / "dockerd.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self, within: float = 30) -> None:
        """Stop the daemon by its PID (it stops its containers), then remove its images and volumes (its log stays)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(within)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # What dockerd leaves mounted (its network namespace's file) would keep its folder from being removed.
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for point in sorted((m for m in mounts if m.startswith(f"{self.folder}/")), reverse=True):
            subprocess.run(["umount", "--lazy", point], check=False, capture_output=True)
        # Its images and volumes are a gigabyte of small files: removed in the background, at the lowest priority,
        # rather than holding up a test worker for half a minute.
        subprocess.Popen(["nice", "-n", "19", "ionice", "-c", "3", "rm", "-rf", str(self.folder / "data"),
                          str(self.folder / "exec")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
