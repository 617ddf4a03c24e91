"""Waiting for a state no event announces (a row in the bot's database, a count in a fake): polled, bounded."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


async def until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "a condition",
                interval: float = 0.05) -> Any:
    """The first truthy value of ``condition()`` (sync or async), checked every ``interval`` s; fails after
    ``timeout`` s saying what it waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(interval)


def query(database: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    """Rows of the bot's SQLite register, read while the bot runs (WAL lets a reader in)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql, params).fetchall()
