"""Real servers on loopback for what the bot announces beyond the room: an SMTP server (aiosmtpd) that keeps every
mail it accepts, and an HTTP receiver (aiohttp) that keeps every webhook call; either can be stopped and started
again on its port, or told to refuse."""

from __future__ import annotations

import asyncio
import email
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiohttp import web
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Keeper:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        if self._server.refuse is not None:
            return self._server.refuse
        self._server.mails.append(email.message_from_bytes(envelope.content, policy=default))
        self._server.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@dataclass
class SmtpServer:
    """An SMTP server on 127.0.0.1 (no TLS: the bot's ``security: none``), keeping the mails it accepts."""

    port: int = field(default_factory=free_port)
    mails: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refuse: str | None = None
    """An SMTP reply to give to every mail instead of accepting it ("451 …" later, "550 …" never)."""
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_Keeper(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class Call:
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """An HTTP server on 127.0.0.1 keeping each POST to /hook; ``status`` is what it answers."""

    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    status: int = 204
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> HttpReceiver:
        async def hook(request: web.Request) -> web.Response:
            self.calls.append(Call(dict(request.headers), await request.read()))
            return web.Response(status=self.status)

        app = web.Application()
        app.router.add_post("/hook", hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def stopped(server: SmtpServer) -> None:
    await asyncio.to_thread(server.stop)
