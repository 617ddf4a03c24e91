"""One side of benchmarks/matrix_cost.py in a process of its own, so that its CPU time and memory are its own:

    python -m benchmarks.matrix_process bot CONFIG        # consent-bot, as `consent-bot run` runs it
    python -m benchmarks.matrix_process reference CONFIG  # benchmarks/matrix_reference.py

CONFIG is the bot's YAML configuration (the reference reads its matrix section and storage path). The process
prints `ready` on standard output once its first sync is handled (for the bot: and the open ballots recounted);
SIGTERM stops it as Ctrl-C would.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml

Opened = tuple[object, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]
"""The bot (with ``run()``), a coroutine function returning once it is ready, and one closing what it opened."""


async def consent_bot(config_path: Path) -> Opened:
    from bot.cli import long_lived, setup_logging
    from bot.config import load_config
    from bot.matrix.bot import MatrixBot
    from storage.repository import Repository

    config = load_config(config_path)
    setup_logging(config.log_level)  # as `consent-bot run` does, and before running the bot:
    long_lived()
    repository = await Repository.open(config.database)
    bot = MatrixBot(config, repository)

    async def ready() -> None:
        await bot.ready.wait()
        await bot.reconciled.wait()

    return bot, ready, repository.close


async def reference(config_path: Path) -> Opened:
    from benchmarks.matrix_reference import MatrixReferenceBot

    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    matrix = data["matrix"]
    logging.basicConfig(level=logging.WARNING)
    bot = MatrixReferenceBot(matrix["homeserver"], matrix["user_id"], matrix["device_id"], matrix["access_token"],
                             str(config_path.parent / data["storage"]["path"]))

    async def nothing() -> None:
        pass

    return bot, bot.ready.wait, nothing


async def serve(side: str, config_path: Path) -> None:
    bot, ready, close = await (consent_bot if side == "bot" else reference)(config_path)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(bot.run(), name=side)
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    waiting = asyncio.create_task(ready())
    try:
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            print("ready", flush=True)
        await task
    except asyncio.CancelledError:
        pass
    finally:
        waiting.cancel()
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=["bot", "reference"])
    parser.add_argument("config", type=Path)
    options = parser.parse_args()
    asyncio.run(serve(options.side, options.config))


if __name__ == "__main__":
    main()
