"""The bot on Matrix: login, the supervised sync loop, invitations, and no vote lost, doubled or reordered.

- The sync position lives in the project's database and is saved only after
  the events of a sync were handled (they are idempotent by event id), so a
  crash replays them instead of losing them.
- A fresh install ignores its first sync (no old command is replayed); a
  restart processes everything that happened while the bot was down.
- Syncs leave out what the bot never reads (presence, typing notices, read
  receipts, account data), and name their filter by the id the homeserver
  gave it at start.
- Timelines ask for up to 100 events; a timeline the server still cuts
  (``limited``) is completed from ``/messages`` before going on, so events are
  handled in the order the homeserver received them.
- A position's instant is when the member sent it (``origin_server_ts``, never
  later than its arrival): an older event handled late never undoes a newer one.
- The bot's messages are sent by a background task (bot.app.delivery): reading
  events never waits on a throttled or unreachable homeserver. The bot
  recognises its own messages in the sync (their transaction id), so votes on a
  ballot count even before the sender's bookkeeping.
- Before a round closes, an immediate sync reads everything the homeserver
  received up to the deadline (``catch_up``); if the homeserver is down, the close
  waits for its return.
- After the first sync, every open ballot is recounted from ``/relations``, in
  the background and oldest first, in case a reaction fell in a gap.
- Errors in one event are logged and never stop the loop; lost connections
  are retried with backoff; a rejected token stops the bot with a clear error; a password login the
  homeserver limits (429) is tried again when it says (at most 5 minutes later).
- Encrypted rooms (bot.matrix.crypto): events come decrypted from the sync and
  take the same path; keys are kept up to date after each sync, in the
  background; a message whose room key is late is kept and handled when the
  key comes, with its own instant, and a round closing meanwhile waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timezone

import aiohttp
from nio import (
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomCreateEvent,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageText,
    RoomMessagesError,
    SyncError,
    SyncResponse,
    UnknownEncryptedEvent,
    UploadFilterResponse,
    WhoamiError,
    WhoamiResponse,
)
from nio.api import MessageDirection, RelationshipType

from bot.chat.core import Backoff, ChatBot, listing, run_chat_bot
from bot.config import Config, MatrixSettings
from bot.log_context import about
from bot.matrix import events
from bot.matrix.crypto import Crypto, CryptoStore, EncryptingClient, StoreRefused
from bot.matrix.directory import MatrixDirectory
from bot.matrix.sender import MatrixSender
from bot.messages.outgoing import Kind, Outgoing
from bot.reactions import position_of
from bot.messages import render
from bot.app.scheduler import utc_now
from bot.app.context import messages_for
from bot.app.ports import Incoming, ReactionVote, Redaction
from storage.repository import Repository

log = logging.getLogger(__name__)

NEXT_BATCH = "matrix/next_batch"
INSTALLED = "matrix/installed_at"
TOKEN = "matrix/access_token"
TIMELINE_LIMIT = 100
SYNC_TIMEOUT_MS = 30_000
BACKOFF_START, BACKOFF_MAX = 1.0, 30.0
BACKOFF_MAX_WHILE_CLOSING = 1.0
"""While a round waits to close, a homeserver that is down is asked again every second: the outcome then
follows its return within seconds."""
BACKOFF_MAX_READING_AGAIN = 10.0
"""A sync whose events could not all be stored (the database fails) is read again after 1 s, then 2, 4, 8, 10…"""
LOGIN_WAIT_MIN, LOGIN_WAIT_UNSAID, LOGIN_WAIT_MAX = 1.0, 5.0, 300.0
"""A login refused for its rate (429) is tried again after the homeserver's retry_after_ms, within these bounds."""
FIRST_DELIVERY_WITHIN = 10.0
"""After the first sync, the recount of the open ballots waits this long at most for the messages the previous
run left queued (a ballot's event id may be among them); the background task sends the rest, and reading never
waits on it."""


def sync_filter(timeline_limit: int) -> dict:
    """What a sync brings: the rooms' timelines and state (members, power levels, encryption: nio keeps them),
    and to-device messages and device lists (room keys). Not what the bot never reads: presence, typing
    notices, read receipts, account data. Each of those would otherwise wake the long poll for nothing: a
    member typing a command, every member's client reading the answer. Members are never lazy-loaded: the
    bot counts them."""
    nothing = {"not_types": ["*"]}
    return {"room": {"timeline": {"limit": timeline_limit}, "ephemeral": nothing, "account_data": nothing},
            "presence": nothing, "account_data": nothing}


FIRST_SYNC_FILTER = sync_filter(0)
SYNC_FILTER = sync_filter(TIMELINE_LIMIT)


class MatrixLoginFailed(Exception):
    """The homeserver refused the bot's credentials: nothing to retry."""


class GapUnread(Exception):
    """The events a limited sync left out could not be read: the sync is read again, its position kept."""


def login_wait(retry_after_ms: int | None) -> float:
    """How long to wait before logging in again, in seconds: what the homeserver asked (LOGIN_WAIT_UNSAID if it
    did not say), at least LOGIN_WAIT_MIN and at most LOGIN_WAIT_MAX (a homeserver asking for hours, or for nothing,
    still gets the bot back in a bounded time, without hammering it)."""
    asked = retry_after_ms / 1000 if retry_after_ms else LOGIN_WAIT_UNSAID
    return min(max(asked, LOGIN_WAIT_MIN), LOGIN_WAIT_MAX)


def joined_key(room: str) -> str:
    return f"matrix/joined/{room}"


class MatrixBot(ChatBot):
    platform = "Matrix"
    link = "the sync"

    def __init__(self, config: Config, repository: Repository, clock: Callable[[], datetime] = utc_now) -> None:
        assert config.matrix is not None
        self.settings: MatrixSettings = config.matrix
        self.client = EncryptingClient(
            self.settings.homeserver, self.settings.user_id, self.settings.device_id,
            store_path=str(self.settings.store_path),
            # We retry sends and syncs ourselves: nio's own retries never give up. Our database keeps the sync
            # position (saved once the events are handled), not the crypto store.
            config=AsyncClientConfig(max_limit_exceeded=0, max_timeouts=2, request_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
                                     encryption_enabled=True, store_sync_tokens=False,
                                     store=CryptoStore),
        )
        self.crypto = Crypto(self.client, repository, self.settings, clock, self._tell_unreadable)
        self.directory: MatrixDirectory
        self.sender: MatrixSender
        seeds = {position: keys[0] for position, keys in self.settings.reactions.by_position.items()}
        super().__init__(config, repository, MatrixDirectory(self.client, self.settings.facilitator_power_level),
                         MatrixSender(self.client, seeds, self.crypto.before_send), clock)
        self.reconciled = asyncio.Event()
        """Set once the open ballots have been recounted after the first sync."""
        self._joined: dict[str, datetime] = {}
        # Catching up: syncs are numbered as they start; a round closes once a sync that started after its
        # deadline has been handled.
        self._syncs_started = 0
        self._syncs_handled = 0
        self._catch_up_target = 0
        self._handled = asyncio.Condition()
        self._long_poll: asyncio.Future | None = None
        self._wake = asyncio.Event()
        self._sync_filter: str | dict = SYNC_FILTER
        """SYNC_FILTER, or its id once uploaded."""
        self._connected = False
        self._standby_position: str | None = None
        """Where a standby's own syncs are (never the shared sync position: see stand_by)."""

    @property
    def syncs_handled(self) -> int:
        """How many syncs the bot has handled since it started (each one the homeserver answered)."""
        return self._syncs_handled

    async def serve(self) -> None:
        """Sync until cancelled."""
        await self._connect()
        await self.crypto.load_pending()
        self.in_background(asyncio.create_task(self.crypto.tell_unread(), name="matrix-unreadable"))
        token = await self.repository.state(NEXT_BATCH)
        fresh = token is None
        if fresh:
            await self.repository.set_state(INSTALLED, self.service.clock().isoformat())
        installed = await self.repository.state(INSTALLED)
        self._installed = datetime.fromisoformat(installed) if installed else datetime.min.replace(tzinfo=timezone.utc)
        self.start_delivery()
        await self._sync_forever(token, fresh)

    def rate_limits(self) -> tuple[int, float]:
        return self.sender.rate_limited, self.sender.rate_limited_for

    def identity(self) -> list[str]:
        return [f"account {self.settings.user_id}", f"device {self.client.device_id}",
                f"{len(self.client.rooms)} rooms joined",
                f"invitations accepted from {listing(self.settings.allowed_inviters)}"]

    async def _connect(self) -> None:
        """Log in as the bot's device, check its encryption store, and keep its keys from now on (once)."""
        if self._connected:
            return
        try:
            await self._login()
            await self.crypto.start()
            await self._upload_filter()
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            raise MatrixLoginFailed(f"cannot reach {self.settings.homeserver}: {error}") from None
        except StoreRefused as error:
            raise MatrixLoginFailed(str(error)) from None
        self.in_background(asyncio.create_task(self.crypto.keep_keys(), name="matrix-keys"))
        self._connected = True

    async def stand_by(self) -> None:
        """Ready to take over: logged in as its own device, syncing from a position of its own so that its room
        keys and the rooms' members stay current, acting on nothing, until this process holds the lease. Then the
        to-device messages up to now are read (twice: the homeserver lets go of them at the sync after), before
        the sync goes back to where the process that acted left it: a room key that came meanwhile is kept."""
        await self._connect()
        backoff = Backoff(BACKOFF_START, BACKOFF_MAX)

        async def keep_up() -> None:
            while True:
                if await self._sync_passively(SYNC_TIMEOUT_MS):
                    backoff.reset()
                else:
                    await asyncio.sleep(backoff.next())

        following = asyncio.create_task(keep_up(), name="matrix-standby")
        try:
            await super().stand_by()
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        for _ in range(2):
            await self._sync_passively(0)
        self.client.next_batch = None  # else nio syncs from there when the shared position is none yet

    async def _sync_passively(self, timeout: int) -> bool:
        """One sync that nio reads (keys, members) and the bot does not act on; False if it failed."""
        try:
            response = await self.client.sync(timeout=timeout, sync_filter=self._sync_filter,
                                              since=self._standby_position, full_state=self._standby_position is None)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            return False
        if isinstance(response, SyncError):
            return False
        self._standby_position = response.next_batch
        self.crypto.synced()
        return True

    async def stopping(self) -> None:
        await self.crypto.stopping()
        async with self._handled:
            self._handled.notify_all()  # rounds waiting to close will close at the next start

    async def close(self) -> None:
        await self.client.close()

    async def _sync_forever(self, token: str | None, fresh: bool) -> None:
        backoff = Backoff(BACKOFF_START, BACKOFF_MAX)
        again = Backoff(BACKOFF_START, BACKOFF_MAX_READING_AGAIN)
        failing = False
        while True:
            first = not self.ready.is_set()
            self._syncs_started += 1
            started = self._syncs_started
            immediate = first or self._catch_up_target > self._syncs_handled  # a round waits to close
            self._long_poll = asyncio.ensure_future(self.client.sync(
                timeout=0 if immediate else SYNC_TIMEOUT_MS,
                sync_filter=FIRST_SYNC_FILTER if fresh else self._sync_filter,
                since=token,
                full_state=first and not fresh,
            ))
            try:
                response = await self._long_poll
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise  # the bot is stopping
                continue  # a round is due to close: sync again at once
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
                response = SyncError(str(error) or type(error).__name__)
            finally:
                self._long_poll = None
            if isinstance(response, SyncError):
                self.unanswered()
                if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                    raise MatrixLoginFailed(f"the homeserver rejected the bot's access token ({response.message})")
                if response.status_code is not None:  # refused by the homeserver, which may have lost the filter
                    self._sync_filter = SYNC_FILTER  # (a connection that failed says nothing of it: the id stays)
                waiting = self._catch_up_target > self._syncs_handled
                delay = min(backoff.next(), BACKOFF_MAX_WHILE_CLOSING) if waiting else backoff.next()
                log.warning("sync failed (%s); retrying in %.0f s", response.message, delay)
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                failing = True
                continue
            backoff.reset()
            self.answered()
            self.crypto.synced()
            if failing:
                failing = False
                self.service.delivery.retry_now()
            try:
                await self._handle_sync(response, since=None if fresh else token)
            except Exception as error:
                # The events that follow cannot be read (a gap), or what was read cannot be stored (the database
                # fails: nothing of it was acknowledged): read again from the same position, once the backoff is
                # over; what was handled of it is handled once.
                if not isinstance(error, GapUnread) and not self.repository.unavailable(error):
                    raise
                delay = again.next()
                log.warning("%s; reading this sync again in %.0f s", str(error).splitlines()[0][:300] or
                            type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            again.reset()
            if first:
                self.sender.rooms_known.set()
            token = response.next_batch
            # Written with the next transaction (a decision, or the delivery's bookkeeping), not in one of its
            # own after every sync: a restart after a crash reads again from the token before, harmlessly.
            self.repository.note_state(NEXT_BATCH, token)
            fresh = False
            async with self._handled:
                self._syncs_handled = started
                self._handled.notify_all()
            if first:
                await self.start_clock()
                self.now_ready()
                self.in_background(asyncio.create_task(self._reconcile(), name="matrix-reconcile"))

    async def catch_up(self, room: str) -> bool:
        """Return once the bot has handled everything the homeserver received until now (a sync begun after
        this call), waiting for the homeserver if it is down; False if the bot stopped meanwhile."""
        now = self.service.clock()
        target = self._syncs_started + 1
        self._catch_up_target = max(self._catch_up_target, target)
        if self._long_poll is not None and not self._long_poll.done():
            self._long_poll.cancel()  # a long poll started before now: replace it by an immediate sync
        self._wake.set()
        async with self._handled:
            await self._handled.wait_for(lambda: self._syncs_handled >= target or self.stopped)
        # A message sent before now that the bot cannot decrypt yet may be a vote: wait for its key (bounded).
        await self.crypto.settled(room, now)
        return not self.stopped

    async def _login(self) -> None:
        # A token kept from a password login is the device's own: a standby on the same database has another device.
        kept = TOKEN + "/" + self.settings.device_id
        access_token = self.settings.access_token.get_secret_value() or await self.repository.state(kept) or \
            await self.repository.state(TOKEN)
        whoami = await self._whoami(access_token) if access_token else None
        anothers = whoami is not None and not self.settings.access_token and \
            whoami.device_id not in (None, self.settings.device_id)  # kept by the first device, before standbys
        if whoami is None or anothers:
            response = await self._password_login()
            # Keep the token: later starts reuse this device instead of logging in again.
            await self.repository.set_state(kept, response.access_token)
            await self._whoami(response.access_token)

    async def _password_login(self) -> LoginResponse:
        """Log in with the password; a homeserver limiting logins (429) is asked again when it says, not given up on."""
        while True:
            response = await self.client.login(self.settings.password.get_secret_value(), device_name="consent-bot")
            if isinstance(response, LoginResponse):
                return response
            if response.status_code != "M_LIMIT_EXCEEDED":
                raise MatrixLoginFailed(f"login as {self.settings.user_id} failed: {response.message}")
            delay = login_wait(response.retry_after_ms)
            log.warning("the homeserver limits logins (%s): logging in as %s again in %.0f s", response.message,
                        self.settings.user_id, delay)
            await asyncio.sleep(delay)

    async def _whoami(self, access_token: str) -> WhoamiResponse:
        """The bot's token, checked: the homeserver must know it, for the configured user."""
        self.client.restore_login(self.settings.user_id, self.settings.device_id, access_token)
        whoami = await self.client.whoami()
        if isinstance(whoami, WhoamiError):
            raise MatrixLoginFailed(f"the homeserver rejected the bot's access token ({whoami.message})")
        if whoami.user_id != self.settings.user_id:
            raise MatrixLoginFailed(f"the access token belongs to {whoami.user_id}, not {self.settings.user_id}")
        return whoami

    async def _upload_filter(self) -> None:
        """Sync with the filter's id: nio would otherwise encode its JSON into every long poll's URL, and parse
        that URL again to move the access token to a header (a tenth of a millisecond of each sync). A sync the
        homeserver refuses goes back to the filter itself, in case the homeserver forgot it."""
        response = await self.client.upload_filter(**SYNC_FILTER)
        if isinstance(response, UploadFilterResponse):
            self._sync_filter = response.filter_id

    async def _handle_sync(self, response: SyncResponse, since: str | None) -> None:
        for room, info in response.rooms.join.items():
            # nio has applied the whole sync's memberships already: a vote handled below, in any room, counts a
            # network's members as they are now.
            if any(isinstance(event, RoomMemberEvent) for event in (*info.state, *info.timeline.events)):
                self.directory.members_changed(room)
        # Messages whose room key came in this sync are older than its timeline: handled first.
        await self.crypto.decrypt_late(response, lambda room, event: self.guarded(self._dispatch(room, event)))
        for room, info in response.rooms.invite.items():
            with about(room):
                await self.guarded(self._invited(room, info.invite_state))
        for room, info in response.rooms.join.items():
            with about(room):
                await self._handle_room(room, info, since)

    async def _handle_room(self, room: str, info, since: str | None) -> None:
        """One joined room's part of a sync: its state, then its timeline (completed when the server cut it)."""
        for event in info.state:
            if isinstance(event, RoomCreateEvent):
                self.directory.room_created(room, event.sender, events.content(event))
        timeline = list(info.timeline.events)
        if since is not None and info.timeline.limited and info.timeline.prev_batch:
            timeline = await self._gap(room, info.timeline.prev_batch, since) + timeline
        if since is None:
            timeline = []  # a fresh install: act on nothing old
        if await self._joined_at(room) is None:
            # Events count from our join; without it in view, from now on.
            joins = [e for e in timeline if self._is_our_join(e)]  # the last one: a room may be rejoined
            await self._record_join(room, events.timestamp(joins[-1]) if joins else self.service.clock())
        for event in timeline:
            await self.guarded(self._dispatch(room, event))

    async def _gap(self, room: str, prev_batch: str, since: str) -> list:
        """The events a limited timeline left out, from /messages back to our previous position."""
        missing: list = []
        start = prev_batch
        while True:
            try:
                page = await self.client.room_messages(room, start=start, end=since, limit=TIMELINE_LIMIT)
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
                page = RoomMessagesError(str(error) or type(error).__name__)
            if isinstance(page, RoomMessagesError):
                raise GapUnread(f"{room}: the events a limited sync left out could not be read ({page.message})")
            chunk = getattr(page, "chunk", None)
            if not chunk:
                break
            missing.extend(chunk)
            if not page.end or page.end == start:
                break
            start = page.end
        log.info("%s: fetched %d events a limited sync left out", room, len(missing))
        return list(reversed(missing))

    async def _invited(self, room: str, invite_state: list) -> None:
        invitation = next((e for e in invite_state if isinstance(e, InviteMemberEvent)
                           and e.state_key == self.settings.user_id and e.membership == "invite"), None)
        if invitation is None:
            return  # an invite addressed to someone else
        if not self.settings.may_invite(invitation.sender):
            log.warning("rejecting the invitation to %s from %s (not in matrix.allowed_inviters)",
                        room, invitation.sender)
            await self.client.room_leave(room)
            return
        response = await self.client.join(room)
        if hasattr(response, "room_id"):
            log.info("joined %s, invited by %s", room, invitation.sender)
            # Back in a room we had left: what happened while we were out must not be replayed either, so
            # forget the old join; the new join event sets it again.
            self._joined.pop(room, None)
            await self.repository.set_state(joined_key(room), "")
        else:
            log.warning("could not join %s: %s", room, getattr(response, "message", response))

    async def _joined_at(self, room: str) -> datetime | None:
        if room not in self._joined:
            stored = await self.repository.state(joined_key(room))
            if stored:
                self._joined[room] = datetime.fromisoformat(stored)
        return self._joined.get(room)

    def _is_our_join(self, event) -> bool:
        return isinstance(event, RoomMemberEvent) and event.state_key == self.settings.user_id \
            and event.membership == "join"

    async def _record_join(self, room: str, at: datetime) -> None:
        # Never earlier than this installation: a new database must not replay what an older one handled.
        at = max(at, self._installed)
        self._joined[room] = at
        await self.repository.set_state(joined_key(room), at.isoformat())

    async def _dispatch(self, room: str, event) -> None:
        at = self.instant(events.timestamp(event))
        if isinstance(event, RoomCreateEvent):
            self.directory.room_created(room, event.sender, events.content(event))
        if event.sender == self.settings.user_id:
            await self._our_own(event)
            return  # the bot's own messages and reactions never count
        if at < await self._joined_at(room):
            return  # from before the bot was in the room: never replayed
        if isinstance(event, MegolmEvent):
            event = await self.crypto.read(room, event, at)  # None: kept until its room key comes
        if isinstance(event, UnknownEncryptedEvent):
            await self._tell_unreadable(room, event.sender, event.event_id)  # an algorithm no client should use
        elif isinstance(event, RoomMessageText):
            await self._message(room, event, at)
        elif isinstance(event, ReactionEvent):
            # Only what members see counts: an annotation. A "reaction" with another relation shows nothing.
            if events.relation_type(event) != "m.annotation":
                return
            position = position_of(event.key, self.settings.reactions.by_position)
            if position is not None:
                await self.service.react(ReactionVote(room, event.sender, event.reacts_to, position,
                                                      event.event_id, at))
        elif isinstance(event, RedactionEvent):
            removed = events.redacted_id(event)
            if removed:
                await self.service.redacted(Redaction(room, removed, event.sender, event.event_id, at))

    async def _our_own(self, event) -> None:
        """One of the bot's messages came back: its transaction id says which outbox message it is."""
        transaction = events.transaction_id(event)
        if transaction and isinstance(event, RoomMessage):
            self.sender.seen(transaction, event.event_id)
            await self.service.delivery.recognise(transaction[:26], event.event_id)

    async def _message(self, room: str, event: RoomMessageText, at: datetime) -> None:
        relations = events.relations(event)
        if relations.thread_root:
            self.sender.remember_thread(event.event_id, relations.thread_root)
        about = None
        for target in (relations.thread_root, relations.reply_to):
            if target and about is None:
                about = await self.service.proposal_of_message(room, target)
        text = events.message_text(event)
        await self.service.handle(Incoming(room, event.sender, text, event.event_id, at, about, relations.replaces))

    async def _reconcile(self) -> None:
        """Count every reaction on the open ballots, in case one fell in a gap of the timeline.

        Oldest first; a reaction older than the member's latest change counts for nothing, so the recount
        can never undo a vote the sync already counted.
        """
        try:
            # What the previous run left queued goes first: a ballot it sent without living to record it gets
            # its event id back (its transaction id makes the homeserver answer with the same event), so its
            # reactions are recounted too. Not before the first sync: nio sends to no room it has not synced.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.service.deliver(), FIRST_DELIVERY_WITHIN)
            for room, _, ballot in await self.repository.open_ballots():
                async for event in self.client.room_get_event_relations(room, ballot, RelationshipType.annotation,
                                                                        direction=MessageDirection.front):
                    if isinstance(event, ReactionEvent):
                        await self.guarded(self._dispatch(room, event))
        except Exception:
            log.exception("recounting the open ballots failed; the sync goes on")
        finally:
            self.reconciled.set()

    async def _tell_unreadable(self, room: str, member: str, event_id: str) -> None:
        """Said once per message (the outbox key is the event's): the bot could not read it."""
        text = render.unreadable(member, messages_for(self.config.for_room(room)))
        await self.service.say_once(Outgoing(f"unreadable/{event_id}", room, Kind.UNREADABLE, tuple(text.lines),
                                             {"kind": str(Kind.UNREADABLE)}, reply_to=event_id, mentions=(member,)))


async def run_matrix(config: Config) -> None:
    await run_chat_bot(config, MatrixBot)
