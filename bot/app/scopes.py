"""Where a decision is taken: a room alone, or a network of rooms (README, "Linked assemblies").

A room's own proposals are kept under the room's id; a network's joint decisions under its scope, ``network:<id>``,
in the same tables, numbered on their own. This module answers, from the configuration, which rooms a scope spans
and by which settings a decision in it runs, as said in each of its rooms (the network's rules, the room's language).
"""

from __future__ import annotations

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
    return next((n for n in config.networks if n.scope == scope), None)


def networks_of_room(config: Config, room: str) -> list[NetworkSettings]:
    return [network for network in config.networks if room in network.rooms]


def settings_for(config: Config, scope: str, room: str) -> AssemblySettings:
    """The settings a decision kept under ``scope`` runs by, as said in ``room`` (its language)."""
    network = network_of(config, scope)
    if network is None:
        return config.for_room(scope or room)
    return network.rules_over(config.assembly, config.for_room(room))


def places(config: Config, scope: str) -> tuple[tuple[str, AssemblySettings], ...]:
    """Each room a decision kept under ``scope`` is said in, with the settings it is said by there."""
    network = network_of(config, scope)
    if network is None:
        return ((scope, config.for_room(scope)),)
    return tuple((room, settings_for(config, scope, room)) for room in network.rooms)


def network_label(scope: str) -> str:
    """How a joint decision's number is written in its scope (#metropole-3): the network's id; "" for a room."""
    return scope.removeprefix(SCOPE_PREFIX) if scope.startswith(SCOPE_PREFIX) else ""


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


async def joint_members(directory: Directory, network: NetworkSettings,
                        linked: dict[str, str]) -> tuple[dict[str, set[str]], set[str]]:
    """Who is in each room of a network, and the members of its joint decisions: their union, each person once (a
    member of several rooms, two linked accounts)."""
    by_room = await members_by_room(directory, network.rooms)
    return by_room, rules.network_members(by_room, linked)
