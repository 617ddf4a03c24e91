"""The operations listener: /healthz, /readyz and /metrics on ``ops.bind`` and ``ops.port``, beside a chat adapter,
on a port of its own (the public register's may be published; this one need not be)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.local_address import local_url
from bot.ops import OpsUnavailable
from bot.ops.health import liveness, readiness
from bot.ops.metrics import Metrics

if TYPE_CHECKING:
    from bot.chat.core import ChatBot

log = logging.getLogger(__name__)
NOT_READY = 503


def make_app(bot: ChatBot, metrics: Metrics) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response(liveness())

    async def readyz(request: web.Request) -> web.Response:
        state = await readiness(bot)
        return web.json_response(state, status=200 if state["ready"] else NOT_READY)

    async def scrape(request: web.Request) -> web.Response:
        await metrics.refresh()
        response = web.Response(body=generate_latest(metrics.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)
    return app


@dataclass
class OpsServer:
    runner: web.AppRunner
    metrics: Metrics
    url: str
    """Where this machine reaches it, e.g. http://127.0.0.1:9090."""

    @classmethod
    async def start(cls, bot: ChatBot) -> OpsServer:
        """Listen on ``ops.bind`` and ``ops.port``; from now on the bot's service reports to the metrics."""
        settings = bot.config.ops
        metrics = Metrics(bot)
        runner = web.AppRunner(make_app(bot, metrics), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.bind, settings.port).start()
        except OSError as error:
            await runner.cleanup()
            raise OpsUnavailable(f"the operations listener cannot listen on {settings.bind} port {settings.port} "
                                 f"({error.strerror or type(error).__name__}): change ops.port or ops.bind") from None
        bot.service.watch(metrics)
        server = cls(runner, metrics, local_url(settings.bind, runner.addresses[0][1]))  # port 0: the one it got
        log.info("health and metrics are served at %s (/healthz, /readyz, /metrics)", server.url)
        return server

    async def stop(self) -> None:
        await self.runner.cleanup()
