"""The bot on Mattermost: token check, the supervised websocket, resync after every gap, no vote lost or doubled.

- At start ``GET /users/me`` checks the token: a rejected token stops the bot with a clear error (never a
  silent reconnect loop); so does a websocket that keeps closing while REST says the token is revoked.
- The websocket is ours (aiohttp): authenticated by header, heartbeats detect a dead link, lost
  connections are retried with exponential backoff.
- Every ``hello`` (the first after a restart included) starts a **resync**, and a round closes only after a
  **catch-up** of its channel (the same read, for one channel): every post created since the mark, however
  many (``GET /channels/{id}/posts?page=&per_page=200``, newest first, until a page reaches back to the
  mark), and the edits and deletions since it (``?since=``, which holds at most 1000 posts, the server
  choosing which: a warning says when edits of older posts may have been missed); all handled oldest first.
  Then the reactions of every open ballot (``GET /posts/{id}/reactions``) are compared with those counted.
  Every event has a deterministic id and the service ignores one it has handled, so a replay changes nothing.
- The mark (the ``create_at`` of the latest member post handled) moves with each post read live, and after
  a resync of every channel; a catch-up of one channel leaves it, so the next resync still reads the others.
- A deleted member's command leaves what it did in place. A deleted ballot is posted again by the service
  while its round is open (the positions taken stand). Mattermost does not say who deleted a post.
- Direct and group messages are no assembly: a message for the bot there is answered once with a pointer
  to the channels (in a group, only commands and mentions of the bot), and no command runs.
- Delivery runs in its own task from the start: handling an event never waits for a post to go out. The
  sender holds its first send until the first resync has recognised the bot's posts already on the server.
- A fresh install starts from now: nothing older is replayed.
- Errors in one event are logged and never stop the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime

import aiohttp

from bot.chat.core import Backoff, ChatBot, listing, run_chat_bot
from bot.config import Config, MattermostSettings
from bot.mattermost import events
from bot.mattermost.client import SINCE_LIMIT, MattermostApiError, MattermostClient
from bot.mattermost.directory import MattermostDirectory
from bot.mattermost.sender import MESSAGE_ID_PROP, MattermostSender
from bot.reactions import normalize_emoji_name, position_of
from bot.app.scheduler import utc_now
from bot.app.ports import Incoming, ReactionVote, Redaction
from storage.repository import Repository

log = logging.getLogger(__name__)

SINCE = "mattermost/since"
"""The mark: the create_at (ms) up to which the channels' posts have been read and handled (the latest
received live, or the latest a resync of every channel found); the next resync reads what came after."""
BACKOFF_START, BACKOFF_MAX = 0.5, 60.0
HEARTBEAT = 30.0
ASSEMBLY_TYPES = ("O", "P")
CONVERSATION_TYPES = {"D": "direct", "G": "group"}
ASSEMBLY, DIRECT, GROUP, ELSEWHERE = "assembly", "direct", "group", "elsewhere"
"""What a channel is to the bot: where an assembly meets, a direct or group message, or none of its business
(archived, another team's)."""


class MattermostLoginFailed(Exception):
    """The server refused the bot's token: nothing to retry."""


def reactions_key(post_id: str) -> str:
    return f"mattermost/reactions/{post_id}"


class MattermostBot(ChatBot):
    platform = "Mattermost"
    link = "the websocket"
    fatal = (MattermostLoginFailed,)

    def __init__(self, config: Config, repository: Repository, clock: Callable[[], datetime] = utc_now) -> None:
        assert config.mattermost is not None
        self.settings: MattermostSettings = config.mattermost
        self.client = MattermostClient(self.settings.url, self.settings.token.get_secret_value())
        self.directory: MattermostDirectory
        self.sender: MattermostSender
        directory = MattermostDirectory(self.client)
        seeds = {position: names[0] for position, names in self.settings.reactions.by_position.items()}
        super().__init__(config, repository, directory, MattermostSender(self.client, directory, seeds), clock)
        self.connected = asyncio.Event()
        self.resyncs = 0
        self.bot_id = ""
        self.username = ""
        self._since = 0
        self._teams: dict[str, str] = {}  # team id → name
        self._channels: dict[str, str] = {}  # channel id → ASSEMBLY, DIRECT, GROUP or ELSEWHERE
        self._reading = asyncio.Lock()
        """Held while events are handled, by the websocket reader or a catch-up: one at a time, in order."""

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Listen until cancelled."""
        await self._login()
        stored = await self.repository.state(SINCE)
        if stored is None:  # a fresh install: act on nothing old
            stored = str(int(self.service.clock().timestamp() * 1000))
            await self.repository.set_state(SINCE, stored)
        self._since = int(stored)
        # Delivery in its own task from the start: no event handled waits for a post to go out (the first
        # resync included). The sender sends nothing before the first resync has released it.
        self.start_delivery()
        backoff = Backoff(BACKOFF_START, BACKOFF_MAX)
        while True:
            if await self._listen():
                backoff.reset()
            # A revoked token shows as a socket the server closes: ask REST, which says so at once.
            await self._check_token()
            delay = backoff.next()
            log.warning("websocket closed; reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)

    async def close(self) -> None:
        await self.client.close()

    def rate_limits(self) -> tuple[int, float]:
        return self.client.rate_limited, self.client.rate_limited_for

    def identity(self) -> list[str]:
        assemblies = sum(place == ASSEMBLY for place in self._channels.values())
        teams = listing(self.settings.teams) if self.settings.teams else "every team it belongs to"
        # Mattermost has no invitation to refuse: whoever may add members to a channel of these teams may add it.
        return [f"account @{self.username} ({self.bot_id})", f"{assemblies} assembly channels",
                f"added to channels by their members in {teams}"]

    async def _login(self) -> None:
        me = await self._check_token()
        self.bot_id = me["id"]
        self.username = str(me.get("username") or "")
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
                    self.answered()
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
                            await self.guarded(self._dispatch(frame))
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            log.warning("websocket failed: %s", error)
        except Exception as error:
            if not self.repository.unavailable(error):
                raise
            # What could not be stored was not acknowledged, nor the mark moved past it: the resync after the next
            # connection reads it again. Until then the database's health says what is wrong.
            log.warning("the database cannot store what the websocket brings (%s); reading again once reconnected",
                        str(error).splitlines()[0][:300] or type(error).__name__)
            greeted = False  # the reconnection waits longer each time
        finally:
            self.connected.clear()
            self.unanswered()
        return greeted

    async def _hello(self) -> None:
        self.connected.set()
        async with self._reading:
            await self.guarded(self._resync())
        self.resyncs += 1
        # Only after the first resync: it finds the posts a crash left unrecorded, never to be posted twice.
        self.sender.release()
        await self.start_clock()
        self.now_ready()

    async def catch_up(self, room: str) -> bool:
        """Read what the server received in a channel until now (its posts and its open ballots' reactions)
        before a round there closes; retried until the server answers. False if the bot stopped meanwhile."""
        while not self.stopped:
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

    # --- channels --------------------------------------------------------------------------------------------

    async def _refresh_channels(self) -> list[str]:
        """The channels a full resync reads: every assembly, and the conversations with posts after the mark."""
        self._teams = {team["id"]: team["name"] for team in await self.client.teams()}
        listed: dict[str, dict] = {}
        for team_id, name in self._teams.items():
            if self.settings.teams and name not in self.settings.teams:
                continue
            for channel in await self.client.channels(team_id):  # direct and group messages in every team
                listed[channel["id"]] = channel
        to_read = []
        for channel_id, channel in listed.items():
            place = self._channels[channel_id] = self._place_of(channel)
            if place == ASSEMBLY or (place in (DIRECT, GROUP) and channel.get("last_post_at", 0) > self._since):
                to_read.append(channel_id)
        return to_read

    def _place_of(self, channel: dict) -> str:
        kind = channel.get("type")
        if channel.get("delete_at"):
            return ELSEWHERE
        if kind in CONVERSATION_TYPES:
            return CONVERSATION_TYPES[kind]
        team = self._teams.get(channel.get("team_id") or "")
        if kind in ASSEMBLY_TYPES and (not self.settings.teams or team in self.settings.teams):
            return ASSEMBLY
        return ELSEWHERE

    async def _place(self, channel_id: str) -> str:
        """What a channel is to the bot; one it was added to since the last resync is looked up."""
        if channel_id not in self._channels:
            channel = await self.client.channel(channel_id)
            team = channel.get("team_id") or ""
            if team and team not in self._teams:
                self._teams = {t["id"]: t["name"] for t in await self.client.teams()}
            self._channels[channel_id] = self._place_of(channel)
            self.directory.forget(channel_id)
        return self._channels[channel_id]

    # --- resync ----------------------------------------------------------------------------------------------

    async def _resync(self, only: str | None = None) -> None:
        """Read over REST what the bot may have missed (every channel, or ``only`` one) and handle it in order."""
        since = self._since
        read: dict[str, list[dict]] = {}
        complete = True
        for channel_id in [only] if only else await self._refresh_channels():
            self.directory.forget(channel_id)
            try:
                read[channel_id] = await self._read(channel_id, since)
            except MattermostApiError as error:
                if only:
                    raise  # a catch-up is tried again until it reads its channel
                log.warning("cannot read the posts of %s (%s): they are read at the next resync", channel_id, error)
                complete = False
        everything = [post for posts in read.values() for post in posts]
        # First our own posts: one whose sending was interrupted before we recorded it is on the server
        # already; record it instead of posting it again (the server only drops copies within 30 s).
        await self._recognise_own_posts(everything)
        for posts in read.values():
            for post in posts:
                await self.guarded(self._missed(post, since))
        await self._reconcile_ballots(only)
        if not only and complete:
            # Every channel was read up to now. A catch-up reads one channel: moving the mark then would make
            # the next resync skip what the others received meanwhile.
            self._seen(max((post.get("create_at", 0) for post in everything), default=0))
        self.service.delivery.retry_now()
        log.info("resynced %s (posts since %d)", only or "every channel", since)

    async def _read(self, channel_id: str, since: int) -> list[dict]:
        """The channel's posts created after ``since`` (every one, paged) and, in an assembly, those edited or
        deleted since (the ``since`` listing), oldest first; of a post read twice, the later state."""
        posts = {post["id"]: post for post in await self.client.posts_created_after(channel_id, since)}
        if await self._place(channel_id) != ASSEMBLY:
            return list(posts.values())  # a conversation: only new messages matter
        changed = await self.client.posts_since(channel_id, since)
        if sum(post.get("update_at", 0) > since for post in changed) >= SINCE_LIMIT:
            log.warning("%s: the server lists at most %d posts changed since the last read, and this many changed: "
                        "edits and deletions of older posts may be missed (every new post is read)",
                        channel_id, SINCE_LIMIT)
        for post in changed:
            known = posts.get(post["id"])
            if known is None or post.get("update_at", 0) >= known.get("update_at", 0):
                posts[post["id"]] = post
        return sorted(posts.values(), key=lambda p: (p.get("create_at", 0), p.get("id", "")))

    async def _missed(self, post: dict, since: int) -> None:
        """A post read over REST, handled as its websocket event would have been."""
        if post.get("user_id") == self.bot_id:
            if post.get("delete_at"):
                await self._own_post_deleted(post)
        elif not events.is_member_post(post, self.bot_id):
            return  # a system message, or a member's deleted post: what it did stands
        elif post.get("create_at", 0) > since:
            await self._posted(post)
        elif post.get("edit_at", 0) > since:
            await self._edited(post)

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

    async def _reconcile_ballots(self, only: str | None) -> None:
        for room, _, ballot in await self.repository.open_ballots():
            if self._channels.get(room) != ASSEMBLY or (only and room != only):
                continue
            if not await self._is_ballot(room, ballot):
                continue  # a new ballot is on its way (this one was deleted): reactions here count no more
            try:
                current = await self.client.reactions(ballot)
            except MattermostApiError as error:
                log.warning("cannot read the reactions of %s: %s", ballot, error)
                continue
            await self.guarded(self._reconcile(room, ballot, current))

    async def _reconcile(self, room: str, ballot: str, current: list[dict]) -> None:
        """Count reactions added in a gap; withdraw those removed in it."""
        state = await self._reaction_state(ballot)
        present = {f"{r['user_id']} {r['emoji_name']}": r for r in current if r.get("user_id") != self.bot_id}
        for key, reaction in sorted(present.items(), key=lambda item: item[1].get("create_at", 0)):
            if state["adds"].get(key) != reaction.get("create_at"):
                await self.guarded(self._reaction_added(room, reaction))
        gone = [key for key in state["adds"] if key not in present]
        if gone and not await self._still_there(room, ballot):
            return  # a deleted post loses its reactions, yet nobody took a vote back
        for key in gone:
            user_id, emoji = key.split(" ", 1)
            await self.guarded(self._reaction_removed(
                room, {"user_id": user_id, "post_id": ballot, "emoji_name": emoji}, self._now_ms()))

    async def _still_there(self, room: str, ballot: str) -> bool:
        """Whether the ballot is still on the server; if it was deleted unseen, it is handled as deleted now."""
        try:
            await self.client.post(ballot)
            return True
        except MattermostApiError as error:
            if error.status != 404:
                raise
        await self._own_post_deleted({"id": ballot, "channel_id": room, "delete_at": self._now_ms()})
        return False

    def _now_ms(self) -> int:
        return int(self.service.clock().timestamp() * 1000)

    # --- events ----------------------------------------------------------------------------------------------

    async def _dispatch(self, frame: dict) -> None:
        kind, data = frame["event"], frame.get("data")
        if kind == "posted":
            post = events.inner(data, "post")
            if post and post.get("user_id") == self.bot_id:
                await self._our_own(post)
            elif post and events.is_member_post(post, self.bot_id):
                channel_type = data.get("channel_type") if isinstance(data, dict) else None
                if channel_type in CONVERSATION_TYPES:  # no need to look the channel up
                    self._channels.setdefault(post["channel_id"], CONVERSATION_TYPES[channel_type])
                await self._posted(post)
                self._seen(post.get("create_at", 0))
        elif kind == "post_deleted":
            post = events.inner(data, "post")
            # A member's deleted command leaves what it did in place: only the bot's own posts matter here.
            if post and post.get("user_id") == self.bot_id and post.get("id"):
                await self._own_post_deleted(post)
        elif kind == "post_edited":
            post = events.inner(data, "post")
            if post and events.is_member_post(post, self.bot_id) and post.get("edit_at"):
                await self._edited(post)
        elif kind in ("reaction_added", "reaction_removed"):
            reaction = events.inner(data, "reaction")
            if not reaction or reaction.get("user_id") == self.bot_id:
                return
            room = reaction.get("channel_id") or (frame.get("broadcast") or {}).get("channel_id") or ""
            if not room or await self._place(room) != ASSEMBLY:
                return
            if kind == "reaction_added":
                await self._reaction_added(room, reaction)
            else:
                await self._reaction_removed(room, reaction, reaction.get("update_at") or 0)

    async def _posted(self, post: dict) -> None:
        room = post["channel_id"]
        place = await self._place(room)
        if place in (DIRECT, GROUP):
            await self._in_conversation(post, place)
        if place != ASSEMBLY:
            return
        root = post.get("root_id") or ""
        self.sender.remember_root(post["id"], root)
        about = await self.service.proposal_of_message(room, root) if root else None
        await self.service.handle(Incoming(room, post["user_id"], post.get("message") or "", post["id"],
                                           self._instant(post.get("create_at")), about))

    async def _in_conversation(self, post: dict, place: str) -> None:
        """A direct or group message: no assembly meets there, so nothing runs; a message for the bot is
        answered once, with a pointer to the channels. In a group, members mostly talk among themselves:
        only a command or a mention of the bot is for it."""
        message = post.get("message") or ""
        if place == GROUP and not (message.lstrip().startswith("!") or self._mentions_me(message)):
            return
        room = post["channel_id"]
        self.sender.conversations.add(room)
        await self.service.not_an_assembly(Incoming(room, post["user_id"], message, post["id"],
                                                    self._instant(post.get("create_at"))))

    def _mentions_me(self, message: str) -> bool:
        return bool(self.username) and re.search(rf"(?<![\w@])@{re.escape(self.username)}(?![\w-])", message,
                                                 re.IGNORECASE) is not None

    async def _own_post_deleted(self, post: dict) -> None:
        """One of the bot's posts was deleted. A proposal's current ballot is posted again while its round is
        open, and the positions taken stand; any other post stays gone. Who deleted it is unknown."""
        room, post_id = post.get("channel_id") or "", post["id"]
        if not room or await self._place(room) != ASSEMBLY or not await self._is_ballot(room, post_id):
            return
        await self.service.redacted(Redaction(room, post_id, "", events.deleted_event_id(post_id),
                                              self._instant(post.get("delete_at"))))

    async def _edited(self, post: dict) -> None:
        room = post["channel_id"]
        if await self._place(room) != ASSEMBLY:
            return
        root = post.get("root_id") or ""
        event_id = events.edit_event_id(post)
        self.sender.remember_root(event_id, root or post["id"])
        about = await self.service.proposal_of_message(room, root) if root else None
        await self.service.handle(Incoming(room, post["user_id"], post.get("message") or "", event_id,
                                           self._instant(post.get("edit_at")), about, replaces=post["id"]))

    def _instant(self, ms: object) -> datetime:
        """When the member acted, as the server recorded it, but never later than it reached the bot."""
        return self.instant(events.timestamp(ms))

    def _seen(self, create_at: int) -> None:
        if create_at > self._since:
            self._since = create_at
            # Written with the next transaction, not in one of its own per post: read again from an older point
            # after a crash, posts are handled once all the same.
            self.repository.note_state(SINCE, str(create_at))

    async def _reaction_state(self, post_id: str) -> dict:
        stored = await self.repository.state(reactions_key(post_id))
        state = json.loads(stored) if stored else {}
        state.setdefault("adds", {})   # "user emoji" → create_at of the reaction now on the post
        return state

    async def _is_ballot(self, room: str, post_id: str) -> bool:
        async with self.repository.transaction() as tx:
            return await tx.ballot_number(room, post_id) is not None

    async def _reaction_added(self, room: str, reaction: dict) -> None:
        position = position_of(reaction.get("emoji_name", ""), self.settings.reactions.by_position, normalize_emoji_name)
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
        if position_of(reaction.get("emoji_name", ""), self.settings.reactions.by_position, normalize_emoji_name) is None:
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
    await run_chat_bot(config, MattermostBot)

