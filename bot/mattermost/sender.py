"""Engine messages → Mattermost posts: Markdown, threads, acknowledgements, @-mentions and the payload.

- Lines are rendered as Markdown that shows members' text as written: it is escaped, so nothing a member
  wrote can become a link, an image, a heading or a table.
- A member is ``@username`` when the message notifies them, and ``@`` + word joiner + username (shown,
  never notified) otherwise.
- Ballots, reminders and outcomes are posts in the channel; answers to a command go in the command's
  thread; block requests and reaction errors in the ballot's thread; an acknowledgement is a
  ``white_check_mark`` reaction on the command.
- In a direct or group message (no assembly meets there) an answer is a plain post of the conversation.
- A message longer than a post may be (16,383 characters) is split between lines into several posts, each
  with ``part`` and ``parts`` in its payload.
- An answer whose thread is gone (its root was deleted) is posted in the channel instead: said, not lost.
- Nothing is sent before :meth:`MattermostSender.release`, which the adapter calls once its first resync has
  recognised the posts a crash left unrecorded (they are never posted twice); delivery waits meanwhile in
  its own task, never in the reader's way.
- Every post carries a ``pending_post_id`` derived from the outbox key (the server drops a copy sent
  again within 30 s), the same id in ``props.consent_bot_message`` (so a resync recognises a post whose
  sending was interrupted, however late), and the ``consent_bot`` payload in ``props``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.chat.core import ChatSender, Recent, part_payload
from bot.engine.model import Position
from bot.mattermost.client import MattermostApiError, MattermostClient
from bot.mattermost.directory import MattermostDirectory
from bot.messages.markdown import escape_inline, escape_line_starts
from bot.messages.outgoing import Kind, Line, Mention, Outgoing, Undeliverable, message_id, part_key
from bot.messages.lines import WORD_JOINER
from bot.messages.splitting import split

log = logging.getLogger(__name__)

ACK_EMOJI = "white_check_mark"
MESSAGE_ID_PROP = "consent_bot_message"
THREADED_KINDS = {Kind.BLOCK_REQUEST, Kind.ERROR, Kind.STATUS, Kind.HISTORY, Kind.HELP, Kind.MODERATION}
"""Without a command to answer, these go in the ballot's thread."""
CHANNEL_KINDS = {Kind.BALLOT, Kind.REMINDER, Kind.OUTCOME, Kind.ANNOUNCEMENT, Kind.FOLLOWUP,
                 Kind.FOLLOWUP_REMINDER, Kind.FACT, Kind.STATEMENT, Kind.DELEGATION}
"""Always top-level posts: a ballot must be a thread root, so members can reply to it."""
REMEMBERED = 10_000
REFUSED_FOR_GOOD = {400, 403, 404}
"""Statuses a retry cannot mend: the request is wrong as it is, the bot was removed, the post is gone."""
ROOT_GONE = "api.post.create_post.root_id.app_error"
"""The server's refusal of a reply whose thread root is missing or deleted: posted in the channel instead."""
MAX_POST_CHARACTERS = 16_000
"""Mattermost refuses a post over 16,383 characters (runes); the rest is a margin."""


def pending_post_id(key: str) -> str:
    """26 characters from the outbox key: the same message always gets the same pending id."""
    return message_id(key)


def post_of(event_id: str) -> str:
    """The post an event is about: an edit's event id is "<post id>@<edit_at>"."""
    return event_id.split("@", 1)[0]


def line_markdown(line: Line, name: Callable[[str], str]) -> str:
    """One line as Markdown: text escaped (at line starts too), members as ``name(member)`` renders them."""
    out = []
    for segment in line.segments:
        out.append(name(segment.member) if isinstance(segment, Mention) else escape_inline(segment))
    text = escape_line_starts("".join(out))
    return f"**{text}**" if line.strong and text.strip() else text


class MattermostSender(ChatSender):
    def __init__(self, client: MattermostClient, directory: MattermostDirectory,
                 seed_reactions: dict[Position, str]) -> None:
        super().__init__(seed_reactions, ACK_EMOJI)
        self._client = client
        self._directory = directory
        self.bot_id = ""
        self.roots = Recent(REMEMBERED)
        """post id of a member's message → the root of its thread (itself when not in a thread)."""
        self.posted = Recent(REMEMBERED)
        """``consent_bot_message`` id of a part → its post, for the bot's posts a resync found on the server."""
        self.conversations: set[str] = set()
        """Direct and group message channels: answers there are plain posts, not threads."""
        self._released = asyncio.Event()

    def release(self) -> None:
        """Sending may start: the posts already on the server are known (the first resync is done)."""
        self._released.set()

    def remember_root(self, post_id: str, root_id: str) -> None:
        self.roots[post_id] = root_id or post_id

    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        await self._released.wait()
        try:
            return await super().send(message, ballot_id)
        except MattermostApiError as error:
            if error.status in REFUSED_FOR_GOOD:
                raise Undeliverable(str(error)) from None
            raise

    async def react(self, room: str, target: str, key: str, idempotency_key: str) -> None:
        # Adding a reaction the bot has already made changes nothing on the server.
        await self._client.react(self.bot_id, post_of(target), key)

    async def post(self, message: Outgoing, ballot_id: str | None) -> str | None:
        root = await self._root(message, ballot_id)
        parts = await self._texts(message)
        first = None
        for index, text in enumerate(parts):
            part_id = pending_post_id(part_key(message.key, index))
            post_id = self.posted.get(part_id)
            if post_id is None:  # not seen on the server by a resync: post it (the server drops a 30 s copy)
                props = {MESSAGE_ID_PROP: part_id, "consent_bot": part_payload(message, index, len(parts))}
                post_id, root = await self._create(message.room, text, root, props, part_id)
            first = first or post_id
        return first

    async def _create(self, room: str, text: str, root: str | None, props: dict,
                      part_id: str) -> tuple[str, str | None]:
        """Post one part; (its id, the root the next parts go under)."""
        try:
            post = await self._client.create_post(room, text, root_id=root, props=props, pending_post_id=part_id)
        except MattermostApiError as error:
            if not root or error.error_id != ROOT_GONE:
                raise
            log.warning("the thread %s is gone (%s): posting in the channel instead", root, error.error_id)
            post = await self._client.create_post(room, text, props=props, pending_post_id=part_id)
            root = None
        return post["id"], root

    def recognise(self, part_id: str, post_id: str) -> None:
        """A post of the bot's seen on the server (a resync): never posted again."""
        self.posted[part_id] = post_id

    async def _root(self, message: Outgoing, ballot_id: str | None) -> str | None:
        if message.kind in CHANNEL_KINDS or message.room in self.conversations:
            return None
        if message.reply_to:
            root = self.roots.get(message.reply_to)
            if root is None:
                try:
                    post = await self._client.post(post_of(message.reply_to))
                except MattermostApiError as error:
                    log.warning("cannot find the post %s answered (%s): answering in the channel",
                                message.reply_to, error)
                    return None
                root = post.get("root_id") or post["id"]
                self.remember_root(message.reply_to, root)
            return root
        if message.kind in THREADED_KINDS and ballot_id:
            return ballot_id
        return None

    async def _texts(self, message: Outgoing) -> list[str]:
        """The message as one or more post texts, each within MAX_POST_CHARACTERS."""
        named = {m for line in message.lines for m in line.mentioned()}
        await self._directory.load_users([i for i in named | set(message.mentions) if i not in self._directory.users])
        notified = set(message.mentions)

        def name(member: str) -> str:
            username = self._directory.username(member)
            if username is None:
                return escape_inline(member)
            # [a-z0-9._-]: an underscore inside a word is never emphasis
            return f"@{username}" if member in notified else f"@{WORD_JOINER}{username}"

        # A mention the text does not show: added to the first part, so the member is notified.
        unshown = " ".join(f"@{self._directory.username(m)}" for m in sorted(notified - named)
                           if self._directory.username(m))
        budget = MAX_POST_CHARACTERS - len(unshown) - 1
        parts = split(message.lines, lambda line: len(line_markdown(line, name)) + 1, budget)
        texts = ["\n".join(line_markdown(line, name) for line in lines).strip() for lines in parts]
        if unshown:
            texts[0] += "\n" + unshown
        return texts
