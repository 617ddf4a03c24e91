"""The console script as a user runs it: --version, check-config, and the Dockerfile's promises."""

from __future__ import annotations

import argparse
import json
import re
import socket
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

import bot
from bot.cli import _instant, _parser, main
from bot.config import ENVIRONMENT

ROOT = Path(__file__).parent.parent


def consent_bot(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *arguments], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def test_version():
    result = consent_bot("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"consent-bot {bot.__version__}"


def test_check_config_accepts_the_example():
    result = consent_bot("check-config", "--config", str(ROOT / "config.example.yaml"))
    assert result.returncode == 0, result.stderr
    assert "the configuration is valid" in result.stdout


def test_check_config_names_every_bad_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assembly:\n  timezone: Europe/Pariss\n  majority: 3/2\n  minimum_duraton: 72h\n")
    result = consent_bot("check-config", "--config", str(bad))
    assert result.returncode == 2
    assert "3 error(s)" in result.stderr
    for key in ("assembly.timezone", "assembly.majority", "assembly.minimum_duraton"):
        assert key in result.stderr


def test_the_matrix_steps_of_the_readme_work_with_the_token_exported_for_run_only(tmp_path):
    # As README's Matrix steps say: check-config without the token (it warns, naming the variable), then run with
    # it; serve, export and console never connect, so they never ask for it.
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"platform": "matrix", "storage": {"path": "consent.db"}, "matrix": {
        "homeserver": "http://127.0.0.1:9", "user_id": "@consent:example.org", "allowed_inviters": [":example.org"]}}))
    checked = consent_bot("check-config", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    assert "warning: matrix.access_token: not set: export CONSENT_BOT_MATRIX_ACCESS_TOKEN=" in checked.stderr
    assert "the configuration is valid (platform: matrix)" in checked.stdout
    exported = consent_bot("export", "--config", str(config), "--format", "json")
    assert exported.returncode == 0 and json.loads(exported.stdout)["assemblies"] == [], exported.stderr
    console = subprocess.run([sys.executable, "-m", "bot", "console", "--config", str(config), "--database",
                              str(tmp_path / "console.db")], input="/quit\n", capture_output=True, text=True,
                             timeout=60)
    assert console.returncode == 0 and "alice>" in console.stderr, console.stderr  # the prompt
    refused = consent_bot("run", "--config", str(config))
    assert refused.returncode == 2
    assert "  matrix.access_token: not set: export CONSENT_BOT_MATRIX_ACCESS_TOKEN=" in refused.stderr


def test_config_schema_prints_the_json_schema():
    result = consent_bot("config-schema")
    assert result.returncode == 0 and json.loads(result.stdout)["properties"]["platform"]["default"] == "console"


def test_a_missing_subcommand_gets_the_usage():
    result = consent_bot()
    assert result.returncode == 2 and "usage: consent-bot" in result.stderr


def test_the_docker_image_installs_pinned_versions_of_every_dependency():
    # The image itself is built and run for real in tests/matrix/test_docker.py; this says what it is built from.
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    copied = [line.split()[1] for line in lines if line.startswith("COPY ")]
    assert all((ROOT / path).exists() for path in copied)
    assert lines[lines.index("ARG BASE=python:3.11-slim") + 1] == "FROM ${BASE}"
    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert all(locked.values()), "every line of requirements.lock pins one version"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()
              for requirement in project}
    assert wanted <= set(locked), f"not pinned in requirements.lock: {sorted(wanted - set(locked))}"


def _unreachable_config(tmp_path, section: str) -> Path:
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    address = f"http://127.0.0.1:{port.getsockname()[1]}"   # bound, never listening: connections are refused
    platform = {
        "matrix": {"homeserver": address, "user_id": "@consent:example.org", "access_token": "t",
                   "allowed_inviters": [":example.org"]},
        "mattermost": {"url": address, "token": "t"},
    }[section]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"platform": section, "storage": {"path": "consent.db"}, section: platform}))
    return path


@pytest.mark.parametrize("platform", ["matrix", "mattermost"])
def test_an_unreachable_server_at_start_is_a_clear_error_not_a_traceback(tmp_path, platform):
    result = consent_bot("run", "--config", str(_unreachable_config(tmp_path, platform)))
    assert result.returncode == 1
    assert "cannot reach http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr
    # The bot's own message is the first that is not routine (matrix-nio's retries are DEBUG lines).
    first = next(line for line in result.stderr.splitlines() if re.match(r"\S+ \S+ (WARNING|ERROR) ", line))
    assert "ERROR bot: cannot reach http://127.0.0.1:" in first, result.stderr


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        ("9999-12-31T23:00+00:00", "out of range: start between the years 2000 and 2100"),
        ("1999-12-31T23:59+00:00", "out of range: start between the years 2000 and 2100"),
        ("2101-01-01T00:00+00:00", "out of range"),
        ("0001-01-01T00:00+00:00", "out of range"),
        ("tomorrow", "is not an ISO-8601 instant such as 2027-03-26T18:00+01:00"),
        ("2027-02-30T10:00+01:00", "is not an ISO-8601 instant"),
        ("2027-03-26T18:00", "needs a UTC offset"),
        ("x" * 5000, "is not an ISO-8601 instant"),
    ],
)
def test_console_start_out_of_range_is_a_usage_error_not_a_traceback(capsys, start, problem):
    with pytest.raises(SystemExit) as caught:
        main(["console", "--start", start])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument --start: " in err and problem in err
    assert "Traceback" not in err and len(err.splitlines()[-1]) < 200


@pytest.mark.parametrize("start", ["2000-01-01T00:00+00:00", "2100-12-31T23:59+00:00", "2027-03-26T18:00+01:00"])
def test_console_start_within_range_is_accepted(start):
    assert _instant(start).year in (2000, 2027, 2100)


def test_check_config_refuses_absurd_values_with_their_keys(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assembly:\n  majority_lock: 120000mo\n  minimum_duration: 3000000d\n  quorum: .nan\n"
                   f"storage:\n  path: {tmp_path}\n")
    result = consent_bot("check-config", "--config", str(bad))
    assert result.returncode == 2, result.stderr
    assert "4 error(s)" in result.stderr and "Traceback" not in result.stderr
    for key in ("assembly.majority_lock", "assembly.minimum_duration", "assembly.quorum", "storage.path"):
        assert f"  {key}: " in result.stderr


def test_check_config_refuses_a_yaml_integer_of_thousands_of_digits(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assembly:\n  quorum: " + "1" * 5001 + "\n")
    result = consent_bot("check-config", "--config", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"  {bad}: invalid YAML" in result.stderr


def test_the_console_keeps_out_of_the_register_of_a_live_assembly(tmp_path):
    """On a configuration that serves Matrix, the console refuses its database (the public register is append-only)
    and runs on a database of its own when given one."""
    live = tmp_path / "config.yaml"
    live.write_text(yaml.safe_dump({"platform": "matrix", "storage": {"path": "consent.db"},
                                    "matrix": {"homeserver": "https://matrix.example.org",
                                               "user_id": "@bot:example.org", "allowed_inviters": [":example.org"]}}))
    refused = subprocess.run([sys.executable, "-m", "bot", "console", "--config", str(live)], input="!list\n",
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert refused.returncode == 2 and "--database console.db" in refused.stderr
    assert not (tmp_path / "consent.db").exists()
    played = subprocess.run([sys.executable, "-m", "bot", "console", "--json", "--config", str(live), "--database",
                             str(tmp_path / "console.db")], input="!list\n", capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert played.returncode == 0 and json.loads(played.stdout)["kind"] == "status"


def test_serve_stops_cleanly_on_sigterm_even_when_started_in_the_background(tmp_path):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"storage": {"path": "consent.db"},
                                      "register": {"port": port.getsockname()[1]}}))
    port.close()
    # A script's background job: the shell has it ignore SIGINT; SIGTERM (kill, systemd, docker stop) still stops it.
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert "The public register is served at" in process.stdout.readline()
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - stopping < 3
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_the_systemd_unit_runs_a_command_the_bot_has_with_variables_it_reads():
    unit = (ROOT / "docs" / "consent-bot.service").read_text()
    command = re.search(r"^ExecStart=/opt/consent-bot/bin/consent-bot (.+)$", unit, re.MULTILINE).group(1).split()
    assert command[0] == "run" and _parser().parse_args(command).config == Path("/etc/consent-bot/config.yaml")
    variables = set(re.findall(r"^Environment=(\w+)=", unit, re.MULTILINE))
    assert variables and variables <= set(ENVIRONMENT)
    assert "KillSignal=SIGTERM" in unit and "StateDirectory=consent-bot" in unit


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
    return subparsers.choices


def test_every_subcommand_says_what_it_does_and_every_option_has_a_help_text():
    for name, command in _subcommands().items():
        assert command.description, f"consent-bot {name} --help has no description"
        for option in command._actions:
            assert option.help, f"consent-bot {name} {'/'.join(option.option_strings)} has no help text"


@pytest.mark.parametrize("command", [(), ("run",), ("console",), ("check-config",)])
def test_help_names_the_environment_variables_of_the_secrets(command):
    result = consent_bot(*command, "--help")
    assert result.returncode == 0, result.stderr
    for variable in ("CONSENT_BOT_MATRIX_ACCESS_TOKEN", "CONSENT_BOT_MATRIX_PASSWORD", "CONSENT_BOT_MATTERMOST_TOKEN",
                     "CONSENT_BOT_EMAIL_PASSWORD"):
        assert variable in result.stdout
    assert set(re.findall(r"CONSENT_BOT_\w+", result.stdout)) == set(ENVIRONMENT)


def test_console_help_lists_the_consoles_own_commands():
    result = consent_bot("console", "--help")
    assert result.returncode == 0, result.stderr
    for usage in ("/as NAME", "/facilitator NAME", "/advance DURATION", "/register", "/mail [N]", "/quit"):
        assert re.search(rf"^  {re.escape(usage)} +\w", result.stdout, re.MULTILINE), f"{usage} not described"
