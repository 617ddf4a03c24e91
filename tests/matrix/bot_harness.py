"""The bot under test, run for real against the session's Synapse: a MatrixBot on its own database."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import yaml
from nio import Event, ReactionEvent, RoomMemberEvent

from bot.config import Config, load_config
from bot.matrix.bot import MatrixBot
from storage.repository import Repository

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


class RunningBot:
    """Start, stop and restart the bot as a process would (same database, same device)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.user_id = config.matrix.user_id
        self.bot: MatrixBot | None = None
        self._task: asyncio.Task | None = None
        self._repository: Repository | None = None

    async def start(self) -> RunningBot:
        self._repository = await Repository.open(self.config.storage_path)
        self.bot = MatrixBot(self.config, self._repository)
        self._task = asyncio.create_task(self.bot.run(), name="consent-bot")
        ready = asyncio.create_task(self.bot.ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises what stopped the bot
        assert ready in done, "the bot did not finish its first sync in 30 s"
        return self

    @property
    def repository(self) -> Repository:
        return self._repository

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._repository is not None:
            await self._repository.close()
            self._repository = None

    def rate_limited(self) -> int:
        return self.bot.sender.rate_limited

    def check_alive(self) -> None:
        if self._task is not None and self._task.done():
            self._task.result()


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
