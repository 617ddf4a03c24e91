"""The bot's metrics, in a Prometheus registry of its own (never the library's global one).

What moves with each decision is counted in plain dictionaries and lists by :class:`Metrics`, which the service
tells once a decision is committed (:class:`bot.app.observer.Observer`): an increment, no lock (everything runs on
the event loop, the scrape too), no I/O, nothing inside a transaction; prometheus-client turns the counts into its
metric families when Prometheus scrapes. What is a state rather than an event (messages waiting, seconds since the
platform answered, the next due work) is read at the scrape. Labels are bounded: a command's verb, a position, an
outcome, a message's kind, the platform; never a member, a room or text.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
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


class Counts:
    """A counter family: labels → count."""

    def __init__(self, name: str, documentation: str, *labels: str) -> None:
        self.name, self.documentation, self.labels = PREFIX + name, documentation, labels
        self.values: dict[tuple[str, ...], int] = {}

    def inc(self, *labels: str) -> None:
        self.values[labels] = self.values.get(labels, 0) + 1

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, value in self.values.items():
            family.add_metric(labels, value)
        return family


class Buckets:
    """A histogram: how many observations fell at or under each bound, and their sum."""

    def __init__(self, name: str, documentation: str, bounds: tuple[float, ...]) -> None:
        self.name, self.documentation, self.bounds = PREFIX + name, documentation, bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def family(self) -> HistogramMetricFamily:
        cumulative, buckets = 0, []
        for bound, count in zip((*self.bounds, math.inf), self.counts):
            cumulative += count
            buckets.append(("+Inf" if bound == math.inf else repr(float(bound)), cumulative))
        return HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=self.sum)


class Metrics(Observer, Collector):
    """The bot's metrics; ``registry`` is what /metrics serves."""

    def __init__(self, bot: ChatBot) -> None:
        self.registry = registry = CollectorRegistry()
        self._bot = bot
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        Gauge(f"{PREFIX}info", "The bot's version and platform", ("version", "platform"),
              registry=registry).labels(__version__, bot.config.platform).set(1)
        self.positions = Counts("positions", "Positions recorded (withdrawn: one taken back)", "position")
        self.commands = Counts("commands", "Members' events handled, by command (reaction, reply, unknown) and result "
                               "(done, refused)", "command", "result")
        self.events_failed = Counts("events_failed", "Platform events whose handling failed unexpectedly (logged; the "
                                    "bot went on)")
        self.outcomes = Counts("outcomes", "Rounds closed, by rule and outcome", "rule", "outcome")
        self.queued_messages = Counts("messages_queued", "Messages committed to the outbox, by kind", "kind")
        self.sent_messages = Counts("messages_sent", "Messages delivered, by kind", "kind")
        self.retried_messages = Counts("messages_retried", "Sends that failed and are tried again, by kind", "kind")
        self.set_aside_messages = Counts("messages_set_aside", "Messages the platform refused for good", "kind")
        self.announcements = Counts("announcements", "Mails and webhook calls, by channel (email, webhook) and result "
                                    "(sent; retried: refused for now; given_up: refused for good or for too long)",
                                    "channel", "result")
        self.send_seconds = Buckets("platform_send_seconds", "Platform requests: the time each message took to "
                                    "deliver, rate-limit waits included", SLOW)
        self.event_lag = Buckets("sync_lag_seconds", "How far behind the platform the bot is: from a member's event "
                                 "on the platform to the bot reading it", SLOW)
        self.transactions = Buckets("database_transaction_seconds", "How long each transaction held the database",
                                    FAST)
        self.events_failed.values[()] = 0  # without labels: shown from the start, at 0
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
        registry.register(self)
        bot.repository.on_transaction = self.transactions.observe

    async def refresh(self) -> None:
        """Read what lives in the database (before a scrape, never on a vote's way)."""
        self.open_rounds.set(len(await self._bot.repository.open_proposals()))

    def collect(self) -> Iterator[Metric]:
        """The counts as prometheus-client's metric families, at each scrape."""
        for counts in (self.positions, self.commands, self.events_failed, self.outcomes, self.queued_messages,
                       self.sent_messages, self.retried_messages, self.set_aside_messages, self.announcements):
            yield counts.family()
        for buckets in (self.send_seconds, self.event_lag, self.transactions):
            yield buckets.family()
        waits, seconds = self._bot.rate_limits()
        yield CounterMetricFamily(f"{PREFIX}rate_limit_waits", "Requests the platform asked to retry later (429)",
                                  value=waits)
        yield CounterMetricFamily(f"{PREFIX}rate_limit_wait_seconds", "Seconds waited as the platform asked",
                                  value=seconds)

    def _since_answer(self) -> float:
        answered = self._bot.answered_at
        return math.nan if answered is None else time.monotonic() - answered

    def _next_due(self) -> float:
        at = self._bot.scheduler.next_time()
        return math.nan if at is None else at.timestamp()

    # --- what the service tells (bot.app.observer) ---------------------------------------------------------------

    def decided(self, command: str, result: str, changes: Sequence[Change]) -> None:
        self.commands.inc(command, result)
        for change in changes:
            if change.action is Action.POSITION and change.position is not None:
                self.positions.inc(change.position.value)
            elif change.action is Action.POSITION_WITHDRAWN:
                self.positions.inc("withdrawn")

    def closed(self, proposal: Proposal) -> None:
        self.outcomes.inc(proposal.current_round.rule.value, proposal.state.value)

    def queued(self, kind: str) -> None:
        self.queued_messages.inc(kind)

    def sent(self, kind: str, seconds: float) -> None:
        self.sent_messages.inc(kind)
        self.send_seconds.observe(seconds)

    def failed(self, kind: str) -> None:
        self.retried_messages.inc(kind)

    def set_aside(self, kind: str) -> None:
        self.set_aside_messages.inc(kind)

    def announced(self, channel: str, result: str) -> None:
        self.announcements.inc(channel, result)

    def received(self, lag: float) -> None:
        self.event_lag.observe(max(lag, 0.0))

    def event_failed(self) -> None:
        self.events_failed.inc()
