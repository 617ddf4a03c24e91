"""Where a decision is taken: a room alone, or a network of rooms (README, "Linked assemblies").

A room's own proposals are kept under the room's id; a network's joint decisions under its scope, ``network:<id>``,
in the same tables, numbered on their own. This module answers, from the configuration, which rooms a scope spans
and by which settings a decision in it runs, as said in each of its rooms (the network's rules, the room's language).
"""

from __future__ import annotations

from collections.abc import Hashable, Set
from dataclasses import dataclass

from bot.app.ports import Directory
from bot.config import AssemblySettings, Config
from bot.config.networks import SCOPE_PREFIX
from bot.config.settings import NetworkSettings
from bot.engine import rules
from storage.repository import Repository


def network_of(config: Config, scope: str) -> NetworkSettings | None:
    """The network whose joint decisions are kept under ``scope`` (None: a room's own)."""
    if not scope.startswith(SCOPE_PREFIX):
        return None
    joint = config.joint_settings.get(scope)
    return joint[0] if joint else None


def networks_of_room(config: Config, room: str) -> list[NetworkSettings]:
    return [network for network in config.networks if room in network.rooms]


def settings_for(config: Config, scope: str, room: str) -> AssemblySettings:
    """The settings a decision kept under ``scope`` runs by, as said in ``room`` (its language)."""
    network = network_of(config, scope)
    if network is None:
        return config.for_room(scope or room)
    return config.joint_settings[scope][1].get(room) or network.rules_over(config.assembly, config.for_room(room))


def places(config: Config, scope: str) -> tuple[tuple[str, AssemblySettings], ...]:
    """Each room a decision kept under ``scope`` is said in, with the settings it is said by there."""
    network = network_of(config, scope)
    if network is None:
        return ((scope, config.for_room(scope)),)
    return tuple(config.joint_settings[scope][1].items())


async def members_by_room(directory: Directory, rooms: tuple[str, ...]) -> dict[str, set[str]]:
    """Who is in each room, as the platform says (a joint decision's members are their union, each once)."""
    return {room: await directory.members(room) for room in rooms}


def mixes_platforms(config: Config) -> bool:
    """Whether some network has rooms of both chat platforms: only then may accounts be linked (!link)."""
    return any(len(network.platforms) > 1 for network in config.networks)


async def linked_accounts(config: Config, repository: Repository) -> dict[str, str]:
    """The linked accounts (account → the member it counts as): read only where accounts may be linked, so that a
    vote on a joint decision of one platform's rooms costs no query more."""
    return await repository.linked_accounts() if mixes_platforms(config) else {}


@dataclass(frozen=True)
class Roster:
    """Who takes part in a network's joint decisions (shared between events: not to be changed)."""

    accounts: dict[str, set[str]]
    """Each room's members as its platform names them (to mention them there)."""
    by_room: dict[str, Set[str]]
    """Each room's members as they count: a linked account as the member it counts as."""
    members: set[str]
    """The members of its joint decisions: the union, each person once (a member of several rooms, two linked
    accounts)."""


class Rosters:
    """The roster of each network, asked at every vote on a joint decision, and made again only when the directory
    says some room's members changed (its ``revision``) or accounts were linked: a vote on a joint decision then
    costs what a vote on a room's own proposal does, whatever the size of the network."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._made: dict[str, tuple[Hashable, Roster]] = {}

    async def of(self, network: NetworkSettings, linked: dict[str, str]) -> Roster:
        key = await self._directory.revision(network.rooms), tuple(sorted(linked.items()))
        made = self._made.get(network.scope)
        if made is None or made[0] != key:
            accounts = await members_by_room(self._directory, network.rooms)
            by_room = rules.counted_by_room(accounts, linked)
            made = self._made[network.scope] = key, Roster(accounts, by_room, rules.network_members(by_room))
        return made[1]
