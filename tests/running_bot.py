"""A chat adapter under test, run as a process would: started, stopped and restarted on the same database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bot.config import Config
from storage.repository import Repository


class RunningBot:
    """Runs ``make(config, repository)`` (an adapter with ``run()`` and a ``ready`` event) as a task."""

    def __init__(self, config: Config, make: Callable[[Config, Repository], Any], start_within: float = 30,
                 stopping_errors: tuple[type[BaseException], ...] = ()) -> None:
        self.config = config
        self.bot: Any = None
        self.task: asyncio.Task | None = None
        self.repository: Repository | None = None
        self._make = make
        self._start_within = start_within
        self._stopping_errors = stopping_errors

    async def start(self) -> RunningBot:
        self.repository = await Repository.open(self.config.storage.path)
        self.bot = self._make(self.config, self.repository)
        self.task = asyncio.create_task(self.bot.run(), name="consent-bot")
        ready = asyncio.create_task(self.bot.ready.wait())
        done, _ = await asyncio.wait({ready, self.task}, timeout=self._start_within,
                                     return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            ready.cancel()
            self.task.result()  # raises what stopped the bot
        assert ready in done, f"the bot was not ready within {self._start_within} s"
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            # An error the test expected to stop the bot has been checked by the test itself.
            with contextlib.suppress(asyncio.CancelledError, *self._stopping_errors):
                await self.task
            self.task = None
        if self.repository is not None:
            await self.repository.close()
            self.repository = None

    def check_alive(self) -> None:
        if self.task is not None and self.task.done():
            self.task.result()
