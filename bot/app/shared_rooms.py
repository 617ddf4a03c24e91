"""Networks whose rooms span both chat platforms (README, "Linked assemblies"): a Matrix process and a Mattermost
process of one deployment, on one PostgreSQL database, each serving its platform's rooms.

Who is in a room only its platform says. So each process records the members of its networks' rooms in the
database (``room_members``) as it sees them — at start, when it asks (every vote on a joint decision does), and
every WATCH_EVERY seconds — and reads the other platform's rooms from there: a joint decision's union is whole
whichever process reckons it. Meanwhile the process picks up what the other one did for its rooms: the ballots and
outcomes it queued for them, and the due times of the joint decisions proposed there (``watch``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import datetime

from bot.app.commands import Registry
from bot.app.ports import Directory, Sender
from bot.app.service import ConsentService
from bot.config import Config
from bot.config.networks import served_here
from storage.repository import Repository

log = logging.getLogger(__name__)

WATCH_EVERY = 1.0
"""Seconds between two looks at what the other platform's process did: a ballot or an outcome it queued for this
process's rooms goes out within about this long."""


def spans_platforms(config: Config, platform: str) -> bool:
    """Whether some network of the configuration has a room the process serving ``platform`` does not serve."""
    return any(not served_here(room, platform) for network in config.networks for room in network.rooms)


class SharedDirectory:
    """The platform's directory for the rooms this process serves, whose members it records for the other process;
    the database's record for the other platform's rooms (where the bot here has no facilitator and knows no one
    by name)."""

    def __init__(self, platform_directory: Directory, repository: Repository, config: Config, platform: str) -> None:
        self._platform = platform_directory
        self._repository = repository
        self._here = platform
        self._shared = {room for network in config.networks for room in network.rooms if served_here(room, platform)}
        """This process's rooms that are in a network: those whose members the other process needs."""
        self._recorded: dict[str, frozenset[str]] = {}
        """What this process last recorded of each of those rooms (a change alone is written)."""

    def _serves(self, room: str) -> bool:
        return served_here(room, self._here)

    async def members(self, room: str) -> set[str]:
        if not self._serves(room):
            return await self._repository.room_members(room)
        members = await self._platform.members(room)
        if room in self._shared and self._recorded.get(room) != members:
            await self._repository.record_room_members(room, members)
            self._recorded[room] = frozenset(members)
        return members

    async def count(self, room: str) -> int:
        if not self._serves(room):
            return len(await self._repository.room_members(room))
        return await self._platform.count(room)

    async def revision(self, rooms: Sequence[str]) -> Hashable:
        # The other platform's rooms: their members as recorded (a query each, as for their count).
        theirs = [room for room in rooms if not self._serves(room)]
        return (await self._platform.revision([room for room in rooms if self._serves(room)]),
                tuple([frozenset(await self.members(room)) for room in theirs]))

    async def is_facilitator(self, room: str, member: str) -> bool:
        return self._serves(room) and await self._platform.is_facilitator(room, member)

    async def resolve(self, room: str, name: str) -> str | None:
        return await self._platform.resolve(room, name) if self._serves(room) else None

    async def record(self) -> None:
        """Record the members of this process's rooms in networks, where they changed."""
        for room in sorted(self._shared):
            await self.members(room)

    async def watch(self, picked_up: Callable[[], Awaitable[None]]) -> None:
        """Until cancelled, every WATCH_EVERY seconds: record the members of this process's rooms, and pick up
        what the other process did (``picked_up``: its messages for these rooms, its due times). A failure (the
        database out of reach) is said and tried again at the next look."""
        failing = None
        while True:
            try:
                await self.record()
                await picked_up()
                failing = None
            except Exception as error:
                if not self._repository.unavailable(error):
                    raise
                if str(error) != failing:  # said once, not every second
                    log.warning("cannot look at the other platform's rooms in the database (%s)", error)
                failing = str(error)
            await asyncio.sleep(WATCH_EVERY)


def platform_service(platform: str, repository: Repository, config: Config, registry: Registry,
                     directory: Directory, sender: Sender,
                     clock: Callable[[], datetime]) -> tuple[ConsentService, SharedDirectory | None]:
    """The service of a process serving ``platform`` (``directory``: its platform's), which may share its database
    with a process of the other platform: it handles the due work and sends the messages of its own rooms and of
    the networks only; and, when a network spans both platforms, the shared directory it counts members by."""
    repository.serve(platform)
    shared = SharedDirectory(directory, repository, config, platform) if spans_platforms(config, platform) else None
    service = ConsentService(repository, config, registry, shared or directory, sender, clock)
    service.delivery.serves = lambda room: served_here(room, platform)
    return service, shared
