"""Logging: a line for people (``log_format: text``) or one JSON object a line for log collectors (``json``)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from bot.log_context import PROPOSAL, ROOM

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """time (UTC, ISO-8601), level, logger, message, and room and proposal when the line is about them; a traceback
    under ``exception``. Only what the bot's own log calls put in their message: never a secret (the configuration
    holds them as SecretStr) nor what members wrote."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        room, proposal = ROOM.get(), PROPOSAL.get()
        if room is not None:
            line["room"] = room
        if proposal is not None:
            line["proposal"] = proposal
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class LibraryNoise(logging.Filter):
    """matrix-nio's warnings that come before the bot's own, clearer, message about the same thing (a rejected token
    makes nio complain of the error's shape; an unreachable homeserver, of each retry it waits 0 s for): DEBUG lines,
    shown only when the library's DEBUG is."""

    NOISE = ("Error validating response: ", "Timed out, sleeping for ")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and isinstance(record.msg, str) and record.msg.startswith(self.NOISE):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def setup_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    if level != "DEBUG":
        # The libraries narrate every room event and job at INFO; our own INFO lines are the useful ones.
        for noisy in ("nio", "apscheduler"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    for noisy in ("nio.responses", "nio.client.async_client"):
        logging.getLogger(noisy).addFilter(LibraryNoise())
