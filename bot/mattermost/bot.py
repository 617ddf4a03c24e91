"""The bot on Mattermost: token check, the supervised websocket, resync after every gap, no vote lost or doubled.

- At start ``GET /users/me`` checks the token: a rejected token stops the bot with a clear error (never a
  silent reconnect loop); so does a websocket that keeps closing while REST says the token is revoked.
- The websocket is ours (aiohttp): authenticated by header, heartbeats detect a dead link, lost
  connections are retried with exponential backoff.
- Every ``hello`` (the first after a restart included) starts a **resync**: the posts of the bot's
  channels created or edited since the last ``create_at`` seen (``GET /channels/{id}/posts?since=``), then
  the reactions of every open ballot (``GET /posts/{id}/reactions``) compared with those already counted.
  Every event has a deterministic id and the service ignores one it has handled, so a replay changes nothing.
- A fresh install starts from now: nothing older is replayed.
- Errors in one event are logged and never stop the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp

from bot.config import Config, MattermostSettings
from bot.handlers import COMMANDS
from bot.mattermost import events
from bot.mattermost.client import MattermostApiError, MattermostClient
from bot.mattermost.directory import MattermostDirectory
from bot.mattermost.sender import MESSAGE_ID_PROP, MattermostSender
from bot.reactions import normalize_emoji_name, position_of
from bot.scheduler import DueScheduler, utc_now
from bot.service import ConsentService, Incoming, ReactionVote, Redaction
from storage.repository import Repository

log = logging.getLogger(__name__)

SINCE = "mattermost/since"
"""The create_at (ms) of the latest member post handled: the next resync asks for what came after."""
BACKOFF_START, BACKOFF_MAX = 0.5, 60.0
HEARTBEAT = 30.0
CHANNEL_TYPES = ("O", "P")


class MattermostLoginFailed(Exception):
    """The server refused the bot's token: nothing to retry."""


def reactions_key(post_id: str) -> str:
    return f"mattermost/reactions/{post_id}"


class MattermostBot:
    def __init__(self, config: Config, repository: Repository, clock: Callable[[], datetime] = utc_now) -> None:
        assert config.mattermost is not None
        self.config = config
        self.settings: MattermostSettings = config.mattermost
        self.repository = repository
        self.client = MattermostClient(self.settings.url, self.settings.token)
        self.directory = MattermostDirectory(self.client)
        seeds = {position: names[0] for position, names in self.settings.reactions.items()}
        self.sender = MattermostSender(self.client, self.directory, seeds)
        self.service = ConsentService(repository, config, COMMANDS, self.directory, self.sender, clock)
        self.scheduler = DueScheduler(self.service, clock, self.catch_up)
        self.ready = asyncio.Event()
        """Set once the first resync is done and the scheduler started."""
        self.connected = asyncio.Event()
        self.resyncs = 0
        self.bot_id = ""
        self._since = 0
        self._teams: dict[str, str] = {}  # team id → name
        self._channels: dict[str, bool] = {}  # channel id → whether the bot answers there
        self._started_scheduler = False
        self._delivery: asyncio.Task | None = None
        self._reading = asyncio.Lock()
        """Held while events are handled, by the websocket reader or a catch-up: one at a time, in order."""
        self._stopped = False

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Listen until cancelled."""
        try:
            await self._login()
            stored = await self.repository.state(SINCE)
            if stored is None:  # a fresh install: act on nothing old
                stored = str(int(self.service.clock().timestamp() * 1000))
                await self.repository.set_state(SINCE, stored)
            self._since = int(stored)
            backoff = BACKOFF_START
            while True:
                if await self._listen():
                    backoff = BACKOFF_START
                # A revoked token shows as a socket the server closes: ask REST, which says so at once.
                await self._check_token()
                log.warning("websocket closed; reconnecting in %.1f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            self._stopped = True
            if self._delivery is not None:
                self._delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._delivery
            if self._started_scheduler:
                self.scheduler.shutdown()
            await self.client.close()

    async def _login(self) -> None:
        me = await self._check_token()
        self.bot_id = me["id"]
        self.directory.bot_id = self.sender.bot_id = self.bot_id
        log.info("logged in to %s as @%s", self.settings.url, me.get("username"))

    async def _check_token(self) -> dict:
        try:
            return await self.client.me()
        except MattermostApiError as error:
            if error.status == 401:
                raise MattermostLoginFailed(
                    f"{self.settings.url} rejected the bot's token ({error.message or error.error_id}); "
                    "check mattermost.token or CONSENT_BOT_MATTERMOST_TOKEN") from None
            raise
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            if self.bot_id:
                return {"id": self.bot_id}  # the server is unreachable: keep retrying
            raise MattermostLoginFailed(f"cannot reach {self.settings.url}: {error}") from None

    async def _listen(self) -> bool:
        """One websocket connection, until it closes; True if the server greeted it (hello)."""
        greeted = False
        try:
            async with self.client.session.ws_connect(self.client.websocket_url, headers=self.client.headers,
                                                      heartbeat=HEARTBEAT, timeout=aiohttp.ClientWSTimeout(
                                                          ws_receive=None, ws_close=5.0)) as ws:
                async for message in ws:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        continue
                    frame = events.frame(message.data)
                    if frame is None:
                        continue
                    if frame["event"] == "hello":
                        greeted = True
                        await self._hello()
                    elif greeted:
                        async with self._reading:
                            await self._guarded(self._dispatch(frame))
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            log.warning("websocket failed: %s", error)
        finally:
            self.connected.clear()
        return greeted

    async def _hello(self) -> None:
        self.connected.set()
        async with self._reading:
            await self._guarded(self._resync())
        self.resyncs += 1
        if self._delivery is None:
            # Only after the first resync: it finds the posts a crash left unrecorded, never to be posted twice.
            self._delivery = asyncio.create_task(self.service.delivery.run(), name="mattermost-delivery")
        if not self._started_scheduler:
            self._started_scheduler = True
            await self.scheduler.start()
        self.ready.set()

    async def catch_up(self, room: str) -> bool:
        """Read what the server received in a channel until now (its posts and its open ballots' reactions)
        before a round there closes; retried until the server answers. False if the bot stopped meanwhile."""
        while not self._stopped:
            try:
                async with self._reading:
                    await self._resync(only=room)
                return True
            except (MattermostLoginFailed, asyncio.CancelledError):
                raise
            except Exception as error:
                log.warning("cannot read %s before closing a round there (%s); trying again", room, error)
                await asyncio.sleep(1.0)
        return False

    async def _guarded(self, work) -> None:
        try:
            await work
        except (MattermostLoginFailed, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("handling a Mattermost event failed; going on with the next")

    # --- channels --------------------------------------------------------------------------------------------

    async def _refresh_channels(self) -> list[str]:
        self._teams = {team["id"]: team["name"] for team in await self.client.teams()}
        allowed = []
        for team_id, name in self._teams.items():
            if self.settings.teams and name not in self.settings.teams:
                continue
            for channel in await self.client.channels(team_id):
                ok = channel.get("type") in CHANNEL_TYPES and not channel.get("delete_at")
                self._channels[channel["id"]] = ok
                if ok:
                    allowed.append(channel["id"])
        return allowed

    async def _answers_in(self, channel_id: str) -> bool:
        if channel_id not in self._channels:  # a channel the bot was added to since the last resync
            channel = await self.client.channel(channel_id)
            team = channel.get("team_id") or ""
            if team and team not in self._teams:
                self._teams = {t["id"]: t["name"] for t in await self.client.teams()}
            ok = channel.get("type") in CHANNEL_TYPES and not channel.get("delete_at") and (
                not self.settings.teams or self._teams.get(team) in self.settings.teams)
            self._channels[channel_id] = ok
            self.directory.forget(channel_id)
        return self._channels[channel_id]

    # --- resync ----------------------------------------------------------------------------------------------

    async def _resync(self, only: str | None = None) -> None:
        since = self._since
        missed = {}
        channels = [only] if only else await self._refresh_channels()
        for channel_id in channels:
            self.directory.forget(channel_id)
            missed[channel_id] = await self.client.posts_since(channel_id, since)
        # First our own posts: one whose sending was interrupted before we recorded it is on the server
        # already; record it instead of posting it again (the server only drops copies within 30 s).
        await self._recognise_own_posts([post for posts in missed.values() for post in posts])
        for posts in missed.values():
            for post in posts:
                if not events.is_member_post(post, self.bot_id):
                    continue
                if post.get("create_at", 0) > since:
                    await self._guarded(self._posted(post))
                elif post.get("edit_at", 0) > since:
                    await self._guarded(self._edited(post))
        for room, _, ballot in await self.repository.open_ballots():
            if not self._channels.get(room) or (only and room != only):
                continue
            try:
                current = await self.client.reactions(ballot)
            except MattermostApiError as error:
                log.warning("cannot read the reactions of %s: %s", ballot, error)
                continue
            await self._reconcile(room, ballot, current)
        self.service.delivery.retry_now()
        log.info("resynced %s (posts since %d)", only or "every channel", since)

    async def _recognise_own_posts(self, posts: list[dict]) -> None:
        for post in posts:
            if post.get("user_id") == self.bot_id:
                await self._our_own(post)

    async def _our_own(self, post: dict) -> None:
        """One of the bot's posts, seen on the server: never posted again, and its ballot known at once."""
        part_id = (post.get("props") or {}).get(MESSAGE_ID_PROP)
        if isinstance(part_id, str) and part_id:
            self.sender.recognise(part_id, post["id"])
            await self.service.delivery.recognise(part_id, post["id"])

    async def _reconcile(self, room: str, ballot: str, current: list[dict]) -> None:
        """Count reactions added in a gap; withdraw those removed in it."""
        state = await self._reaction_state(ballot)
        present = {f"{r['user_id']} {r['emoji_name']}": r for r in current if r.get("user_id") != self.bot_id}
        for key, reaction in sorted(present.items(), key=lambda item: item[1].get("create_at", 0)):
            if state["adds"].get(key) != reaction.get("create_at"):
                await self._guarded(self._reaction_added(room, reaction))
        for key in list(state["adds"]):
            if key not in present:
                user_id, emoji = key.split(" ", 1)
                await self._guarded(self._reaction_removed(
                    room, {"user_id": user_id, "post_id": ballot, "emoji_name": emoji},
                    int(self.service.clock().timestamp() * 1000)))

    # --- events ----------------------------------------------------------------------------------------------

    async def _dispatch(self, frame: dict) -> None:
        kind, data = frame["event"], frame.get("data")
        if kind == "posted":
            post = events.inner(data, "post")
            if post and post.get("user_id") == self.bot_id:
                await self._our_own(post)
            elif post and events.is_member_post(post, self.bot_id):
                await self._posted(post)
        elif kind == "post_edited":
            post = events.inner(data, "post")
            if post and events.is_member_post(post, self.bot_id) and post.get("edit_at"):
                await self._edited(post)
        elif kind in ("reaction_added", "reaction_removed"):
            reaction = events.inner(data, "reaction")
            if not reaction or reaction.get("user_id") == self.bot_id:
                return
            room = reaction.get("channel_id") or (frame.get("broadcast") or {}).get("channel_id") or ""
            if not room or not await self._answers_in(room):
                return
            if kind == "reaction_added":
                await self._reaction_added(room, reaction)
            else:
                await self._reaction_removed(room, reaction, reaction.get("update_at") or 0)

    async def _posted(self, post: dict) -> None:
        room = post["channel_id"]
        if not await self._answers_in(room):
            return
        root = post.get("root_id") or ""
        self.sender.remember_root(post["id"], root)
        about = await self.service.proposal_of_message(room, root) if root else None
        await self.service.handle(Incoming(room, post["user_id"], post.get("message") or "", post["id"],
                                           self._instant(post.get("create_at")), about))
        await self._seen(post.get("create_at", 0))

    async def _edited(self, post: dict) -> None:
        room = post["channel_id"]
        if not await self._answers_in(room):
            return
        root = post.get("root_id") or ""
        event_id = events.edit_event_id(post)
        self.sender.remember_root(event_id, root or post["id"])
        about = await self.service.proposal_of_message(room, root) if root else None
        await self.service.handle(Incoming(room, post["user_id"], post.get("message") or "", event_id,
                                           self._instant(post.get("edit_at")), about, replaces=post["id"]))

    def _instant(self, ms: object) -> datetime:
        """When the member acted, as the server recorded it, but never later than it reached the bot."""
        return min(events.timestamp(ms), self.service.clock())

    async def _seen(self, create_at: int) -> None:
        if create_at > self._since:
            self._since = create_at
            await self.repository.set_state(SINCE, str(create_at))

    async def _reaction_state(self, post_id: str) -> dict:
        stored = await self.repository.state(reactions_key(post_id))
        state = json.loads(stored) if stored else {}
        state.setdefault("adds", {})   # "user emoji" → create_at of the reaction now on the post
        return state

    async def _is_ballot(self, room: str, post_id: str) -> bool:
        async with self.repository.transaction() as tx:
            return await tx.ballot_number(room, post_id) is not None

    async def _reaction_added(self, room: str, reaction: dict) -> None:
        position = position_of(reaction.get("emoji_name", ""), self.settings.reactions, normalize_emoji_name)
        post_id = reaction.get("post_id", "")
        if position is None or not await self._is_ballot(room, post_id):
            return
        create_at = reaction.get("create_at") or 0
        event_id = events.reaction_event_id(reaction, create_at)
        # The vote first, the bookkeeping after: a crash in between leaves a reaction the next resync
        # counts again, which the service ignores (same event id); the other order could lose the vote.
        await self.service.react(ReactionVote(room, reaction["user_id"], post_id, position, event_id,
                                              self._instant(create_at)))
        state = await self._reaction_state(post_id)
        state["adds"][f"{reaction['user_id']} {reaction['emoji_name']}"] = create_at
        await self.repository.set_state(reactions_key(post_id), json.dumps(state, sort_keys=True))

    async def _reaction_removed(self, room: str, reaction: dict, at_ms: int) -> None:
        """A reaction taken back: the member's position is again what their other reactions and commands say
        (👍 as +1 and as thumbsup is one vote: removing one leaves the other)."""
        post_id, user_id = reaction.get("post_id", ""), reaction.get("user_id", "")
        if position_of(reaction.get("emoji_name", ""), self.settings.reactions, normalize_emoji_name) is None:
            return
        state = await self._reaction_state(post_id)
        key = f"{user_id} {reaction['emoji_name']}"
        if key not in state["adds"]:
            return  # a reaction never counted (before the bot, or on another post)
        added = events.reaction_event_id(reaction, state["adds"].pop(key))
        # Mattermost does not say who removed a reaction: its owner, as a rule.
        await self.service.redacted(Redaction(room, added, user_id, f"un{added}", self._instant(at_ms)))
        # Bookkeeping after the withdrawal, for the same reason as when adding.
        await self.repository.set_state(reactions_key(post_id), json.dumps(state, sort_keys=True))


async def run_mattermost(config: Config) -> None:
    repository = await Repository.open(config.storage_path)
    try:
        await MattermostBot(config, repository).run()
    finally:
        await repository.close()

