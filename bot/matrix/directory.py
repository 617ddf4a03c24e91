"""Who is in a Matrix room, from the room state nio keeps up to date during sync (no request per message)."""

from __future__ import annotations

from nio import AsyncClient


class MatrixDirectory:
    def __init__(self, client: AsyncClient, facilitator_power_level: int) -> None:
        self._client = client
        self._level = facilitator_power_level
        self.creators: dict[str, str] = {}
        """room id → the sender of its m.room.create (nio does not keep it; the sync loop fills this)."""

    async def members(self, room: str) -> set[str]:
        """The room's joined members, the bot excluded: the "m" of participation."""
        matrix_room = self._client.rooms.get(room)
        if matrix_room is None:
            return set()
        joined = set(matrix_room.users) - set(matrix_room.invited_users)
        return joined - {self._client.user_id}

    async def is_facilitator(self, room: str, member: str) -> bool:
        matrix_room = self._client.rooms.get(room)
        if matrix_room is None:
            return False
        # Room version 12 gives its creator an unlimited power level that the power levels event omits.
        if matrix_room.room_version == "12" and member == self.creators.get(room):
            return True
        return matrix_room.power_levels.get_user_level(member) >= self._level
