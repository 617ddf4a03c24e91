"""The bot under test, run for real against the session's Synapse: a MatrixBot on its own database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from nio import Event, ReactionEvent, RoomMemberEvent

from bot.config import Config, load_config
from bot.matrix.bot import MatrixBot
from tests import running_bot

from .member import Member, content, relates_to
from .synapse import Account

QUICK = {"language": "en", "working_days_only": False, "minimum_duration": "1h", "reminders": []}


def bot_config(directory: Path, account: Account, allowed: list[str], **assembly: Any) -> Config:
    data = {
        "platform": "matrix",
        "storage": {"path": "consent.db"},
        "assembly": {**QUICK, **assembly},
        "matrix": {
            "homeserver": account.homeserver,
            "user_id": account.user_id,
            "access_token": account.access_token,
            "device_id": account.device_id,
            "allowed_inviters": allowed,
        },
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


def reaction_by(user_id: str, target: str, key: str):
    return lambda e: isinstance(e, ReactionEvent) and e.sender == user_id and e.reacts_to == target and e.key == key


def joined(user_id: str):
    return lambda e: isinstance(e, RoomMemberEvent) and e.state_key == user_id and e.membership == "join"


async def room_with_bot(owner: Member, bot_id: str, *others: Member) -> str:
    """A room the owner creates, inviting the bot and the others; returns once everyone is in."""
    room = await owner.create_room(invite=[bot_id, *(m.user_id for m in others)])
    for member in others:
        await member.join(room)
    await owner.wait_for(joined(bot_id), room=room, timeout=15)
    for member in others:
        await owner.wait_for(joined(member.user_id), room=room)
    return room


__all__ = ["RunningBot", "bot_config", "from_bot", "reaction_by", "joined", "room_with_bot", "relates_to"]
