"""Whether the database takes the bot's decisions: what a readiness check reports (``/readyz``), and what the log
says when it changes. Set by the repository as its decisions fail or commit."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

log = logging.getLogger(__name__)


class StorageHealth:
    def __init__(self) -> None:
        self.problem: str | None = None
        """Why the last decision could not be stored; None while decisions commit."""
        self.failing_since: datetime | None = None
        self._since = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None

    def failed(self, error: BaseException) -> None:
        problem = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
        if self.problem is None:
            self.failing_since, self._since = datetime.now(timezone.utc), time.monotonic()
            log.error("the database cannot store the bot's decisions (%s): nothing is acknowledged meanwhile, and "
                      "what the platform sends is read again once it can", problem)
        self.problem = problem

    def answered(self) -> None:
        if self.problem is not None:
            log.warning("the database stores decisions again, after %.0f s (%s)", time.monotonic() - self._since,
                        self.problem)
            self.problem = self.failing_since = None
