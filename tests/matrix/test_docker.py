"""The image, tested for real: the project's Dockerfile built on a Debian base image made here (Docker Hub is out of
reach) by a Docker daemon of the test's own, then run with the README's own `docker run` line against the tests'
Synapse: it answers in a room, turns healthy, runs as a non-root user, keeps its register and encryption store
across `docker restart`, and stops within seconds on `docker stop`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.servers.docker import (BASE_IMAGE, POSTGRES_BASE_IMAGE, POSTGRES_PACKAGES, DockerDaemon,
                                  base_image_tarball)

from .bot_harness import QUICK, from_bot, propose, room_with_bot
from .member import content
from .synapse import free_port

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "consent-bot"
"""The README's tag."""


def readme_docker_run() -> str:
    """The `docker run` line that README.md gives (the line after the <!-- docker-run --> marker's fence)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    line = lines[lines.index("<!-- docker-run -->") + 2]
    assert line.startswith("docker run ") and line.endswith(f" {IMAGE}")
    return line


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerDaemon]:
    """A daemon of the tests' own, with the project's image built on the local base image, as the README says."""
    daemon = DockerDaemon.start(tmp_path_factory.mktemp("docker"))
    try:
        daemon.load_base(base_image_tarball())
        daemon.docker("build", "--network", "host", "--build-arg", f"BASE={BASE_IMAGE}", "-t", IMAGE, str(ROOT),
                      timeout=900)
        yield daemon
    finally:
        daemon.stop()


async def run(daemon: DockerDaemon, *arguments: str, timeout: float = 120) -> str:
    return (await asyncio.to_thread(daemon.docker, *arguments, timeout=timeout)).stdout.strip()


async def until(daemon: DockerDaemon, container: str, template: str, expected: str, within: float) -> None:
    deadline = time.monotonic() + within
    while (seen := await run(daemon, "inspect", "--format", template, container)) != expected:
        assert time.monotonic() < deadline, f"{template} is {seen!r}, not {expected!r}:\n" + \
            await run(daemon, "logs", container)
        await asyncio.sleep(0.5)


async def test_the_image_answers_in_a_room_turns_healthy_survives_a_restart_and_stops_at_once(
        docker, tmp_path, bot_account, members):
    alice, = await members("alice")
    folder = tmp_path / "deploy"
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({
        "platform": "matrix", "assembly": QUICK,
        "matrix": {"homeserver": bot_account.homeserver, "user_id": bot_account.user_id,
                   "device_id": bot_account.device_id, "allowed_inviters": [alice.user_id]}}))
    config.chmod(0o644)  # the container's user reads it
    # The README's line, with what this machine needs: the host's network (Synapse listens on its 127.0.0.1), a
    # free port for the operations listener there, and a health check every 2 s rather than 30.
    line = readme_docker_run().replace("docker run ", f"docker run --network host -e CONSENT_BOT_OPS_PORT="
                                                     f"{free_port()} --health-interval 2s ", 1)
    started = await asyncio.create_subprocess_shell(
        line, cwd=folder, env={**docker.environment(), "CONSENT_BOT_MATRIX_ACCESS_TOKEN": bot_account.access_token},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await started.communicate()
    assert started.returncode == 0, err.decode()
    container = "consent-bot"

    room = await room_with_bot(alice, bot_account.user_id)
    await propose(alice, room, bot_account.user_id)
    await until(docker, container, "{{.State.Health.Status}}", "healthy", within=60)
    assert await run(docker, "exec", container, "id", "-u") == "10001"
    assert await run(docker, "inspect", "--format", "{{.Config.User}}", container) == "consent"
    health = json.loads(await run(docker, "exec", container, "consent-bot", "health", "--config",
                                  "/config/config.yaml"))
    assert health["ready"] is True and set(health["checks"]) == {"database", "platform", "outbox", "deadlines"}

    restarting = time.monotonic()
    await run(docker, "restart", container)
    assert time.monotonic() - restarting < 8, "docker restart waited for its 10 s timeout: SIGTERM was ignored"
    await alice.send_text(room, "!status #1")
    status = await alice.wait_for(from_bot(bot_account.user_id, "status", 1), room=room, timeout=30)
    assert "Buy a kettle" in content(status)["body"]  # the register survived the restart
    stored = await run(docker, "exec", container, "ls", "/data", "/data/consent-crypto")
    assert "consent.db" in stored and re.search(r"_%s\.db" % re.escape(bot_account.device_id), stored)
    logs = await run(docker, "logs", container)
    assert "StoreRefused" not in logs and "other keys" not in logs  # the same device, its keys kept

    stopping = time.monotonic()
    await run(docker, "stop", container)
    assert time.monotonic() - stopping < 5
    assert await run(docker, "inspect", "--format", "{{.State.ExitCode}}", container) == "0"


def compose(daemon: DockerDaemon, *arguments: str, files: tuple[Path, ...] = (), env_file: Path | None = None,
            timeout: float = 300, check: bool = True):
    options = [option for path in (ROOT / "compose.yaml", *files) for option in ("-f", str(path))]
    if env_file is not None:
        options += ["--env-file", str(env_file)]
    return daemon.docker("compose", *options, *arguments, timeout=timeout, check=check)


def compose_config(tmp_path: Path, env_file: Path, *profile: str) -> subprocess.CompletedProcess:
    """`docker compose config`: the compose plugin alone reads and checks the file, no daemon needed."""
    return subprocess.run(["docker", "compose", "-f", str(ROOT / "compose.yaml"), "--env-file", str(env_file),
                           *profile, "config", "--format", "json"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DOCKER_CONFIG": str(tmp_path / "client")})


def test_the_compose_file_is_valid_and_takes_its_secrets_from_the_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=s3cretpassword\nCONSENT_BOT_MATRIX_ACCESS_TOKEN=syt_secret_token\n")
    for profile in ((), ("--profile", "synapse")):
        checked = compose_config(tmp_path, env, *profile)
        assert checked.returncode == 0, checked.stderr
        found = json.loads(checked.stdout)
        services = found["services"]
        assert set(services) == {"bot", "postgres", *(["synapse"] if profile else [])}
        bot = services["bot"]
        assert bot["build"]["context"] == str(ROOT) and bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert bot["environment"]["CONSENT_BOT_STORAGE_URL"] == \
            "postgresql://consent:s3cretpassword@postgres:5432/consent"
        assert bot["environment"]["CONSENT_BOT_MATRIX_ACCESS_TOKEN"] == "syt_secret_token"
        assert all(service.get("healthcheck") or name == "bot" for name, service in services.items())
        assert {volume["type"] for service in services.values() for volume in service["volumes"]} >= {"volume"}
        assert set(found["volumes"]) >= {"bot-data", "postgres-data"}
    text = (ROOT / "compose.yaml").read_text()
    assert "s3cret" not in text and "syt_" in text  # the file names the variables, never a secret
    refused = compose_config(tmp_path, Path("/dev/null"))
    assert refused.returncode != 0 and "set POSTGRES_PASSWORD in .env" in refused.stderr


async def test_compose_brings_the_bot_up_on_postgresql_and_it_answers(docker, tmp_path, bot_account, members):
    """The compose file's bot and PostgreSQL, up for real. This machine cannot pull the official postgres image:
    a stand-in from Debian's packages honours the same variables. And its Synapse is the tests' own, on the host's
    127.0.0.1: both services join the host's network, and the bot reaches PostgreSQL there."""
    alice, = await members("alice")
    base = await asyncio.to_thread(docker.load_base, await asyncio.to_thread(
        base_image_tarball, "postgresql", POSTGRES_PACKAGES), POSTGRES_BASE_IMAGE)
    await run(docker, "build", "--build-arg", f"BASE={base}", "-t", "local/postgres:test",
              str(ROOT / "tests/servers/postgres-image"), timeout=600)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "platform": "matrix", "assembly": QUICK,
        "matrix": {"homeserver": bot_account.homeserver, "user_id": bot_account.user_id,
                   "device_id": bot_account.device_id, "allowed_inviters": [alice.user_id]}}))
    config.chmod(0o644)
    env = tmp_path / ".env"
    env.write_text(f"POSTGRES_PASSWORD=composepassword\nCONSENT_BOT_MATRIX_ACCESS_TOKEN={bot_account.access_token}\n"
                   "POSTGRES_IMAGE=local/postgres:test\n")
    postgres_port = free_port()
    override = tmp_path / "compose.test.yaml"
    override.write_text(yaml.safe_dump({"services": {
        "bot": {"build": {"args": {"BASE": BASE_IMAGE}, "network": "host"}, "network_mode": "host",
                "environment": {"CONSENT_BOT_STORAGE_URL": f"postgresql://consent:composepassword@127.0.0.1:"
                                                           f"{postgres_port}/consent",
                                "CONSENT_BOT_OPS_PORT": str(free_port())},
                "volumes": [f"{config}:/config/config.yaml:ro"], "healthcheck": {"interval": "2s"}},
        "postgres": {"network_mode": "host", "environment": {"PGPORT": str(postgres_port),
                                                             "LISTEN_ADDRESSES": "127.0.0.1"},
                     "healthcheck": {"interval": "1s", "start_period": "0s"}}}}))
    files = (override,)
    try:
        up = await asyncio.to_thread(compose, docker, "-p", "consenttest", "up", "-d", "--build", "--wait",
                                     "--wait-timeout", "120", files=files, env_file=env, timeout=600, check=False)
        assert up.returncode == 0, up.stderr[-2000:] + (await asyncio.to_thread(
            compose, docker, "-p", "consenttest", "logs", files=files, env_file=env)).stdout[-5000:]
        room = await room_with_bot(alice, bot_account.user_id)
        await propose(alice, room, bot_account.user_id)
        counted = await asyncio.to_thread(compose, docker, "-p", "consenttest", "exec", "-T", "postgres", "psql",
                                          "-U", "consent", "-d", "consent", "-tAc", "SELECT count(*) FROM proposals",
                                          files=files, env_file=env)
        assert counted.stdout.strip() == "1"  # the decision is in PostgreSQL, not in a SQLite file
        assert await run(docker, "inspect", "--format", "{{.State.Health.Status}}", "consenttest-bot-1") == "healthy"
        volumes = await run(docker, "volume", "ls", "--format", "{{.Name}}")
        assert {"consenttest_bot-data", "consenttest_postgres-data"} <= set(volumes.split())
    finally:
        await asyncio.to_thread(compose, docker, "-p", "consenttest", "down", files=files, env_file=env)
