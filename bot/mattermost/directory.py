"""Who is in a Mattermost channel and who facilitates it, asked over REST with a short cache.

Members are the channel's members minus bot accounts. Facilitators are channel admins (``scheme_admin``
or the ``channel_admin`` role) and system admins; role changes of others are not pushed to the bot, so
they are looked up on demand. Only a positive answer is cached, so a newly promoted admin counts at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.mattermost.client import MattermostClient

MEMBERS_TTL = 10.0
FACILITATOR_TTL = 30.0


class MattermostDirectory:
    def __init__(self, client: MattermostClient, bot_id: str = "") -> None:
        self._client = client
        self.bot_id = bot_id
        self.users: dict[str, dict] = {}
        """user id → the user as the API shows it (username, is_bot, roles)."""
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._facilitators: dict[tuple[str, str], float] = {}

    async def members(self, room: str) -> set[str]:
        cached = self._members.get(room)
        if cached and time.monotonic() - cached[0] < MEMBERS_TTL:
            return set(cached[1])
        ids = [m["user_id"] for m in await self._client.channel_members(room)]
        await self.load_users(ids)
        humans = {i for i in ids if i != self.bot_id and not self.users.get(i, {}).get("is_bot")}
        self._members[room] = (time.monotonic(), humans)
        return set(humans)

    async def count(self, room: str) -> int:
        cached = self._members.get(room)
        if cached and time.monotonic() - cached[0] < MEMBERS_TTL:
            return len(cached[1])
        return len(await self.members(room))

    async def revision(self, rooms: Sequence[str]) -> tuple[float, ...]:
        """When each channel's members were last asked for (at most MEMBERS_TTL seconds ago, as ``members``)."""
        for room in rooms:
            cached = self._members.get(room)
            if not cached or time.monotonic() - cached[0] >= MEMBERS_TTL:
                await self.members(room)
        return tuple(self._members[room][0] for room in rooms)

    async def is_facilitator(self, room: str, member: str) -> bool:
        at = self._facilitators.get((room, member))
        if at is not None and time.monotonic() - at < FACILITATOR_TTL:
            return True
        await self.load_users([member], refresh=True)
        user = self.users.get(member, {})
        allowed = "system_admin" in str(user.get("roles", "")).split()
        if not allowed:
            membership = await self._client.channel_member(room, member)
            allowed = bool(membership) and (bool(membership.get("scheme_admin"))
                                            or "channel_admin" in str(membership.get("roles", "")).split())
        if allowed:
            self._facilitators[(room, member)] = time.monotonic()
        return allowed

    async def load_users(self, user_ids: list[str] | set[str], refresh: bool = False) -> None:
        missing = sorted({i for i in user_ids if refresh or i not in self.users})
        for start in range(0, len(missing), 100):
            for user in await self._client.users(missing[start:start + 100]):
                self.users[user["id"]] = user

    async def resolve(self, room: str, name: str) -> str | None:
        """A member of the channel by their @username (or their id)."""
        members = await self.members(room)  # loads their users
        if name in members:
            return name
        wanted = name.removeprefix("@").casefold()
        return next((member for member in members if (self.username(member) or "").casefold() == wanted), None)

    def username(self, user_id: str) -> str | None:
        return self.users.get(user_id, {}).get("username")

    def forget(self, room: str) -> None:
        self._members.pop(room, None)
