"""End-to-end encryption on Matrix: the bot's device, its keys kept up to date, whom it trusts, late room keys.

- The crypto store (matrix-nio's, SQLite) lives in ``matrix.store_path`` on the data volume and belongs to
  one device for ever: at start, the device's keys on the homeserver must be the store's, or the bot refuses
  to start (a new device, or a lost store, would leave every member unable to read it).
- Between syncs, in the background so that no event waits on it: the device's one-time keys uploaded, the
  members' devices queried, one-time keys claimed for new Olm sessions, to-device messages sent. Before the
  bot posts in an encrypted room the devices still unknown are queried, so every member can read it.
- Trust (``matrix.trust``): nio shares the bot's room keys with the devices of the room's members only (the
  joined and the invited: its membership list), never with anyone else. ``tofu`` trusts each device with
  the keys first seen for it and never shares again with a device whose keys changed under the same id;
  ``all`` follows the homeserver and shares with the device's new keys.
- A member's message the bot cannot decrypt yet is never dropped: it is kept in the database, its room key
  is asked of the device that sent it, and once the key comes it is handled like any message, with the
  instant the member sent it. A round about to close waits for the messages of its room sent before its
  deadline, for at most ``matrix.room_key_wait`` after the bot received them; past that wait the member is
  told once, in the room, that their message could not be read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from nio import (
    AsyncClient,
    Event,
    KeysQueryResponse,
    LocalProtocolError,
    MegolmEvent,
    RoomKeyEvent,
    SyncResponse,
)
from nio.api import Api
from nio.crypto import TrustState
from nio.store import DefaultStore
from nio.exceptions import EncryptionError

from bot.config import MatrixSettings
from storage.repository import Repository

log = logging.getLogger(__name__)

Handle = Callable[[str, Event], Awaitable[None]]
Tell = Callable[[str, str, str], Awaitable[None]]
"""Tell a member (room, member, event id) once that their message could not be read."""


class StoreRefused(Exception):
    """The crypto store does not hold the keys the homeserver knows for the bot's device: nothing to retry."""


class Trust:
    """The trust policy, applied to every answer to a key query before nio reads it."""

    def __init__(self, policy: str) -> None:
        self.policy = policy

    def before(self, client: AsyncClient, response: KeysQueryResponse) -> None:
        """A device that shows other keys than those first seen for its id: ``tofu`` never shares with it again;
        ``all`` forgets the old keys, so that nio takes the new ones (nio itself keeps the first, silently)."""
        olm = client.olm
        for user_id, devices in response.device_keys.items():
            for device_id, payload in devices.items():
                known = olm.device_store[user_id].get(device_id)
                key = (payload.get("keys") or {}).get(f"ed25519:{device_id}") if isinstance(payload, dict) else None
                if known is None or key is None or key == known.ed25519:
                    continue
                if not olm.verify_json(payload, key, user_id, device_id):
                    continue  # not even signed by its new key: nio ignores it anyway
                if self.policy == "tofu":
                    log.warning("device %s of %s shows other keys than it first did: it gets no room key any more",
                                device_id, user_id)
                    if known.trust_state is not TrustState.blacklisted:
                        client.blacklist_device(known)
                else:
                    log.warning("device %s of %s has new keys: trusted (matrix.trust: all)", device_id, user_id)
                    del olm.device_store[user_id][device_id]

    def after(self, client: AsyncClient, response: KeysQueryResponse) -> None:
        """``tofu``: a device seen for the first time is trusted with its keys (so a message later signed with
        other keys under its id is refused by nio)."""
        if self.policy != "tofu":
            return
        for devices in getattr(response, "changed", {}).values():
            for device in devices.values():
                if not device.deleted and device.trust_state is TrustState.unset:
                    client.verify_device(device)


class CryptoStore(DefaultStore):
    """nio's crypto store, minus a write for nothing: nio saves the rooms a sync showed to be encrypted after
    every sync, in a transaction of its own, even when there are none (almost every sync): 1.5 ms of the
    event loop's thread each time, more than the rest of a vote."""

    def save_encrypted_rooms(self, rooms) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


class EncryptingClient(AsyncClient):
    """nio's client, with the trust policy applied to every key query, whoever makes it (nio makes some
    itself before sending)."""

    trust: Trust | None = None

    def encrypt(self, room_id: str, message_type: str, content: dict) -> tuple[str, dict]:
        """Encrypted as nio does, the relation (thread, reply) also in the clear, as the spec asks: the
        homeserver aggregates threads, and clients place the message before decrypting it."""
        kind, encrypted = super().encrypt(room_id, message_type, content)
        if "m.relates_to" in content:
            encrypted = {**encrypted, "m.relates_to": content["m.relates_to"]}
        return kind, encrypted

    async def receive_response(self, response) -> None:
        trusting = self.trust is not None and self.olm is not None and isinstance(response, KeysQueryResponse)
        if trusting:
            self.trust.before(self, response)
        await super().receive_response(response)
        if trusting:
            self.trust.after(self, response)


@dataclass
class Pending:
    """A member's message the bot could not decrypt yet."""

    event_id: str
    room: str
    sender: str
    session_id: str
    at: datetime
    """When the member sent it."""
    received_at: datetime
    """When the bot first saw it: its wait for the key counts from then."""
    source: dict
    told: bool = False


class Crypto:
    def __init__(self, client: EncryptingClient, repository: Repository, settings: MatrixSettings,
                 clock: Callable[[], datetime], tell: Tell) -> None:
        self.client = client
        self.repository = repository
        self.wait = settings.room_key_wait
        self.clock = clock
        self.tell = tell
        client.trust = Trust(settings.trust)
        self.pending: dict[str, Pending] = {}
        self._retry_all = False
        self._changed = asyncio.Condition()
        self._keys = asyncio.Lock()
        self._synced = asyncio.Event()
        self._new_pending = asyncio.Event()
        self._first_sync = asyncio.Event()
        """Set once a sync was read: a key that came while the bot was down is in it."""
        self._stopping = False

    # -- start ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """After login: the store checked against the homeserver, the device's keys uploaded if they never
        were."""
        await self._check_identity()
        if self.client.should_upload_keys:
            response = await self.client.keys_upload()
            log.info("device keys uploaded: %s", type(response).__name__)

    async def load_pending(self) -> None:
        """The messages still waiting for their key read back (when the bot starts acting)."""
        for row in await self.repository.pending_encrypted():
            self.pending[row["event_id"]] = Pending(
                row["event_id"], row["room"], row["sender"], row["session_id"], datetime.fromisoformat(row["at"]),
                datetime.fromisoformat(row["received_at"]), json.loads(row["event"]), row["told_at"] is not None)
        self._retry_all = bool(self.pending)  # keys may have come in a sync handled before a crash

    async def _check_identity(self) -> None:
        client = self.client
        ours = client.olm.account.identity_keys["ed25519"]
        method, path, data = Api.keys_query(client.access_token, {client.user_id})
        response = await client.send(method, path, data, headers={"Content-Type": "application/json"})
        body = await response.json(content_type=None)
        if response.status != 200:
            raise aiohttp.ClientError(f"the homeserver refused the bot's key query ({response.status})")
        device = ((body.get("device_keys") or {}).get(client.user_id) or {}).get(client.device_id) or {}
        theirs = (device.get("keys") or {}).get(f"ed25519:{client.device_id}")
        if theirs is not None and theirs != ours:
            raise StoreRefused(
                f"the homeserver knows other encryption keys for device {client.device_id} than the store in "
                f"{client.store_path} holds: the store was lost or replaced, or another client used this device id. "
                "Restore the store from a backup of the volume, or give the bot a new device (a new matrix.device_id "
                "and a token for it) and an empty store folder")

    # -- keys, between syncs --------------------------------------------------------------------------

    def synced(self) -> None:
        """A sync came back (nio has read it): if the device needs anything, keys are kept up to date in the
        background (see :meth:`keep_keys`). A sync that changed nothing for the keys (no device-list change
        in an encrypted room, no one-time key to replace, no session to claim, no to-device message to send:
        almost every sync, and every one in rooms without encryption) wakes nothing."""
        client = self.client
        if (client.should_upload_keys or client.should_query_keys or client.should_claim_keys
                or client.outgoing_to_device_messages):
            self._synced.set()

    async def keep_keys(self) -> None:
        """For the bot's life: after a sync, what nio says the device needs (as its sync_forever does)."""
        while True:
            await self._synced.wait()
            self._synced.clear()
            try:
                await self._maintain()
            except (LocalProtocolError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
                log.warning("keeping the encryption keys up to date failed (%s); tried again after the next sync",
                            error or type(error).__name__)
            except Exception:
                log.exception("keeping the encryption keys up to date failed; tried again after the next sync")

    async def _maintain(self) -> None:
        client = self.client
        async with self._keys:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()

    async def before_send(self, room: str) -> None:
        """Before the bot posts in an encrypted room: the devices of members still unknown are queried, so
        that nio shares the room key with them too (it claims the missing Olm sessions itself)."""
        matrix_room = self.client.rooms.get(room)
        if matrix_room is None or not matrix_room.encrypted:
            return
        async with self._keys:
            if self.client.should_query_keys:
                await self.client.keys_query()

    # -- messages the bot cannot decrypt yet ----------------------------------------------------------

    async def read(self, room: str, event: MegolmEvent, at: datetime) -> Event | None:
        """A member's encrypted message nio could not decrypt: decrypted now if its key came meanwhile, else
        kept until it does (None)."""
        event.room_id = room
        decrypted = self._decrypt(event)
        if decrypted is not None:
            return decrypted
        if event.event_id in self.pending:
            return None
        pending = Pending(event.event_id, room, event.sender, event.session_id or "", at, self.clock(),
                          event.source)
        await self.repository.keep_encrypted(pending.event_id, room, pending.sender, pending.session_id, at,
                                             pending.received_at, json.dumps(event.source))
        self.pending[event.event_id] = pending
        self._new_pending.set()
        log.warning("cannot decrypt %s from %s in %s yet: its room key is asked for", event.event_id, event.sender,
                    room)
        self._ask_for_key(event)
        return None

    def _decrypt(self, event: MegolmEvent) -> Event | None:
        try:
            decrypted = self.client.decrypt_event(event)
        except (EncryptionError, LocalProtocolError):
            return None
        return None if isinstance(decrypted, MegolmEvent) else decrypted

    def _ask_for_key(self, event: MegolmEvent) -> None:
        """Ask the device that sent the message for its room key (it should have shared it with the bot; a
        key lost on the way is shared again on request). Sent with the next keys upkeep, at once."""
        olm = self.client.olm
        if not event.device_id or event.session_id in olm.outgoing_key_requests:
            return
        olm.outgoing_to_device_messages.append(
            event.as_key_request(event.sender, self.client.device_id, event.session_id, event.device_id))
        self._synced.set()

    async def decrypt_late(self, response: SyncResponse, handle: Handle) -> None:
        """Messages whose room key came in this sync (or, at the first sync, at any time before): decrypted and
        handled, oldest first, then forgotten."""
        try:
            await self._decrypt_late(response, handle)
        finally:
            self._first_sync.set()

    async def _decrypt_late(self, response: SyncResponse, handle: Handle) -> None:
        if not self.pending:
            return
        keys = {e.session_id for e in response.to_device_events if isinstance(e, RoomKeyEvent)}
        retry_all, self._retry_all = self._retry_all, False
        if not keys and not retry_all:
            return
        for pending in sorted(self.pending.values(), key=lambda p: (p.at, p.event_id)):
            if not retry_all and pending.session_id not in keys:
                continue
            event = MegolmEvent.from_dict(pending.source)
            if not isinstance(event, MegolmEvent):
                continue
            event.room_id = pending.room
            decrypted = self._decrypt(event)
            if decrypted is None:
                continue
            log.info("decrypted %s from %s with its late room key", pending.event_id, pending.sender)
            await handle(pending.room, decrypted)
            await self.repository.forget_encrypted(pending.event_id)
            del self.pending[pending.event_id]
            async with self._changed:
                self._changed.notify_all()

    async def tell_unread(self) -> None:
        """For the bot's life: a message whose key has not come within the wait is said, once, to its author
        to be unreadable; a round waiting for it closes then."""
        await self._first_sync.wait()
        while True:
            try:
                await self._tell_due()
            except Exception:
                log.exception("telling members of unreadable messages failed; trying again in a minute")
                await asyncio.sleep(60)

    async def _tell_due(self) -> None:
        """Tell the members whose wait is over, then wait for the next one to be (or a new message kept)."""
        while True:
            now = self.clock()
            waiting = [p for p in self.pending.values() if not p.told]
            due = [p for p in waiting if p.received_at + self.wait <= now]
            for pending in sorted(due, key=lambda p: p.at):
                await self.tell(pending.room, pending.sender, pending.event_id)
                await self.repository.told_encrypted(pending.event_id, now)
                pending.told = True
                log.warning("%s from %s: no room key within %s; its author is told", pending.event_id,
                            pending.sender, self.wait)
            if due:
                async with self._changed:
                    self._changed.notify_all()
                continue
            self._new_pending.clear()
            left = min((p.received_at + self.wait - now for p in waiting), default=None)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new_pending.wait(), None if left is None else max(left.total_seconds(), 0))

    async def settled(self, room: str, before: datetime) -> None:
        """Return once no message of ``room`` sent before ``before`` waits for its key any more (decrypted and
        handled, or its author told), or the bot stops."""
        def waiting() -> bool:
            return any(p.room == room and p.at <= before and not p.told for p in self.pending.values())

        if not waiting():
            return
        log.info("a round in %s waits for the room keys of messages sent before its deadline", room)
        async with self._changed:
            await self._changed.wait_for(lambda: self._stopping or not waiting())

    async def stopping(self) -> None:
        self._stopping = True
        async with self._changed:
            self._changed.notify_all()

