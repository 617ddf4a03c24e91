"""Who is in a Matrix room, from the room state nio keeps up to date during sync (no request per message)."""

from __future__ import annotations

from collections.abc import Sequence

from nio import AsyncClient


class MatrixDirectory:
    def __init__(self, client: AsyncClient, facilitator_power_level: int) -> None:
        self._client = client
        self._level = facilitator_power_level
        self.creators: dict[str, set[str]] = {}
        """room id → its creators (nio does not keep them; the sync loop fills this from m.room.create)."""
        self._member_events: dict[str, int] = {}
        """room id → how many membership events the sync loop has seen in it (see ``revision``)."""

    def members_changed(self, room: str) -> None:
        """A membership event came in a sync: nio has applied it to the room's members."""
        self._member_events[room] = self._member_events.get(room, 0) + 1

    def room_created(self, room: str, sender: str, content: dict) -> None:
        extra = content.get("additional_creators")
        self.creators[room] = {sender, *(extra if isinstance(extra, list) else [])}

    async def members(self, room: str) -> set[str]:
        """The room's joined members, the bot excluded: the "m" of participation."""
        matrix_room = self._client.rooms.get(room)
        if matrix_room is None:
            return set()
        joined = set(matrix_room.users) - set(matrix_room.invited_users)
        return joined - {self._client.user_id}

    async def count(self, room: str) -> int:
        """How many members (without building their set: it is asked for on every vote)."""
        return self._count(room)

    def _count(self, room: str) -> int:
        matrix_room = self._client.rooms.get(room)
        if matrix_room is None:
            return 0
        joined = len(matrix_room.users) - len(matrix_room.invited_users)
        return joined - (1 if self._client.user_id in matrix_room.users else 0)

    async def revision(self, rooms: Sequence[str]) -> tuple[tuple[int, int], ...]:
        """The membership events seen in each room, and (should one ever be missed) how many members it has."""
        return tuple((self._member_events.get(room, 0), self._count(room)) for room in rooms)

    async def is_facilitator(self, room: str, member: str) -> bool:
        matrix_room = self._client.rooms.get(room)
        if matrix_room is None:
            return False
        # Room version 12 gives its creators an unlimited power level that the power levels event omits.
        if matrix_room.room_version == "12" and member in self.creators.get(room, ()):
            return True
        return matrix_room.power_levels.get_user_level(member) >= self._level

    async def resolve(self, room: str, name: str) -> str | None:
        """A member by their id (@alice:example.org) or, when it names one member only, their display name."""
        matrix_room = self._client.rooms.get(room)
        members = await self.members(room)
        if name in members or matrix_room is None:
            return name if name in members else None
        named = {member for member in members
                 if (matrix_room.users[member].display_name or "").casefold() == name.removeprefix("@").casefold()}
        return named.pop() if len(named) == 1 else None
