"""Networks of rooms: assemblies that take some decisions together (README, "Linked assemblies").

A network names its rooms and, for its joint decisions, the rules that differ from the assembly's: the same keys,
validated by the same model — a network's settings are built on the assembly's (settings.py hands its model over,
since this module cannot import it back without a cycle). Each room keeps its own language for what the bot says.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, StringConstraints, Strict, model_validator

from bot.config.values import Problem, explained, id_problem, listed, platform_id, shown

MAX_ROOMS = 50
MAX_NETWORKS = 20
RULES = frozenset({"timezone", "holidays", "working_days_only", "minimum_duration", "reminders", "days_between_rounds",
                   "blocked_rounds_before_majority", "majority", "majority_lock", "quorum", "facilitators", "name",
                   "email", "webhooks"})
"""The assembly's keys a network may give for its joint decisions (its rules, and where they are announced beyond
the rooms); the others (its language, topics, officials…) stay each room's or the assembly's."""
SCOPE_PREFIX = "network:"
"""A joint decision is kept under the scope ``network:<id>``, where a room's own are kept under the room's id."""


def network_label(scope: str) -> str:
    """How a joint decision's number is written in its scope (#metropole-3): the network's id; "" for a room."""
    return scope.removeprefix(SCOPE_PREFIX) if scope.startswith(SCOPE_PREFIX) else ""


CHAT_PLATFORMS = ("matrix", "mattermost")
NetworkRoom = platform_id(1, "a room id", "'!abc:example.org'", either_platform=True)
"""A room of a network (or its settings, under ``rooms``): of this process's platform, or of the other chat
platform, served there by that platform's process; the two platforms' room ids never look alike."""


def room_platform(room: str) -> str | None:
    """The chat platform a room id is of, by its shape (None: neither, e.g. a console room)."""
    return next((platform for platform in CHAT_PLATFORMS if id_problem(room, 1, platform) is None), None)


def served_here(room: str, platform: str) -> bool:
    """Whether the process serving ``platform`` posts and reads in ``room``: the rooms of its platform; on the
    console, every room (it plays them all); a room of no platform's shape, by whichever process names it."""
    return platform not in CHAT_PLATFORMS or room_platform(room) in (platform, None)


def _twice(values: list[str]) -> str | None:
    return next((value for index, value in enumerate(values) if value in values[:index]), None)


def _distinct_rooms(rooms: tuple[str, ...]) -> tuple[str, ...]:
    if (twice := _twice(list(rooms))) is not None:
        raise ValueError(f"the room {shown(twice)} is listed twice")
    return rooms


def _distinct_networks(networks: tuple[Any, ...]) -> tuple[Any, ...]:
    if (twice := _twice([network.id for network in networks])) is not None:
        raise ValueError(f"two networks have the id {shown(twice)}")
    return networks


def network_settings(assembly: type[BaseModel]) -> type[BaseModel]:
    """The model of a network's settings, on the assembly's model."""

    class NetworkSettings(assembly):
        """Rooms that decide some questions together, with one tally, and the rules of those joint decisions: any
        of the assembly's rule keys (minimum_duration, holidays, quorum, majority…), which replace the assembly's
        there."""

        id: Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$"),
                      explained("an id of at most 40 lowercase letters, digits and hyphens, starting with a letter, "
                                "e.g. metropole")]
        """A stable id: a joint decision is named #<id>-N in every room of the network (#metropole-3)."""
        rooms: Annotated[listed(NetworkRoom, "room ids", MAX_ROOMS, least=1), AfterValidator(_distinct_rooms)]
        """The rooms of the network, by id (rooms the bot has not joined yet are fine: it joins by invitation): Matrix
        rooms ('!abc:example.org') and Mattermost channels (26 letters and digits) alike, each served by the process
        of its platform, both on one PostgreSQL database."""

        @model_validator(mode="before")
        @classmethod
        def _rules_only(cls, value: Any) -> Any:
            for key in value if isinstance(value, dict) else ():
                if key not in RULES | {"id", "rooms"} and key in assembly.model_fields:
                    raise Problem(key, "not a network's setting: a network gives id, rooms and the rules of its joint "
                                       f"decisions ({', '.join(sorted(RULES))}); each room keeps its {key}")
            return value

        @functools.cached_property
        def platforms(self) -> frozenset[str]:
            """The chat platforms of its rooms (two: a Matrix process and a Mattermost process serve it together)."""
            return frozenset(room_platform(room) for room in self.rooms) - {None}

        @property
        def scope(self) -> str:
            """Where its joint decisions are kept and numbered."""
            return SCOPE_PREFIX + self.id

        def rules_over(self, settings: Any, room: Any) -> Any:
            """The settings a joint decision runs by, as said in a room (``room``: the room's settings): the
            assembly's ``settings``, with the keys the network gives instead (holidays as a whole: the network's
            calendar is one for all its rooms), and the room's language and name."""
            given = {key: getattr(self, key) for key in self.model_fields_set & RULES}
            return settings.model_copy(update={**given, "language": room.language, "name": room.name})

    return NetworkSettings


def network_list(model: type[BaseModel]) -> Any:
    """The type of the configuration's ``networks``: at most 20, each id once."""
    return Annotated[listed(model, "networks", MAX_NETWORKS), AfterValidator(_distinct_networks)]
