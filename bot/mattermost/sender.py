"""Engine messages → Mattermost posts: Markdown, threads, acknowledgements, @-mentions and the payload.

- The post's text is built from the message's HTML, whose user text is already escaped and defused: text
  is unescaped then escaped for Markdown, ``<strong>`` becomes ``**``, ``<br>`` a new line. Nothing a
  member wrote can become a link, an image, a heading or a table.
- Member ids in the text become ``@username`` for the members the message mentions on purpose, and a
  ``@`` + word joiner + username (shown, never notified) for the others.
- Ballots, reminders and outcomes are posts in the channel; answers to a command go in the command's
  thread; block requests and reaction errors in the ballot's thread; an acknowledgement is a
  ``white_check_mark`` reaction on the command.
- Every post carries a ``pending_post_id`` derived from the outbox key (the server drops a copy sent
  again within 30 s), the same id in ``props.consent_bot_message`` (so a resync recognises a post whose
  sending was interrupted, however late), and the ``consent_bot`` payload in ``props``.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections import OrderedDict

from bot.engine.model import Position
from bot.mattermost.client import MattermostApiError, MattermostClient
from bot.mattermost.directory import MattermostDirectory
from bot.outgoing import Kind, Outgoing, Undeliverable
from bot.render import WORD_JOINER

log = logging.getLogger(__name__)

ACK_EMOJI = "white_check_mark"
MESSAGE_ID_PROP = "consent_bot_message"
THREADED_KINDS = {Kind.BLOCK_REQUEST, Kind.ERROR, Kind.STATUS}
"""Without a command to answer, these go in the ballot's thread."""
CHANNEL_KINDS = {Kind.BALLOT, Kind.REMINDER, Kind.OUTCOME}
"""Always top-level posts: a ballot must be a thread root, so members can reply to it."""
REMEMBERED = 10_000
REFUSED_FOR_GOOD = {400, 403, 404}
"""Statuses a retry cannot mend: the request is wrong as it is, the bot was removed, the post is gone."""
_ID = re.compile(r"\b[a-z0-9]{26}\b")
_TAGS = re.compile(r"(<strong>|</strong>|<br>\n?)")
_INLINE = re.compile(r"([\\`*_\[\]~|])")
_LINE_START = re.compile(r"^([ \t]*)([#>+\-=]|\d+[.)])", re.MULTILINE)


def pending_post_id(key: str) -> str:
    """26 characters from the outbox key: the same message always gets the same pending id."""
    return hashlib.sha256(key.encode()).hexdigest()[:26]


def post_of(event_id: str) -> str:
    """The post an event is about: an edit's event id is "<post id>@<edit_at>"."""
    return event_id.split("@", 1)[0]


def escape_markdown(text: str) -> str:
    return _INLINE.sub(r"\\\1", text)


def markdown(formatted: str) -> str:
    """The message's HTML (escaped user text, <strong>, <br>) as Markdown that shows the text as written."""
    out = []
    for token in _TAGS.split(formatted):
        if token in ("<strong>", "</strong>"):
            out.append("**")
        elif token.startswith("<br>"):
            out.append("\n")
        elif token:
            out.append(escape_markdown(html.unescape(token)))
    text = "".join(out)
    return _LINE_START.sub(_escape_line_start, text).strip()


def _escape_line_start(match: re.Match) -> str:
    marker = match.group(2)
    escaped = marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker
    return match.group(1) + escaped


class MattermostSender:
    def __init__(self, client: MattermostClient, directory: MattermostDirectory,
                 seed_reactions: dict[Position, str]) -> None:
        self._client = client
        self._directory = directory
        self._seeds = seed_reactions
        self.bot_id = ""
        self.roots: OrderedDict[str, str] = OrderedDict()
        """post id of a member's message → the root of its thread (itself when not in a thread)."""

    def remember_root(self, post_id: str, root_id: str) -> None:
        self.roots[post_id] = root_id or post_id
        while len(self.roots) > REMEMBERED:
            self.roots.popitem(last=False)

    async def send(self, message: Outgoing, ballot_id: str | None) -> str | None:
        try:
            return await self._post(message, ballot_id)
        except MattermostApiError as error:
            if error.status in REFUSED_FOR_GOOD:
                raise Undeliverable(str(error)) from None
            raise

    async def _post(self, message: Outgoing, ballot_id: str | None) -> str | None:
        if message.kind is Kind.ACK and message.reply_to:
            await self._react(post_of(message.reply_to), ACK_EMOJI)
            return None
        if message.kind is Kind.SEED:
            # Reactions members can click on the ballot; the bot's own reactions never count.
            for emoji in self._seeds.values():
                await self._react(ballot_id, emoji)
            return None
        root = await self._root(message, ballot_id)
        message_id = pending_post_id(message.key)
        props = {MESSAGE_ID_PROP: message_id, "consent_bot": message.payload}
        post = await self._client.create_post(message.room, await self._text(message), root_id=root, props=props,
                                              pending_post_id=message_id)
        return post["id"]

    async def _root(self, message: Outgoing, ballot_id: str | None) -> str | None:
        if message.kind in CHANNEL_KINDS:
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

    async def _text(self, message: Outgoing) -> str:
        text = markdown(message.html)
        ids = set(_ID.findall(text)) | set(message.mentions)
        if not ids:
            return text
        await self._directory.load_users([i for i in ids if i not in self._directory.users])
        mentioned = set(message.mentions)

        def name(match: re.Match) -> str:
            username = self._directory.username(match.group(0))
            if username is None:
                return match.group(0)
            shown = username  # [a-z0-9._-]: an underscore inside a word is never emphasis
            return f"@{shown}" if match.group(0) in mentioned else f"@{WORD_JOINER}{shown}"

        text = _ID.sub(name, text)
        missing = [i for i in message.mentions if self._directory.username(i)
                   and f"@{self._directory.username(i)}" not in text]
        if missing:  # a mention the text does not show: add it, so the member is notified
            text += "\n" + " ".join(f"@{self._directory.username(i)}" for i in missing)
        return text

    async def _react(self, post_id: str, emoji: str) -> None:
        await self._client.react(self.bot_id, post_id, emoji)
