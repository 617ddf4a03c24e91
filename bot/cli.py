"""consent-bot run | console | serve | export | backup | restore | health | check-config | config-schema, and --version."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
import textwrap
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import ENVIRONMENT, IN_MEMORY, Config, ConfigError, config_schema, load_config
from bot.console_commands import CONSOLE_COMMANDS
from bot.ops.logs import setup_logging

# The simulated clock's start: far enough from year 9999 that every deadline, lock and /advance the
# bot may add (see bot.durations) is still a date, and close enough to now to mean something.
EARLIEST_START_YEAR = 2000
LATEST_START_YEAR = 2100


def _instant(text: str) -> datetime:
    """--start: an ISO-8601 instant with its UTC offset, between the years 2000 and 2100."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not an ISO-8601 instant such as 2027-03-26T18:00+01:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} needs a UTC offset, e.g. 2027-03-26T18:00+01:00")
    if not EARLIEST_START_YEAR <= moment.year <= LATEST_START_YEAR:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is out of range: start between the years {EARLIEST_START_YEAR} and {LATEST_START_YEAR}"
        )
    return moment


HELP_WIDTH = 100
"""Where the help's own paragraphs (environment, console commands) wrap."""
SECRETS = ("matrix.access_token", "matrix.password", "mattermost.token", "assembly.email.password")
"""The settings best kept out of the configuration file: given in the environment instead."""


def _environment_help() -> str:
    """The variables the configuration reads from the environment (bot.config's ENVIRONMENT), secrets first."""
    by_key = {key: name for name, key in ENVIRONMENT.items()}
    secrets = [f"  {by_key[key]}  ({key})" for key in SECRETS]
    others = ", ".join(name for name, key in ENVIRONMENT.items() if key not in SECRETS)
    return ("environment: these variables win over the configuration file (an empty one counts as unset).\n"
            "Secrets, better given here than in the file:\n" + "\n".join(secrets) + "\n" +
            textwrap.fill(f"And: {others}.", HELP_WIDTH))


def _console_help() -> str:
    lines = [textwrap.fill(what, HELP_WIDTH, initial_indent=f"  {usage:<20}", subsequent_indent=" " * 22)
             for usage, what in CONSOLE_COMMANDS]
    return (textwrap.fill("Lines starting with / drive the console; any other line is a message from the current "
                          "member (type !help for the bot's commands; end a line with \\ to continue on the next "
                          "one).", HELP_WIDTH) + "\nconsole commands:\n" + "\n".join(lines) + "\n\n" +
            _environment_help())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consent-bot", description="Consent decisions of citizen assemblies.",
                                     epilog=_environment_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"consent-bot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, description: str, epilog: str | None = _environment_help()) -> argparse.ArgumentParser:
        # The same text in `consent-bot --help`'s list and atop the command's own --help.
        return commands.add_parser(name, help=description, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    run = command("run", "run the bot on the platform named in the configuration")
    run.add_argument("--config", type=Path, required=True, help="the YAML configuration file")

    console = command("console", "a local room in the terminal, with a simulated clock", _console_help())
    console.add_argument("--config", type=Path, help="a YAML configuration file (default: built-in defaults)")
    console.add_argument("--start", type=_instant, help="start the simulated clock at this ISO-8601 instant")
    console.add_argument("--json", action="store_true", help="one JSON line per bot message on standard output")
    console.add_argument("--database", help="SQLite file or postgresql:// URL (default: the config's storage, "
                                            "or an in-memory database without --config)")
    console.add_argument("--register", action="store_true",
                         help="serve the public register of this session (register.bind and register.port, default "
                              "http://127.0.0.1:8080) and print its address; /register prints it again")

    serve = command("serve", "serve the public register on its own, over the configured database")
    serve.add_argument("--config", type=Path, required=True, help="the YAML configuration file")

    export = command("export", "the register's open data: CSV tables, or a JSON or Markdown document")
    export.add_argument("--config", type=Path, required=True, help="the YAML configuration file")
    export.add_argument("--format", choices=("csv", "json", "md"), required=True,
                        help="csv: decisions.csv, positions.csv, history.csv and datapackage.json in the --output "
                             "folder; json, md: one document")
    export.add_argument("--room", help="one assembly, by room id (default: every assembly)")
    export.add_argument("--output", type=Path,
                        help="csv: the folder to write in (created); json, md: a file (default: standard output)")

    health = command("health", "ask the running bot whether it is ready (its /readyz): prints the checks as JSON; "
                               "exit code 0 ready, 1 not")
    health.add_argument("--config", type=Path, required=True, help="the YAML configuration file (ops.bind, ops.port)")
    backup = command("backup", "a consistent copy of the register and the encryption store, while the bot runs")
    backup.add_argument("--config", type=Path, required=True, help="the YAML configuration file")
    backup.add_argument("--output", type=Path, required=True, help="the archive to write (replaced if it exists)")
    restore = command("restore", "put a backup back in place (the bot stopped); its next start reads again from the "
                                 "platform what came after")
    restore.add_argument("--config", type=Path, required=True, help="the YAML configuration file")
    restore.add_argument("--input", type=Path, required=True, help="an archive written by consent-bot backup")

    check = command("check-config", "validate a configuration file and report every error (and warn of the secrets "
                                    "`run` will need)")
    check.add_argument("--config", type=Path, required=True, help="the YAML configuration file")
    command("config-schema", "print the configuration's JSON Schema (for editors: config.example.yaml shows how to "
                             "point the YAML language server at it)", epilog=None)
    return parser


def _load(path: Path | None, command: str) -> Config:
    """The configuration; the secrets the platform needs are required by `run` alone, the one command that
    connects to it (check-config warns of them)."""
    try:
        config = load_config(path)
        if command == "run" and config.missing_secrets():
            raise ConfigError(config.missing_secrets())
    except ConfigError as error:
        print(f"{path}: {len(error.errors)} error(s) in the configuration:", file=sys.stderr)
        for line in error.errors:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(2) from None
    return config


def _console(config: Config, arguments: argparse.Namespace, default_database: str) -> None:
    from bot.console import run_console
    from storage.disk import DatabaseBusy

    if arguments.command == "console" and config.platform != "console" and not arguments.database:
        # The register is append-only and public: a console session would stay in it as an assembly for good.
        print(f"{arguments.config}: this configuration's database is the register of the assembly on "
              f"{config.platform}; the console would add a \"console\" assembly to that public record for good. "
              "Give the console a database of its own: --database console.db (its rules and language are still "
              "this configuration's).", file=sys.stderr)
        raise SystemExit(2)
    database = arguments.database or default_database
    try:
        asyncio.run(run_console(config, getattr(arguments, "start", None), getattr(arguments, "json", False), database,
                                register=getattr(arguments, "register", False)))
    except DatabaseBusy as error:
        print(f"consent-bot: {error}", file=sys.stderr)
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    arguments = _parser().parse_args(argv)
    if arguments.command == "config-schema":
        print(json.dumps(config_schema(), indent=2, ensure_ascii=False))
        return
    config = _load(arguments.config, arguments.command)
    if arguments.command == "health":
        _health(config)
        return
    level = config.log_level
    if arguments.command == "console" and level == "INFO":
        level = "WARNING"  # the terminal is the room: log lines would interleave with the conversation
    setup_logging(level, config.log_format)
    if arguments.command == "check-config":
        for line in config.missing_secrets():
            print(f"warning: {line} (needed by `consent-bot run`)", file=sys.stderr)
        for line in config.deprecated():
            print(f"warning: {line}", file=sys.stderr)
        print(f"{arguments.config}: the configuration is valid (platform: {config.platform}).")
    elif arguments.command == "console":
        _console(config, arguments, config.database if arguments.config else IN_MEMORY)
    elif arguments.command == "serve":
        _serve(config)
    elif arguments.command == "export":
        _export(config, arguments)
    elif arguments.command in ("backup", "restore"):
        _backup(config, arguments)
    elif config.platform == "matrix":
        _matrix(config)
    elif config.platform == "mattermost":
        _mattermost(config)
    else:
        arguments.database = None
        _console(config, arguments, config.database)


def _serve(config: Config) -> None:
    from bot.register.server import serve

    _run_until_stopped(serve(config))


def _health(config: Config) -> None:
    from bot.ops.probe import ask_readiness

    answer = ask_readiness(config)
    print(json.dumps(answer, ensure_ascii=False))
    raise SystemExit(0 if answer.get("ready") is True else 1)


@contextmanager
def _said_to_the_operator(command: str, refusals: tuple[type[Exception], ...]) -> Iterator[None]:
    """A command that reads or writes files: a refusal (its message says why) exits 2, a file it cannot write 1."""
    try:
        yield
    except refusals as error:
        print(f"consent-bot {command}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as error:
        print(f"consent-bot {command}: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        raise SystemExit(1) from None


def _export(config: Config, arguments: argparse.Namespace) -> None:
    from bot.register.exports import ExportError, export_register

    with _said_to_the_operator("export", (ExportError,)):
        asyncio.run(export_register(config, arguments.format, arguments.room, arguments.output))


def _backup(config: Config, arguments: argparse.Namespace) -> None:
    from bot.backups import run_backup, run_restore
    from storage.backup import BackupError
    from storage.disk import DatabaseBusy

    with _said_to_the_operator(arguments.command, (BackupError, DatabaseBusy)):
        if arguments.command == "backup":
            run_backup(config, arguments.output)
        else:
            run_restore(config, arguments.input)


def _matrix(config: Config) -> None:
    from bot.matrix.bot import MatrixLoginFailed, run_matrix

    _run_until_stopped(run_matrix(config), (MatrixLoginFailed,))


def _mattermost(config: Config) -> None:
    from bot.mattermost.bot import MattermostLoginFailed, run_mattermost

    _run_until_stopped(run_mattermost(config), (MattermostLoginFailed,))


def long_lived() -> None:
    """What is loaded by now (the modules, their classes and functions: most of the objects the process will
    ever hold) lives as long as the process: out of the garbage collector's sight (gc.freeze), so that each
    full collection walks only what came after, not all of it again (20 to 30 ms each time otherwise)."""
    gc.collect()
    gc.freeze()


def _run_until_stopped(main: Coroutine[Any, Any, None], login_failed: tuple[type[Exception], ...] = ()) -> None:
    """Run a chat adapter, or the register's server alone, until interrupted (Ctrl-C) or terminated (SIGTERM: docker
    stop, systemd, kill); refused credentials, or a listener that cannot listen, end it with a clear error, not a
    loop."""
    from bot.ops import OpsUnavailable
    from bot.register import RegisterUnavailable
    from storage.disk import DatabaseBusy

    long_lived()
    try:
        asyncio.run(_until_terminated(main))
    except (*login_failed, RegisterUnavailable, OpsUnavailable, DatabaseBusy) as error:
        logging.getLogger("bot").error("%s", error)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        pass


async def _until_terminated(main: Coroutine[Any, Any, None]) -> None:
    """Await ``main``; SIGTERM cancels it as Ctrl-C does, so that it stops cleanly (its database closed, its
    listeners stopped) within a second or two, also as a container's first process, which signals without a
    handler never reach, or when started in the background by a script, where the shell ignores SIGINT."""
    task = asyncio.current_task()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        if not terminated:
            terminated = True
            logging.getLogger("bot").info("SIGTERM: stopping")
            task.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
    try:
        await main
    except asyncio.CancelledError:
        if not terminated:
            raise
