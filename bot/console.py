"""A local room in the terminal, on SQLite, with a simulated clock: the whole decision cycle without a chat server.

Lines starting with ``/`` drive the console (``/as``, ``/facilitator``, ``/room``,
``/advance``, ``/register``, ``/quit``); everything else is a message from the current member,
handled exactly as a chat message. ``/advance`` steps the clock through every
due instant in order, running the same due work as the real scheduler.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TextIO

from bot.config import Config
from bot.console_commands import console_commands_usage
from bot.durations import MAX_ADVANCE, parse_duration
from bot.app.handlers import COMMANDS
from bot.messages.outgoing import Kind, Outgoing
from bot.messages.sanitize import clean
from bot.register.links import room_path
from bot.app.ports import Incoming
from bot.app.service import ConsentService
from storage.repository import Repository

if TYPE_CHECKING:
    from bot.register.server import RegisterServer

ROOM = "console"
LAST_YEAR = 2999
"""The simulated clock goes no further: every deadline and lock the bot adds stays a date (year 9999 at most)."""
FIRST_MEMBER = "alice"
MAX_LINE = 1 << 20
"""The longest line a pipe may bring at once (a proposal's text is far shorter; a longer line ends the session)."""


@dataclass
class SimulatedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class ConsoleRoom:
    """The console's rooms (the platform's Directory): the first room, whose members are the names used there so far,
    and the other rooms of its networks (``/room``), each with the names used there."""

    names: set[str] = field(default_factory=set)
    facilitator_names: set[str] = field(default_factory=set)
    other_rooms: dict[str, set[str]] = field(default_factory=dict)
    """The rooms beyond the first, by id; any other room asked about is the first (a test's one room)."""

    def names_in(self, room: str) -> set[str]:
        return self.other_rooms.get(room, self.names)

    async def members(self, room: str) -> set[str]:
        return set(self.names_in(room))

    async def count(self, room: str) -> int:
        return len(self.names_in(room))

    async def revision(self, rooms: Sequence[str]) -> tuple[int, ...]:
        return tuple(len(self.names_in(room)) for room in rooms)  # names are only ever added

    async def is_facilitator(self, room: str, member: str) -> bool:
        return member in self.facilitator_names

    async def resolve(self, room: str, name: str) -> str | None:
        name = name.removeprefix("@")
        return name if name in self.names_in(room) else None


class ConsoleSender:
    """Prints the bot's messages: text for people, or one JSON line each with ``--json``."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self._out = out
        self._json = as_json

    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        if message.kind is Kind.SEED:
            return None  # there are no reactions to click in a terminal
        if self._json:
            line = dict(message.payload or {"kind": str(message.kind)})
            if message.room != ROOM:
                line["room"] = message.room
            line["text"] = message.body
            self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            self._out.write("\n" + _indent(message.body, "" if message.room == ROOM else f" in {message.room}") + "\n\n")
        self._out.flush()
        return message.key


def _indent(text: str, where: str = "") -> str:
    """The bot's lines, marked as its own (and with the room they are said in, when not the first)."""
    return "\n".join(f"  bot{where} │ " + line for line in text.splitlines())


async def _lines(source: TextIO) -> AsyncIterator[str]:
    """The input's lines as they come. A pipe (a script driving the console) is read by the event loop itself; a
    file at once; a terminal by a thread, one line at a time (a human types slower than a thread hops)."""
    kind = _kind_of(source)
    if kind == "pipe":
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), source)
        read = functools.partial(_pipe_line, reader)
    elif kind == "file":
        async def read() -> bytes | str:
            return source.readline()
    else:
        async def read() -> bytes | str:
            return await asyncio.get_running_loop().run_in_executor(None, source.readline)
    while line := await read():
        if isinstance(line, bytes):
            line = line.decode(source.encoding or "utf-8", "surrogateescape")
        # A terminal may send invalid UTF-8, which Python reads as lone surrogates: make it printable.
        yield clean(line.rstrip("\n"))


async def _pipe_line(reader: asyncio.StreamReader) -> bytes:
    """The next line from a pipe (b"" at its end); a line longer than MAX_LINE is cut there, its rest dropped: the
    bot refuses a text far shorter, and says so."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as end:
        return end.partial
    except asyncio.LimitOverrunError as overrun:
        line = await reader.readexactly(overrun.consumed)
    while True:
        try:
            await reader.readuntil(b"\n")
            return line
        except asyncio.IncompleteReadError:
            return line
        except asyncio.LimitOverrunError as overrun:
            await reader.readexactly(overrun.consumed)


def _kind_of(source: TextIO) -> str:
    """"pipe" (or socket), "file" (a regular file, or an in-memory text) or "terminal" (anything else)."""
    try:
        mode = os.fstat(source.fileno()).st_mode
    except (AttributeError, OSError, ValueError):  # io.StringIO has no file descriptor
        return "file"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "pipe"
    return "file" if stat.S_ISREG(mode) else "terminal"


class Console:
    def __init__(self, service: ConsentService, room: ConsoleRoom, clock: SimulatedClock, err: TextIO) -> None:
        self.service = service
        self.room = room
        self.clock = clock
        self.err = err
        self.member = FIRST_MEMBER
        self.room_id = ROOM
        room.names.add(FIRST_MEMBER)
        for network in service.config.networks:  # the other rooms of the console's networks, empty until spoken in
            for other in network.rooms:
                if other != ROOM:
                    room.other_rooms.setdefault(other, set())
        self.register: RegisterServer | None = None
        """The public register of this session, once started (``--register`` or ``/register``)."""

    def say(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def prompt(self) -> None:
        zone = self.service.config.assembly.code.calendar.zone
        where = "" if self.room_id == ROOM else f" in {self.room_id}"
        self.err.write(f"[{self.clock.now.astimezone(zone):%a %Y-%m-%d %H:%M}] {self.member}{where}> ")
        self.err.flush()

    async def run(self, source: TextIO) -> None:
        self.say("consent-bot console: type !help for the bot's commands; /as NAME, /facilitator NAME, /room ROOM, "
                 "/advance 3d, /register, /mail, /quit. End a line with \\ to continue on the next one.")
        pending: list[str] = []
        self.prompt()
        async for line in _lines(source):
            if line.endswith("\\"):
                pending.append(line[:-1])
                continue
            text = "\n".join(pending + [line])
            pending.clear()
            if not await self.handle(text):
                return
            self.prompt()

    async def handle(self, text: str) -> bool:
        """One input line; False when the member quits."""
        stripped = text.strip()
        if not stripped:
            return True
        if stripped.startswith("/"):
            return await self.control(stripped)
        self.room.names_in(self.room_id).add(self.member)
        incoming = Incoming(self.room_id, self.member, text, f"console-{uuid.uuid4()}", self.clock.now)
        await self.service.handle(incoming)
        return True

    async def control(self, line: str) -> bool:
        verb, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        if verb == "quit":
            return False
        if verb == "as" and argument:
            self.member = argument
            self.room.names_in(self.room_id).add(argument)
        elif verb == "room" and argument:
            self.enter(argument)
        elif verb == "facilitator" and argument:
            self.room.names_in(self.room_id).add(argument)
            self.room.facilitator_names.add(argument)
            self.say(f"{argument} is a facilitator.")
        elif verb == "register":
            await self.open_register()
        elif verb == "mail":
            await self.show_mail(argument)
        elif verb == "advance" and argument:
            try:
                duration = parse_duration(argument, maximum=MAX_ADVANCE)
            except ValueError as error:
                self.say(f"/advance: {error}")
                return True
            if (self.clock.now + duration).year > LAST_YEAR:
                self.say(f"/advance: the clock stops at the end of {LAST_YEAR}")
                return True
            await self.advance(duration)
        else:
            self.say(f"Console commands: {console_commands_usage()}")
        return True

    def enter(self, room: str) -> None:
        """Say the next lines in ``room``: the first room, or a room of one of the configuration's networks (a name is a
        member of the rooms it is used in, by /as or by a line said there)."""
        if room != ROOM and room not in self.room.other_rooms:
            rooms = ", ".join([ROOM, *self.room.other_rooms])
            self.say(f"/room: {room[:80]} is no room of this console: {rooms} (the rooms of the configuration's "
                     "networks)")
            return
        self.room_id = room

    async def show_mail(self, argument: str) -> None:
        """The last N mails the session's decisions would send to the assembly's list (assembly.email): their
        headers and their text (the console sends none)."""
        from bot.channels.mail import email_message

        count = int(argument) if argument.isdecimal() and len(argument) < 4 else 1
        pending = await self.service.repository.pending_announcements()
        mails = [message for message, *_ in pending if message.channel == "email"][-count:]
        if not mails:
            self.say("/mail: no mail queued in this session (assembly.email.lists is empty, or nothing was announced).")
        for message in mails:
            mail = email_message(message)
            headers = "\n".join(f"{name}: {value}" for name, value in mail.items() if not name.startswith(("MIME",
                                                                                                          "Content")))
            self.say(f"{headers}\n\n{mail.get_body(('plain',)).get_content().rstrip()}\n(and the same in HTML)\n")

    async def open_register(self) -> None:
        """Serve the session's public register (once) and say where to open it in a browser."""
        # Loaded only when asked for: the web server and its templates are no part of a console session otherwise.
        from bot.register.server import RegisterServer, RegisterUnavailable

        if self.register is None:
            try:
                self.register = await RegisterServer.start(self.service.config, self.service.repository)
            except RegisterUnavailable as error:
                self.say(f"/register: {error}")
                return
        self.say(f"The public register of this session: {self.register.url}{room_path(self.room_id)} "
                 f"(each proposal at {self.register.url}{room_path(self.room_id)}/N, once made); /register says it "
                 "again.")

    async def close(self) -> None:
        if self.register is not None:
            await self.register.stop()

    async def advance(self, duration: timedelta) -> None:
        """Move time forward, doing every due closing and reminder at its own instant, in order."""
        target = self.clock.now + duration
        while (due := await self.service.next_due()) is not None and due[0] <= target:
            at, room, number = due
            self.clock.now = max(self.clock.now, at)
            await self.service.run_due(room, number, self.clock.now)
        self.clock.now = target


async def run_console(
    config: Config,
    start: datetime | None,
    as_json: bool,
    database: str,
    source: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    register: bool = False,
) -> None:
    repository = await Repository.open(database, acting=True)
    console = None
    try:
        now = start or datetime.now(timezone.utc).replace(second=0, microsecond=0)
        latest = await repository.latest_time()
        clock = SimulatedClock(max(now, latest) if latest else now)
        room = ConsoleRoom(names=await repository.members_seen(ROOM))
        service = ConsentService(repository, config, COMMANDS, room, ConsoleSender(out, as_json), clock)
        console = Console(service, room, clock, err)
        await service.deliver()
        await console.advance(timedelta(0))
        if register:
            await console.open_register()
        await console.run(source)
    finally:
        if console is not None:
            await console.close()
        await repository.close()
