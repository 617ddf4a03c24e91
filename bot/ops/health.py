"""Health: whether the bot's event loop answers (liveness), and whether it is keeping up (readiness): the database
answers, the platform answered lately, the outbox is not stuck, no due work is late. Each check says its state."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.chat.core import ChatBot

DATABASE_WITHIN = 5.0
"""Seconds the database has to answer a readiness check."""


def liveness() -> dict[str, Any]:
    """The event loop ran this: it answers."""
    return {"alive": True}


async def readiness(bot: ChatBot) -> dict[str, Any]:
    """Every check, each ``{"ok": bool, ...}`` with what it saw; ``ready`` when all are ok. A process standing by
    (PostgreSQL, another one holds the lease) acts on nothing: it is ready to take over while its database answers."""
    database, due = await _database(bot)
    if database.get("lease") not in (None, "acting"):
        checks = {"database": database}
    else:
        checks = {"database": database, "platform": _platform(bot), "outbox": _outbox(bot),
                  "deadlines": _deadlines(bot, due) if database["ok"] else {"ok": False}}
    return {"ready": all(check["ok"] for check in checks.values()), "checks": checks}


async def _database(bot: ChatBot) -> tuple[dict[str, Any], Any]:
    """Whether decisions can be stored now (the repository's own account of its latest failure first), and the next
    due work read from it; on PostgreSQL, whether this process holds the lease (``acting``) or stands by."""
    state = bot.database_state()
    check: dict[str, Any] = {"ok": False} | ({"lease": state["lease"]} if state["lease"] is not None else {})
    if state["problem"] is not None:
        check["error"] = state["problem"]
        return check, None
    try:
        due = await asyncio.wait_for(bot.repository.next_due(), DATABASE_WITHIN)
    except TimeoutError:
        check["error"] = f"no answer within {DATABASE_WITHIN:.0f} s"
    except Exception as error:  # the database is unreachable: say which kind of failure, never its URL
        check["error"] = type(error).__name__
    else:
        check["ok"] = True
        return check, due
    return check, None


def _platform(bot: ChatBot) -> dict[str, Any]:
    """Ready once the first read of the platform is done, and while the platform answers (or has been out of reach
    for less than ``ops.stale_after``: a blip is no outage)."""
    if bot.answered_at is None or not bot.ready.is_set():
        return {"ok": False, "state": "starting"}
    silent = time.monotonic() - bot.answered_at
    ok = not bot.unreachable or silent <= bot.config.ops.stale_after.total_seconds()
    return {"ok": ok, "state": "unreachable" if bot.unreachable else "connected",
            "last_answer_seconds_ago": round(silent, 1)}


def _outbox(bot: ChatBot) -> dict[str, Any]:
    delivery = bot.service.delivery
    stalled = delivery.stalled_for()
    return {"ok": stalled <= bot.config.ops.stale_after.total_seconds(), "waiting": delivery.backlog,
            "stalled_seconds": round(stalled, 1)}


def _deadlines(bot: ChatBot, due: Any) -> dict[str, Any]:
    """No due work (a round to close, a reminder) waits past ``ops.stale_after``; on Matrix, a round may also wait
    ``matrix.room_key_wait`` for the keys of messages sent before its deadline."""
    if due is None:
        return {"ok": True, "next_due": None}
    keys = bot.config.matrix.room_key_wait if bot.config.platform == "matrix" else timedelta()
    grace = bot.config.ops.stale_after + keys
    late = bot.service.clock() - due[0]
    return {"ok": late <= grace, "next_due": due[0].isoformat(),
            "late_seconds": round(max(late.total_seconds(), 0.0), 1)}
