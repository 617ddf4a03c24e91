"""The Mattermost bot under test against the fake server: a MattermostBot on its own database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import Config, load_config
from bot.mattermost.bot import MattermostBot, MattermostLoginFailed
from tests import running_bot

QUICK = {"language": "en", "working_days_only": False, "minimum_duration": "1h", "reminders": []}


def bot_config(directory: Path, url: str, token: str, teams: list[str] | None = None,
               sections: dict[str, Any] | None = None, **assembly: Any) -> Config:
    """``sections``: more top-level keys (ops, log_format...)."""
    data = {
        "platform": "mattermost",
        "storage": {"path": "consent.db"},
        "assembly": {**QUICK, **assembly},
        "mattermost": {"url": url, "token": token, "teams": teams or []},
        **(sections or {}),
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path, environ={})


class RunningBot(running_bot.RunningBot):
    def __init__(self, config: Config) -> None:
        super().__init__(config, MattermostBot, start_within=15, stopping_errors=(MattermostLoginFailed,))


def payload(post: dict) -> dict:
    return (post.get("props") or {}).get("consent_bot") or {}


def from_bot(bot_id: str, kind: str | None = None, number: int | None = None):
    """A predicate: a post of the bot carrying this consent_bot kind (and proposal)."""

    def matches(post: dict) -> bool:
        if post["user_id"] != bot_id:
            return False
        data = payload(post)
        return (kind is None or data.get("kind") == kind) and (number is None or data.get("proposal") == number)

    return matches
