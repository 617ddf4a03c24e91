"""Engine messages → Matrix events: threads, replies, acknowledgements, pills and the consent_bot payload.

Every send carries a transaction id derived from the outbox key, so a retry after a crash or a timeout
never posts twice (the homeserver drops the copy). In an encrypted room nio encrypts messages (not
reactions, which Matrix leaves in the clear) and shares the room key first with every device of the room's
members, verified or not (the trust policy has set aside the devices it refuses: bot.matrix.crypto). A
message whose event would exceed Matrix's size limit is split between lines into several events, each
within the limit (smaller in an encrypted room: ciphertext is larger), each with the payload.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nio import AsyncClient, RoomSendError

from bot.chat.core import ChatSender, Recent, part_payload
from bot.engine.model import Position
from bot.messages.outgoing import Kind, Line, Mention, Outgoing, Undeliverable, part_key
from bot.messages.splitting import split
from bot.matrix.events import SENT_AS

log = logging.getLogger(__name__)

ACK_KEY = "✅"
NOTICE_KINDS = {Kind.STATUS, Kind.ERROR, Kind.HISTORY, Kind.HELP}
"""Answers to one member are notices; announcements and anything that mentions members are m.text,
because a notice never notifies."""
THREADED_KINDS = {Kind.BLOCK_REQUEST, Kind.ERROR, Kind.MODERATION}
"""Without a command to answer, these go in the ballot's thread."""
RATE_LIMIT_RETRIES = 5
REFUSED_FOR_GOOD = {"M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE", "M_INVALID_PARAM"}
"""Errors a retry cannot mend: no longer in the room, target gone, message refused as it is."""
REMEMBERED_THREADS = 10_000
REMEMBERED_POSTS = 10_000
MAX_CONTENT_BYTES = 60_000
"""Matrix refuses an event over 65,536 bytes of canonical JSON (M_TOO_LARGE). The content gets this much;
the rest is left for what the homeserver adds around it (ids, hashes, signatures, prev_events)."""
MAX_ENCRYPTED_CONTENT_BYTES = 44_000
"""In an encrypted room: Megolm's ciphertext is base64 (4/3 of the plaintext) plus a few hundred bytes, and
the relation is copied in the clear, so that the encrypted event stays within MAX_CONTENT_BYTES too."""


class SendFailed(Exception):
    pass


def transaction_id(key: str) -> str:
    """32 hex characters of the key's SHA-256: its first 26 are the message id (bot.messages.outgoing.message_id)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def pill(user_id: str) -> str:
    escaped = html.escape(user_id)
    return f'<a href="https://matrix.to/#/{escaped}">{escaped}</a>'


def line_body(line: Line) -> str:
    text = line.plain()
    return f"**{text}**" if line.strong and text else text


def line_html(line: Line, mentioned: set[str]) -> str:
    """Member text escaped, line breaks kept; a member is a pill when the message notifies them."""
    out = []
    for segment in line.segments:
        if isinstance(segment, Mention):
            out.append(pill(segment.member) if segment.member in mentioned else html.escape(segment.member))
        else:
            out.append(html.escape(segment).replace("\n", "<br>"))
    text = "".join(out)
    return f"<strong>{text}</strong>" if line.strong and text else text


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _string_size(text: str) -> int:
    """Bytes a string takes inside a JSON string: escaping is per character, so sizes add up."""
    return _json_size(text) - 2


def contents(message: Outgoing, relation: dict[str, Any] | None,
             limit: int = MAX_CONTENT_BYTES) -> list[dict[str, Any]]:
    """The message as one or more event contents, each within ``limit`` bytes, split between lines."""
    notified = set(message.mentions)

    def cost(line: Line) -> int:
        mentions = {m for m in line.mentioned() if m in notified}
        return (_string_size(line_body(line)) + 1 + _string_size(line_html(line, notified)) + len("<br>\n")
                + sum(_string_size(m) + 3 for m in mentions))

    shown = {m for line in message.lines for m in line.mentioned()}
    unshown = sorted(notified - shown)  # mentioned on purpose but not named in the text: notified by the first part
    frame = _content(message, relation, "", "", unshown, {**(message.payload or {}), "part": 999, "parts": 999})
    parts = split(message.lines, cost, limit - _json_size(frame))
    result = []
    for index, lines in enumerate(parts):
        payload = part_payload(message, index, len(parts))
        mentions = sorted({m for line in lines for m in line.mentioned() if m in notified}
                          | (set(unshown) if index == 0 else set()))
        body = "\n".join(line_body(line) for line in lines).strip()
        formatted = "<br>\n".join(line_html(line, notified) for line in lines).strip()
        result.append(_content(message, relation, body, formatted, mentions, payload))
    return result


def _content(message: Outgoing, relation: dict[str, Any] | None, body: str, formatted: str, mentions: list[str],
             payload: dict[str, Any] | None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "msgtype": "m.notice" if message.kind in NOTICE_KINDS else "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
        # Always explicit: only these members are notified, never the whole room.
        "m.mentions": {"user_ids": mentions},
        "consent_bot": payload,
    }
    if relation:
        content["m.relates_to"] = relation
    return content


class MatrixSender(ChatSender):
    def __init__(self, client: AsyncClient, seed_reactions: dict[Position, str],
                 before_send: Callable[[str], Awaitable[None]] | None = None) -> None:
        super().__init__(seed_reactions, ACK_KEY)
        self._client = client
        self._before_send = before_send
        """Awaited with the room before each send (in an encrypted room: the members' devices known)."""
        self.rate_limited = 0
        """How many sends the homeserver asked to retry later (429): worth watching in the logs."""
        self.rate_limited_for = 0.0
        """Seconds waited as the homeserver asked."""
        self.threads = Recent(REMEMBERED_THREADS)
        """event id of a member's message → the thread it was in, so answers stay in that thread."""
        self.posted = Recent(REMEMBERED_POSTS)
        """transaction id → event id of the bot's messages seen in the room (see ``post``)."""
        self.rooms_known = asyncio.Event()
        """Set once the first sync is handled: nio sends to no room it has not synced, and what the bot posted
        before (recognised in that sync) must be known before anything is sent."""

    def remember_thread(self, event_id: str, thread_root: str) -> None:
        self.threads[event_id] = thread_root

    def seen(self, transaction: str, event_id: str) -> None:
        """One of the bot's messages came back from the homeserver, posted by this device or another."""
        self.posted[transaction] = event_id

    async def post(self, message: Outgoing, ballot_id: str | None) -> str | None:
        await self.rooms_known.wait()
        first = None
        room = self._client.rooms.get(message.room)
        limit = MAX_ENCRYPTED_CONTENT_BYTES if room is not None and room.encrypted else MAX_CONTENT_BYTES
        for index, content in enumerate(contents(message, self._relation(message, ballot_id), limit)):
            key = part_key(message.key, index)
            # Posted already, by this bot before a restore or by the device a standby took over from: the homeserver
            # would not drop the copy (it drops a transaction id it saw from the same device only, for a while).
            event_id = self.posted.get(transaction_id(key)) or await self._send(
                message.room, "m.room.message", {**content, SENT_AS: transaction_id(key)}, key)
            first = first or event_id
        return first

    def _relation(self, message: Outgoing, ballot_id: str | None) -> dict[str, Any] | None:
        if message.reply_to:
            root = self.threads.get(message.reply_to)
            if root:
                return {"rel_type": "m.thread", "event_id": root, "is_falling_back": False,
                        "m.in_reply_to": {"event_id": message.reply_to}}
            return {"m.in_reply_to": {"event_id": message.reply_to}}
        if message.kind in THREADED_KINDS and ballot_id:
            return {"rel_type": "m.thread", "event_id": ballot_id, "is_falling_back": True,
                    "m.in_reply_to": {"event_id": ballot_id}}
        return None

    async def react(self, room: str, target: str, key: str, idempotency_key: str) -> str:
        await self.rooms_known.wait()
        relation = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
        return await self._send(room, "m.reaction", relation, idempotency_key)

    async def _send(self, room: str, event_type: str, content: dict[str, Any], key: str) -> str:
        for _ in range(RATE_LIMIT_RETRIES):
            if self._before_send is not None:
                await self._before_send(room)
            # ignore_unverified_devices: nobody is verified on Matrix without cross-signing, which nio lacks; a
            # send must never fail for a member's new phone.
            response = await self._client.room_send(room, event_type, content, tx_id=transaction_id(key),
                                                    ignore_unverified_devices=True)
            if not isinstance(response, RoomSendError):
                return response.event_id
            if response.status_code == "M_LIMIT_EXCEEDED" or response.retry_after_ms:
                self.rate_limited += 1
                delay = (response.retry_after_ms or 1000) / 1000
                self.rate_limited_for += delay
                log.info("rate-limited sending to %s; retrying in %.1f s", room, delay)
                await asyncio.sleep(delay)
                continue
            if response.status_code == "M_DUPLICATE_ANNOTATION":
                return ""  # the reaction is there already
            if response.status_code in REFUSED_FOR_GOOD:
                raise Undeliverable(f"{event_type} to {room}: {response.status_code} {response.message}")
            raise SendFailed(f"{event_type} to {room}: {response.status_code} {response.message}")
        raise SendFailed(f"{event_type} to {room}: still rate-limited after {RATE_LIMIT_RETRIES} tries")
