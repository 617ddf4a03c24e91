"""The bot's metrics, in a Prometheus registry of its own (never the library's global one).

What moves with each decision is counted in memory by :class:`Metrics`, which the service tells once a decision is
committed (:class:`bot.app.observer.Observer`): no I/O, no lock held across an await, nothing inside a transaction.
What is a state rather than an event (messages waiting, seconds since the platform answered, the next due work) is
read when Prometheus scrapes. Labels are bounded: a command's verb, a position, an outcome, a message's kind, the
platform; never a member, a room or text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import (CollectorRegistry, Counter, Gauge, GCCollector, Histogram, PlatformCollector,
                               ProcessCollector)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot import __version__
from bot.app.observer import Observer
from bot.engine.model import Action, Change, Proposal

if TYPE_CHECKING:
    from bot.chat.core import ChatBot

PREFIX = "consent_bot_"
FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Buckets for what takes milliseconds (a transaction)."""
SLOW = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
"""Buckets for what takes seconds to minutes (a send, an event's way from the platform to the bot)."""


class Metrics(Observer):
    """The bot's metrics; ``registry`` is what /metrics serves."""

    def __init__(self, bot: ChatBot) -> None:
        self.registry = registry = CollectorRegistry()
        self._bot = bot
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        Gauge(f"{PREFIX}info", "The bot's version and platform", ("version", "platform"),
              registry=registry).labels(__version__, bot.config.platform).set(1)
        self.positions = Counter(f"{PREFIX}positions", "Positions recorded (withdrawn: one taken back)",
                                 ("position",), registry=registry)
        self.commands = Counter(f"{PREFIX}commands", "Members' events handled, by command (reaction, reply, unknown) "
                                "and result (done, refused)", ("command", "result"), registry=registry)
        self.events_failed = Counter(f"{PREFIX}events_failed", "Platform events whose handling failed unexpectedly "
                                     "(logged; the bot went on)", registry=registry)
        self.outcomes = Counter(f"{PREFIX}outcomes", "Rounds closed, by rule and outcome", ("rule", "outcome"),
                                registry=registry)
        self.queued_messages = Counter(f"{PREFIX}messages_queued", "Messages committed to the outbox, by kind",
                                       ("kind",), registry=registry)
        self.sent_messages = Counter(f"{PREFIX}messages_sent", "Messages delivered, by kind", ("kind",),
                                     registry=registry)
        self.retried_messages = Counter(f"{PREFIX}messages_retried", "Sends that failed and are tried again, by kind",
                                        ("kind",), registry=registry)
        self.set_aside_messages = Counter(f"{PREFIX}messages_set_aside", "Messages the platform refused for good",
                                          ("kind",), registry=registry)
        self.send_seconds = Histogram(f"{PREFIX}platform_send_seconds", "Platform requests: the time each message "
                                      "took to deliver, rate-limit waits included", buckets=SLOW, registry=registry)
        self.event_lag = Histogram(f"{PREFIX}sync_lag_seconds", "How far behind the platform the bot is: from a "
                                   "member's event on the platform to the bot reading it", buckets=SLOW,
                                   registry=registry)
        self.transactions = Histogram(f"{PREFIX}database_transaction_seconds", "How long each transaction held the "
                                      "database", buckets=FAST, registry=registry)
        self.open_rounds = Gauge(f"{PREFIX}open_rounds", "Proposals with a round open (read at each scrape)",
                                 registry=registry)
        Gauge(f"{PREFIX}messages_waiting", "Messages in the outbox not sent yet", registry=registry).set_function(
            lambda: bot.service.delivery.backlog)
        Gauge(f"{PREFIX}outbox_stalled_seconds", "Seconds messages have waited with none sent (0: none waits)",
              registry=registry).set_function(bot.service.delivery.stalled_for)
        Gauge(f"{PREFIX}seconds_since_last_sync", "Seconds since the platform last answered (a Matrix sync, a "
              "Mattermost websocket event)", registry=registry).set_function(self._since_answer)
        Gauge(f"{PREFIX}platform_reachable", "1 while the latest attempt to reach the platform succeeded",
              registry=registry).set_function(lambda: 0 if bot.unreachable or bot.answered_at is None else 1)
        Gauge(f"{PREFIX}next_due_timestamp_seconds", "When the next deadline or reminder is due (Unix time; NaN: "
              "none)", registry=registry).set_function(self._next_due)
        registry.register(_RateLimits(bot))
        bot.repository.on_transaction = self.transactions.observe

    async def refresh(self) -> None:
        """Read what lives in the database (before a scrape, never on a vote's way)."""
        self.open_rounds.set(len(await self._bot.repository.open_proposals()))

    def _since_answer(self) -> float:
        answered = self._bot.answered_at
        return math.nan if answered is None else time.monotonic() - answered

    def _next_due(self) -> float:
        at = self._bot.scheduler.next_time()
        return math.nan if at is None else at.timestamp()

    # --- what the service tells (bot.app.observer) ---------------------------------------------------------------

    def decided(self, command: str, result: str, changes: Sequence[Change]) -> None:
        self.commands.labels(command, result).inc()
        for change in changes:
            if change.action is Action.POSITION and change.position is not None:
                self.positions.labels(change.position.value).inc()
            elif change.action is Action.POSITION_WITHDRAWN:
                self.positions.labels("withdrawn").inc()

    def closed(self, proposal: Proposal) -> None:
        self.outcomes.labels(proposal.current_round.rule.value, proposal.state.value).inc()

    def queued(self, kind: str) -> None:
        self.queued_messages.labels(kind).inc()

    def sent(self, kind: str, seconds: float) -> None:
        self.sent_messages.labels(kind).inc()
        self.send_seconds.observe(seconds)

    def failed(self, kind: str) -> None:
        self.retried_messages.labels(kind).inc()

    def set_aside(self, kind: str) -> None:
        self.set_aside_messages.labels(kind).inc()

    def received(self, lag: float) -> None:
        self.event_lag.observe(max(lag, 0.0))

    def event_failed(self) -> None:
        self.events_failed.inc()


class _RateLimits(Collector):
    """The platform's rate limits, as the bot's senders count them: waits, and seconds waited."""

    def __init__(self, bot: ChatBot) -> None:
        self._bot = bot

    def collect(self) -> Iterator[CounterMetricFamily]:
        waits, seconds = self._bot.rate_limits()
        yield CounterMetricFamily(f"{PREFIX}rate_limit_waits", "Requests the platform asked to retry later (429)",
                                  value=waits)
        yield CounterMetricFamily(f"{PREFIX}rate_limit_wait_seconds", "Seconds waited as the platform asked",
                                  value=seconds)
