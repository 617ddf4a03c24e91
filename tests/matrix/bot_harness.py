"""The bot under test, run for real against the session's Synapse: a MatrixBot on its own database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from nio import Event, ReactionEvent, RoomMemberEvent

from bot.config import Config, load_config
from bot.matrix.bot import NEXT_BATCH, MatrixBot
from storage.repository import Repository
from tests import running_bot

from .member import Member, content, relates_to
from .synapse import Account

QUICK = {"language": "en", "working_days_only": False, "minimum_duration": "1h", "reminders": []}


def bot_config(directory: Path, account: Account, allowed: list[str], matrix: dict[str, Any] | None = None,
               storage: dict[str, Any] | None = None, sections: dict[str, Any] | None = None,
               **assembly: Any) -> Config:
    """The bot's config in ``directory`` (its database and crypto store there too); ``matrix``: more of its
    matrix section (store_path, trust, room_key_wait...); ``storage``: another (a PostgreSQL url); ``sections``:
    more top-level keys (ops, log_format...)."""
    data = {
        "platform": "matrix",
        "storage": storage or {"path": "consent.db"},
        "assembly": {**QUICK, **assembly},
        "matrix": {
            "homeserver": account.homeserver,
            "user_id": account.user_id,
            "access_token": account.access_token,
            "device_id": account.device_id,
            "allowed_inviters": allowed,
            **(matrix or {}),
        },
        **(sections or {}),
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path, environ={})


class RunningBot(running_bot.RunningBot):
    def __init__(self, config: Config) -> None:
        super().__init__(config, MatrixBot)
        self.user_id = config.matrix.user_id

    def rate_limited(self) -> int:
        return self.bot.sender.rate_limited


def from_bot(bot_id: str, kind: str | None = None, number: int | None = None):
    """A predicate: a message of the bot carrying this consent_bot kind (and proposal)."""

    def matches(event: Event) -> bool:
        if event.sender != bot_id:
            return False
        payload = content(event).get("consent_bot") or {}
        return (kind is None or payload.get("kind") == kind) and (number is None or payload.get("proposal") == number)

    return matches


def replying_to(bot_id: str, kind: str, event_id: str):
    """A predicate: the bot's answer of this kind to one message (each part, if it came in several)."""
    return lambda e: from_bot(bot_id, kind)(e) and relates_to(e).get("m.in_reply_to", {}).get("event_id") == event_id


def tally(event) -> dict:
    return content(event)["consent_bot"]["tally"]


async def propose(member: Member, room: str, bot_id: str, text: str = "!propose Buy a kettle", number: int = 1):
    """A member proposes; returns the bot's ballot for proposal #number."""
    await member.send_text(room, text)
    return await member.wait_for(from_bot(bot_id, "ballot", number), room=room, timeout=20)


async def answer_to(member: Member, room: str, bot_id: str, kind: str, event_id: str, timeout: float = 10):
    """The bot's answer (a reply of this kind) to one of the member's messages."""
    return await member.wait_for(replying_to(bot_id, kind, event_id), room=room, timeout=timeout)


async def status(member: Member, room: str, bot_id: str, number: int = 1) -> dict:
    """Ask the bot for the status and return its tally."""
    asked = await member.send_text(room, f"!status #{number}")
    return tally(await answer_to(member, room, bot_id, "status", asked))


async def skip_sync_past(bot: RunningBot, member: Member) -> None:
    """Move a stopped bot's sync position to where the member's client is: what came between is a gap
    the sync will never show it (as if it were lost)."""
    repository = await Repository.open(bot.config.storage.path)
    await repository.set_state(NEXT_BATCH, member.client.next_batch)
    await repository.close()


def reaction_by(user_id: str, target: str, key: str):
    return lambda e: isinstance(e, ReactionEvent) and e.sender == user_id and e.reacts_to == target and e.key == key


def joined(user_id: str):
    return lambda e: isinstance(e, RoomMemberEvent) and e.state_key == user_id and e.membership == "join"


async def rooms_of_a_network(owner: Member, bot_id: str, *members: Member) -> list[str]:
    """A room per member, made by ``owner`` before the bot starts (a network names its rooms in the configuration),
    the bot invited to each (it joins on its first sync, since the owner may invite it) and the member in it."""
    rooms = [await owner.create_room(invite=[bot_id, member.user_id]) for member in members]
    for room, member in zip(rooms, members):
        await member.join(room)
    return rooms


async def room_with_bot(owner: Member, bot_id: str, *others: Member, **options: Any) -> str:
    """A room the owner creates (with these options), inviting the bot and the others; returns once everyone
    is in. An EncryptedMember's room is encrypted unless ``encrypted=False``."""
    room = await owner.create_room(invite=[bot_id, *(m.user_id for m in others)], **options)
    for member in others:
        await member.join(room)
    await owner.wait_for(joined(bot_id), room=room, timeout=15)
    for member in others:
        await owner.wait_for(joined(member.user_id), room=room)
    return room


__all__ = ["RunningBot", "answer_to", "bot_config", "from_bot", "joined", "propose", "reaction_by", "relates_to",
           "replying_to", "room_with_bot", "skip_sync_past", "status", "tally"]
