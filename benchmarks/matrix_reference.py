"""The minimal reference the Matrix figures are measured against (benchmarks/matrix_cost.py): a bare matrix-nio
bot doing the same job, nothing more.

The same nio AsyncClient and a plain sync loop (timeline up to 100 events, no presence: what any nio bot
asks for); it joins the rooms it is invited to; on `!agree` / `!disagree` from a member it records the
position in SQLite (benchmarks/reference.py: one transaction) and reacts ✅ to the command; on `!status` it
reads the tally and replies with a notice. No rules, no history, no outbox, no stored sync position.
"""

from __future__ import annotations

import asyncio
import io

from nio import AsyncClient, RoomMessageText, SyncError, SyncResponse

from benchmarks.reference import ReferenceVotes
from tests.matrix.sync_filters import SYNC_FILTER, first_sync_filter



class MatrixReferenceBot:
    def __init__(self, homeserver: str, user_id: str, device_id: str, access_token: str, database: str) -> None:
        self.client = AsyncClient(homeserver, user_id, device_id)
        self.client.restore_login(user_id, device_id, access_token)
        self.votes = ReferenceVotes(database)
        self.ready = asyncio.Event()

    async def run(self) -> None:
        try:
            token = None
            while True:
                response = await self.client.sync(timeout=0 if token is None else 30_000, since=token,
                                                  sync_filter=first_sync_filter() if token is None else SYNC_FILTER)
                if isinstance(response, SyncError):
                    await asyncio.sleep(1)
                    continue
                await self._handle(response, first=token is None)
                token = response.next_batch
                self.ready.set()
        finally:
            await self.client.close()
            self.votes.close()

    async def _handle(self, response: SyncResponse, first: bool) -> None:
        for room in response.rooms.invite:
            await self.client.join(room)
        if first:
            return
        for room, info in response.rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, RoomMessageText) and event.sender != self.client.user_id:
                    await self._command(room, event)

    async def _command(self, room: str, event: RoomMessageText) -> None:
        verb = event.body.partition(" ")[0]
        if verb in ("!agree", "!disagree"):
            self.votes.vote(event.sender, event.body, io.StringIO())
            await self.client.room_send(room, "m.reaction", {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": event.event_id, "key": "✅"}})
        elif verb == "!status":
            tally = dict(self.votes.db.execute("SELECT position, count FROM tally ORDER BY position"))
            body = ", ".join(f"{position}: {count}" for position, count in tally.items())
            await self.client.room_send(room, "m.room.message", {
                "msgtype": "m.notice", "body": body, "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}}})
