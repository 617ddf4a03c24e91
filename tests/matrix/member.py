"""A room member driven by a test: a matrix-nio client with its own sync loop that records every event.

    alice = Member(account); await alice.start()       # or the `members` fixture of conftest.py
    room = await alice.create_room(invite=[bob.user_id])
    event_id = await alice.send_text(room, "hello")
    seen = await bob.wait_for(lambda e: e.event_id == event_id, room=room)

Synchronisation is by recorded event, never by sleeping: the sync loop appends each timeline event
(in order, deduplicated by event_id) and wakes every `wait_for`; `wait_for` first scans what was
already recorded, so an event that arrives before the send call returns is not missed.

The first sync skips history (timeline limit 0); later syncs ask for up to 100 timeline events, so
bursts are not cut (Synapse's default of 10 silently drops events; `limited_syncs` counts any cut).

Pitfall (measured, Synapse 1.163): Synapse caches each /sync response for 2 minutes
(`caches.sync_response_cache_duration`), keyed by (user, device, since, filter, timeout, full_state, …).
A second client of the SAME device making the same initial sync within 2 minutes gets the OLD
response — e.g. a snapshot taken before a room existed — and its next sync then replays that
room's whole history as "newly joined". `first_sync_filter()` therefore makes each first request
unique (a `not_rooms` entry naming a room that cannot exist). A bot restarted in a test with the
same device and no stored sync token can hit exactly this.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, Event, MegolmEvent, SyncError, SyncResponse
from nio.event_builders import ToDeviceMessage
from nio.responses import ErrorResponse

from .synapse import Account
from .sync_filters import SYNC_FILTER, first_sync_filter

Predicate = Callable[[Event], bool]


class MatrixRequestError(AssertionError):
    """A request a test relied on was refused by the homeserver (errcode e.g. M_FORBIDDEN, HTTP status)."""

    def __init__(self, message: str, errcode: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.http_status = http_status


def content(event: Event) -> dict[str, Any]:
    """The raw content of an event (nio's classes drop relations and unknown keys)."""
    return event.source.get("content", {})


def relates_to(event: Event) -> dict[str, Any]:
    """The raw `m.relates_to` of an event, or {}."""
    return content(event).get("m.relates_to", {}) or {}


def _check(response: Any, what: str) -> Any:
    if isinstance(response, ErrorResponse):
        # nio's ErrorResponse.status_code is the Matrix errcode; the HTTP status is on the transport.
        transport = getattr(response, "transport_response", None)
        http_status = getattr(transport, "status", None)
        raise MatrixRequestError(f"{what} failed: HTTP {http_status} {response.status_code} {response.message}",
                                 response.status_code, http_status)
    return response


class Member:
    """A logged-in user (access token, no password login) whose client syncs in the background."""

    def __init__(self, account: Account, sync_timeout_ms: int = 10_000, _client: AsyncClient | None = None) -> None:
        self.account = account
        self.user_id = account.user_id
        self.sync_timeout_ms = sync_timeout_ms
        config = AsyncClientConfig(
            encryption_enabled=False,
            store_sync_tokens=False,
            # After a homeserver restart nio retries with 0.1·2^n s backoff capped at this value
            # (default 60 s) — keep reconnection fast.
            max_timeout_retry_wait_time=1,
        )
        self.client = _client or AsyncClient(account.homeserver, account.user_id, device_id=account.device_id,
                                             config=config)
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.events: list[Event] = []            # every timeline event seen, in order
        self.by_id: dict[str, Event] = {}
        self.room_of: dict[str, str] = {}        # event_id -> room_id
        self.invited_to: set[str] = set()        # rooms with a pending invite for this member
        self.syncs = 0
        self.limited_syncs = 0                   # timelines cut by the server (events skipped)
        self.known_rooms: set[str] = set()       # joined rooms seen in a sync
        self.failure: BaseException | None = None
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Member {self.user_id} {len(self.events)} events>"

    # -- sync ----------------------------------------------------------------------------------

    async def start(self) -> Member:
        """First sync (skipping history), then the background loop; returns self."""
        response = _check(await self.client.sync(timeout=0, sync_filter=first_sync_filter()), "first sync")
        self.known_rooms.update(response.rooms.join)
        self.invited_to.update(response.rooms.invite)
        self._task = asyncio.create_task(self._sync_loop(), name=f"sync {self.user_id}")
        return self

    async def _sync_loop(self) -> None:
        errors = 0
        try:
            while True:
                response = await self.client.sync(timeout=self.sync_timeout_ms, sync_filter=SYNC_FILTER)
                if isinstance(response, SyncError):
                    # nio returns (does not raise) HTTP errors: back off instead of hot-looping.
                    errors += 1
                    if errors > 20:
                        raise MatrixRequestError(f"sync keeps failing: {response.status_code} {response.message}")
                    await asyncio.sleep(min(0.05 * 2 ** errors, 1.0))
                    continue
                errors = 0
                await self._record(response)
                await self._upkeep()
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # make every waiter fail fast instead of timing out
            self.failure = error
            async with self._changed:
                self._changed.notify_all()
            raise

    async def _upkeep(self) -> None:
        """After each sync (an encrypting member keeps its keys up to date here)."""

    async def _record(self, response: SyncResponse) -> None:
        self.syncs += 1
        for room_id, room in response.rooms.join.items():
            self.invited_to.discard(room_id)
            events = room.timeline.events
            # Synapse marks the first timeline of a newly joined room `limited` even when it holds
            # the whole room (from m.room.create): only a cut in a known room, or a cut that does
            # not reach the room's creation, is a real gap.
            newly_joined_complete = (room_id not in self.known_rooms and events
                                     and events[0].source.get("type") == "m.room.create")
            if room.timeline.limited and not newly_joined_complete:
                self.limited_syncs += 1
            self.known_rooms.add(room_id)
            for event in events:
                if event.event_id in self.by_id:
                    continue
                self.events.append(event)
                self.by_id[event.event_id] = event
                self.room_of[event.event_id] = room_id
        self.invited_to.update(response.rooms.invite)
        for room_id in response.rooms.leave:
            self.invited_to.discard(room_id)
        async with self._changed:
            self._changed.notify_all()

    # -- waiting -------------------------------------------------------------------------------

    def matching(self, predicate: Predicate = lambda e: True, room: str | None = None) -> list[Event]:
        """The recorded events (so far) that match, in order; no waiting."""
        return [e for e in self.events
                if (room is None or self.room_of[e.event_id] == room) and predicate(e)]

    async def wait_for(self, predicate: Predicate, timeout: float = 10.0, room: str | None = None) -> Event:
        """The first recorded event (already seen or still to come) matching predicate (and room)."""
        return (await self.wait_for_count(predicate, 1, timeout, room))[0]

    async def wait_for_event(self, event_id: str, timeout: float = 10.0) -> Event:
        return await self.wait_for(lambda e: e.event_id == event_id, timeout)

    async def wait_for_count(self, predicate: Predicate, count: int, timeout: float = 10.0,
                             room: str | None = None) -> list[Event]:
        """The first `count` recorded events matching, waiting until there are that many."""
        found: list[Event] = []
        scanned = 0
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    while True:
                        for event in self.events[scanned:]:
                            if (room is None or self.room_of[event.event_id] == room) and predicate(event):
                                found.append(event)
                                if len(found) == count:
                                    return found
                        scanned = len(self.events)
                        if self.failure is not None:
                            raise MatrixRequestError(f"{self.user_id}'s sync loop died") from self.failure
                        await self._changed.wait()
        except TimeoutError:
            recent = ", ".join(f"{type(e).__name__}({e.source.get('type')})" for e in self.events[-8:])
            raise AssertionError(f"{self.user_id} saw {len(found)}/{count} matching events within "
                                 f"{timeout}s; last seen: [{recent}]") from None

    # -- acting --------------------------------------------------------------------------------

    async def send(self, room: str, event_type: str, body: dict[str, Any]) -> str:
        """Send any message event; returns its event_id."""
        response = await self.client.room_send(room, event_type, body)
        return _check(response, f"{self.user_id} sending {event_type}").event_id

    async def send_text(self, room: str, body: str, reply_to: str | None = None,
                        thread_root: str | None = None, *, notice: bool = False,
                        html: str | None = None, mentions: list[str] | None = None) -> str:
        """An m.text (or m.notice) message, optionally a reply and/or inside a thread.

        reply_to only       -> m.relates_to {m.in_reply_to: {event_id: reply_to}}
        thread_root only    -> {rel_type: m.thread, event_id: root, is_falling_back: true,
                                m.in_reply_to: {event_id: root}}   (fallback for thread-unaware clients)
        both                -> a real reply inside the thread: is_falling_back false, in_reply_to reply_to
        """
        message: dict[str, Any] = {"msgtype": "m.notice" if notice else "m.text", "body": body}
        if html is not None:
            message |= {"format": "org.matrix.custom.html", "formatted_body": html}
        if mentions is not None:
            message["m.mentions"] = {"user_ids": list(mentions)}
        if thread_root is not None:
            message["m.relates_to"] = {
                "rel_type": "m.thread", "event_id": thread_root,
                "is_falling_back": reply_to is None,
                "m.in_reply_to": {"event_id": reply_to or thread_root},
            }
        elif reply_to is not None:
            message["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send(room, "m.room.message", message)

    async def react(self, room: str, event_id: str, key: str) -> str:
        return await self.send(room, "m.reaction",
                               {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}})

    async def redact(self, room: str, event_id: str, reason: str | None = None) -> str:
        """Redact an event; returns the redaction's event_id."""
        response = await self.client.room_redact(room, event_id, reason=reason)
        return _check(response, f"{self.user_id} redacting {event_id}").event_id

    async def edit(self, room: str, event_id: str, new_body: str) -> str:
        """An m.replace edit of one of this member's text messages."""
        new_content = {"msgtype": "m.text", "body": new_body}
        return await self.send(room, "m.room.message", {
            "msgtype": "m.text", "body": f"* {new_body}", "m.new_content": new_content,
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        })

    async def create_room(self, invite: Iterable[str] = (), name: str | None = None, **options: Any) -> str:
        """A private room (preset private_chat) inviting these user ids; returns room_id.
        Extra keyword arguments go to nio's room_create (room_version, power_level_override, …)."""
        response = await self.client.room_create(name=name, invite=list(invite), **options)
        return _check(response, f"{self.user_id} creating a room").room_id

    async def join(self, room_id: str) -> str:
        return _check(await self.client.join(room_id), f"{self.user_id} joining {room_id}").room_id

    async def leave(self, room_id: str) -> None:
        _check(await self.client.room_leave(room_id), f"{self.user_id} leaving {room_id}")

    async def invite(self, room_id: str, user_id: str) -> None:
        _check(await self.client.room_invite(room_id, user_id), f"{self.user_id} inviting {user_id}")

    async def send_state(self, room: str, state: dict[str, Any]) -> str:
        """A state event ({"type", "state_key", "content"}); returns its event_id."""
        response = await self.client.room_put_state(room, state["type"], state["content"], state["state_key"])
        return _check(response, f"{self.user_id} setting {state['type']}").event_id

    async def power_levels(self, room: str) -> dict[str, Any]:
        response = await self.client.room_get_state_event(room, "m.room.power_levels")
        return _check(response, f"{self.user_id} reading power levels").content

    async def set_power_level(self, room: str, user_id: str, level: int) -> str:
        """Read-modify-write m.room.power_levels; returns the state event's id."""
        levels = await self.power_levels(room)
        levels.setdefault("users", {})[user_id] = level
        response = await self.client.room_put_state(room, "m.room.power_levels", levels)
        return _check(response, f"{self.user_id} setting {user_id}'s power level").event_id

    async def close(self) -> None:
        """Stop the sync loop and close the HTTP session (no logout: the device stays valid)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.client.close()


ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
"""The initial state that makes a room encrypted (as Element does for private rooms)."""


class EncryptedMember(Member):
    """A member whose client encrypts, as Element does: nio with its own crypto store (in ``store``), sending
    to every device of the room (unverified included), keeping its keys up to date after each sync.

    Its recorded events are decrypted; a message whose room key came later than the message is decrypted
    when it comes (recorded in place). ``send_withheld`` sends a message whose room key one user's devices
    get only when the test says so (or never): the late key of a member's message, made on purpose.
    """

    def __init__(self, account: Account, store: Path, sync_timeout_ms: int = 10_000) -> None:
        store.mkdir(parents=True, exist_ok=True)
        super().__init__(account, sync_timeout_ms, _client=AsyncClient(
            account.homeserver, account.user_id, device_id=account.device_id, store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_timeout_retry_wait_time=1)))

    async def start(self) -> EncryptedMember:
        if self.client.should_upload_keys:
            _check(await self.client.keys_upload(), "uploading keys")
        await super().start()
        return self

    async def _upkeep(self) -> None:
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
        # Messages recorded before their key came: decrypted now if it has.
        for index, event in enumerate(self.events):
            if isinstance(event, MegolmEvent):
                event.room_id = self.room_of[event.event_id]
                with contextlib.suppress(Exception):
                    decrypted = client.decrypt_event(event)
                    if not isinstance(decrypted, MegolmEvent):
                        self.events[index] = self.by_id[event.event_id] = decrypted
                        async with self._changed:
                            self._changed.notify_all()

    async def _room_known(self, room: str) -> None:
        """nio encrypts only for rooms its sync has shown it."""
        async with asyncio.timeout(10):
            async with self._changed:
                await self._changed.wait_for(lambda: room in self.client.rooms)

    async def send(self, room: str, event_type: str, body: dict[str, Any]) -> str:
        await self._room_known(room)
        if self.client.should_query_keys:
            await self.client.keys_query()
        response = await self.client.room_send(room, event_type, body, ignore_unverified_devices=True)
        return _check(response, f"{self.user_id} sending {event_type}").event_id

    async def create_room(self, invite: Iterable[str] = (), name: str | None = None, encrypted: bool = True,
                          **options: Any) -> str:
        if encrypted:
            options["initial_state"] = [*options.get("initial_state", ()), ENCRYPTION]
        return await super().create_room(invite, name, **options)

    async def send_withheld(self, room: str, body: str, withheld_from: str,
                            **text: Any) -> tuple[str, Callable[[], Awaitable[None]]]:
        """Send a text whose room key ``withheld_from``'s devices do not get: (event id, release), where
        ``release()`` sends them that key at last (as a to-device m.room_key, as a client whose first share
        was lost would)."""
        await self._room_known(room)
        client, olm = self.client, self.client.olm
        if client.should_query_keys:
            await client.keys_query()
        devices = list(olm.device_store.active_user_devices(withheld_from))
        assert devices, f"{self.user_id} knows no device of {withheld_from}"
        for device in devices:
            client.blacklist_device(device)
        _check(await client.share_group_session(room, ignore_unverified_devices=True), "sharing a room key")
        session = olm.outbound_group_sessions[room]
        key = {"algorithm": "m.megolm.v1.aes-sha2", "room_id": room, "session_id": session.id,
               "session_key": session.session_key}   # at index 0: the message below is encrypted with it
        event_id = await self.send_text(room, body, **text)
        for device in devices:
            client.unblacklist_device(device)

        async def release() -> None:
            for device in devices:
                if olm.session_store.get(device.curve25519) is None:
                    _check(await client.keys_claim({withheld_from: [device.id]}), "claiming a one-time key")
                payload = olm._olm_encrypt(olm.session_store.get(device.curve25519), device, "m.room_key", key)
                _check(await client.to_device(ToDeviceMessage("m.room.encrypted", withheld_from, device.id, payload)),
                       "sending a room key")

        return event_id, release
