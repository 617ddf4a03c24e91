"""Which scope a command acts in: the room's own proposals, or the joint decisions of one of the room's networks —
named by a joint decision's reference (#metropole-3), by the ballot a message answers, or by !joint's first word."""

from __future__ import annotations

from bot.app.commands import Invocation
from bot.app.context import CommandError
from bot.app.ports import Reference
from bot.app.scopes import networks_of_room
from bot.config import Config
from bot.config.networks import SCOPE_PREFIX
from bot.config.settings import NetworkSettings
from bot.messages.i18n import Messages
from bot.messages.sanitize import excerpt


def scope_of(config: Config, room: str, invocation: Invocation, about: Reference | None,
             m: Messages) -> tuple[str, str]:
    """The scope the command acts in ("" for the room's own) and its arguments without the network's name."""
    mine = networks_of_room(config, room)
    if invocation.network is not None:
        if SCOPE_PREFIX + invocation.network not in (network.scope for network in mine):
            raise CommandError(m._("This room is in no network '{network}' (its networks: {networks}).",
                                   network=excerpt(invocation.network, 40), networks=_ids(mine, m)))
        return SCOPE_PREFIX + invocation.network, invocation.arguments
    if invocation.command.names_network:
        return _chosen(config, mine, invocation.arguments, m)
    if invocation.reference is None and about is not None:
        return about.scope, invocation.arguments
    return "", invocation.arguments


def _chosen(config: Config, mine: list[NetworkSettings], arguments: str, m: Messages) -> tuple[str, str]:
    """The network a joint proposal is made to, of the room's networks ``mine``: named by the first word, or the
    room's only one."""
    words = arguments.split(maxsplit=1)
    named = next((n for n in config.networks if words and n.id == words[0].casefold()), None)
    if named is not None:
        if named not in mine:
            raise CommandError(m._("This room is not in the network '{network}' (its networks: {networks}).",
                                   network=named.id, networks=_ids(mine, m)))
        return named.scope, words[1] if len(words) > 1 else ""
    if len(mine) == 1:
        return mine[0].scope, arguments
    if not mine:
        raise CommandError(m._("This room is in no network: a joint proposal is made from a room of a network "
                               "(networks, in the configuration)."))
    raise CommandError(m._("This room is in several networks: name one first, e.g. !joint {network} <title> (its "
                           "networks: {networks}).", network=mine[0].id, networks=_ids(mine, m)))


def _ids(networks: list[NetworkSettings], m: Messages) -> str:
    return ", ".join(network.id for network in networks) or m._("none")
