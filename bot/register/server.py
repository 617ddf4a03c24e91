"""Serving the register: beside a chat adapter, beside the console, or on its own (``consent-bot serve``)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from bot.config import Config
from bot.local_address import local_url
from bot.register import RegisterUnavailable
from bot.register.app import make_app
from storage.repository import Repository

log = logging.getLogger(__name__)

__all__ = ["RegisterServer", "RegisterUnavailable", "serve"]


@dataclass
class RegisterServer:
    runner: web.AppRunner
    url: str
    """Where this machine reaches it, e.g. http://127.0.0.1:8080 (the public address may differ)."""

    @classmethod
    async def start(cls, config: Config, repository: Repository) -> RegisterServer:
        """Listen on ``register.bind`` and ``register.port`` (0: any free port) over ``repository``."""
        settings = config.register
        runner = web.AppRunner(make_app(config, repository), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.bind, settings.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            reason = error.strerror or type(error).__name__
            raise RegisterUnavailable(f"the register cannot listen on {settings.bind} port {settings.port} "
                                      f"({reason}): change register.port or register.bind") from None
        port = runner.addresses[0][1]
        server = cls(runner, local_url(settings.bind, port))
        log.info("the public register is served at %s%s", server.url,
                 f" (public address {settings.public_url})" if settings.public_url else "")
        return server

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """``consent-bot serve``: the register on its own over the configured database, until ``stop`` (or cancelled)."""
    repository = await Repository.open(config.database)
    try:
        server = await RegisterServer.start(config, repository)
        try:
            print(f"The public register is served at {server.url}/ (Ctrl-C to stop).", flush=True)
            await (stop or asyncio.Event()).wait()
        finally:
            await server.stop()
    finally:
        await repository.close()
